//! FUSE over io_uring (`-o io_uring`, real mounts): requests travel over the kernel's
//! rings where the kernel offers it (Linux 6.14+ with the fuse module's `enable_uring`
//! set, which these tests set as root and put back), and everything a user does works
//! as over /dev/fuse: copies and archives of a tree through the native passthrough,
//! reads and writes of every size through a Lua filesystem (writes are served in place
//! in the ring's buffers, reads answered into them), a handler that sleeps holding up
//! no caller on its CPU, interrupts. Without the kernel's offer the same mount serves
//! over /dev/fuse and says why.
//!
//! To run any other suite over io_uring: `FLU_TEST_MOUNT_OPTIONS=io_uring cargo test`
//! (with `enable_uring` set).

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::*;

const PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

/// The module parameter is one for the machine: the tests here set it in turn.
static PARAM_LOCK: Mutex<()> = Mutex::new(());

/// `enable_uring` set to a value while held, put back when dropped.
struct UringSetting {
    old: String,
    _lock: MutexGuard<'static, ()>,
}

impl UringSetting {
    /// `None` (the test is skipped, also on CI) when this kernel has no FUSE over
    /// io_uring at all, or the parameter cannot be written (not root).
    fn set(on: bool) -> Option<UringSetting> {
        let lock = PARAM_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(old) = std::fs::read_to_string(PARAM) else {
            eprintln!("skipped: this kernel has no FUSE over io_uring ({PARAM} is missing)");
            return None;
        };
        if let Err(e) = std::fs::write(PARAM, if on { "Y" } else { "N" }) {
            eprintln!("skipped: cannot write {PARAM}: {e}");
            return None;
        }
        Some(UringSetting {
            old: old.trim().to_string(),
            _lock: lock,
        })
    }
}

impl Drop for UringSetting {
    fn drop(&mut self) {
        let _ = std::fs::write(PARAM, &self.old);
    }
}

fn over_uring() -> MountOptions {
    MountOptions::new().opt("io_uring")
}

/// A script serving `dir` through the native passthrough.
fn passthrough_script(tmp: &TempDir, dir: &Path) -> std::path::PathBuf {
    let script = tmp.join("passthrough.lua");
    std::fs::write(
        &script,
        format!(
            "local flu = require 'flu'\nreturn flu.passthrough({:?})\n",
            dir.to_str().unwrap()
        ),
    )
    .unwrap();
    script
}

fn ring_requests(m: &Mounted) -> u64 {
    stat_number(&stats_of(&m.dir), "ring_requests")
}

#[test]
fn a_passthrough_tree_is_copied_and_archived_over_the_ring() {
    let Some(_uring) = UringSetting::set(true) else {
        return;
    };
    let tmp = TempDir::new("uring-pt");
    let below = tmp.join("below");
    std::fs::create_dir(&below).unwrap();
    let Some(m) = mount_with(&passthrough_script(&tmp, &below), over_uring()) else {
        return;
    };
    assert!(
        m.log_text().contains("serving over io_uring"),
        "{}",
        m.log_text()
    );
    let stats = stats_of(&m.dir);
    assert_eq!(
        stat_number(&stats, "ring_threads"),
        2 * flu::session::possible_cpus() as u64,
        "two threads per queue"
    );
    let before = ring_requests(&m);
    let sources = root_dir().join("flu-api");
    let out = sh(
        &m.dir,
        &format!(
            "cp -a {src} tree && diff -r {src} tree && tar cf {arch} tree && \
             mkdir back && tar xf {arch} -C back && diff -r tree back/tree && \
             find . | wc -l && rm -r back tree && ls -A | wc -l",
            src = sources.display(),
            arch = tmp.join("tree.tar").display()
        ),
    );
    let counts: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(counts.last(), Some(&"0"), "the mount is empty again: {out}");
    // The copy was served from below: the files are really there.
    let after = ring_requests(&m);
    assert!(
        after > before + 500,
        "requests over the ring: {before} before the copy, {after} after"
    );
    m.unmount();
}

#[test]
fn a_lua_filesystem_reads_and_writes_every_size_over_the_ring() {
    let Some(_uring) = UringSetting::set(true) else {
        return;
    };
    let Some(m) = mount_with(&example("luafs.lua"), over_uring()) else {
        return;
    };
    std::fs::create_dir(m.path("t")).unwrap();
    let t = m.path("t");
    let before = ring_requests(&m);
    // Sizes around the page, the 128 KiB readahead, and writes of max_write and more.
    let sizes = [0usize, 1, 4095, 4096, 4097, 131_072, 1 << 20, (3 << 20) + 5];
    for (i, &size) in sizes.iter().enumerate() {
        let data: Vec<u8> = (0..size)
            .map(|k| (k.wrapping_mul(31) ^ (k >> 8) ^ i) as u8)
            .collect();
        let path = t.join(format!("f{i}"));
        std::fs::write(&path, &data).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            data,
            "{size} bytes read back"
        );
    }
    // Names, renames and directories too.
    std::fs::create_dir(t.join("d")).unwrap();
    std::fs::rename(t.join("f3"), t.join("d/moved")).unwrap();
    assert_eq!(std::fs::metadata(t.join("d/moved")).unwrap().len(), 4096);
    assert_eq!(
        sorted_names(&t),
        ["d", "f0", "f1", "f2", "f4", "f5", "f6", "f7"]
    );
    let after = ring_requests(&m);
    assert!(
        after >= before + 2 * sizes.len() as u64,
        "requests over the ring: {before} before, {after} after"
    );
    m.unmount();
}

#[test]
fn a_sleeping_handler_holds_up_no_caller_on_its_cpu() {
    let Some(_uring) = UringSetting::set(true) else {
        return;
    };
    if Command::new("taskset").arg("-V").output().is_err() {
        eprintln!("skipped: no taskset");
        return;
    }
    let Some(m) = mount_with(&test_script("slow_handlers.lua"), over_uring()) else {
        return;
    };
    let threads = stat_number(&stats_of(&m.dir), "ring_threads");
    // Every caller on CPU 0: their requests go to queue 0, whose two threads then
    // sleep in the two slow stats.
    let mut slow: Vec<_> = ["slow", "slow-too"]
        .into_iter()
        .map(|name| {
            Command::new("taskset")
                .args(["-c", "0", "stat"])
                .arg(m.path(name))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // A request queued while both sleep, before the keeper adds a thread (30 ms):
    // the kernel gives a new entry only later requests, so the keeper makes one on
    // CPU 0 for the new thread to serve, whose answer fetches the waiting one.
    assert!(
        wait_until(Duration::from_secs(10), || stat_number(
            &stats_of(&m.dir),
            "pending_handlers"
        ) == 2),
        "the two slow handlers never both slept"
    );
    let start = Instant::now();
    let queued = sh_run(&m.dir, "taskset -c 0 stat queued >/dev/null 2>&1; true");
    let waited = start.elapsed();
    assert!(queued.ok());
    assert!(
        waited < Duration::from_millis(1200),
        "a request queued behind two sleeping handlers waited {waited:?} (they sleep 2 s)"
    );
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let run = sh_run(
        &m.dir,
        "for i in 1 2 3 4 5 6 7 8 9 10; do taskset -c 0 stat fast$i >/dev/null || exit 1; done",
    );
    let took = start.elapsed();
    assert!(run.ok(), "{}", run.stderr);
    assert!(
        took < Duration::from_millis(1500),
        "10 stats on the sleeping handler's CPU took {took:?} (it sleeps 2 s)"
    );
    for s in &mut slow {
        assert!(wait_child(s, Duration::from_secs(10)).is_some_and(|s| s.success()));
    }
    let grown = stat_number(&stats_of(&m.dir), "ring_threads");
    assert!(
        grown > threads,
        "queue 0 got another thread: {threads} before, {grown} after"
    );
    m.unmount();
}

#[test]
fn an_interrupted_caller_gets_eintr_over_the_ring() {
    let Some(_uring) = UringSetting::set(true) else {
        return;
    };
    // direct_io: a read through the page cache waits for the page, which only a fatal
    // signal interrupts; a direct read waits for the request itself.
    let Some(m) = mount_with(
        &test_script("slow_handlers.lua"),
        over_uring().opt("direct_io"),
    ) else {
        return;
    };
    // A read of /exec waits in `sleep 30` (flu.exec); SIGALRM after 300 ms interrupts
    // it: the kernel sends FUSE_INTERRUPT over /dev/fuse for a request in a ring.
    let program = r#"
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGALRM, lambda s, f: None)
fd = os.open(sys.argv[1], os.O_RDONLY)
buf = ctypes.create_string_buffer(100)
signal.setitimer(signal.ITIMER_REAL, 0.3)
t = time.monotonic()
r = libc.read(fd, buf, 100)
e = ctypes.get_errno() if r < 0 else 0
print(e, time.monotonic() - t)
"#;
    let run = run_cmd(
        Command::new("python3")
            .arg("-c")
            .arg(program)
            .arg(m.path("exec")),
        Duration::from_secs(30),
    );
    assert!(run.ok(), "python3 failed: {}", run.stderr);
    let mut words = run.stdout.split_whitespace();
    let errno: i32 = words.next().and_then(|w| w.parse().ok()).unwrap();
    let secs: f64 = words.next().and_then(|w| w.parse().ok()).unwrap();
    assert_eq!(errno, libc::EINTR, "{}", run.stdout);
    assert!(secs < 5.0, "the interrupted read took {secs} s");
    assert!(ring_requests(&m) > 0);
    // The mount goes on serving.
    assert!(std::fs::metadata(m.path("fast1")).unwrap().is_file());
    m.unmount();
}

#[test]
fn without_the_kernels_offer_the_mount_serves_over_dev_fuse_and_says_why() {
    let Some(_uring) = UringSetting::set(false) else {
        return;
    };
    let Some(m) = mount_with(&example("luafs.lua"), over_uring()) else {
        return;
    };
    std::fs::write(m.path("f"), b"over /dev/fuse").unwrap();
    assert_eq!(std::fs::read(m.path("f")).unwrap(), b"over /dev/fuse");
    let stats = stats_of(&m.dir);
    assert_eq!(stat_number(&stats, "ring_threads"), 0, "{stats:?}");
    assert_eq!(stat_number(&stats, "ring_requests"), 0, "{stats:?}");
    let log = m.log_text();
    assert!(
        log.contains("does not offer FUSE over io_uring") && log.contains("enable_uring"),
        "{log}"
    );
    m.unmount();
}
