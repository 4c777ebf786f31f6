//! Running in the background the way libfuse's `fuse_daemonize` does: fork before any
//! thread exists, let the parent wait on a pipe until the child reports "mounted" (or
//! why not), and only then let the parent exit.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::fcntl::OFlag;
use nix::unistd::{fork, pipe2, setsid, ForkResult};

/// The child's end of the pipe: report once, then the parent exits.
pub struct ReadyReporter {
    pipe: Option<File>,
}

impl ReadyReporter {
    /// For a process that did not detach: nothing to report to.
    pub fn foreground() -> ReadyReporter {
        ReadyReporter { pipe: None }
    }

    /// Tell the parent the mount is serving.
    pub fn ready(&mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(b"\0");
        }
    }

    /// Tell the parent why mounting failed (it prints the message).
    pub fn failed(&mut self, message: &str) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(message.as_bytes());
        }
    }
}

/// What the parent learned from the child.
pub enum ParentOutcome {
    Mounted,
    Failed(String),
}

/// Fork. In the parent, wait for the child's report and return it; in the child,
/// start a new session and return a reporter.
///
/// Must be called while the process has a single thread.
pub fn detach() -> std::io::Result<Result<ReadyReporter, ParentOutcome>> {
    // Close-on-exec: helpers the daemon starts (fusermount3 stays alive for
    // auto_unmount) must not hold the parent's pipe open.
    let (read_end, write_end): (OwnedFd, OwnedFd) = pipe2(OFlag::O_CLOEXEC)?;
    // SAFETY: the process is single-threaded here (the caller guarantees it), so the
    // child may run arbitrary code after fork.
    match unsafe { fork() }? {
        ForkResult::Parent { .. } => {
            drop(write_end);
            // The child writes its report in one write: the first read has it all (or
            // sees EOF when the child died first).
            let mut report = vec![0u8; 4096];
            let mut pipe = File::from(read_end);
            let n = loop {
                match pipe.read(&mut report) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other.unwrap_or(0),
                }
            };
            report.truncate(n);
            Ok(Err(match report.as_slice() {
                [0, ..] => ParentOutcome::Mounted,
                [] => {
                    ParentOutcome::Failed("the daemon exited before mounting (see its log)".into())
                }
                msg => ParentOutcome::Failed(String::from_utf8_lossy(msg).into_owned()),
            }))
        }
        ForkResult::Child => {
            drop(read_end);
            let _ = setsid();
            Ok(Ok(ReadyReporter {
                pipe: Some(File::from(write_end)),
            }))
        }
    }
}

/// Point stdin at /dev/null and stdout/stderr at the log file, or /dev/null, so that
/// the daemon holds no terminal or pipe of the shell that started it.
pub fn redirect_stdio(log_file: Option<&Path>) {
    let null = File::options().read(true).write(true).open("/dev/null");
    let out = log_file.and_then(|p| File::options().append(true).create(true).open(p).ok());
    if let Ok(null) = &null {
        let _ = nix::unistd::dup2_stdin(null);
    }
    let target = out.as_ref().or(null.as_ref().ok());
    if let Some(t) = target {
        let _ = nix::unistd::dup2_stdout(t);
        let _ = nix::unistd::dup2_stderr(t);
    }
}
