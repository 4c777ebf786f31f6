//! Leaving nothing behind: every mount and daemon the benchmark starts is registered
//! here, and unmounted/stopped on normal exit, on a panic, on SIGINT/SIGTERM/SIGHUP, and
//! by a watchdog when one measurement hangs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Active {
    mountpoint: PathBuf,
    pid: Option<i32>,
}

static ACTIVE: Mutex<Vec<Active>> = Mutex::new(Vec::new());
static WORK_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);
/// The measurement in progress: its deadline and the mount it runs on.
static CURRENT: Mutex<Option<(Instant, PathBuf)>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn set_work_dir(dir: &Path) {
    *lock(&WORK_DIR) = Some(dir.to_path_buf());
}

pub fn register(mountpoint: &Path, pid: Option<i32>) {
    lock(&ACTIVE).push(Active {
        mountpoint: mountpoint.to_path_buf(),
        pid,
    });
}

pub fn unregister(mountpoint: &Path) {
    lock(&ACTIVE).retain(|a| a.mountpoint != mountpoint);
}

/// Whether `path` is a mountpoint right now (from /proc/self/mountinfo).
pub fn is_mounted(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.to_string_lossy().replace(' ', "\\040");
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|mp| mp == want)
}

/// Mountpoints at or below `dir`.
pub fn mounts_below(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|mp| PathBuf::from(mp.replace("\\040", " ")))
        .filter(|mp| mp.starts_with(dir))
        .collect()
}

/// `fusermount3 -u [-z] DIR`, falling back to `fusermount` and to umount2 (root).
pub fn fusermount(mountpoint: &Path, lazy: bool) -> bool {
    for tool in ["fusermount3", "fusermount"] {
        let mut cmd = Command::new(tool);
        cmd.arg("-u").arg("-q");
        if lazy {
            cmd.arg("-z");
        }
        let ok = cmd
            .arg(mountpoint)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return true;
        }
    }
    let Ok(c) = std::ffi::CString::new(mountpoint.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let flags = if lazy { libc::MNT_DETACH } else { 0 };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::umount2(c.as_ptr(), flags) == 0 }
}

/// Wait for our child `pid` to exit, up to `timeout`; then SIGKILL it.
pub fn reap(pid: i32, timeout: Duration) {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: plain waitpid on our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid || r < 0 {
            return;
        }
        if start.elapsed() > timeout {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Unmount everything registered (lazily), stop the daemons, remove the work dir.
pub fn cleanup_all() {
    let _restore = RestoreUring;
    let active: Vec<Active> = std::mem::take(&mut *lock(&ACTIVE));
    for a in &active {
        if is_mounted(&a.mountpoint) {
            fusermount(&a.mountpoint, true);
        }
    }
    for a in &active {
        if let Some(pid) = a.pid {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            reap(pid, Duration::from_secs(3));
        }
    }
    if let Some(dir) = lock(&WORK_DIR).take() {
        for mp in mounts_below(&dir) {
            fusermount(&mp, true);
        }
        if mounts_below(&dir).is_empty() {
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            eprintln!(
                "flu-bench: left {} in place: still mounted below it",
                dir.display()
            );
        }
    }
}

/// Block the termination signals in this (the main) thread before any other thread
/// exists, and take them in a thread that cleans up and exits. Children get an empty
/// signal mask from `std::process::Command`.
pub fn install_signal_thread() {
    // SAFETY: sigset manipulation on a local set; pthread_sigmask on this thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let set_copy = set;
        std::thread::spawn(move || {
            let mut sig = 0;
            libc::sigwait(&set_copy, &mut sig);
            eprintln!("\nflu-bench: signal {sig}: unmounting and cleaning up");
            cleanup_all();
            std::process::exit(128 + sig);
        });
    }
}

/// Run `f` with a watchdog: if it takes longer than `limit`, the mount it works on is
/// detached lazily, which makes the hung syscalls fail (ENOTCONN) so `f` returns.
pub fn with_deadline<T>(mountpoint: Option<&Path>, limit: Duration, f: impl FnOnce() -> T) -> T {
    if let Some(mp) = mountpoint {
        *lock(&CURRENT) = Some((Instant::now() + limit, mp.to_path_buf()));
    }
    let r = f();
    *lock(&CURRENT) = None;
    r
}

pub fn start_watchdog() {
    std::thread::spawn(|| loop {
        std::thread::sleep(Duration::from_millis(500));
        let expired = {
            let mut cur = lock(&CURRENT);
            match &*cur {
                Some((deadline, mp)) if Instant::now() > *deadline => {
                    let mp = mp.clone();
                    *cur = None;
                    Some(mp)
                }
                _ => None,
            }
        };
        if let Some(mp) = expired {
            eprintln!("flu-bench: {} hung; aborting its connection", mp.display());
            // Blocked requests fail at once (ENOTCONN); then detach the mount.
            abort_fuse_connection(&mp);
            fusermount(&mp, true);
        }
    });
}

/// Write to /sys/fs/fuse/connections/<minor>/abort for the mount at `mp` (device
/// number from /proc/self/mountinfo, so nothing touches the hung mount itself).
fn abort_fuse_connection(mp: &Path) {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let want = mp.to_string_lossy().replace(' ', "\\040");
    for line in info.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.get(4) == Some(&want.as_str()) {
            if let Some(minor) = f.get(2).and_then(|d| d.split(':').nth(1)) {
                let _ = std::fs::write(format!("/sys/fs/fuse/connections/{minor}/abort"), "1");
            }
        }
    }
}

/// Puts `enable_uring` back once the mounts are gone (on every way out).
struct RestoreUring;

impl Drop for RestoreUring {
    fn drop(&mut self) {
        crate::uring::restore();
    }
}
