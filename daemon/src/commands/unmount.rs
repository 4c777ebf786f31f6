//! `flu unmount DIR`: `fusermount3 -u DIR` (with `-z`, a lazy unmount).
//!
//! A mount can be busy for a moment (a process forked elsewhere briefly holds copies of
//! open files until it execs), so a busy unmount is retried for a second before failing.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::cli::UnmountArgs;
use crate::mountpoint::is_mount_point;

const BUSY_RETRY: Duration = Duration::from_secs(1);

fn fusermount(args: &UnmountArgs) -> std::io::Result<Output> {
    Command::new("fusermount3")
        .arg(if args.lazy { "-uz" } else { "-u" })
        .arg(&args.mountpoint)
        .output()
}

/// Say plainly that `dir` is not mounted (fusermount3 would answer "Invalid argument").
/// A directory that cannot even be resolved — a dead FUSE mount answers ENOTCONN — is
/// left to fusermount3, which can unmount it.
fn check_mounted(dir: &Path) -> Result<(), String> {
    match std::fs::canonicalize(dir) {
        Ok(abs) if !is_mount_point(&abs) => Err(format!("{} is not mounted", dir.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("{} does not exist", dir.display()))
        }
        _ => Ok(()),
    }
}

pub fn unmount_command(args: UnmountArgs) -> Result<(), String> {
    check_mounted(&args.mountpoint)?;
    let start = Instant::now();
    loop {
        match fusermount(&args) {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
                if msg.contains("busy") && start.elapsed() < BUSY_RETRY {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                let hint = if msg.contains("busy") {
                    " (close the files open on it, or use -z)"
                } else {
                    ""
                };
                return Err(format!(
                    "could not unmount {}: {msg}{hint}",
                    args.mountpoint.display()
                ));
            }
            // Without fusermount3, root can unmount directly.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let flags = if args.lazy {
                    nix::mount::MntFlags::MNT_DETACH
                } else {
                    nix::mount::MntFlags::empty()
                };
                return nix::mount::umount2(&args.mountpoint, flags)
                    .map_err(|e| format!("could not unmount {}: {e}", args.mountpoint.display()));
            }
            Err(e) => return Err(format!("cannot run fusermount3: {e}")),
        }
    }
}
