//! Live filesystems on real mounts: invalidation from timers and handlers under long
//! cache lifetimes, per-reply lifetimes, timers at unmount, and reloading a mounted
//! script (`flu reload`, a broken new script, SIGHUP, `--watch`). Every wait is bounded.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

/// How long a change may take to show.
const SHOW: Duration = Duration::from_secs(10);

/// A script in a private directory (so a test can rewrite it and reload).
struct Script {
    dir: TempDir,
}

impl Script {
    fn new(source: &str) -> Script {
        let dir = TempDir::new("live-script");
        let s = Script { dir };
        s.write(source);
        s
    }
    fn path(&self) -> PathBuf {
        self.dir.join("fs.lua")
    }
    fn write(&self, source: &str) {
        // Write then rename, as editors do: a reader never sees half a file.
        let tmp = self.dir.join("fs.lua.new");
        std::fs::write(&tmp, source).unwrap();
        std::fs::rename(&tmp, self.path()).unwrap();
    }
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
}

fn flu_reload(dir: &Path) -> Run {
    run_cmd(
        Command::new(flu_bin()).arg("reload").arg(dir),
        COMMAND_TIMEOUT,
    )
}

/// Files `name → content` in a Lua table `files`, served read-only under `/`;
/// `extra` adds code before `return fs`.
fn files_script(extra: &str) -> String {
    format!(
        r#"
local flu = require 'flu'
local errno = flu.errno
files = {{ status = 'zero', other = 'zero' }}
local fs = {{}}
function fs.getattr(path)
  if path == '/' then return {{ mode = tonumber('40755', 8), nlink = 2 }} end
  local c = files[path:sub(2)]
  if not c then error(errno.ENOENT) end
  local st = {{ mode = tonumber('100644', 8), size = #c }}
  if lifetimes and lifetimes[path] then st.attr_timeout = lifetimes[path] end
  return st
end
function fs.readdir(path, filler)
  filler('.') filler('..')
  for k in pairs(files) do filler(k) end
end
function fs.read(path, size, offset)
  local c = files[path:sub(2)]
  if not c then error(errno.ENOENT) end
  return c:sub(offset + 1, offset + size)
end
function fs.truncate() end
{extra}
return fs
"#
    )
}

const LONG_CACHE: &str = "attr_timeout=60,entry_timeout=60";

#[test]
fn a_timer_invalidates_what_the_kernel_caches() {
    let script = Script::new(&files_script(
        r#"
local n = 0
flu.every(0.2, function()
  n = n + 1
  files.status = 'status ' .. n .. string.rep('.', n)
  files.other = 'other ' .. n
  assert(flu.notify.inval_inode('/status'))
end)
"#,
    ));
    let Some(m) = mount_with(&script.path(), MountOptions::new().opt(LONG_CACHE)) else {
        return;
    };
    // Cached by the kernel: data and attributes, for 60 s.
    let first_other = read(&m.path("other"));
    let first_other_size = std::fs::metadata(m.path("other")).unwrap().len();
    let first = read(&m.path("status"));
    let first_size = std::fs::metadata(m.path("status")).unwrap().len();
    assert_eq!(first.len() as u64, first_size);
    // The invalidated file shows new content and size, consistently.
    assert!(
        wait_until(SHOW, || {
            let now = read(&m.path("status"));
            let size = std::fs::metadata(m.path("status")).unwrap().len();
            now != first && size != first_size && now.len() as u64 == size
        }),
        "status never changed from {first:?}"
    );
    // The one never invalidated keeps its cached size (60 s), so readers get its new
    // bytes cut to the old length: what a live file without invalidation looks like.
    assert_eq!(
        std::fs::metadata(m.path("other")).unwrap().len(),
        first_other_size
    );
    let other = read(&m.path("other"));
    assert_eq!(
        other.len() as u64,
        first_other_size,
        "{other:?} vs {first_other:?}"
    );
}

#[test]
fn names_appear_and_disappear_after_inval_entry_and_delete() {
    let script = Script::new(&files_script(
        r#"
files.gone = 'here'
function fs.write(path, data)
  if path == '/ctl' then
    -- A timer does the change, as a background source would.
    flu.after(0, function()
      files.new = 'new'
      files.gone = nil
      flu.state.entry = tostring(flu.notify.inval_entry('/', 'new'))
      flu.state.delete = tostring(flu.notify.delete('/', 'gone'))
      files.results = flu.state.entry .. ' ' .. flu.state.delete
    end)
  end
  return #data
end
files.ctl = ''
"#,
    ));
    let o = MountOptions::new().opt(&format!("{LONG_CACHE},negative_timeout=60"));
    let Some(m) = mount_with(&script.path(), o) else {
        return;
    };
    // "new" is missing and cached as missing; "gone" exists and is cached.
    assert_errno(std::fs::metadata(m.path("new")), libc::ENOENT, "stat new");
    assert!(std::fs::metadata(m.path("gone")).is_ok());
    std::fs::write(m.path("ctl"), "go").unwrap();
    assert!(
        wait_until(SHOW, || std::fs::metadata(m.path("new")).is_ok()),
        "the new name never became visible"
    );
    assert_eq!(read(&m.path("new")), "new");
    assert!(
        wait_until(SHOW, || std::fs::metadata(m.path("gone")).is_err()),
        "the removed name stayed"
    );
    assert!(
        wait_until(SHOW, || read(&m.path("results")) == "true true"),
        "notify results: {:?}",
        read(&m.path("results"))
    );
}

#[test]
fn notifying_inside_a_handler_returns_at_once_and_takes_effect() {
    let script = Script::new(&files_script(
        r#"
files.ctl = ''
function fs.write(path, data)
  files.status = 'written: ' .. data
  files.made = 'made'
  assert(flu.notify.inval_inode('/status'))
  assert(flu.notify.inval_entry('/', 'made'))
  return #data
end
"#,
    ));
    let Some(m) = mount_with(&script.path(), MountOptions::new().opt(LONG_CACHE)) else {
        return;
    };
    assert_eq!(read(&m.path("status")), "zero");
    assert!(std::fs::metadata(m.path("made")).is_err());
    // In a child with a timeout: a notification that deadlocked would hang the writer.
    let r = m.sh_run("printf hello > ctl");
    assert!(r.ok(), "write: {}", r.stderr);
    assert!(
        wait_until(SHOW, || read(&m.path("status")) == "written: hello"),
        "status: {:?}",
        read(&m.path("status"))
    );
    assert!(std::fs::metadata(m.path("made")).is_ok());
}

#[test]
fn a_stat_table_sets_its_own_cache_lifetime() {
    let script = Script::new(&files_script(
        r#"
lifetimes = { ['/status'] = 0 }
local n = 0
flu.every(0.1, function()
  n = n + 1
  files.status = string.rep('s', n)
  files.other = string.rep('o', n)
end)
"#,
    ));
    let Some(m) = mount_with(&script.path(), MountOptions::new().opt(LONG_CACHE)) else {
        return;
    };
    let other = std::fs::metadata(m.path("other")).unwrap().len();
    let status = std::fs::metadata(m.path("status")).unwrap().len();
    assert!(
        wait_until(SHOW, || std::fs::metadata(m.path("status")).unwrap().len()
            > status + 2),
        "attr_timeout = 0 was cached anyway"
    );
    assert_eq!(
        std::fs::metadata(m.path("other")).unwrap().len(),
        other,
        "the mount's 60 s lifetime holds for the file without its own"
    );
}

#[test]
fn timers_stop_before_destroy_and_a_failing_one_keeps_running() {
    let script = Script::new(&files_script(
        r#"
local fails = 0
flu.every(0.05, function() flu.log.info('tick') end)
flu.every(0.05, function() fails = fails + 1; error('oops ' .. fails) end)
function fs.destroy() flu.log.info('destroyed') end
"#,
    ));
    let Some(m) = mount(&script.path()) else {
        return;
    };
    assert!(
        wait_until(SHOW, || m.log_lines_with(&["oops"]).len() >= 3),
        "the failing timer did not keep running:\n{}",
        m.log_text()
    );
    let line = m.log_lines_with(&["oops 2"]).join("\n");
    assert!(
        line.contains("error in the flu.every callback made at") && line.contains("fs.lua:"),
        "{line}"
    );
    assert!(m.daemon_alive());
    let mut m = m;
    let r = m.flu_unmount();
    assert!(r.ok(), "{}", r.stderr);
    m.wait_daemon_exit();
    let text = m.log_text();
    let lines: Vec<&str> = text.lines().collect();
    let destroyed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("destroyed"))
        .collect();
    assert_eq!(destroyed.len(), 1, "destroy once:\n{text}");
    assert!(
        !lines[destroyed[0]..].iter().any(|l| l.contains("tick")),
        "a tick after destroy:\n{text}"
    );
}

/// A script whose `/v` is `version`, `/loads` counts loads in flu.state, `/fh` reads
/// back the `fi.fh` its open set, and `/log` lists releases and reloads.
fn versioned(version: &str) -> String {
    format!(
        r#"
local flu = require 'flu'
flu.state.loads = (flu.state.loads or 0) + 1
flu.state.log = flu.state.log or {{}}
local fs = {{}}
local function text(path, fi)
  if path == '/v' then return '{version}' end
  if path == '/loads' then return tostring(flu.state.loads) end
  if path == '/fh' then return tostring(fi and fi.fh) end
  if path == '/log' then return table.concat(flu.state.log, ',') end
end
function fs.getattr(path)
  if path == '/' then return {{ mode = tonumber('40755', 8), nlink = 2 }} end
  if not text(path) then error(flu.errno.ENOENT) end
  return {{ mode = tonumber('100644', 8), size = 64, attr_timeout = 0 }}
end
function fs.open(path, fi) fi.fh = '{version}-fh'; fi.direct_io = true end
function fs.read(path, size, offset, fi)
  return (text(path, fi) or ''):sub(offset + 1, offset + size)
end
function fs.release(path, fi)
  table.insert(flu.state.log, '{version} released ' .. tostring(fi.fh))
end
function fs.reload(old)
  table.insert(flu.state.log, '{version} reloaded from a table with open: ' .. tostring(old.open ~= nil))
end
return fs
"#
    )
}

#[test]
fn flu_reload_switches_handlers_keeping_state_and_open_files() {
    let script = Script::new(&versioned("one"));
    let Some(m) = mount(&script.path()) else {
        return;
    };
    assert_eq!(read(&m.path("v")), "one");
    assert_eq!(read(&m.path("loads")), "1");
    let mut held = std::fs::File::open(m.path("fh")).unwrap();
    script.write(&versioned("two"));
    let r = flu_reload(&m.dir);
    assert!(r.ok(), "flu reload: {}{}", r.stdout, r.stderr);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
    assert_eq!(read(&m.path("v")), "two");
    assert_eq!(read(&m.path("loads")), "2", "flu.state survives the reload");
    // The file opened before the reload keeps its fi.fh ...
    let mut text = String::new();
    std::io::Read::read_to_string(&mut held, &mut text).unwrap();
    assert_eq!(text, "one-fh");
    drop(held);
    // ... and its release is the new table's.
    assert!(
        wait_until(SHOW, || read(&m.path("log"))
            .contains("two released one-fh")),
        "{}",
        read(&m.path("log"))
    );
    let log = read(&m.path("log"));
    assert_eq!(
        log.matches("two reloaded from a table with open: true")
            .count(),
        1,
        "reload(old) once: {log}"
    );
    assert!(
        m.log_lines_with(&["reloaded"]).len() == 1,
        "{}",
        m.log_text()
    );
}

#[test]
fn a_broken_new_script_leaves_the_old_one_serving() {
    let script = Script::new(&versioned("one"));
    let Some(m) = mount(&script.path()) else {
        return;
    };
    for (source, expected) in [
        ("local fs = {\nreturn fs", "fs.lua:2:"),
        (
            "local flu = require 'flu'\nerror('boom')\nreturn {}",
            "fs.lua:2: boom",
        ),
        (
            "return 'not a table'",
            "returned no filesystem table (got string)",
        ),
    ] {
        script.write(source);
        let r = flu_reload(&m.dir);
        assert!(!r.ok(), "{source:?} reloaded");
        assert!(r.stderr.contains(expected), "{source:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("old handlers keep serving"),
            "{}",
            r.stderr
        );
        assert_eq!(read(&m.path("v")), "one", "after {source:?}");
        assert!(m.daemon_alive());
    }
    assert_eq!(read(&m.path("loads")), "1");
}

#[test]
fn sighup_reloads_a_detached_daemon() {
    let script = Script::new(&versioned("one"));
    let Some(m) = mount(&script.path()) else {
        return;
    };
    assert_eq!(read(&m.path("v")), "one");
    script.write(&versioned("two"));
    let pid = m.pid.expect("the daemon's pid");
    // SAFETY: kill(2) on the daemon we started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    assert!(
        wait_until(SHOW, || read(&m.path("v")) == "two"),
        "SIGHUP did not reload:\n{}",
        m.log_text()
    );
    assert!(
        is_fuse_mounted(&m.dir),
        "SIGHUP unmounted a detached daemon"
    );
    assert!(m.daemon_alive());
}

#[test]
fn sighup_unmounts_a_daemon_in_the_foreground() {
    let script = Script::new(&versioned("one"));
    let Some(mut m) = mount_foreground(&script.path(), MountOptions::new()) else {
        return;
    };
    let pid = m.child.as_ref().expect("foreground child").id() as i32;
    // SAFETY: kill(2) on the daemon we started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let status = m.wait_daemon_exit().expect("the daemon exits");
    assert!(status.success(), "{status:?}");
    assert!(!is_mounted(&m.dir));
}

#[test]
fn watch_reloads_on_an_edit() {
    let script = Script::new(&versioned("one"));
    let Some(m) = mount_with(&script.path(), MountOptions::new().flag("--watch")) else {
        return;
    };
    assert_eq!(read(&m.path("v")), "one");
    // mtimes have a granularity: let the edit be a visibly different file.
    std::thread::sleep(Duration::from_millis(50));
    script.write(&versioned("two"));
    assert!(
        wait_until(SHOW, || read(&m.path("v")) == "two"),
        "--watch did not reload:\n{}",
        m.log_text()
    );
    // A broken edit is logged and changes nothing.
    script.write("return {");
    assert!(
        wait_until(SHOW, || !m.log_lines_with(&["reload", "failed"]).is_empty()),
        "{}",
        m.log_text()
    );
    assert_eq!(read(&m.path("v")), "two");
}

#[test]
fn the_statusfs_example_stays_fresh_under_hour_long_caches() {
    let Some(m) = mount(&example("statusfs.lua")) else {
        return;
    };
    let first = read(&m.path("refreshes"));
    let first_size = std::fs::metadata(m.path("uptime")).unwrap().len();
    assert!(
        wait_until(SHOW, || read(&m.path("refreshes")) != first),
        "refreshes stayed {first:?}"
    );
    assert!(
        wait_until(SHOW, || {
            let size = std::fs::metadata(m.path("uptime")).unwrap().len();
            size == read(&m.path("uptime")).len() as u64
        }),
        "uptime's size and content disagree (was {first_size})"
    );
    // A write is seen at once by the next reader, and a new event file appears.
    std::fs::write(m.path("note"), "hello\n").unwrap();
    assert_eq!(read(&m.path("note")), "hello\n");
    let events: Vec<_> = std::fs::read_dir(m.path("events")).unwrap().collect();
    assert!(!events.is_empty(), "no event file");
    let r = flu_reload(&m.dir);
    assert!(r.ok(), "{}", r.stderr);
    assert_eq!(read(&m.path("note")), "hello\n", "flu.state kept the note");
}
