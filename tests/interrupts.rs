//! Interrupts: a caller signalled while its request waits in a stuck Lua handler gets
//! EINTR at once (the kernel sends FUSE_INTERRUPT, the session stops the handler), not
//! after the handler timeout; the mount goes on serving; no error is logged for it.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The handler timeout of these mounts: far longer than any wait the tests accept.
const HANDLER_TIMEOUT: &str = "120";

fn mount_stuck() -> Option<Mounted> {
    let o = MountOptions::new()
        .flag("--handler-timeout")
        .flag(HANDLER_TIMEOUT);
    mount_with(&test_script("stuck.lua"), o)
}

/// `open(path)` in a process whose SIGALRM (a no-op handler, no SA_RESTART) fires after
/// 300 ms: prints the errno the raw syscall got and how long it took.
fn interrupted_open(path: &std::path::Path) -> (i32, f64) {
    let program = r#"
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGALRM, lambda s, f: None)
signal.setitimer(signal.ITIMER_REAL, 0.3)
t = time.monotonic()
r = libc.open(sys.argv[1].encode(), os.O_RDONLY)
e = ctypes.get_errno() if r < 0 else 0
print(e, time.monotonic() - t)
"#;
    let run = run_cmd(
        Command::new("python3").arg("-c").arg(program).arg(path),
        Duration::from_secs(30),
    );
    assert!(run.ok(), "python3 failed: {}", run.stderr);
    let mut words = run.stdout.split_whitespace();
    let errno: i32 = words.next().and_then(|w| w.parse().ok()).expect("errno");
    let secs: f64 = words.next().and_then(|w| w.parse().ok()).expect("seconds");
    (errno, secs)
}

/// `stat PATH` as a child that waits in the stuck handler.
fn stat_in_background(path: &std::path::Path) -> std::process::Child {
    Command::new("stat")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start stat")
}

fn assert_serves(m: &Mounted) {
    let start = Instant::now();
    let meta = std::fs::metadata(m.path("ok")).expect("the mount serves after an interrupt");
    assert!(meta.is_file());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "stat took {:?}",
        start.elapsed()
    );
}

#[test]
fn an_interrupted_caller_of_a_spinning_handler_gets_eintr() {
    let Some(m) = mount_stuck() else { return };
    let (errno, secs) = interrupted_open(&m.path("spin"));
    assert_eq!(errno, libc::EINTR, "after {secs} s");
    assert!(
        secs < 10.0,
        "took {secs} s: the handler timeout, not the interrupt"
    );
    assert_serves(&m);
    let log = m.log_text();
    assert!(
        !log.contains("ERROR"),
        "an interrupt is not an error:\n{log}"
    );
}

#[test]
fn an_interrupted_caller_of_a_sleeping_handler_gets_eintr() {
    let Some(m) = mount_stuck() else { return };
    let (errno, secs) = interrupted_open(&m.path("nap"));
    assert_eq!(errno, libc::EINTR, "after {secs} s");
    assert!(secs < 10.0, "took {secs} s");
    assert_serves(&m);
}

/// A request waiting for the Lua lock behind a stuck handler gives up when interrupted.
#[test]
fn an_interrupted_request_stops_waiting_for_the_lua_lock() {
    let Some(m) = mount_stuck() else { return };
    let mut spinner = stat_in_background(&m.path("spin"));
    std::thread::sleep(Duration::from_millis(300));
    // A second caller, queued behind the spinning handler, is interrupted while waiting.
    let (errno, secs) = interrupted_open(&m.path("ok"));
    assert_eq!(errno, libc::EINTR, "after {secs} s");
    assert!(secs < 10.0, "took {secs} s");
    let _ = spinner.kill();
    let gone = wait_child(&mut spinner, Duration::from_secs(10));
    assert!(gone.is_some(), "the SIGKILLed stat was not reaped in time");
    assert_serves(&m);
}

/// A caller killed with SIGKILL while its handler spins dies at once instead of staying
/// in D state for the whole handler timeout.
#[test]
fn a_killed_caller_does_not_wait_for_the_handler() {
    let Some(m) = mount_stuck() else { return };
    let mut child = stat_in_background(&m.path("spin"));
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    child.kill().expect("SIGKILL");
    let status = wait_child(&mut child, Duration::from_secs(20));
    assert!(status.is_some(), "the killed stat is still waiting");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert_serves(&m);
}
