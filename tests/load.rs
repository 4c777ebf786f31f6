//! The load test of the robustness issue: 8 parallel client processes (python3 workers)
//! for 60 s mixing create, write, read, rename, unlink, mkdir/rmdir, readdir and xattrs
//! on luafs, on the native passthrough and on the Lua-overridden passthrough, twice.
//!
//! Checked, each able to fail:
//! - no deadlock: every worker finishes within its time plus `WORKER_GRACE`;
//! - no unexpected errno: the races of the mix may only give the errnos in `ALLOWED`
//!   (see the worker: names are typed, `d*` only directories at the top, `f*` only
//!   files, so ENOTDIR, EISDIR, EINVAL… can only come from a bug); any other ends the
//!   worker with a failure;
//! - the daemon's node count and open file and directory counts, read through the
//!   control channel, return exactly to their starting values once the clients have
//!   exited and the kernel has dropped its caches (as root: `drop_caches`, polled for a
//!   bounded time); no request stays in flight;
//! - the second, identical run grows the daemon's RSS (`VmRSS`) by less than 10 %.
//!
//! `FLU_LOAD_SECONDS` shortens (or lengthens) each run; the issue asks for 60.

mod common;
mod posix;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use posix::*;

const WORKERS: usize = 8;
/// How long a worker may overrun its time before it counts as stuck.
const WORKER_GRACE: Duration = Duration::from_secs(60);
/// How long the counts may take to come back after the clients exit.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest RSS growth of the second run, in percent of the first.
const MAX_RSS_GROWTH_PERCENT: u64 = 10;

fn run_seconds() -> f64 {
    std::env::var("FLU_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0)
}

/// The errnos the mix may produce (names picked at random by 8 racing processes):
/// ENOENT (the name was removed or renamed away meanwhile), EEXIST (O_EXCL, mkdir,
/// XATTR_CREATE of a name that is there), ENOTEMPTY (rmdir, or rename of a directory
/// over one with entries), ENODATA (getxattr, removexattr, XATTR_REPLACE of an
/// attribute that is not there).
const WORKER: &str = r#"
import errno, os, random, sys, time

root, seed, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(seed)
ALLOWED = {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY, errno.ENODATA}
DIRS = ["d%d" % i for i in range(4)]
XATTRS = ["user.a", "user.b", "user.c"]

def fname():
    return os.path.join(root, rng.choice(["."] + DIRS), "f%d" % rng.randrange(10))

def dname():
    return os.path.join(root, rng.choice(DIRS))

def anyname():
    return fname() if rng.randrange(3) else dname()

counts = {}
fds, dfds = [], []
ops = 0
deadline = time.monotonic() + secs
while time.monotonic() < deadline:
    op = rng.randrange(19)
    try:
        if op == 0:
            fd = os.open(fname(), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
            try:
                os.write(fd, bytes([65 + seed % 26]) * rng.randrange(20000))
            finally:
                os.close(fd)
        elif op == 1 and len(fds) < 8:
            fds.append(os.open(fname(), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
        elif op == 2:
            os.rename(fname(), fname())
        elif op == 3:
            os.unlink(fname())
        elif op == 4:
            os.mkdir(dname(), 0o755)
        elif op == 5:
            os.rmdir(dname())
        elif op == 6:
            os.rename(dname(), dname())
        elif op == 7:
            fd = os.open(fname(), os.O_RDONLY)
            try:
                os.read(fd, 65536)
            finally:
                os.close(fd)
        elif op == 8:
            os.stat(anyname())
        elif op == 9:
            os.listdir(rng.choice([root, dname()]))
        elif op == 10:
            flags = rng.choice([0, os.XATTR_CREATE, os.XATTR_REPLACE])
            os.setxattr(anyname(), rng.choice(XATTRS), b"v" * rng.randrange(1, 100), flags)
        elif op == 11:
            os.getxattr(anyname(), rng.choice(XATTRS))
        elif op == 12:
            for name in os.listxattr(anyname()):
                if name.startswith("user.") and name not in XATTRS:
                    raise SystemExit("listxattr: unknown attribute %r" % name)
        elif op == 13:
            os.removexattr(anyname(), rng.choice(XATTRS))
        elif op == 14 and fds:
            fd = rng.choice(fds)
            os.pwrite(fd, b"w" * rng.randrange(1, 5000), rng.randrange(30000))
            os.fstat(fd)
            if os.pread(fd, 10, 0) is None:
                raise SystemExit("pread returned nothing")
        elif op == 15 and fds:
            os.close(fds.pop(rng.randrange(len(fds))))
        elif op == 16 and len(dfds) < 4:
            dfds.append(os.open(rng.choice([root, dname()]), os.O_RDONLY | os.O_DIRECTORY))
        elif op == 17 and dfds:
            fd = dfds.pop(rng.randrange(len(dfds)))
            try:
                os.listdir(fd)
            finally:
                os.close(fd)
        elif op == 18:
            with os.scandir(rng.choice([root, dname()])) as it:
                for entry in it:
                    entry.is_dir(follow_symlinks=False)
    except OSError as e:
        if e.errno not in ALLOWED:
            print("worker %d: op %d: unexpected %s" % (seed, op, e), file=sys.stderr)
            sys.exit(1)
        counts[errno.errorcode[e.errno]] = counts.get(errno.errorcode[e.errno], 0) + 1
    ops += 1
for fd in fds + dfds:
    os.close(fd)
print("worker %d: %d operations, expected errors %s" % (seed, ops, counts))
"#;

/// The numbers that must come back after a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    nodes: u64,
    open_files: u64,
    open_dirs: u64,
    in_flight: u64,
}

fn counts(m: &Mounted) -> Counts {
    let s = {
        let _g = spawning();
        stats_of(&m.dir)
    };
    Counts {
        nodes: stat_number(&s, "nodes"),
        open_files: stat_number(&s, "open_files"),
        open_dirs: stat_number(&s, "open_dirs"),
        in_flight: stat_number(&s, "requests_in_flight"),
    }
}

/// Ask the kernel to drop its unused dentries and inodes (it then forgets our nodes).
fn drop_kernel_caches() {
    if is_root() {
        let _ = fs::write("/proc/sys/vm/drop_caches", "2");
    }
}

/// Poll (bounded) until the counts equal `want`; returns the last counts seen.
fn settle(m: &Mounted, want: Option<Counts>) -> Counts {
    let mut last = counts(m);
    wait_until(SETTLE_TIMEOUT, || {
        drop_kernel_caches();
        last = counts(m);
        match want {
            Some(w) => last == w,
            // The start: only the root, nothing open.
            None => {
                last.open_files == 0
                    && last.open_dirs == 0
                    && last.in_flight == 0
                    && (last.nodes == 1 || !is_root())
            }
        }
    });
    last
}

fn rss_kb(pid: i32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("daemon status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

/// One run: the workers (same seeds each run: the runs are identical), all finished in
/// time without an unexpected errno. Returns the operations done.
fn run_clients(m: &Mounted, run: usize) -> u64 {
    let secs = run_seconds();
    let worker_py = m.scratch.join("worker.py");
    fs::write(&worker_py, WORKER).unwrap();
    let out_of = |seed: usize, ext: &str| m.scratch.join(format!("run{run}-worker{seed}.{ext}"));
    let spawn = |seed: usize| -> Child {
        Command::new("python3")
            .arg(&worker_py)
            .arg(&m.dir)
            .arg(seed.to_string())
            .arg(secs.to_string())
            .stdin(Stdio::null())
            .stdout(fs::File::create(out_of(seed, "out")).unwrap())
            .stderr(fs::File::create(out_of(seed, "err")).unwrap())
            .spawn()
            .expect("spawn python3")
    };
    let mut children: Vec<Child> = {
        let _g = spawning();
        (0..WORKERS).map(spawn).collect()
    };
    let timeout = Duration::from_secs_f64(secs) + WORKER_GRACE;
    let mut failures = vec![];
    let mut ops = 0u64;
    for (seed, child) in children.iter_mut().enumerate() {
        let status = wait_child(child, timeout);
        let out = fs::read_to_string(out_of(seed, "out")).unwrap_or_default();
        let err = fs::read_to_string(out_of(seed, "err")).unwrap_or_default();
        eprint!("run {run}: {out}");
        match status {
            None => failures.push(format!(
                "run {run}: worker {seed} did not finish within {timeout:?} (killed: a deadlock?): {err}"
            )),
            Some(s) if !s.success() => {
                failures.push(format!("run {run}: worker {seed} failed ({s}): {err}"))
            }
            Some(_) => {
                ops += out
                    .split_whitespace()
                    .nth(2)
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        ops as f64 >= WORKERS as f64 * 20.0 * secs.min(60.0),
        "run {run}: the workers did almost nothing ({ops} operations in {secs} s)"
    );
    ops
}

fn load(label: &str, mount: impl FnOnce(&Path) -> Option<Mounted>) {
    let backing = ShmDir::new("load");
    let Some(m) = mount(backing.path()) else {
        return;
    };
    let pid = m.pid.expect("the daemon's pid");
    let start = settle(&m, None);
    if is_root() {
        assert_eq!(
            start.nodes, 1,
            "{label}: nodes before any client: {start:?}"
        );
    } else {
        eprintln!(
            "{label}: not root: the kernel's caches cannot be dropped, node counts are not checked"
        );
    }
    let mut rss = vec![];
    for run in 1..=2 {
        let ops = run_clients(&m, run);
        assert!(m.daemon_alive(), "{label}: the daemon died in run {run}");
        let mut after = settle(&m, Some(start));
        if !is_root() {
            after.nodes = start.nodes;
        }
        // An idle daemon gives free heap memory back after a second (its keeper thread):
        // measure what is in use, not what a burst left free.
        std::thread::sleep(Duration::from_millis(1500));
        let kb = rss_kb(pid);
        let s = stats_of(&m.dir);
        eprintln!(
            "{label}: run {run}: {ops} operations; counts at start {start:?}, after {after:?}; daemon RSS {kb} kB, Lua memory {:?}, serving threads {}",
            s.get("lua_memory_bytes"),
            stat_number(&s, "serving_threads")
        );
        assert_eq!(
            after, start,
            "{label}: run {run}: nodes / open handles / requests in flight did not return to their starting values within {SETTLE_TIMEOUT:?}"
        );
        rss.push(kb);
    }
    let growth = rss[1].saturating_sub(rss[0]) * 100 / rss[0].max(1);
    eprintln!(
        "{label}: RSS after run 1 {} kB, after run 2 {} kB (+{growth} %)",
        rss[0], rss[1]
    );
    assert!(
        rss[1] * 100 < rss[0] * (100 + MAX_RSS_GROWTH_PERCENT),
        "{label}: the second run grew the daemon's RSS from {} kB to {} kB (+{growth} %, at most {MAX_RSS_GROWTH_PERCENT} % allowed)",
        rss[0],
        rss[1]
    );
    let log = m.log_text();
    for bad in ["panicked", "internal error"] {
        assert!(
            !log.contains(bad),
            "{label}: the daemon logged {bad:?}:\n{log}"
        );
    }
    unmount(m);
}

#[test]
fn luafs_under_load() {
    load("luafs", |_| {
        let _g = spawning();
        mount(&example("luafs.lua"))
    });
}

#[test]
fn native_passthrough_under_load() {
    load("native passthrough", |backing| {
        mount_passthrough(NATIVE, backing)
    });
}

#[test]
fn lua_overridden_passthrough_under_load() {
    load("Lua-overridden passthrough", |backing| {
        mount_passthrough(LUA, backing)
    });
}
