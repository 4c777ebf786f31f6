//! The control channel (DESIGN §4): one Unix socket per mount, through which commands
//! (`flu stats`, `flu reload`; later `flu list`) and the robustness tests talk to the
//! mount's daemon. No other mechanism does this.
//!
//! - Where: `<run dir>/<mountpoint>.sock`, the run directory and the name as for the
//!   fallback log (`crate::run_dir`): private to the mounting user (0700), the socket
//!   0600. A name that would make the path too long for a socket address is replaced by
//!   a hash of the mountpoint (`run_dir::hashed_file_name`).
//! - Protocol (`protocol`): one request line, one JSON object back, then close.
//! - Server (`server`): a thread started once the mount serves, stopped at unmount,
//!   which removes the socket; a stale socket left by a dead daemon is replaced at the
//!   next mount.
//! - Client (`client`): what commands use, with a bounded wait.
//! - `json`: the hand-written JSON (writing and reading).

pub mod client;
pub mod json;
pub mod protocol;
mod server;
mod stats;

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use client::{query, ANSWER_TIMEOUT};
pub use protocol::Request;
pub use server::ControlServer;

use crate::kernel::FuseAdapter;
use crate::run_dir::{self, RunDirError};
use crate::session::Session;
use stats::StatsSource;

/// The longest socket path (`sun_path` holds 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// What can go wrong on the control channel, on either side.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control channel: {0}")]
    RunDir(#[from] RunDirError),
    #[error("cannot listen on control socket {}: {source}", .path.display())]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is in the way of the control socket and is not a socket; remove it", .0.display())]
    NotASocket(PathBuf),
    #[error("control socket {} is in use by another live daemon", .0.display())]
    InUse(PathBuf),
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("{} is not a mount point", .0.display())]
    NotMounted(PathBuf),
    #[error("{} is not a flu mount (no control socket {})", .dir.display(), .socket.display())]
    NotFlu { dir: PathBuf, socket: PathBuf },
    #[error("the daemon of {} is gone (nothing answers on {})", .dir.display(), .socket.display())]
    Gone { dir: PathBuf, socket: PathBuf },
    #[error("cannot talk to {}: {source}", .socket.display())]
    Connect {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("the daemon of {} did not answer within {} s", .dir.display(), .timeout.as_secs())]
    Timeout { dir: PathBuf, timeout: Duration },
    #[error("the daemon's answer is not understood: {0}")]
    BadReply(String),
    #[error("the daemon refused: {0}")]
    Refused(String),
    #[error("{0}")]
    Client(String),
}

/// The control socket of the mount on `mountpoint` (absolute) in run directory `dir`.
pub fn socket_path(dir: &Path, mountpoint: &Path) -> PathBuf {
    let path = dir.join(run_dir::file_name(mountpoint, ".sock"));
    if path.as_os_str().as_bytes().len() <= MAX_SOCKET_PATH {
        return path;
    }
    dir.join(run_dir::hashed_file_name(mountpoint, ".sock"))
}

/// Where the control socket of the mount on `mountpoint` (absolute) is, for the
/// effective user (the run directory is not created).
pub fn socket_of(mountpoint: &Path) -> PathBuf {
    let uid = nix::unistd::geteuid().as_raw();
    socket_path(&run_dir::base_dir(uid), mountpoint)
}

/// Start the control server of a session about to serve `mountpoint` (mounted from
/// `script`). Dropping the server stops it and removes its socket.
pub fn start(
    session: &Session<FuseAdapter>,
    mountpoint: &Path,
    script: &Path,
) -> Result<ControlServer, ControlError> {
    let path = socket_path(&run_dir::private_dir()?, mountpoint);
    let ops = session.handler().core().ops().clone();
    let source = StatsSource {
        mountpoint: mountpoint.to_path_buf(),
        script: script.to_path_buf(),
        started: Instant::now(),
        adapter: session.handler().clone(),
        activity: session.activity().clone(),
    };
    ControlServer::start(
        path,
        Box::new(move |request| match request {
            Request::Stats => source.reply(),
            Request::Reload => match crate::reload::reload(ops.as_ref(), "flu reload") {
                Ok(notes) => protocol::ok_reply().strings("notes", &notes).finish(),
                Err(e) => protocol::error_reply(&e),
            },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_paths() {
        let dir = Path::new("/run/flu");
        assert_eq!(
            socket_path(dir, Path::new("/mnt/x")),
            Path::new("/run/flu/mnt-x.sock")
        );
        let long = PathBuf::from(format!("/mnt/{}", "d".repeat(200)));
        let p = socket_path(dir, &long);
        assert!(p.as_os_str().len() <= MAX_SOCKET_PATH, "{p:?}");
        assert!(p.starts_with(dir));
        assert_ne!(p, socket_path(dir, &long.join("other")));
    }
}
