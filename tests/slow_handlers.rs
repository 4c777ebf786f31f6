//! Slow handlers don't stall the filesystem (real mounts): a handler waiting in
//! `flu.sleep` or `flu.exec` gives the Lua lock up, so other requests are served
//! meanwhile and slow requests wait together; an interrupted caller gets EINTR at once
//! and the program it waited for is killed; `flu stats` counts the pending handlers and
//! `-d` logs each wait; a tree whose handlers mix waiting, not waiting and the script's
//! own coroutines stays consistent under 8 parallel clients (checked against a model).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn mount_slow() -> Option<Mounted> {
    mount(&test_script("slow_handlers.lua"))
}

#[test]
fn other_requests_are_served_while_a_handler_sleeps() {
    let Some(m) = mount_slow() else { return };
    let slow = m.path("slow");
    let sleeper = std::thread::spawn(move || {
        let start = Instant::now();
        let r = std::fs::metadata(&slow).map(|md| md.is_file());
        (r.ok(), start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let stats = stats_of(&m.dir);
    assert_eq!(stat_number(&stats, "pending_handlers"), 1, "{stats:?}");
    let start = Instant::now();
    for i in 0..50 {
        let md = std::fs::metadata(m.path(format!("fast{i}"))).expect("stat of a fast file");
        assert!(md.is_file());
    }
    let took = start.elapsed();
    let (slow_ok, slept) = sleeper.join().unwrap();
    assert!(
        slept >= Duration::from_millis(1500),
        "the sleeper woke after {slept:?}"
    );
    assert_eq!(slow_ok, Some(true));
    // Well under the 2 s the sleeper took: they did not wait for it.
    assert!(
        took < Duration::from_secs(1),
        "50 stats took {took:?} while a handler slept"
    );
    assert_eq!(stat_number(&stats_of(&m.dir), "pending_handlers"), 0);
    m.unmount();
}

#[test]
fn slow_reads_wait_together() {
    let Some(m) = mount_slow() else { return };
    let kept = stat_number(&stats_of(&m.dir), "serving_threads");
    let start = Instant::now();
    let readers: Vec<_> = (1..=8)
        .map(|i| {
            let path = m.path(format!("slow{i}"));
            std::thread::spawn(move || std::fs::read_to_string(path))
        })
        .collect();
    for (i, r) in readers.into_iter().enumerate() {
        assert_eq!(r.join().unwrap().expect("read"), format!("slow{}\n", i + 1));
    }
    let took = start.elapsed();
    // Each sleeps 1 s: one after another would take 8 s.
    assert!(took < Duration::from_secs(4), "8 slow reads took {took:?}");
    // Threads started while requests waited (8 waits of 1 s on the threads kept would
    // take longer), and leave once nothing comes.
    assert!(
        wait_until(Duration::from_secs(10), || stat_number(
            &stats_of(&m.dir),
            "serving_threads"
        ) == kept),
        "serving threads after the burst: {}, {kept} before",
        stat_number(&stats_of(&m.dir), "serving_threads")
    );
    m.unmount();
}

/// `open`+`read` of `path` in a process whose SIGALRM (no SA_RESTART) fires after
/// 500 ms: prints the errno the raw read got and how long it took.
fn interrupted_read(path: &std::path::Path) -> (i32, f64) {
    let program = r#"
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1], os.O_RDONLY)
signal.signal(signal.SIGALRM, lambda s, f: None)
signal.setitimer(signal.ITIMER_REAL, 0.5)
buf = ctypes.create_string_buffer(4096)
t = time.monotonic()
r = libc.read(fd, buf, 4096)
e = ctypes.get_errno() if r < 0 else 0
print(e, time.monotonic() - t)
"#;
    let run = run_cmd(
        Command::new("python3").arg("-c").arg(program).arg(path),
        Duration::from_secs(60),
    );
    assert!(run.ok(), "python3 failed: {}", run.stderr);
    let mut words = run.stdout.split_whitespace();
    let errno = words.next().and_then(|w| w.parse().ok()).expect("errno");
    let secs = words.next().and_then(|w| w.parse().ok()).expect("seconds");
    (errno, secs)
}

/// `sleep 30` processes whose parent is `pid`.
fn sleeps_of(pid: i32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            let parent = stat.rsplit(") ").next().and_then(|r| r.split(' ').nth(1));
            cmd == b"sleep\x0030\x00" && parent == Some(pid.to_string().as_str())
        })
        .count()
}

#[test]
fn an_interrupted_reader_gets_eintr_and_the_program_is_killed() {
    // direct_io: a read through the page cache waits for the page, which only a fatal
    // signal interrupts; a direct read waits for the request itself.
    let o = MountOptions::new().opt("direct_io");
    let Some(m) = mount_with(&test_script("slow_handlers.lua"), o) else {
        return;
    };
    let daemon = m.pid.expect("daemon pid");
    let watcher = std::thread::spawn(move || {
        // The program starts while the read waits.
        wait_until(Duration::from_secs(10), || sleeps_of(daemon) == 1)
    });
    let (errno, secs) = interrupted_read(&m.path("exec"));
    assert!(watcher.join().unwrap(), "flu.exec never started sleep 30");
    assert_eq!(errno, libc::EINTR, "after {secs} s");
    assert!(secs < 5.0, "the interrupt took {secs} s");
    assert!(
        wait_until(Duration::from_secs(5), || sleeps_of(daemon) == 0),
        "the program outlived the interrupted request"
    );
    assert!(
        wait_until(Duration::from_secs(5), || stat_number(
            &stats_of(&m.dir),
            "pending_handlers"
        ) == 0),
        "the interrupted handler stayed pending"
    );
    // The mount serves on, and an interrupt is not logged as a script error.
    assert_eq!(m.sh("cat slow1"), "slow1\n");
    let log = m.log_text();
    assert!(!log.contains("ERROR"), "{log}");
    m.unmount();
}

#[test]
fn debug_output_shows_waits() {
    let Some(m) = mount_foreground(
        &test_script("slow_handlers.lua"),
        MountOptions::new().flag("-d"),
    ) else {
        return;
    };
    assert_eq!(m.sh("cat slow3"), "slow3\n");
    let seen = wait_until(Duration::from_secs(5), || {
        let log = m.log_text();
        log.contains("flu.sleep(1 s): waiting, the Lua lock released")
            && log.contains("flu.sleep(1 s): resumed after")
    });
    assert!(seen, "no wait in the -d log:\n{}", m.log_text());
    m.unmount();
}

/// Eight clients, each in a directory of its own, doing random creates, writes,
/// truncates, renames and unlinks, and checking every file against their model.
const CLIENTS: &str = r#"
import os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
d = os.path.join(root, 'c%d' % seed)
os.mkdir(d)
model = {}
for step in range(150):
    op = rnd.choice(['create', 'write', 'write', 'truncate', 'rename', 'unlink', 'check'])
    names = sorted(model)
    if op == 'create' or not names:
        name = 'f%d' % rnd.randrange(20)
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)
        model[name] = data
    elif op == 'write':
        name = rnd.choice(names)
        off = rnd.randrange(len(model[name]) + 10)
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 100)))
        fd = os.open(os.path.join(d, name), os.O_WRONLY)
        os.pwrite(fd, data, off)
        os.close(fd)
        old = model[name]
        if len(old) < off:
            old = old + b'\0' * (off - len(old))
        model[name] = old[:off] + data + old[off + len(data):]
    elif op == 'truncate':
        name = rnd.choice(names)
        size = rnd.randrange(300)
        os.truncate(os.path.join(d, name), size)
        old = model[name]
        model[name] = old[:size] + b'\0' * max(0, size - len(old))
    elif op == 'rename':
        a = rnd.choice(names)
        b = 'f%d' % rnd.randrange(20)
        os.rename(os.path.join(d, a), os.path.join(d, b))
        if a != b:
            model[b] = model.pop(a)
    elif op == 'unlink':
        name = rnd.choice(names)
        os.unlink(os.path.join(d, name))
        del model[name]
    else:
        name = rnd.choice(names)
        with open(os.path.join(d, name), 'rb') as f:
            got = f.read()
        assert got == model[name], (seed, step, name, len(got), len(model[name]))
listed = sorted(os.listdir(d))
assert listed == sorted(model), (seed, listed, sorted(model))
for name, data in model.items():
    with open(os.path.join(d, name), 'rb') as f:
        assert f.read() == data, (seed, 'final', name)
print('ok', seed, len(model))
"#;

#[test]
fn a_tree_of_mixed_handlers_stays_consistent_under_parallel_clients() {
    // No caching: every read and stat reaches the handlers.
    let o = MountOptions::new().opt("direct_io,attr_timeout=0,entry_timeout=0");
    let Some(m) = mount_with(&test_script("slow_handlers.lua"), o) else {
        return;
    };
    let mem = m.path("mem");
    let clients: Vec<_> = (1..=8)
        .map(|seed| {
            let mem = mem.clone();
            std::thread::spawn(move || {
                run_cmd(
                    Command::new("python3")
                        .arg("-c")
                        .arg(CLIENTS)
                        .arg(&mem)
                        .arg(seed.to_string()),
                    Duration::from_secs(120),
                )
            })
        })
        .collect();
    for (i, c) in clients.into_iter().enumerate() {
        let run = c.join().unwrap();
        assert!(
            run.ok() && run.stdout.starts_with(&format!("ok {}", i + 1)),
            "client {} failed: {}{}",
            i + 1,
            run.stdout,
            run.stderr
        );
    }
    let log = m.log_text();
    assert!(!log.contains("ERROR"), "{log}");
    m.unmount();
}
