//! Mounting the script under test, and always unmounting it again.
//!
//! The daemon is this very binary run as `flu mount -f SCRIPT MNT -o … -- ARGS`, a child
//! in our process group (so a Ctrl-C reaches it too, and it unmounts on SIGINT), its
//! output in a file. The mount is ready when its control channel answers `stats`, which
//! also says which handlers it serves. [`TestMount`]'s `Drop` unmounts (`fusermount3 -u`,
//! then a lazy unmount), waits for the daemon and, if it does not exit (a handler that
//! hangs), stops it by its pid — every wait bounded.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::control::json::Value;
use crate::control::{query, Request};
use crate::mountpoint::is_mount_point;

/// How long the mount may take to serve.
const MOUNT_WAIT: Duration = Duration::from_secs(30);
/// How long one unmount command, or the daemon's exit after it, may take.
const UNMOUNT_WAIT: Duration = Duration::from_secs(5);

/// Options that make every check reach the handlers: with the kernel's page cache a
/// read at offset 5 of a small file asks for the page at offset 0 (a handler that
/// ignores its offset would go unnoticed), and cached attributes would hide a getattr
/// that disagrees with what was written.
pub const TEST_MOUNT_OPTIONS: &str = "direct_io,attr_timeout=0,entry_timeout=0,negative_timeout=0";

/// What to mount.
pub struct MountSpec<'a> {
    pub script: &'a Path,
    pub mountpoint: PathBuf,
    pub options: &'a [String],
    pub args: Vec<OsString>,
    pub log: PathBuf,
}

/// A mounted script. Dropping it unmounts and stops the daemon.
pub struct TestMount {
    mountpoint: PathBuf,
    child: Option<Child>,
    log: PathBuf,
    /// The handler names the mount serves (its `stats` reply).
    pub handlers: Vec<String>,
}

impl TestMount {
    /// Start the daemon and wait until it serves; the error is what the daemon said.
    pub fn start(spec: MountSpec<'_>) -> Result<TestMount, String> {
        let flu = std::env::current_exe()
            .map_err(|e| format!("cannot find the flu binary to mount with: {e}"))?;
        let log_file =
            File::create(&spec.log).map_err(|e| format!("cannot create {:?}: {e}", spec.log))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot create {:?}: {e}", spec.log))?;
        let mut cmd = Command::new(flu);
        cmd.arg("mount")
            .arg("-f")
            .arg(spec.script)
            .arg(&spec.mountpoint)
            .arg("-o")
            .arg(TEST_MOUNT_OPTIONS);
        for o in spec.options {
            cmd.arg("-o").arg(o);
        }
        if !spec.args.is_empty() {
            cmd.arg("--").args(&spec.args);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start the daemon: {e}"))?;
        let mut mount = TestMount {
            mountpoint: spec.mountpoint,
            child: Some(child),
            log: spec.log,
            handlers: Vec::new(),
        };
        let reply = mount.wait_serving()?;
        mount.handlers = reply
            .get("handlers")
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        Ok(mount)
    }

    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// What the daemon wrote so far (its log and the script's output).
    pub fn output(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Poll until the control channel answers, the daemon exits, or time runs out.
    fn wait_serving(&mut self) -> Result<Value, String> {
        let deadline = Instant::now() + MOUNT_WAIT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    let said = self.output();
                    return Err(format!("the mount failed ({status}):\n{}", said.trim_end()));
                }
            }
            if is_mount_point(&self.mountpoint) {
                if let Ok(reply) = query(&self.mountpoint, Request::Stats, Duration::from_secs(2)) {
                    return Ok(reply);
                }
            }
            if super::runner::interrupted() {
                return Err("interrupted while mounting".into());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the mount did not serve within {} s:\n{}",
                    MOUNT_WAIT.as_secs(),
                    self.output().trim_end()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Unmount (bounded), then wait for the daemon and stop it if it stays. Returns
    /// whether the mount is gone.
    fn stop(&mut self) -> bool {
        let attempts: [(&str, &[&str]); 3] = [
            ("fusermount3", &["-u"]),
            ("umount", &["-l"]),
            ("fusermount3", &["-uz"]),
        ];
        for (program, args) in attempts {
            if !is_mount_point(&self.mountpoint) {
                break;
            }
            run_bounded(Command::new(program).args(args).arg(&self.mountpoint));
        }
        if let Some(mut child) = self.child.take() {
            if !wait_exit(&mut child, UNMOUNT_WAIT) {
                // A handler that never returns keeps the daemon from finishing: ask it
                // to stop, then make it.
                let pid = nix::unistd::Pid::from_raw(child.id() as i32);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
                if !wait_exit(&mut child, UNMOUNT_WAIT) {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        !is_mount_point(&self.mountpoint)
    }
}

impl Drop for TestMount {
    fn drop(&mut self) {
        if !self.stop() {
            eprintln!(
                "flu test: could not unmount {:?}; run fusermount3 -u {:?}",
                self.mountpoint, self.mountpoint
            );
        }
    }
}

/// Whether `child` exited within `timeout` (it is reaped if so).
fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() >= deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Run an unmount command with a deadline (one that looks into a hung mount could
/// block): killed, by its pid, if it takes too long.
fn run_bounded(cmd: &mut Command) {
    let Ok(mut child) = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return;
    };
    if !wait_exit(&mut child, UNMOUNT_WAIT) {
        let _ = child.kill();
        let _ = child.wait();
    }
}
