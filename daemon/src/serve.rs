//! Mounting a filesystem and serving it until it is unmounted: detach (unless
//! foreground), mount, report "mounted" to the waiting parent, then serve on worker
//! threads while a signal thread turns SIGINT, SIGTERM and every other signal that
//! would end the process into a clean unmount (see `signals`). SIGHUP unmounts a daemon
//! in the foreground (its terminal went away, as with libfuse) and reloads the script
//! of a detached one (which has no terminal). With `--watch`, edits reload it too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use flu_api::log_escape::Escaped;
use flu_api::{Op, Operations, ServedBy};

use crate::detach::{detach, redirect_stdio, ParentOutcome, ReadyReporter};
use crate::kernel::notify::KernelNotifier;
use crate::kernel::FuseAdapter;
use crate::logging::DetachedLog;
use crate::mount_options::MountOptions;
use crate::session::{Session, SessionConfig};
use crate::signals::{signal_name, UnmountSignals};

/// How to mount and serve.
pub struct ServeRequest {
    /// Absolute, checked mountpoint.
    pub mountpoint: PathBuf,
    /// The script (absolute), as the control channel reports it.
    pub script: PathBuf,
    pub options: MountOptions,
    pub foreground: bool,
    pub threads: usize,
    pub pid_file: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    /// Reload when the script's files change (`--watch`).
    pub watch: bool,
}

/// The default for `--threads`: the CPUs, between 2 and 8; more start while requests
/// wait (see `session::workers`). One thread alone was measured slower here: the
/// kernel's asynchronous requests (FORGET) queue behind every namespace operation, so a
/// lone thread keeps starting helpers (mkdir/rename/rmdir 1.34x the time of two threads,
/// docs/performance.md).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
}

/// The default for `-o spin`: 30 µs where there is a CPU to spare. A sequential
/// client's next request comes within a few µs of the last answer; a thread asleep in
/// read costs a wakeup of its CPU for each (an idle virtual CPU's halt exit, here), and
/// 30 µs catches nearly all of them (namespace operations 4–24 % faster on this 2-CPU
/// VM, docs/performance.md). On one CPU the watching thread would only keep the client
/// from running.
pub fn default_spin() -> std::time::Duration {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus > 1 {
        std::time::Duration::from_micros(30)
    } else {
        std::time::Duration::ZERO
    }
}

fn describe_mount_error(mountpoint: &Path, e: &std::io::Error) -> String {
    let m = Escaped(mountpoint);
    let dev_fuse_usable = nix::unistd::access(
        "/dev/fuse",
        nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK,
    )
    .is_ok();
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) if !dev_fuse_usable => format!(
            "cannot mount on {m}: /dev/fuse is not accessible to you ({e}); run as root, or make it usable by all (chmod 0666 /dev/fuse, as the fuse3 package's udev rule does)"
        ),
        Some(libc::EPERM) | Some(libc::EACCES) => format!(
            "not permitted to mount on {m}: {e} (run as root, or install fuse3 so that fusermount3 can mount for you; allow_other needs user_allow_other in /etc/fuse.conf)"
        ),
        Some(libc::ENOENT) => {
            format!("cannot mount on {m}: fusermount3 was not found (apt-get install fuse3)")
        }
        Some(libc::ENODEV) => format!("cannot mount on {m}: the kernel has no FUSE support (modprobe fuse)"),
        _ => format!("cannot mount on {m}: {e}"),
    }
}

/// A passthrough whose root holds the mountpoint would serve its own mount: every
/// request for the mountpoint's subtree waits on another request of its own.
fn refuse_self_mount(ops: &dyn Operations, mountpoint: &Path) -> Result<(), String> {
    let mountpoint = std::fs::canonicalize(mountpoint).unwrap_or_else(|_| mountpoint.to_path_buf());
    for root in ops.roots() {
        if mountpoint.starts_with(&root) {
            return Err(format!(
                "the passthrough root {} contains the mountpoint {}: the filesystem would serve its own mount; mount it outside {}",
                Escaped(&root),
                Escaped(&mountpoint),
                Escaped(&root)
            ));
        }
    }
    Ok(())
}

/// After a lazy unmount the serving threads should end once the kernel lets go; if they
/// do not (stuck in requests that wait on the mount itself), abort the connection, and
/// if even that does not end them, exit: a stuck daemon must not stay.
fn end_stuck_session(unmounter: &crate::session::Unmounter, finished: &AtomicBool, shown: &str) {
    let wait = |secs: u64| {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < end {
            if finished.load(Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    };
    if wait(5) {
        return;
    }
    tracing::warn!("{shown} is still busy after a lazy unmount: aborting its FUSE connection");
    if let Err(e) = unmounter.abort_connection_anyhow() {
        tracing::error!("cannot abort the FUSE connection of {shown}: {e}");
    }
    if !wait(5) {
        tracing::error!("the daemon of {shown} is stuck: exiting");
        std::process::exit(1);
    }
}

/// Mount `ops` and serve it until unmounted.
///
/// Without `foreground`, the calling process forks: the parent waits until the child
/// is serving (or failed) and then exits the process; only the child returns here, once
/// the filesystem has been unmounted.
pub fn mount_and_serve(ops: Arc<dyn Operations>, req: &ServeRequest) -> Result<(), String> {
    let shown = Escaped(&req.mountpoint);
    refuse_self_mount(ops.as_ref(), &req.mountpoint)?;
    // Decided before detaching, so that a log that cannot be kept fails the mount and
    // the path of the one that will be kept can be printed.
    let detached_log = match (&req.log_file, req.foreground) {
        (None, false) => Some(crate::logging::detached_log(&req.mountpoint)?),
        _ => None,
    };
    let mut reporter = if req.foreground {
        ReadyReporter::foreground()
    } else {
        match detach().map_err(|e| format!("cannot detach: {e}"))? {
            Ok(reporter) => reporter,
            Err(ParentOutcome::Mounted) => {
                // The one line a successful mount prints: where its log is.
                if let Some(DetachedLog::File { path, .. }) = &detached_log {
                    eprintln!("flu: logging to {}", Escaped(path));
                }
                std::process::exit(0)
            }
            Err(ParentOutcome::Failed(msg)) => {
                eprintln!("flu: {msg}");
                std::process::exit(1);
            }
        }
    };

    // Signals are taken by one thread; block them before any other thread exists.
    let signals = UnmountSignals::block().map_err(|e| format!("cannot set up signals: {e}"))?;

    let config = SessionConfig {
        threads: req.threads.max(1),
        access: req.options.access,
        io_uring: req.options.io_uring,
        spin: req.options.spin.unwrap_or_else(default_spin),
    };
    let spec = req.options.spec(req.mountpoint.clone());

    let mut adapter_config = req.options.adapter.clone();
    // A script with its own `lock` handler gets POSIX locks sent to it; otherwise the
    // kernel keeps locks locally, with exact POSIX semantics.
    adapter_config.posix_locks |= ops.served_by(Op::Lock) == ServedBy::Lua;
    // Real inode numbers (a passthrough's) are shown as such, and hard links share a node.
    adapter_config.use_ino |= ops.stable_inode_numbers();
    let backend = ops.clone();
    let adapter = FuseAdapter::new(ops, adapter_config);
    let fail = |reporter: &mut ReadyReporter, msg: String| -> Result<(), String> {
        if !req.foreground {
            // The waiting parent prints the message and exits non-zero.
            reporter.failed(&msg);
            std::process::exit(1);
        }
        Err(msg)
    };
    let session = match Session::new(adapter, &spec, config) {
        Ok(s) => s,
        Err(e) => return fail(&mut reporter, describe_mount_error(&req.mountpoint, &e)),
    };
    if let Some(pid_file) = &req.pid_file {
        if let Err(e) = std::fs::write(pid_file, format!("{}\n", std::process::id())) {
            // Checked before mounting, but it may have changed since: nothing may stay
            // mounted when the mount fails.
            let msg = format!("cannot write pid file {}: {e}", Escaped(pid_file));
            if let Err(e) = session.unmounter().unmount() {
                tracing::warn!("unmounting {shown} after a failed mount: {e}");
            }
            return fail(&mut reporter, msg);
        }
    }
    // Detached: from here on the log goes to --log-file, syslog or the fallback file,
    // never the terminal (a successful `flu mount` prints at most where its log is).
    if !req.foreground {
        let log_path = match &detached_log {
            Some(DetachedLog::File { path, .. }) => Some(path.as_path()),
            _ => req.log_file.as_deref(),
        };
        redirect_stdio(log_path);
        if let Some(log) = &detached_log {
            if let Err(msg) = crate::logging::switch_to(log) {
                let _ = session.unmounter().unmount();
                return fail(&mut reporter, msg);
            }
        }
    }
    // The control channel (flu stats): up before `flu mount` returns, gone at unmount.
    let control = match crate::control::start(&session, &req.mountpoint, &req.script) {
        Ok(c) => c,
        Err(e) => {
            let _ = session.unmounter().unmount();
            return fail(&mut reporter, e.to_string());
        }
    };
    tracing::info!("mounted on {shown} (pid {})", std::process::id());

    // From now on no path may lead a backend back into this mount.
    match session.unmounter().device() {
        Ok(dev) => backend.mounted(dev),
        Err(e) => tracing::warn!(
            "cannot find the device of {shown} ({e}): no check against serving itself"
        ),
    }
    // Notifications can reach the kernel now; timers start.
    match KernelNotifier::start(session.handler(), session.channel().clone()) {
        Ok(notifier) => backend.serving(Arc::new(notifier)),
        Err(e) => {
            let _ = session.unmounter().unmount();
            return fail(
                &mut reporter,
                format!("cannot start the notification thread: {e}"),
            );
        }
    }

    let unmounter = session.unmounter();
    let mountpoint = req.mountpoint.clone();
    let finished = Arc::new(AtomicBool::new(false));
    let session_finished = finished.clone();
    let reload_on_hup = !req.foreground;
    let signal_backend = backend.clone();
    std::thread::Builder::new()
        .name("flu-signals".into())
        .spawn(move || {
            let shown = Escaped(&mountpoint);
            loop {
                match signals.wait() {
                    Ok(libc::SIGHUP) if reload_on_hup => {
                        tracing::info!("received SIGHUP: reloading the script of {shown}");
                        let _ = crate::reload::reload(signal_backend.as_ref(), "SIGHUP");
                    }
                    Ok(sig) => {
                        tracing::info!("received {}: unmounting {shown}", signal_name(sig));
                        if let Err(e) = unmounter.unmount() {
                            tracing::warn!("unmount failed ({e}); detaching {shown} lazily");
                            let _ = unmounter.unmount_lazy();
                            end_stuck_session(&unmounter, &session_finished, &shown.to_string());
                        }
                        return;
                    }
                    Err(e) => {
                        tracing::error!(
                            "waiting for signals failed ({e}); signals may leave {shown} dead"
                        );
                        return;
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    // Watching starts from what is on disk before `flu mount` returns: an edit made
    // right after it is seen.
    if req.watch {
        if let Err(e) = crate::reload::Watch::start(backend.clone(), finished.clone()) {
            tracing::error!("--watch: cannot start watching the script: {e}");
        }
    }
    reporter.ready();

    let result = session.run();
    finished.store(true, Ordering::SeqCst);
    drop(control);
    if let Some(pid_file) = &req.pid_file {
        let _ = std::fs::remove_file(pid_file);
    }
    tracing::info!("unmounted {shown}");
    result.map_err(|e| format!("serving {shown} failed: {e}"))
}
