//! Parallel stress through the passthrough: 8 processes (python3 workers) create, write,
//! read, truncate, rename, link, symlink and remove files and directories in one shared
//! tree for a bounded time. Names are typed (`d*` only ever directories, `f*` only
//! files, `s*` only symlinks, directories only at the top), so the only errnos the
//! races may produce are ENOENT, EEXIST and ENOTEMPTY; any other fails the worker.
//! Afterwards: every worker finished in time (no deadlock), the daemon is alive, `find`
//! walks the tree, and the tree seen through the mount is exactly the backing tree
//! (names, types, modes, link counts, sizes, contents).

mod common;
mod posix;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use posix::*;

const WORKERS: usize = 8;
/// How long each worker runs.
const WORKER_SECONDS: f64 = 8.0;
/// A worker that has not finished by then is stuck: the test fails.
const WORKER_TIMEOUT: Duration = Duration::from_secs(90);

const WORKER: &str = r#"
import errno, os, random, sys, time

root, seed, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(seed)
ALLOWED = {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY}
DIRS = ["d%d" % i for i in range(4)]

def fname():
    return os.path.join(root, rng.choice(["."] + DIRS), "f%d" % rng.randrange(10))

def dname():
    return os.path.join(root, rng.choice(DIRS))

def sname():
    return os.path.join(root, "s%d" % rng.randrange(5))

counts = {}
fds = []
ops = 0
deadline = time.monotonic() + secs
while time.monotonic() < deadline:
    op = rng.randrange(16)
    try:
        if op == 0:
            fd = os.open(fname(), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
            try:
                os.write(fd, bytes([65 + seed % 26]) * rng.randrange(20000))
            finally:
                os.close(fd)
        elif op == 1:
            fds.append(os.open(fname(), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
        elif op == 2:
            os.rename(fname(), fname())
        elif op == 3:
            os.link(fname(), fname())
        elif op == 4:
            os.unlink(fname())
        elif op == 5:
            os.mkdir(dname(), 0o755)
        elif op == 6:
            os.rmdir(dname())
        elif op == 7:
            os.rename(dname(), dname())
        elif op == 8:
            fd = os.open(fname(), os.O_RDONLY)
            try:
                os.read(fd, 65536)
            finally:
                os.close(fd)
        elif op == 9:
            os.stat(fname())
        elif op == 10:
            os.listdir(rng.choice([root, dname()]))
        elif op == 11:
            os.symlink("f%d" % rng.randrange(10), sname())
        elif op == 12:
            rng.choice([os.unlink, os.readlink, os.lstat])(sname())
        elif op == 13 and fds:
            fd = rng.choice(fds)
            os.pwrite(fd, b"w" * rng.randrange(1, 5000), rng.randrange(30000))
            os.fstat(fd)
            os.ftruncate(fd, rng.randrange(30000))
            if os.pread(fd, 10, 0) is None:
                raise SystemExit("pread returned nothing")
        elif op == 14 and fds:
            os.close(fds.pop(rng.randrange(len(fds))))
        elif op == 15:
            os.truncate(fname(), rng.randrange(20000))
    except OSError as e:
        if e.errno not in ALLOWED:
            print("worker %d: op %d: unexpected %s" % (seed, op, e), file=sys.stderr)
            sys.exit(1)
        counts[errno.errorcode[e.errno]] = counts.get(errno.errorcode[e.errno], 0) + 1
    ops += 1
for fd in fds:
    os.close(fd)
print("worker %d: %d operations, expected errors %s" % (seed, ops, counts))
"#;

fn spawn_worker(script: &Path, root: &Path, seed: usize, out: &Path) -> Child {
    Command::new("python3")
        .arg(script)
        .arg(root)
        .arg(seed.to_string())
        .arg(WORKER_SECONDS.to_string())
        .stdin(Stdio::null())
        .stdout(fs::File::create(out.join(format!("worker{seed}.out"))).unwrap())
        .stderr(fs::File::create(out.join(format!("worker{seed}.err"))).unwrap())
        .spawn()
        .expect("spawn python3")
}

fn stress(script: &str, mount: fn(&str, &Path) -> Option<Mounted>) {
    let backing = ShmDir::new("stress");
    let Some(m) = mount(script, backing.path()) else {
        return;
    };
    let worker_py = m.scratch.join("worker.py");
    fs::write(&worker_py, WORKER).unwrap();
    let mut children: Vec<Child> = {
        let _g = spawning();
        (0..WORKERS)
            .map(|seed| spawn_worker(&worker_py, &m.dir, seed, &m.scratch))
            .collect()
    };
    let mut failures = vec![];
    let mut ops = 0u64;
    for (seed, child) in children.iter_mut().enumerate() {
        let status = wait_child(child, WORKER_TIMEOUT);
        let out = fs::read_to_string(m.scratch.join(format!("worker{seed}.out"))).unwrap();
        let err = fs::read_to_string(m.scratch.join(format!("worker{seed}.err"))).unwrap();
        eprint!("{out}");
        match status {
            None => failures.push(format!(
                "worker {seed} did not finish within {WORKER_TIMEOUT:?} (killed): {err}"
            )),
            Some(s) if !s.success() => failures.push(format!("worker {seed} failed ({s}): {err}")),
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
        ops >= WORKERS as u64 * 50,
        "the workers did almost nothing ({ops} operations)"
    );
    assert!(m.daemon_alive(), "the daemon died under stress");

    let found = {
        let _g = spawning();
        m.sh("find . | sort")
    };
    assert!(found.starts_with(".\n"), "find: {found}");

    let through_mount = {
        let _g = using_mounts();
        tree(&m.dir)
    };
    let in_backing = tree(backing.path());
    assert_eq!(
        through_mount, in_backing,
        "the tree through the mount differs from the backing tree"
    );
    // `find` lists the same names as the backing tree.
    let mut find_names: Vec<&str> = found
        .lines()
        .filter(|l| *l != ".")
        .map(|l| l.trim_start_matches("./"))
        .collect();
    find_names.sort();
    let mut backing_names: Vec<&str> = in_backing.keys().map(String::as_str).collect();
    backing_names.sort();
    assert_eq!(find_names, backing_names, "find vs backing tree");
    let log = m.log_text();
    assert!(
        !log.contains("panicked"),
        "the daemon logged a panic:\n{log}"
    );
    unmount(m);
}

#[test]
fn native_passthrough_under_parallel_stress() {
    stress(NATIVE, mount_passthrough);
}

#[test]
fn native_passthrough_default_options_under_parallel_stress() {
    stress(NATIVE, mount_passthrough_default);
}

#[test]
fn lua_overridden_passthrough_under_parallel_stress() {
    stress(LUA, mount_passthrough);
}
