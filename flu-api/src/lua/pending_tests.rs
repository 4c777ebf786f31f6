//! Slow work without a stalled filesystem, driven through `Operations` without a
//! kernel: handlers that wait in `flu.sleep` / `flu.exec` give the Lua lock up, others
//! run meanwhile; the same functions block in the main chunk and in the script's own
//! coroutines; interrupts cancel the work; `flu.spawn` tasks run once serving.

use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{default_environment, Script, ScriptOutcome};
use crate::errno::Errno;
use crate::interrupt::{serving, InterruptFlag};
use crate::notify::{Delivery, Notification, Notifier, NotifyError};
use crate::operations::*;
use crate::test_support::TempDir;

struct Loaded {
    _dir: TempDir,
    _script: Script,
    ops: Arc<dyn Operations>,
}

fn load(source: &str) -> Loaded {
    let dir = TempDir::new("lua-pending");
    std::fs::write(dir.join("fs.lua"), source).unwrap();
    let mut script = Script::load(
        &dir.join("fs.lua"),
        &[OsString::from("x")],
        &default_environment(),
    )
    .expect("loads");
    let fs = match script.run().expect("runs") {
        ScriptOutcome::Finished {
            filesystem: Some(t),
            ..
        } => t,
        _ => panic!("no table"),
    };
    let ops = script.filesystem(&fs).expect("filesystem");
    Loaded {
        _dir: dir,
        _script: script,
        ops,
    }
}

struct NoNotifier;
impl Notifier for NoNotifier {
    fn notify(&self, _: Notification, _: Delivery) -> Result<(), NotifyError> {
        Ok(())
    }
}

fn c() -> RequestContext {
    RequestContext::default()
}

/// What the script put in the size of `path` (a number it computed), via getattr.
fn size_of(ops: &Arc<dyn Operations>, path: &str) -> Result<u64, Errno> {
    ops.getattr(&c(), Path::new(path), None).map(|st| st.size)
}

/// The bytes a read of `path` returns.
fn read(ops: &Arc<dyn Operations>, path: &str) -> Result<String, Errno> {
    let p = Path::new(path);
    let fh = ops.open(&c(), p, libc::O_RDONLY)?.fh;
    let data = ops.read(&c(), p, Fh(fh), 0, 1 << 20);
    let _ = ops.release(&c(), p, Fh(fh), libc::O_RDONLY, false);
    data.map(|d| String::from_utf8_lossy(&d).into_owned())
}

const SLEEPY: &str = r#"
local flu = require 'flu'
local fs = {}
local naps = 0
function fs.getattr(path)
  if path == '/slow' then
    flu.sleep(1)
    naps = naps + 1
    return {mode = 'file', size = naps}
  end
  return {mode = 'file', size = 7}
end
return fs
"#;

#[test]
fn a_sleeping_handler_lets_others_run() {
    let l = load(SLEEPY);
    let slow = {
        let ops = l.ops.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            (size_of(&ops, "/slow"), start.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(l.ops.pending_calls(), Some(1), "the sleeper is not pending");
    let start = Instant::now();
    for _ in 0..50 {
        assert_eq!(size_of(&l.ops, "/fast"), Ok(7));
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "50 getattrs took {took:?}"
    );
    let (size, slept) = slow.join().unwrap();
    assert_eq!(size, Ok(1));
    assert!(slept >= Duration::from_millis(950), "woke after {slept:?}");
    assert_eq!(l.ops.pending_calls(), Some(0));
}

#[test]
fn eight_sleepers_wait_together() {
    let l = load(SLEEPY);
    let start = Instant::now();
    let sleepers: Vec<_> = (0..8)
        .map(|_| {
            let ops = l.ops.clone();
            std::thread::spawn(move || size_of(&ops, "/slow"))
        })
        .collect();
    let mut sizes: Vec<u64> = sleepers
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "8 sleeps of 1 s took {took:?}"
    );
    // Each resumed under the lock: the counter saw every one.
    sizes.sort();
    assert_eq!(sizes, (1..=8).collect::<Vec<u64>>());
}

const EXEC: &str = r#"
local flu = require 'flu'
local fs = {}
-- Run in the main chunk: blocks, as a plain call would.
local boot = flu.exec{'echo', 'booted'}
local files = {}
files['/boot'] = function() return boot.stdout end
files['/echo'] = function()
  local r = assert(flu.exec({'sh', '-c', 'cat; echo "[$X]" >&2; exit 3'}, {stdin = 'in', env = {X = 'y'}}))
  return string.format('%d|%s|%s', r.status, r.stdout, r.stderr)
end
files['/cwd'] = function() return flu.exec{'pwd', cwd = '/tmp'}.stdout end
files['/missing'] = function()
  local r, err = flu.exec{'/no/such/program'}
  return tostring(r) .. '|' .. err
end
files['/timeout'] = function()
  local r, err = flu.exec({'sleep', '10'}, {timeout = 0.3})
  return tostring(r) .. '|' .. err
end
files['/big'] = function()
  local r = flu.exec({'head', '-c', '100000', '/dev/zero'}, {max_output = 10})
  return #r.stdout .. '|' .. tostring(r.truncated)
end
files['/signal'] = function()
  local r = flu.exec{'sh', '-c', 'kill -9 $$'}
  return tostring(r.status) .. '|' .. tostring(r.signal)
end
files['/own-coroutine'] = function()
  -- flu.exec inside a coroutine of the script's own: runs in place.
  local co = coroutine.wrap(function() coroutine.yield(flu.exec{'echo', 'inner'}.stdout) end)
  return co()
end
files['/bad-yield'] = function() coroutine.yield(1) end
files['/long'] = function()
  -- Undone when the wait is interrupted: the coroutine is closed.
  local busy <close> = setmetatable({}, {__close = function() closed = (closed or 0) + 1 end})
  return flu.exec{'sleep', '30'}.stdout
end
files['/closed'] = function() return tostring(closed) end
function fs.getattr(path)
  if path == '/' then return {mode = 'directory'} end
  if files[path] then return {mode = 'file', size = 0} end
  error(flu.errno.ENOENT)
end
function fs.open() end
function fs.read(path) return files[path]() end
return fs
"#;

#[test]
fn exec_runs_programs_and_reports_failures() {
    let l = load(EXEC);
    let ops = &l.ops;
    assert_eq!(read(ops, "/boot").unwrap(), "booted\n");
    assert_eq!(read(ops, "/echo").unwrap(), "3|in|[y]\n");
    assert_eq!(read(ops, "/cwd").unwrap(), "/tmp\n");
    let missing = read(ops, "/missing").unwrap();
    assert!(
        missing.starts_with("nil|cannot run /no/such/program: No such file"),
        "{missing}"
    );
    let start = Instant::now();
    let timeout = read(ops, "/timeout").unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "the timeout did not kill"
    );
    assert!(
        timeout.starts_with("nil|sleep 10 timed out after 0.3 s"),
        "{timeout}"
    );
    assert_eq!(read(ops, "/big").unwrap(), "10|true");
    assert_eq!(read(ops, "/signal").unwrap(), "nil|9");
    assert_eq!(read(ops, "/own-coroutine").unwrap(), "inner\n");
    // A handler that yields by itself is a script error: EIO, and the next call works.
    assert_eq!(read(ops, "/bad-yield"), Err(Errno::EIO));
    assert_eq!(read(ops, "/boot").unwrap(), "booted\n");
}

#[test]
fn an_interrupt_cancels_the_work_and_kills_the_program() {
    let l = load(EXEC);
    let flag = InterruptFlag::new();
    let waiting = {
        let (ops, flag) = (l.ops.clone(), flag.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            let r = serving(&flag, || read(&ops, "/long"));
            (r, start.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(l.ops.pending_calls(), Some(1));
    let sleepers_before = count_processes("sleep 30");
    assert!(sleepers_before >= 1, "the program is not running");
    flag.interrupt();
    let (r, took) = waiting.join().unwrap();
    assert_eq!(r, Err(Errno::EINTR));
    assert!(took < Duration::from_secs(2), "the interrupt took {took:?}");
    // The killed program is gone.
    let end = Instant::now() + Duration::from_secs(5);
    while count_processes("sleep 30") >= sleepers_before && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        count_processes("sleep 30") < sleepers_before,
        "the program was not killed"
    );
    assert_eq!(l.ops.pending_calls(), Some(0));
}

/// Processes of this test run whose command line is `needle` (children of ours).
fn count_processes(needle: &str) -> usize {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let dir = e.path();
            let cmd = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // Field 4 of /proc/PID/stat is the parent.
            let parent = stat.rsplit(") ").next().and_then(|r| r.split(' ').nth(1));
            cmd.trim() == needle && parent == Some(me.as_str())
        })
        .count()
}

#[test]
fn spawned_tasks_run_once_serving_and_yield() {
    let l = load(
        r#"
        local flu = require 'flu'
        local fs = {}
        local log = {}
        flu.spawn(function(a, b)
          log[#log + 1] = 'start ' .. a .. b
          flu.sleep(0.5)
          log[#log + 1] = 'slept'
        end, 'x', 'y')
        flu.spawn(function() error('task bug') end)
        function fs.getattr(path) return {mode = 'file', size = #log} end
        function fs.open() end
        function fs.read() return table.concat(log, ',') end
        return fs
    "#,
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(read(&l.ops, "/f").unwrap(), "", "a task ran before serving");
    l.ops.serving(Arc::new(NoNotifier));
    let end = Instant::now() + Duration::from_secs(5);
    while read(&l.ops, "/f").unwrap() != "start xy" && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Sleeping: the task gave the lock up, and handlers answer meanwhile.
    assert_eq!(read(&l.ops, "/f").unwrap(), "start xy");
    assert_eq!(l.ops.pending_calls(), Some(1));
    while read(&l.ops, "/f").unwrap() != "start xy,slept" && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(read(&l.ops, "/f").unwrap(), "start xy,slept");
    l.ops.destroy();
}

#[test]
fn unmounting_cancels_waiting_tasks() {
    let l = load(
        r#"
        local flu = require 'flu'
        local fs = {}
        flu.spawn(function() flu.sleep(60) end)
        function fs.getattr(path) return {mode = 'file'} end
        return fs
    "#,
    );
    l.ops.serving(Arc::new(NoNotifier));
    let end = Instant::now() + Duration::from_secs(5);
    while l.ops.pending_calls() != Some(1) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(l.ops.pending_calls(), Some(1));
    let start = Instant::now();
    l.ops.destroy();
    while l.ops.pending_calls() != Some(0) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(l.ops.pending_calls(), Some(0));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "the task kept sleeping"
    );
}

#[test]
fn max_pending_makes_new_calls_wait() {
    let dir = TempDir::new("lua-pending-max");
    std::fs::write(dir.join("fs.lua"), SLEEPY).unwrap();
    let mut script = Script::load(&dir.join("fs.lua"), &[], &default_environment()).expect("loads");
    script.set_max_pending(2);
    let fs = match script.run().expect("runs") {
        ScriptOutcome::Finished {
            filesystem: Some(t),
            ..
        } => t,
        _ => panic!("no table"),
    };
    let ops = script.filesystem(&fs).expect("filesystem");
    let seen = Arc::new(Mutex::new(0usize));
    let start = Instant::now();
    let sleepers: Vec<_> = (0..4)
        .map(|_| {
            let (ops, seen) = (ops.clone(), seen.clone());
            std::thread::spawn(move || {
                let r = size_of(&ops, "/slow");
                let mut s = seen.lock().unwrap();
                *s = (*s).max(ops.pending_calls().unwrap_or(0) as usize);
                r
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        ops.pending_calls(),
        Some(2),
        "more than --max-pending waiting"
    );
    for s in sleepers {
        assert!(s.join().unwrap().is_ok());
    }
    // Two rounds of two.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1900),
        "4 sleeps, 2 at a time, took {took:?}"
    );
}
