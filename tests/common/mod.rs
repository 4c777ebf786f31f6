//! Integration-test harness: mount a Lua filesystem with the real `flu` binary, drive it
//! with real programs and syscalls, and always unmount it again.
//!
//! - [`mount`] / [`MountOptions`]: `flu mount SCRIPT DIR --log-file LOG --pid-file PID …`,
//!   asserts exit 0, returns a [`Mounted`] guard whose `Drop` unmounts (`fusermount3 -u`,
//!   then `umount -l` / `fusermount3 -uz` if that fails) and waits, bounded, for the
//!   daemon to exit — even when the test panics.
//! - When mounting fails: with `CI=true` the test fails; otherwise it is skipped (with a
//!   printed reason) only when `/dev/fuse` is missing.
//! - Every child process runs with a timeout, so a hung filesystem fails the test
//!   instead of hanging the suite.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long any single external command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `flu mount` may take to report.
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a daemon may take to exit after its filesystem is unmounted.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(15);

/// The `flu` binary under test.
pub fn flu_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_flu"))
}

/// The workspace root.
pub fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `examples/NAME`.
pub fn example(name: &str) -> PathBuf {
    root_dir().join("examples").join(name)
}

/// `tests/scripts/NAME`.
pub fn test_script(name: &str) -> PathBuf {
    root_dir().join("tests").join("scripts").join(name)
}

pub fn on_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn init_process() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Tests pass explicit modes and check what the filesystem got: make the umask
        // known (it is process-wide, so set it once for every test thread).
        // SAFETY: umask has no preconditions.
        unsafe { libc::umask(0o022) };
    });
}

/// A fresh private directory, removed (when nothing is mounted in it) on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("flu-test-{}-{}-{}", tag, std::process::id(), n));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.path.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Never recurse into a live mount: that would delete the filesystem's contents
        // (or hang on a dead one).
        let busy = mount_points().iter().any(|m| m.starts_with(&self.path));
        if !busy {
            let _ = fs::remove_dir_all(&self.path);
        } else {
            eprintln!(
                "harness: leaving {} in place: something is still mounted below it",
                self.path.display()
            );
        }
    }
}

/// Mount points currently listed in /proc/self/mountinfo (octal escapes decoded).
pub fn mount_points() -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(OsStr::from_bytes(&unescape_mountinfo(m))))
        .collect()
}

/// FUSE mounts as (mount point, fstype) pairs.
pub fn fuse_mounts() -> Vec<(PathBuf, String)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(' ').collect();
            let mp = fields.get(4)?;
            let dash = fields.iter().position(|f| *f == "-")?;
            let fstype = fields.get(dash + 1)?;
            fstype.starts_with("fuse").then(|| {
                (
                    PathBuf::from(OsStr::from_bytes(&unescape_mountinfo(mp))),
                    fstype.to_string(),
                )
            })
        })
        .collect()
}

fn unescape_mountinfo(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Whether `dir` is a mount point right now.
/// The names in directory `dir`, sorted (panics if it cannot be listed).
pub fn sorted_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn is_mounted(dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    mount_points().contains(&dir)
}

/// Whether `dir` is a FUSE mount point right now.
pub fn is_fuse_mounted(dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    fuse_mounts().iter().any(|(m, _)| *m == dir)
}

/// Whether the process exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // state is the field after the ")" that closes the command name
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next())
                .unwrap_or("X");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Poll `cond` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(20));
    }
}

/// Pids of live processes whose command line mentions `needle` (used to find a daemon
/// started without `--pid-file`, e.g. by `flu run`).
pub fn pids_mentioning(needle: &Path) -> Vec<i32> {
    let needle = needle.as_os_str().as_bytes();
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .filter(|pid| pid_alive(*pid))
        .collect()
}

/// Output of a finished command, stdout/stderr as text.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status.success()
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            status: o.status,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Run `cmd` to completion with a timeout. stdout/stderr go to files, not pipes, so a
/// daemon that forks off and keeps them open cannot make this wait forever.
pub fn run_cmd(cmd: &mut Command, timeout: Duration) -> Run {
    let scratch = TempDir::new("out");
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let out = File::create(&out_path).unwrap();
    let err = File::create(&err_path).unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let status = wait_child(&mut child, timeout)
        .unwrap_or_else(|| panic!("{cmd:?} did not finish within {timeout:?} (killed)"));
    Run {
        status,
        stdout: read_lossy(&out_path),
        stderr: read_lossy(&err_path),
    }
}

/// Wait for a child, killing it (by its pid) after `timeout`. `None` when it timed out.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        sleep(Duration::from_millis(20));
    }
}

fn read_lossy(p: &Path) -> String {
    let mut v = Vec::new();
    if let Ok(mut f) = File::open(p) {
        let _ = f.read_to_end(&mut v);
    }
    String::from_utf8_lossy(&v).into_owned()
}

/// `sh -c SCRIPT` in `cwd`; panics with the whole story unless it exits 0. Returns stdout.
pub fn sh(cwd: &Path, script: &str) -> String {
    let r = sh_run(cwd, script);
    assert!(
        r.ok(),
        "`{script}` failed ({}):\nstdout: {}\nstderr: {}",
        r.status,
        r.stdout,
        r.stderr
    );
    r.stdout
}

/// `sh -c SCRIPT` in `cwd`, whatever its exit status.
pub fn sh_run(cwd: &Path, script: &str) -> Run {
    run_cmd(
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(cwd)
            .env("LC_ALL", "C")
            .env("TZ", "UTC"),
        COMMAND_TIMEOUT,
    )
}

/// Unmount `dir`: `fusermount3 -u`, then the lazy forms if that fails. Returns whether
/// the mount is gone.
pub fn force_unmount(dir: &Path) -> bool {
    if !is_mounted(dir) {
        return true;
    }
    let attempts: [(&str, &[&str]); 3] = [
        ("fusermount3", &["-u"]),
        ("umount", &["-l"]),
        ("fusermount3", &["-uz"]),
    ];
    for (prog, args) in attempts {
        let _ = Command::new(prog)
            .args(args)
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !is_mounted(dir) {
            return true;
        }
    }
    !is_mounted(dir)
}

/// What to mount and how.
#[derive(Clone, Debug, Default)]
pub struct MountOptions {
    /// Values for `-o` (joined with commas).
    pub opts: Vec<String>,
    /// Extra daemon flags (`-d`, `--threads 4`, …).
    pub flags: Vec<String>,
    /// Script arguments, after `--`.
    pub args: Vec<String>,
    /// Environment variables set for the daemon (and so for the script).
    pub env: Vec<(String, String)>,
}

impl MountOptions {
    pub fn new() -> MountOptions {
        MountOptions::default()
    }
    pub fn opt(mut self, o: &str) -> Self {
        self.opts.push(o.to_string());
        self
    }
    pub fn flag(mut self, f: &str) -> Self {
        self.flags.push(f.to_string());
        self
    }
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_string_lossy().into_owned());
        self
    }
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.env.push((
            name.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }
}

/// A mounted filesystem. Dropping it unmounts, waits for the daemon, cleans up.
pub struct Mounted {
    /// The mount point.
    pub dir: PathBuf,
    /// The daemon's log (`--log-file`).
    pub log: PathBuf,
    /// The daemon's pid, from `--pid-file` (None if the daemon did not write it).
    pub pid: Option<i32>,
    /// A scratch directory next to the mount, for files a test needs outside it.
    pub scratch: PathBuf,
    /// A foreground daemon (`-f`), when the test started one.
    pub child: Option<Child>,
    tmp: TempDir,
}

/// The `-o` list of a test mount: the test's options, then `FLU_TEST_MOUNT_OPTIONS`
/// (to run a suite under other options, e.g. `FLU_TEST_MOUNT_OPTIONS=io_uring cargo
/// test`).
fn add_options(cmd: &mut Command, o: &MountOptions) {
    let mut opts = o.opts.clone();
    if let Ok(extra) = std::env::var("FLU_TEST_MOUNT_OPTIONS") {
        opts.extend(extra.split(',').filter(|s| !s.is_empty()).map(String::from));
    }
    if !opts.is_empty() {
        cmd.arg("-o").arg(opts.join(","));
    }
}

/// Mount `script` with default options; `None` means "skip this test" (no /dev/fuse and
/// not on CI).
pub fn mount(script: &Path) -> Option<Mounted> {
    mount_with(script, MountOptions::new())
}

/// Mount `script`; see [`mount`].
pub fn mount_with(script: &Path, o: MountOptions) -> Option<Mounted> {
    init_process();
    let tmp = TempDir::new("mnt");
    let dir = tmp.join("mnt");
    let scratch = tmp.join("scratch");
    fs::create_dir(&dir).unwrap();
    fs::create_dir(&scratch).unwrap();
    let log = tmp.join("flu.log");
    let pid_file = tmp.join("flu.pid");

    let mut cmd = Command::new(flu_bin());
    cmd.arg("mount").arg(script).arg(&dir);
    cmd.arg("--log-file")
        .arg(&log)
        .arg("--pid-file")
        .arg(&pid_file);
    add_options(&mut cmd, &o);
    cmd.args(&o.flags);
    cmd.envs(o.env.iter().map(|(k, v)| (k, v)));
    if !o.args.is_empty() {
        cmd.arg("--").args(&o.args);
    }
    let r = run_cmd(&mut cmd, MOUNT_TIMEOUT);
    let pid = fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok());
    let m = Mounted {
        dir,
        log,
        pid,
        scratch,
        child: None,
        tmp,
    };
    if !r.ok() {
        let why = format!(
            "`flu mount {}` failed ({}):\nstderr: {}\nlog:\n{}",
            script.display(),
            r.status,
            r.stderr.trim(),
            m.log_text()
        );
        drop(m);
        return skip_or_fail(&why);
    }
    assert!(
        is_fuse_mounted(&m.dir),
        "`flu mount` exited 0 but {} is not a FUSE mount point",
        m.dir.display()
    );
    Some(m)
}

/// Start `flu mount -f` (foreground) as our child and wait until the filesystem is
/// mounted. `None` means "skip".
pub fn mount_foreground(script: &Path, o: MountOptions) -> Option<Mounted> {
    mount_child(script, o.flag("-f"))
}

/// Start `flu mount SCRIPT DIR --log-file LOG FLAGS…` as our child — it must stay in
/// the foreground, which is what `-f` (or `-d`) says — and wait until the filesystem is
/// mounted. `None` means "skip".
pub fn mount_child(script: &Path, o: MountOptions) -> Option<Mounted> {
    init_process();
    let tmp = TempDir::new("fg");
    let dir = tmp.join("mnt");
    let scratch = tmp.join("scratch");
    fs::create_dir(&dir).unwrap();
    fs::create_dir(&scratch).unwrap();
    let log = tmp.join("flu.log");
    let mut cmd = Command::new(flu_bin());
    cmd.arg("mount").arg(script).arg(&dir);
    cmd.arg("--log-file").arg(&log);
    add_options(&mut cmd, &o);
    cmd.args(&o.flags);
    cmd.envs(o.env.iter().map(|(k, v)| (k, v)));
    if !o.args.is_empty() {
        cmd.arg("--").args(&o.args);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(tmp.join("stdout")).unwrap())
        .stderr(File::create(tmp.join("stderr")).unwrap())
        .spawn()
        .expect("spawn flu mount");
    let pid = Some(child.id() as i32);
    let mut m = Mounted {
        dir,
        log,
        pid,
        scratch,
        child: Some(child),
        tmp,
    };
    let mounted = wait_until(MOUNT_TIMEOUT, || {
        is_fuse_mounted(&m.dir) || m.child.as_mut().unwrap().try_wait().unwrap().is_some()
    }) && is_fuse_mounted(&m.dir);
    if !mounted {
        let why = format!(
            "`flu mount {}` (in the foreground) did not mount:\nstderr: {}\nlog:\n{}",
            script.display(),
            read_lossy(&m.tmp.join("stderr")),
            m.log_text()
        );
        drop(m);
        return skip_or_fail(&why);
    }
    Some(m)
}

/// Adopt a mount made some other way (e.g. `flu run`): the guard unmounts it and waits
/// for whatever process mentions the mount point.
pub fn adopt(tmp: TempDir, dir: PathBuf, log: PathBuf) -> Mounted {
    let scratch = tmp.join("scratch");
    let _ = fs::create_dir(&scratch);
    let pid = pids_mentioning(&dir).first().copied();
    Mounted {
        dir,
        log,
        pid,
        scratch,
        child: None,
        tmp,
    }
}

/// Mount failures: fail on CI, skip only when FUSE is absent.
pub fn skip_or_fail<T>(why: &str) -> Option<T> {
    if !on_ci() && !Path::new("/dev/fuse").exists() {
        eprintln!("SKIPPED: /dev/fuse is missing on this machine\n{why}");
        return None;
    }
    panic!("{why}");
}

impl Mounted {
    /// Whether our foreground daemon (a child) is still running.
    pub fn child_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().expect("try_wait").is_none())
    }

    /// A path inside the mount.
    pub fn path(&self, p: impl AsRef<Path>) -> PathBuf {
        self.dir.join(p)
    }

    /// `sh -c` in the mount point; panics unless it succeeds. Returns stdout.
    pub fn sh(&self, script: &str) -> String {
        sh(&self.dir, script)
    }

    /// `sh -c` in the mount point, whatever its exit status.
    pub fn sh_run(&self, script: &str) -> Run {
        sh_run(&self.dir, script)
    }

    /// The daemon's log so far.
    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Log lines that contain every one of `needles`.
    pub fn log_lines_with(&self, needles: &[&str]) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_string)
            .collect()
    }

    /// Wait (bounded) until the log has a line containing every one of `needles`;
    /// returns all such lines (empty if none appeared).
    pub fn wait_log_lines(&self, needles: &[&str]) -> Vec<String> {
        let mut lines = vec![];
        wait_until(Duration::from_secs(10), || {
            lines = self.log_lines_with(needles);
            !lines.is_empty()
        });
        lines
    }

    /// Whether the daemon is still running (and the mount still there).
    pub fn daemon_alive(&self) -> bool {
        self.pid.map(pid_alive).unwrap_or(true) && is_fuse_mounted(&self.dir)
    }

    /// Unmount with `flu unmount DIR` and return its result.
    pub fn flu_unmount(&self) -> Run {
        run_cmd(
            Command::new(flu_bin()).arg("unmount").arg(&self.dir),
            COMMAND_TIMEOUT,
        )
    }

    /// Wait (bounded) for the daemon to go away; for a foreground daemon, its exit status.
    pub fn wait_daemon_exit(&mut self) -> Option<ExitStatus> {
        if let Some(child) = self.child.as_mut() {
            let status = wait_child(child, EXIT_TIMEOUT);
            self.child = None;
            return status;
        }
        let pid = self.pid;
        let dir = self.dir.clone();
        let gone = wait_until(EXIT_TIMEOUT, || match pid {
            Some(p) => !pid_alive(p),
            None => pids_mentioning(&dir).is_empty(),
        });
        assert!(gone, "the daemon did not exit within {EXIT_TIMEOUT:?}");
        None
    }

    /// Stop: unmount (asserting it worked) and wait for the daemon to exit.
    pub fn unmount(mut self) {
        let r = run_cmd(
            Command::new("fusermount3").arg("-u").arg(&self.dir),
            COMMAND_TIMEOUT,
        );
        assert!(r.ok(), "fusermount3 -u failed: {}", r.stderr);
        self.wait_daemon_exit();
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if panicking {
            eprintln!(
                "---- flu log ({}) ----\n{}\n---- end of log ----",
                self.log.display(),
                self.log_text()
            );
        }
        if !force_unmount(&self.dir) {
            eprintln!("harness: could not unmount {}", self.dir.display());
        }
        // Wait for our daemon to exit; a daemon that ignores the unmount is killed (it
        // is ours: we started it, and we know its pid).
        if let Some(mut child) = self.child.take() {
            if wait_child(&mut child, EXIT_TIMEOUT).is_none() {
                eprintln!("harness: foreground daemon did not exit; killed");
            }
        } else {
            let pids: Vec<i32> = match self.pid {
                Some(p) => vec![p],
                None => pids_mentioning(&self.dir),
            };
            for pid in pids {
                if !wait_until(EXIT_TIMEOUT, || !pid_alive(pid)) {
                    eprintln!("harness: daemon {pid} did not exit after unmount; killing it");
                    // SAFETY: plain kill(2) on a pid we started.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    wait_until(EXIT_TIMEOUT, || !pid_alive(pid));
                    force_unmount(&self.dir);
                }
            }
        }
        let _ = &self.tmp; // removed after this, when nothing is mounted below it
    }
}

/// The errno of an io::Error (panics if it has none).
pub fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error()
        .unwrap_or_else(|| panic!("not an OS error: {e}"))
}

/// Assert that `r` failed with `expected` errno.
#[track_caller]
pub fn assert_errno<T: std::fmt::Debug>(r: std::io::Result<T>, expected: i32, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected errno {expected}, got success {v:?}"),
        Err(e) => assert_eq!(
            errno_of(&e),
            expected,
            "{what}: expected errno {expected} ({}), got {e}",
            std::io::Error::from_raw_os_error(expected)
        ),
    }
}

// ---- the control channel ----------------------------------------------------------------

/// `flu stats DIR --json`, whatever its exit status.
pub fn flu_stats(dir: &Path) -> Run {
    run_cmd(
        Command::new(flu_bin()).arg("stats").arg(dir).arg("--json"),
        COMMAND_TIMEOUT,
    )
}

/// The stats of the mount at `dir`, read through the control channel (`flu stats
/// --json`); panics unless the daemon answers.
pub fn stats_of(dir: &Path) -> flu::control::json::Value {
    let r = flu_stats(dir);
    assert!(r.ok(), "flu stats {} failed: {}", dir.display(), r.stderr);
    flu::control::json::parse(r.stdout.trim())
        .unwrap_or_else(|e| panic!("flu stats printed no JSON ({e}): {}", r.stdout))
}

/// Member `key` of a stats reply as a number; panics if it is missing.
pub fn stat_number(stats: &flu::control::json::Value, key: &str) -> u64 {
    stats
        .get(key)
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("stats have no number {key}: {stats:?}"))
}
