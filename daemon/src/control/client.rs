//! The client side, for the commands that talk to a mount's daemon (`flu stats`): find
//! the socket of a mountpoint, send one request, read the one JSON reply — all within a
//! deadline, so a stuck or dead daemon gives a clear message instead of a hung command.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::json::{self, Value};
use super::protocol::Request;
use super::{socket_of, ControlError};
use crate::mountpoint::is_mount_point;

/// How long a command waits for a daemon's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest reply read (a stats reply is a few kilobytes).
const MAX_REPLY: u64 = 1 << 20;

/// Ask the daemon of the mount at `dir` for `request`; its reply, which said `"ok":
/// true`. Waits at most `timeout` in all.
pub fn query(dir: &Path, request: Request, timeout: Duration) -> Result<Value, ControlError> {
    let dir = dir.to_path_buf();
    within(
        timeout,
        ControlError::Timeout {
            dir: dir.clone(),
            timeout,
        },
        move |deadline| {
            let mountpoint = absolute(&dir)?;
            exchange(&dir, &mountpoint, request, deadline)
        },
    )
}

/// Ask the daemon listening on `socket` (a file of the run directory: `flu list`).
pub fn query_socket(
    socket: &Path,
    request: Request,
    timeout: Duration,
) -> Result<Value, ControlError> {
    let socket = socket.to_path_buf();
    let timed_out = ControlError::Timeout {
        dir: socket.clone(),
        timeout,
    };
    within(timeout, timed_out, move |deadline| {
        let stream = UnixStream::connect(&socket).map_err(|e| {
            if e.raw_os_error() == Some(libc::ECONNREFUSED) {
                ControlError::Gone {
                    dir: socket.clone(),
                    socket: socket.clone(),
                }
            } else {
                ControlError::Connect {
                    socket: socket.clone(),
                    source: e,
                }
            }
        })?;
        talk(stream, &socket, &socket, request, deadline)
    })
}

/// Run `work` on a helper thread and wait for it at most `timeout`: a stuck daemon can
/// stall any path lookup that reaches its mount, and the command must still answer.
fn within(
    timeout: Duration,
    timed_out: ControlError,
    work: impl FnOnce(Instant) -> Result<Value, ControlError> + Send + 'static,
) -> Result<Value, ControlError> {
    let (tx, rx) = mpsc::channel();
    let deadline = Instant::now() + timeout;
    std::thread::Builder::new()
        .name("flu-control-client".into())
        .spawn(move || {
            let _ = tx.send(work(deadline));
        })
        .map_err(|e| ControlError::Client(e.to_string()))?;
    rx.recv_timeout(timeout).unwrap_or(Err(timed_out))
}

/// `dir` made absolute without looking into it: its parent is resolved, its own name
/// kept, so that a mount whose daemon hangs is never entered.
fn absolute(dir: &Path) -> Result<PathBuf, ControlError> {
    let bad = |e: std::io::Error| match e.kind() {
        ErrorKind::NotFound => ControlError::Missing(dir.to_path_buf()),
        _ => ControlError::Client(format!("{}: {e}", dir.display())),
    };
    let abs = std::path::absolute(dir).map_err(bad)?;
    match (abs.parent(), abs.components().next_back()) {
        (Some(parent), Some(Component::Normal(name))) => {
            Ok(std::fs::canonicalize(parent).map_err(bad)?.join(name))
        }
        _ => std::fs::canonicalize(&abs).map_err(bad),
    }
}

/// Connect to the socket of the mount on `mountpoint` (`dir` made absolute) and talk;
/// a failure to connect says why in the user's terms.
fn exchange(
    dir: &Path,
    mountpoint: &Path,
    request: Request,
    deadline: Instant,
) -> Result<Value, ControlError> {
    let path = socket_of(mountpoint);
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            // Not a mount point: nothing of a daemon's can stall these looks.
            return Err(if !is_mount_point(mountpoint) {
                match std::fs::symlink_metadata(mountpoint) {
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        ControlError::Missing(dir.to_path_buf())
                    }
                    _ => ControlError::NotMounted(dir.to_path_buf()),
                }
            } else if e.kind() == ErrorKind::NotFound {
                ControlError::NotFlu {
                    dir: dir.to_path_buf(),
                    socket: path,
                }
            } else if e.raw_os_error() == Some(libc::ECONNREFUSED) {
                ControlError::Gone {
                    dir: dir.to_path_buf(),
                    socket: path,
                }
            } else {
                ControlError::Connect {
                    socket: path,
                    source: e,
                }
            });
        }
    };
    talk(stream, dir, &path, request, deadline)
}

/// Send `request` on `stream` and read the reply; `dir` names the mount in errors.
fn talk(
    mut stream: UnixStream,
    dir: &Path,
    path: &Path,
    request: Request,
    deadline: Instant,
) -> Result<Value, ControlError> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let io = |source| ControlError::Connect {
        socket: path.to_path_buf(),
        source,
    };
    stream.set_read_timeout(Some(left)).map_err(io)?;
    stream.set_write_timeout(Some(left)).map_err(io)?;
    stream.write_all(request.line().as_bytes()).map_err(io)?;
    let mut text = String::new();
    stream
        .take(MAX_REPLY)
        .read_to_string(&mut text)
        .map_err(|source| match source.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => ControlError::Timeout {
                dir: dir.to_path_buf(),
                timeout: ANSWER_TIMEOUT,
            },
            _ => io(source),
        })?;
    let reply = json::parse(text.trim_end()).map_err(|e| ControlError::BadReply(e.to_string()))?;
    match reply.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(reply),
        Some(false) => Err(ControlError::Refused(
            reply
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
                .to_string(),
        )),
        None => Err(ControlError::BadReply("no \"ok\" member".into())),
    }
}
