//! Live filesystems without a kernel: reload (switching, what survives, failures), the
//! routing a request is pinned to, timers, and how `flu.notify` is delivered.

use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{default_environment, Script, ScriptOutcome};
use crate::interrupt::{serving, InterruptFlag};
use crate::notify::{Delivery, Notification, Notifier, NotifyError};
use crate::operations::*;
use crate::test_support::TempDir;

/// A mounted-like script: its directory stays while the test runs.
struct Live {
    dir: TempDir,
    _script: Script,
    ops: Arc<dyn Operations>,
}

impl Live {
    fn new(source: &str) -> Live {
        let dir = TempDir::new("lua-live");
        std::fs::write(dir.join("fs.lua"), source).unwrap();
        let args = [OsString::from("x")];
        let mut script =
            Script::load(&dir.join("fs.lua"), &args, &default_environment()).expect("loads");
        let fs = match script.run().expect("runs") {
            ScriptOutcome::Finished {
                filesystem: Some(t),
                ..
            } => t,
            _ => panic!("no table"),
        };
        let ops = script.filesystem(&fs).expect("filesystem");
        Live {
            dir,
            _script: script,
            ops,
        }
    }

    fn rewrite(&self, source: &str) {
        std::fs::write(self.dir.join("fs.lua"), source).unwrap();
    }

    fn read(&self, path: &str) -> String {
        let c = RequestContext::default();
        let p = Path::new(path);
        let fh = self.ops.open(&c, p, libc::O_RDONLY).expect("open").fh;
        let data = self.ops.read(&c, p, Fh(fh), 0, 4096).expect("read");
        let _ = self.ops.release(&c, p, Fh(fh), libc::O_RDONLY, false);
        String::from_utf8(data).unwrap()
    }
}

/// A script serving `/v` (its version), `/state` (flu.state.loads), `/mod` (a module of
/// its directory) and `/log` (what release and reload saw).
fn versioned(version: &str) -> String {
    format!(
        r#"
local flu = require 'flu'
flu.state.loads = (flu.state.loads or 0) + 1
flu.state.log = flu.state.log or {{}}
local m = require 'helper'
local fs = {{}}
function fs.getattr(path) return {{ mode = 'file', size = 100 }} end
function fs.open(path, fi) fi.fh = '{version}:' .. path end
function fs.read(path, size, offset, fi)
  local text
  if path == '/v' then text = '{version}'
  elseif path == '/state' then text = tostring(flu.state.loads)
  elseif path == '/mod' then text = m.name
  elseif path == '/fh' then text = tostring(fi.fh)
  elseif path == '/log' then text = table.concat(flu.state.log, ',')
  end
  return text
end
function fs.release(path, fi)
  table.insert(flu.state.log, '{version} released ' .. tostring(fi.fh))
end
function fs.reload(old)
  table.insert(flu.state.log, '{version} reload, old has release: ' .. tostring(old.release ~= nil))
end
return fs
"#
    )
}

fn live_with_helper(version: &str, module: &str) -> Live {
    let dir = TempDir::new("lua-live");
    std::fs::write(dir.join("fs.lua"), versioned(version)).unwrap();
    std::fs::write(
        dir.join("helper.lua"),
        format!("return {{ name = '{module}' }}"),
    )
    .unwrap();
    let mut script = Script::load(&dir.join("fs.lua"), &[], &default_environment()).unwrap();
    let fs = match script.run().expect("runs") {
        ScriptOutcome::Finished {
            filesystem: Some(t),
            ..
        } => t,
        _ => panic!("no table"),
    };
    let ops = script.filesystem(&fs).unwrap();
    Live {
        dir,
        _script: script,
        ops,
    }
}

#[test]
fn a_reload_switches_and_keeps_what_it_should() {
    let live = live_with_helper("one", "m1");
    assert_eq!(live.read("/v"), "one");
    assert_eq!(live.read("/state"), "1");
    assert_eq!(live.read("/mod"), "m1");
    let c = RequestContext::default();
    let open = live.ops.open(&c, Path::new("/fh"), libc::O_RDONLY).unwrap();
    let mut files = live.ops.source_files();
    files.sort();
    assert!(files.is_empty(), "listed only once serving: {files:?}");

    live.rewrite(&versioned("two"));
    std::fs::write(live.dir.join("helper.lua"), "return { name = 'm2' }").unwrap();
    let notes = live.ops.reload().expect("reload");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(live.read("/v"), "two");
    assert_eq!(live.read("/state"), "2", "flu.state survives");
    assert_eq!(
        live.read("/mod"),
        "m2",
        "the script's own module loads afresh"
    );
    // The handle opened before keeps its fi.fh, and its release goes to the new table.
    let data = live
        .ops
        .read(&c, Path::new("/fh"), Fh(open.fh), 0, 100)
        .unwrap();
    assert_eq!(data, b"one:/fh");
    live.ops
        .release(&c, Path::new("/fh"), Fh(open.fh), libc::O_RDONLY, false)
        .unwrap();
    let log = live.read("/log");
    assert!(log.contains("two reload, old has release: true"), "{log}");
    assert!(log.contains("two released one:/fh"), "{log}");
    assert_eq!(log.matches("reload").count(), 1, "reload(old) once: {log}");
    // The script's own files are known once it was reloaded.
    let files = live.ops.source_files();
    assert!(files.iter().any(|f| f.ends_with("fs.lua")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("helper.lua")), "{files:?}");
}

#[test]
fn a_failed_reload_changes_nothing_and_says_where() {
    let live = live_with_helper("one", "m1");
    let cases = [
        ("local x = = 1\nreturn {}", "fs.lua:1:"),
        (
            "local flu = require 'flu'\n\nerror('boom')\n",
            "fs.lua:3: boom",
        ),
        ("return 42", "returned no filesystem table (got number)"),
        ("return { max_file_size = 'big' }", "max_file_size"),
    ];
    for (source, expected) in cases {
        live.rewrite(source);
        let e = live.ops.reload().expect_err(source);
        assert!(e.contains(expected), "{source:?}: {e}");
        assert_eq!(
            live.read("/v"),
            "one",
            "old handlers serve after {source:?}"
        );
        assert_eq!(live.read("/mod"), "m1", "old module kept after {source:?}");
    }
    // A script whose module fails to load fails the reload, and the old module stays.
    live.rewrite(&versioned("two"));
    std::fs::write(live.dir.join("helper.lua"), "error('bad module')").unwrap();
    let e = live.ops.reload().unwrap_err();
    assert!(e.contains("bad module"), "{e}");
    assert_eq!(live.read("/mod"), "m1");
}

#[test]
fn a_request_keeps_the_routing_it_started_with() {
    let live = live_with_helper("one", "m1");
    let flag = InterruptFlag::new();
    serving(&flag, || {
        assert_eq!(live.read("/v"), "one");
        live.rewrite(&versioned("two"));
        live.ops.reload().expect("reload");
        assert_eq!(live.read("/v"), "one", "the same request sees one table");
    });
    serving(&flag, || {
        assert_eq!(live.read("/v"), "two", "the next request")
    });
}

#[test]
fn choices_fixed_at_mount_are_reported() {
    let live = live_with_helper("one", "m1");
    live.rewrite(&versioned("two").replace(
        "return fs\n",
        "function fs.lock() end\nfs.max_file_size = 4096\nreturn fs\n",
    ));
    let notes = live.ops.reload().expect("reload");
    assert!(
        notes.iter().any(|n| n.contains("lock handler")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("max_file_size")),
        "{notes:?}"
    );
    assert_eq!(live.read("/v"), "two", "the switch happened");
}

/// Records what it is asked to send.
#[derive(Default)]
struct Recorder(Mutex<Vec<(Notification, Delivery)>>);

impl Notifier for Recorder {
    fn notify(&self, n: Notification, d: Delivery) -> Result<(), NotifyError> {
        let unknown =
            matches!(&n, Notification::InvalInode { path, .. } if path == Path::new("/unknown"));
        self.0.lock().unwrap().push((n, d));
        if unknown {
            return Err(NotifyError::Unknown("/unknown".into()));
        }
        Ok(())
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

const TIMED: &str = r#"
local flu = require 'flu'
local ticks, fails, once = 0, 0, 0
local results = {}
local fs = {}
function fs.getattr(path) return { mode = 'file', size = 10 } end
function fs.read(path)
  if path == '/ticks' then return tostring(ticks) end
  if path == '/fails' then return tostring(fails) end
  if path == '/once' then return tostring(once) end
  if path == '/results' then return table.concat(results, ',') end
  if path == '/notify' then
    local ok = flu.notify.inval_inode('/ticks')
    return tostring(ok)
  end
  return ''
end
function fs.destroy() flu.state.destroyed_after_ticks = ticks end
local cancelled = flu.after(0.01, function() error('never runs') end)
assert(cancelled:cancel() == true and cancelled:cancel() == false)
assert(not cancelled:active())
flu.after(0, function(t)
  once = once + 1
  local ok, err = flu.notify.inval_inode('unknown')
  results[#results + 1] = tostring(ok) .. ':' .. tostring(err)
  results[#results + 1] = tostring(flu.notify.inval_entry('/', 'new'))
end)
flu.every(0.01, function(t)
  ticks = ticks + 1
  if ticks == 3 then fails = fails + 1; error('tick three fails') end
end)
local stopper
stopper = flu.every(0.01, function(t) t:cancel() end)
return fs
"#;

#[test]
fn timers_run_once_serving_and_stop_before_destroy() {
    let live = Live::new(TIMED);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        live.read("/ticks"),
        "0",
        "no timer runs before the mount serves"
    );
    let recorder = Arc::new(Recorder::default());
    live.ops.serving(recorder.clone());
    wait_for("ticks past the failing one", || {
        live.read("/ticks").parse::<u32>().unwrap() >= 6
    });
    assert_eq!(
        live.read("/fails"),
        "1",
        "an every timer keeps running after an error"
    );
    assert_eq!(live.read("/once"), "1");
    assert_eq!(
        live.read("/results"),
        "nil:/unknown is not known to the kernel (never looked up, or forgotten): nothing is cached for it,true"
    );
    // From the timer: sent now. From a handler: after its reply.
    assert_eq!(live.read("/notify"), "true");
    let sent = recorder.0.lock().unwrap().clone();
    let deliveries: Vec<Delivery> = sent.iter().map(|(_, d)| *d).collect();
    assert_eq!(
        deliveries,
        [Delivery::Now, Delivery::Now, Delivery::AfterReply],
        "{sent:?}"
    );
    assert!(matches!(&sent[1].0, Notification::InvalEntry { name, .. } if name == "new"));
    live.ops.destroy();
    let ticks_at_destroy = live.read("/ticks");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(
        live.read("/ticks"),
        ticks_at_destroy,
        "no tick after destroy"
    );
}

#[test]
fn notify_needs_a_mount_and_checks_its_arguments() {
    let live = Live::new(
        r#"
local flu = require 'flu'
local fs = {}
function fs.getattr() return { mode = 'file', size = 100 } end
function fs.read(path)
  local ok, err = flu.notify.inval_inode('/x')
  local bad = pcall(flu.notify.inval_entry, '/', 'a/b')
  local dot = pcall(flu.notify.delete, '/', '..')
  local neg = pcall(flu.notify.inval_inode, '/x', 0, -1)
  return tostring(ok) .. '|' .. tostring(err) .. '|' .. tostring(bad) .. tostring(dot) .. tostring(neg)
end
return fs
"#,
    );
    assert_eq!(
        live.read("/r"),
        "nil|the filesystem is not mounted: there is no kernel cache to notify|falsefalsefalse"
    );
}

#[test]
fn timers_made_by_a_failed_reload_are_cancelled_and_a_good_one_replaces_the_old() {
    let counting = |name: &str, extra: &str| {
        format!(
            r#"
local flu = require 'flu'
flu.state.{name} = 0
flu.every(0.01, function() flu.state.{name} = flu.state.{name} + 1 end)
local fs = {{}}
function fs.getattr() return {{ mode = 'file', size = 10 }} end
function fs.read(path) return tostring(flu.state[path:sub(2)]) end
{extra}
return fs
"#
        )
    };
    let live = Live::new(&counting("a", ""));
    live.ops.serving(Arc::new(Recorder::default()));
    wait_for("a ticks", || live.read("/a").parse::<u32>().unwrap() > 2);
    live.rewrite(&counting("b", "error('late failure')"));
    assert!(live.ops.reload().is_err());
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(live.read("/b"), "0", "the failed load's timer never ran");
    live.rewrite(&counting("c", ""));
    live.ops.reload().expect("reload");
    wait_for("c ticks", || live.read("/c").parse::<u32>().unwrap() > 2);
    let a = live.read("/a");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(live.read("/a"), a, "the old load's timer was cancelled");
    live.ops.destroy();
}
