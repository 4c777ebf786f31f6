//! LuaFilesystem driven directly through `Operations`, without a kernel: Flu-style
//! scripts, error conventions, file-info lifetime, and native routing.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use super::{default_environment, Script, ScriptOutcome};
use crate::errno::Errno;
use crate::operations::*;
use crate::test_support::TempDir;
use crate::time::{TimeSet, Timespec};

/// The filesystem script `source` (run with `args`) mounts, as a mount would route it.
pub(super) fn load(source: &str, args: &[&str]) -> (Script, Arc<dyn Operations>) {
    try_load(source, args).unwrap_or_else(|e| panic!("the script failed: {e}"))
}

/// `load`, or the error a mount would report.
pub(super) fn try_load(
    source: &str,
    args: &[&str],
) -> Result<(Script, Arc<dyn Operations>), crate::lua::ScriptError> {
    try_load_as("fs.lua", source, args)
}

/// `try_load` from a script file named `file_name`.
pub(super) fn try_load_as(
    file_name: &str,
    source: &str,
    args: &[&str],
) -> Result<(Script, Arc<dyn Operations>), crate::lua::ScriptError> {
    let dir = TempDir::new("lua-script");
    let path = dir.join(file_name);
    std::fs::write(&path, source).expect("write script");
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut script = Script::load(&path, &args, &default_environment())?;
    let fs = match script.run()? {
        ScriptOutcome::Finished {
            filesystem: Some(t),
            ..
        } => t,
        ScriptOutcome::Main { fs, .. } => fs,
        ScriptOutcome::Finished { returned_type, .. } => panic!("no table, got {returned_type}"),
    };
    let ops = script.filesystem(&fs)?;
    Ok((script, ops))
}

fn ctx() -> RequestContext {
    RequestContext {
        uid: 1000,
        gid: 100,
        pid: 42,
        umask: 0o022,
        unmasked_mode: None,
    }
}

const HELLO: &str = r#"
local flu = require 'flu'
local errno = flu.errno
local fs = {}
function fs.getattr(path)
  if path == '/' then return {mode = {dir=true, rusr=true, xusr=true}, nlink = 2} end
  if path == '/hello' then return {mode = 'file', size = 13, modification = 1.5} end
  error(errno.ENOENT)
end
function fs.readdir(path, filler)
  filler('.') filler('..') filler('hello')
end
function fs.open(path, fi)
  if fi.flags.wronly or fi.flags.O_RDWR then error(errno.EACCES) end
  fi.fh = {opened = path}
end
function fs.read(path, size, offset, fi)
  assert(fi.fh.opened == path)
  return ('Hello World!\n'):sub(offset + 1, offset + size)
end
function fs.getxattr(path, name) return nil, 'ENODATA' end
function fs.access(path, mask) local c = flu.get_context() assert(c.uid == 1000 and c.pid == 42) end
return flu.main({'hellofs', ...}, fs)
"#;

#[test]
fn flu_style_hello() {
    let (_script, ops) = load(HELLO, &[]);
    let c = ctx();
    let root = ops.getattr(&c, Path::new("/"), None).unwrap();
    assert!(root.is_dir());
    let st = ops.getattr(&c, Path::new("/hello"), None).unwrap();
    assert_eq!(
        (st.size, st.mode, st.mtime),
        (13, libc::S_IFREG | 0o660, Timespec::new(1, 500_000_000))
    );
    assert_eq!(
        ops.getattr(&c, Path::new("/nope"), None),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        ops.open(&c, Path::new("/hello"), libc::O_WRONLY),
        Err(Errno::EACCES)
    );
    let opened = ops.open(&c, Path::new("/hello"), libc::O_RDONLY).unwrap();
    let data = ops
        .read(&c, Path::new("/hello"), Fh(opened.fh), 6, 100)
        .unwrap();
    assert_eq!(data, b"World!\n");
    ops.release(&c, Path::new("/hello"), Fh(opened.fh), 0, false)
        .unwrap();
    let d = ops.opendir(&c, Path::new("/"), 0).unwrap();
    let names: Vec<_> = ops
        .readdir(&c, Path::new("/"), Fh(d.fh))
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        vec![
            OsString::from("."),
            OsString::from(".."),
            OsString::from("hello")
        ]
    );
    assert_eq!(
        ops.getxattr(&c, Path::new("/hello"), "user.x".as_ref(), None),
        Err(Errno::ENODATA)
    );
    ops.access(&c, Path::new("/hello"), libc::R_OK).unwrap();
    // Missing handlers answer as libfuse does.
    assert_eq!(ops.mkdir(&c, Path::new("/d"), 0o755), Err(Errno::ENOSYS));
    assert!(ops.statfs(&c, Path::new("/")).is_ok());
}

#[test]
fn bugs_and_bad_results_are_eio_and_the_next_call_works() {
    let (_script, ops) = load(
        r#"
        local fs = {}
        local calls = 0
        function fs.getattr(path)
          calls = calls + 1
          if path == '/bug' then local t = nil; return t.x end
          if path == '/table' then error({code = 1}) end
          if path == '/string' then error('oops') end
          if path == '/wrong' then return 42 end
          return {mode = 'file', size = calls}
        end
        function fs.readlink(path) return 7 end
        return fs
    "#,
        &[],
    );
    let c = ctx();
    for p in ["/bug", "/table", "/string", "/wrong"] {
        assert_eq!(ops.getattr(&c, Path::new(p), None), Err(Errno::EIO), "{p}");
    }
    assert_eq!(ops.getattr(&c, Path::new("/ok"), None).unwrap().size, 5);
    assert_eq!(ops.readlink(&c, Path::new("/l")), Err(Errno::EIO));
}

#[test]
fn handler_results_and_arguments() {
    let (_script, ops) = load(
        r#"
        local flu = require 'flu'
        local seen = {}
        local fs = {}
        function fs.getattr(path) return seen[path] or {mode = 'directory'} end
        function fs.mkdir(path, mode)
          assert(mode.dir and mode.rusr and mode.number == tonumber('40750', 8), tostring(mode))
          seen[path] = {mode = mode}
        end
        function fs.chown(path, uid, gid) assert(uid == -1 and gid == 5) end
        function fs.utimens(path, atime, mtime)
          assert(atime == nil and mtime.sec == 3 and mtime.nsec == 7)
          seen[path] = {mode = 'file', mtime = mtime}
        end
        function fs.rename(old, new, flags) assert(flags.noreplace and not flags.exchange) end
        function fs.setxattr(path, name, value, flags) assert(flags.create and value == 'v\0w') end
        function fs.listxattr(path) return {'user.a', 'user.b'} end
        function fs.write(path, data, offset, fi) return #data end
        function fs.truncate(path, size) return nil, 'disk_full' end
        return fs
    "#,
        &[],
    );
    let c = ctx();
    ops.mkdir(&c, Path::new("/d"), 0o750).unwrap();
    assert_eq!(
        ops.getattr(&c, Path::new("/d"), None).unwrap().mode,
        libc::S_IFDIR | 0o750
    );
    ops.chown(&c, Path::new("/d"), None, Some(5), None).unwrap();
    ops.utimens(
        &c,
        Path::new("/t"),
        TimeSet::Omit,
        TimeSet::At(Timespec::new(3, 7)),
        None,
    )
    .unwrap();
    assert_eq!(
        ops.getattr(&c, Path::new("/t"), None).unwrap().mtime,
        Timespec::new(3, 7)
    );
    ops.rename(&c, Path::new("/a"), Path::new("/b"), libc::RENAME_NOREPLACE)
        .unwrap();
    ops.setxattr(
        &c,
        Path::new("/d"),
        "user.a".as_ref(),
        b"v\0w",
        libc::XATTR_CREATE,
        None,
    )
    .unwrap();
    assert_eq!(
        ops.listxattr(&c, Path::new("/d"), None).unwrap(),
        vec![OsString::from("user.a"), OsString::from("user.b")]
    );
    let o = ops.open(&c, Path::new("/f"), libc::O_WRONLY).unwrap();
    assert_eq!(
        ops.write(&c, Path::new("/f"), Fh(o.fh), 0, b"abc").unwrap(),
        3
    );
    assert_eq!(
        ops.truncate(&c, Path::new("/f"), 0, None),
        Err(Errno::ENOSPC)
    );
    // Without a create handler: mknod + open; without mknod either: ENOSYS.
    assert_eq!(
        ops.create(&c, Path::new("/n"), libc::S_IFREG | 0o644, libc::O_WRONLY),
        Err(Errno::ENOSYS)
    );
}

#[test]
fn passthrough_alone_is_served_natively_and_overrides_go_through_lua() {
    let root = TempDir::new("lua-pt");
    std::fs::write(root.join("f"), b"data").unwrap();
    let root_s = root.path().to_str().unwrap();
    let (_s, ops) = load("return require('flu').passthrough(...)", &[root_s]);
    // The sole native backend is served directly: no LuaFilesystem in between.
    assert!(ops.getattr(&ctx(), Path::new("/f"), None).is_ok());

    let (_s2, ops) = load(
        r#"
        local flu = require 'flu'
        local base = flu.passthrough(...)
        local fs = setmetatable({}, {__index = base})
        function fs.read(path, size, offset, fi)
          return base.read(path, size, offset, fi):upper()
        end
        function fs.getattr(path, fi)
          local st = base.getattr(path, fi)
          st.size = st.size + 0
          return st
        end
        return fs
    "#,
        &[root_s],
    );
    let c = RequestContext::default();
    let f = Path::new("/f");
    assert_eq!(ops.getattr(&c, f, None).unwrap().size, 4);
    assert_eq!(
        ops.getattr(&c, Path::new("/missing"), None),
        Err(Errno::ENOENT)
    );
    let o = ops.open(&c, f, libc::O_RDWR).unwrap();
    // read goes through Lua, so no kernel passthrough for this handle.
    assert_eq!(o.backing_fd, None);
    assert_eq!(ops.read(&c, f, Fh(o.fh), 0, 10).unwrap(), b"DATA");
    assert_eq!(ops.write(&c, f, Fh(o.fh), 4, b"!!").unwrap(), 2);
    ops.release(&c, f, Fh(o.fh), libc::O_RDWR, false).unwrap();
    assert_eq!(std::fs::read(root.join("f")).unwrap(), b"data!!");
}

#[test]
fn script_errors_are_reported_with_file_and_line() {
    let dir = TempDir::new("lua-syntax");
    let path = dir.join("bad.lua");
    std::fs::write(&path, "local x = \nreturn {").unwrap();
    let err = Script::load(&path, &[], &default_environment())
        .err()
        .expect("syntax error");
    assert!(err.to_string().contains("bad.lua:2:"), "{err}");
    std::fs::write(&path, "local t = nil\nreturn t.x").unwrap();
    let mut s = Script::load(&path, &[], &default_environment()).unwrap();
    let err = s.run().err().expect("runtime error");
    assert!(err.to_string().contains("bad.lua:2:"), "{err}");
}

#[test]
fn original_flu_conventions_still_work() {
    let (_script, ops) = load(
        r#"
        local flu = require 'flu'
        local last = {}
        local fs = {}
        function fs.getattr(path) return last[path] or {mode = 'file'} end
        -- Flu 1.x: utimens(path, {atime, mtime})
        function fs.utimens(path, tv)
          last[path] = {mode = 'file', atime = tv[1], mtime = tv[2]}
        end
        function fs.fsyncdir(path, datasync, fi) assert(datasync == 1, 'fsyncdir datasync is a number') end
        function fs.open(path, fi)
          assert(fi.writepage == 0 and fi.flags.S_IFREG == nil and fi.flags.ndelay == nil)
        end
        function fs.access(path, mask)
          local ok = flu.get_context().pid == 42
          return nil, nil
        end
        function fs.statfs(path) return {bsize = '4096', blocks = '10'} end
        return fs
    "#,
        &[],
    );
    let c = ctx();
    let (a, m) = (Timespec::new(1, 2), Timespec::new(3, 4));
    ops.utimens(&c, Path::new("/f"), TimeSet::At(a), TimeSet::At(m), None)
        .unwrap();
    let st = ops.getattr(&c, Path::new("/f"), None).unwrap();
    assert_eq!((st.atime, st.mtime), (a, m));
    let d = ops.opendir(&c, Path::new("/"), 0).unwrap();
    ops.fsyncdir(&c, Path::new("/"), Fh(d.fh), true).unwrap();
    ops.open(&c, Path::new("/f"), libc::O_RDONLY).unwrap();
    ops.access(&c, Path::new("/f"), libc::R_OK).unwrap();
    let s = ops.statfs(&c, Path::new("/")).unwrap();
    assert_eq!((s.bsize, s.blocks), (4096, 10));
}

#[test]
fn endless_handlers_are_interrupted() {
    let dir = TempDir::new("lua-loop");
    let path = dir.join("loop.lua");
    std::fs::write(
        &path,
        "return { getattr = function(p) if p == '/loop' then while true do end end return {} end }",
    )
    .unwrap();
    let mut script = Script::load(&path, &[], &default_environment()).unwrap();
    script.set_handler_timeout(Some(std::time::Duration::from_millis(200)));
    let Ok(ScriptOutcome::Finished {
        filesystem: Some(fs),
        ..
    }) = script.run()
    else {
        panic!("script should return its table");
    };
    let ops = script.filesystem(&fs).unwrap();
    assert_eq!(
        ops.getattr(&ctx(), Path::new("/loop"), None),
        Err(Errno::EIO)
    );
    // The lock was released and the next call is served.
    assert!(ops.getattr(&ctx(), Path::new("/ok"), None).is_ok());
}

#[test]
fn handlers_cannot_exit_the_daemon_or_list_bad_names() {
    let (script, ops) = load(
        r#"
        REAL_EXIT = os.exit
        return {
          getattr = function(path) if path == '/exit' then os.exit(3) end return {mode = 'directory'} end,
          readdir = function(path, filler) filler('ok') filler('a/b') end,
        }
    "#,
        &[],
    );
    let c = ctx();
    assert_eq!(ops.getattr(&c, Path::new("/exit"), None), Err(Errno::EIO));
    let d = ops.opendir(&c, Path::new("/"), 0).unwrap();
    assert_eq!(ops.readdir(&c, Path::new("/"), Fh(d.fh)), Err(Errno::EIO));
    // Unmounted (the filesystem dropped), os.exit is the real one again.
    drop(ops);
    let restored: bool = script
        .lua()
        .load("return os.exit == REAL_EXIT")
        .eval()
        .unwrap();
    assert!(restored);
}

#[test]
fn listings_carry_types_and_stat_entry_goes_native_only_when_safe() {
    let root = TempDir::new("lua-types");
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::write(root.join("f"), b"abc").unwrap();
    std::os::unix::fs::symlink("f", root.join("l")).unwrap();
    let root_s = root.path().to_str().unwrap();
    let c = ctx();
    let slash = Path::new("/");
    let listing = |ops: &Arc<dyn Operations>| {
        let d = ops.opendir(&c, slash, 0).unwrap();
        let mut l: Vec<_> = ops
            .readdir(&c, slash, Fh(d.fh))
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.name.into_string().unwrap(),
                    e.stat.map(|s| s.size),
                    e.kind,
                )
            })
            .collect();
        l.sort();
        (Fh(d.fh), l)
    };

    // base.readdir under a Lua readdir: the filler gets a type string, passed on as
    // is; a script's own filler calls give a type (string or number) or a stat.
    let (_s, ops) = load(
        r#"
        local base = require('flu').passthrough(...)
        local fs = setmetatable({}, {__index = base})
        function fs.readdir(path, filler, fi)
          base.readdir(path, function(name, st)
            assert(type(st) == 'string', 'a type string')
            return filler(name, st)
          end, fi)
          filler('n', tonumber('10600', 8))
          filler('s', {mode = 'file', size = 7})
        end
        return fs
    "#,
        &[root_s],
    );
    let (fh, l) = listing(&ops);
    let want = [
        ("d", None, Some(libc::S_IFDIR)),
        ("f", None, Some(libc::S_IFREG)),
        ("l", None, Some(libc::S_IFLNK)),
        ("n", None, Some(libc::S_IFIFO)),
        ("s", Some(7), None),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(n, s, k)| (n.to_string(), *s, *k))
        .collect();
    assert_eq!(l, want);
    assert_eq!(
        ops.stat_entry(&c, slash, fh, "f".as_ref()),
        None,
        "Lua readdir"
    );

    // Native readdir and getattr: stat_entry on the backend's open directory.
    let (_s, ops) = load(
        r#"
        local base = require('flu').passthrough(...)
        return setmetatable({read = function(...) return base.read(...) end}, {__index = base})
    "#,
        &[root_s],
    );
    let (fh, _) = listing(&ops);
    let st = ops
        .stat_entry(&c, slash, fh, "f".as_ref())
        .unwrap()
        .unwrap();
    assert_eq!((st.size, st.file_type()), (3, libc::S_IFREG));
    assert_eq!(
        ops.stat_entry(&c, slash, fh, "nope".as_ref()),
        Some(Err(Errno::ENOENT))
    );
    assert_eq!(ops.stat_entry(&c, slash, Fh(9999), "f".as_ref()), None);

    // A Lua getattr must see every stat: no shortcut around it.
    let (_s, ops) = load(
        r#"
        local base = require('flu').passthrough(...)
        local fs = setmetatable({}, {__index = base})
        function fs.getattr(path, fi) return base.getattr(path, fi) end
        return fs
    "#,
        &[root_s],
    );
    let (fh, _) = listing(&ops);
    assert_eq!(ops.stat_entry(&c, slash, fh, "f".as_ref()), None);

    // A type the filler cannot read is a script error.
    let (_s, ops) = load(
        "return { readdir = function(path, filler) filler('x', 'bogus') end }",
        &[],
    );
    assert_eq!(ops.readdir(&c, slash, Fh(0)), Err(Errno::EIO));
}

/// Native I/O never waits for Lua: while a Lua handler holds the Lua lock (a busy loop
/// here: flu.sleep would give the lock up), reads through the native backend complete.
#[test]
fn native_io_does_not_wait_for_a_busy_lua_handler() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let root = TempDir::new("lua-busy");
    std::fs::write(root.join("f"), b"native data").unwrap();
    let (_s, ops) = load(
        r#"
        local flu = require 'flu'
        local base = flu.passthrough(...)
        local fs = setmetatable({}, {__index = base})
        function fs.getattr(path, fi)
          if path == '/slow' then
            local t = os.clock() + 2
            while os.clock() < t do end
            return {mode = 'file'}
          end
          return base.getattr(path, fi)
        end
        -- Opened in Lua (the handle has a fi table), read natively.
        function fs.open(path, fi) return base.open(path, fi) end
        return fs
    "#,
        &[root.path().to_str().unwrap()],
    );
    let c = RequestContext::default();
    let f = Path::new("/f");
    let o = ops.open(&c, f, libc::O_RDONLY).unwrap();
    let slow_done = Arc::new(AtomicBool::new(false));
    let slow = {
        let (ops, done) = (ops.clone(), slow_done.clone());
        std::thread::spawn(move || {
            let r = ops.getattr(&RequestContext::default(), Path::new("/slow"), None);
            done.store(true, Ordering::SeqCst);
            r
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(ops.read(&c, f, Fh(o.fh), 0, 64).unwrap(), b"native data");
    assert!(
        !slow_done.load(Ordering::SeqCst),
        "the read waited for the Lua handler"
    );
    assert!(slow.join().unwrap().is_ok());
    ops.release(&c, f, Fh(o.fh), libc::O_RDONLY, false).unwrap();
}

/// xattr handlers get a trailing `fi` (the open file's when the daemon passes a
/// handle, else nil); a Flu handler that takes no `fi` keeps working.
#[test]
fn xattr_handlers_get_a_trailing_fi() {
    let (_s, ops) = load(
        r#"
        local fs = {}
        function fs.getattr(path) return {mode = 'file'} end
        function fs.open(path, fi) fi.fh = {opened = path} end
        function fs.getxattr(path, name, fi)
          return fi and ('fi of ' .. fi.fh.opened) or 'no fi'
        end
        function fs.listxattr(path, fi) return {fi and 'user.fi' or 'user.none'} end
        local set = {}
        function fs.setxattr(path, name, value, flags, fi) set[name] = fi ~= nil end
        function fs.removexattr(path, name, fi)
          if set[name] ~= (fi ~= nil) then error(require('flu').errno.EINVAL) end
        end
        return fs
        "#,
        &[],
    );
    let c = ctx();
    let p = Path::new("/f");
    let n = "user.a".as_ref();
    assert_eq!(ops.getxattr(&c, p, n, None).unwrap(), b"no fi");
    let fh = Some(Fh(ops.open(&c, p, libc::O_RDONLY).unwrap().fh));
    assert_eq!(ops.getxattr(&c, p, n, fh).unwrap(), b"fi of /f");
    assert_eq!(
        ops.listxattr(&c, p, fh).unwrap(),
        [OsString::from("user.fi")]
    );
    assert_eq!(
        ops.listxattr(&c, p, None).unwrap(),
        [OsString::from("user.none")]
    );
    ops.setxattr(&c, p, "user.with".as_ref(), b"v", 0, fh)
        .unwrap();
    ops.setxattr(&c, p, "user.without".as_ref(), b"v", 0, None)
        .unwrap();
    ops.removexattr(&c, p, "user.with".as_ref(), fh).unwrap();
    ops.removexattr(&c, p, "user.without".as_ref(), None)
        .unwrap();
    assert_eq!(
        ops.removexattr(&c, p, "user.with".as_ref(), None),
        Err(Errno::EINVAL)
    );
    // Flu's form, without fi, answers the same with or without a handle.
    let (_s, ops) = load(
        "local fs = {} function fs.getxattr(path, name) return path .. ' ' .. name end return fs",
        &[],
    );
    assert_eq!(ops.getxattr(&c, p, n, None).unwrap(), b"/f user.a");
}

#[test]
fn a_wrapper_passing_its_filler_to_base_readdir_lists_what_a_filtering_one_does() {
    let root = TempDir::new("lua-fill");
    for i in 0..300 {
        std::fs::write(root.join(format!("f{i:03}")), b"").unwrap();
    }
    std::fs::create_dir(root.join("sub")).unwrap();
    let root_s = root.path().to_str().unwrap();
    let listing = |source: &str| -> Vec<(OsString, Option<u32>)> {
        let (_s, ops) = load(source, &[root_s]);
        let c = RequestContext::default();
        let o = ops.opendir(&c, Path::new("/"), libc::O_RDONLY).unwrap();
        let mut names: Vec<(OsString, Option<u32>)> = ops
            .readdir(&c, Path::new("/"), Fh(o.fh))
            .unwrap()
            .into_iter()
            .map(|e| (e.name.clone(), e.file_type()))
            .collect();
        names.sort();
        names
    };
    // Passed on unchanged: listed straight into the handler's sink.
    let direct = listing(
        r#"local base = require('flu').passthrough(...)
           return setmetatable({readdir = function(path, filler, fi)
             filler('extra')
             return base.readdir(path, filler, fi)
           end}, {__index = base})"#,
    );
    // Wrapped in a function of the script's: every entry goes through Lua.
    let through_lua = listing(
        r#"local base = require('flu').passthrough(...)
           return setmetatable({readdir = function(path, filler, fi)
             filler('extra')
             return base.readdir(path, function(name, st) return filler(name, st) end, fi)
           end}, {__index = base})"#,
    );
    assert_eq!(direct, through_lua);
    assert_eq!(direct.len(), 300 + 1 + 1, "f000…f299, sub, extra");
    assert!(direct.contains(&(OsString::from("sub"), Some(libc::S_IFDIR))));
    assert!(direct.contains(&(OsString::from("f007"), Some(libc::S_IFREG))));
}

/// What a readdir of 2,000 names costs through a wrapper that passes its filler on, and
/// through one that wraps it (printed, not asserted: `cargo test --release -p flu-api
/// readdir_through_a_wrapper_costs -- --ignored --nocapture`).
#[test]
#[ignore]
fn readdir_through_a_wrapper_costs() {
    let root = TempDir::new("lua-fill-cost");
    for i in 0..2000 {
        std::fs::write(root.join(format!("f{i:04}")), b"").unwrap();
    }
    let root_s = root.path().to_str().unwrap();
    for (name, source) in [
        ("passed on", "local base = require('flu').passthrough(...)\nreturn setmetatable({readdir = function(p, f, fi) return base.readdir(p, f, fi) end}, {__index = base})"),
        ("wrapped", "local base = require('flu').passthrough(...)\nreturn setmetatable({readdir = function(p, f, fi) return base.readdir(p, function(n, s) return f(n, s) end, fi) end}, {__index = base})"),
    ] {
        let (_s, ops) = load(source, &[root_s]);
        let c = RequestContext::default();
        let start = std::time::Instant::now();
        for _ in 0..50 {
            let o = ops.opendir(&c, Path::new("/"), libc::O_RDONLY).unwrap();
            assert_eq!(ops.readdir(&c, Path::new("/"), Fh(o.fh)).unwrap().len(), 2000);
            ops.releasedir(&c, Path::new("/"), Fh(o.fh)).unwrap();
        }
        println!("{name}: {} µs per readdir of 2000", start.elapsed().as_micros() / 50);
    }
}

/// What a getattr costs in-process: trivial Lua handlers, the passthrough's own getattr
/// wrapped in a Lua function (of a file, and of a missing one), and the passthrough
/// itself (printed, not asserted: `cargo test --release -p flu-api
/// getattr_through_lua_costs -- --ignored --nocapture`). `FLU_PROBE_ONLY=NAME` runs one
/// case and `FLU_PROBE_CALLS=N` sets the calls, so that an instruction counter can take
/// the difference of two runs.
#[test]
#[ignore]
fn getattr_through_lua_costs() {
    let root = TempDir::new("lua-getattr-cost");
    std::fs::write(root.join("f"), b"").unwrap();
    let root_s = root.path().to_str().unwrap();
    let wrapped = "local base = require('flu').passthrough(...)\n\
                   return setmetatable({getattr = function(...) return base.getattr(...) end}, {__index = base})";
    let full = "return {getattr = function(p) return {mode = {reg = true, rusr = true, wusr = true, rgrp = true}, \
                size = 1, nlink = 1, uid = 0, gid = 0, ino = 5, dev = 3, rdev = 0, blocks = 1, blksize = 4096, \
                atime = {sec = 1, nsec = 2}, mtime = {sec = 1, nsec = 2}, ctime = {sec = 1, nsec = 2}} end}";
    let only = std::env::var("FLU_PROBE_ONLY").ok();
    let calls: u32 = std::env::var("FLU_PROBE_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    for (name, source, path) in [
        (
            "trivial Lua",
            "return {getattr = function(p) return {mode = 'file', size = 1} end}",
            "/f",
        ),
        ("trivial Lua, every field", full, "/f"),
        ("wrapped native", wrapped, "/f"),
        ("wrapped native, ENOENT", wrapped, "/missing"),
        ("native", "return require('flu').passthrough(...)", "/f"),
        (
            "example",
            include_str!("../../../examples/passthrough.lua"),
            "/f",
        ),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let (_s, ops) = try_load_as("passthrough.lua", source, &[root_s])
            .unwrap_or_else(|e| panic!("{name}: the script failed: {e}"));
        let c = RequestContext::default();
        let start = std::time::Instant::now();
        for _ in 0..calls {
            let r = ops.getattr(&c, Path::new(path), None);
            assert_eq!(r.is_ok(), path == "/f", "{name}");
        }
        println!(
            "{name}: {} ns per getattr",
            start.elapsed().as_nanos() / u128::from(calls)
        );
    }
}

/// What creating a file costs in-process, as the kernel asks for it (create, getattr,
/// flush, release, then unlink): every handler the passthrough's own wrapped in a Lua
/// function, the passthrough itself, and `examples/passthrough.lua` (printed, not asserted: `cargo test --release
/// -p flu-api create_through_lua_costs -- --ignored --nocapture`; `FLU_PROBE_ONLY` and
/// `FLU_PROBE_CALLS` as for `getattr_through_lua_costs`).
#[test]
#[ignore]
fn create_through_lua_costs() {
    let root = TempDir::new("lua-create-cost");
    let root_s = root.path().to_str().unwrap();
    let only = std::env::var("FLU_PROBE_ONLY").ok();
    let calls: u32 = std::env::var("FLU_PROBE_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    for (name, source) in [
        (
            "wrapped native",
            "local base = require('flu').passthrough(...)\n\
             local fs = {}\n\
             for k, f in pairs(base) do fs[k] = function(...) return f(...) end end\n\
             return fs",
        ),
        ("native", "return require('flu').passthrough(...)"),
        ("example", include_str!("../../../examples/passthrough.lua")),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        // Not fs.lua: the example's `require 'fs'` would find the script itself.
        let (_s, ops) = try_load_as("passthrough.lua", source, &[root_s])
            .unwrap_or_else(|e| panic!("the script failed: {e}"));
        let c = RequestContext::default();
        let path = Path::new("/new");
        let start = std::time::Instant::now();
        for _ in 0..calls {
            // The kernel's create always carries O_CREAT.
            let o = ops
                .create(&c, path, 0o644, libc::O_WRONLY | libc::O_CREAT)
                .unwrap();
            ops.getattr(&c, path, Some(Fh(o.fh))).unwrap();
            // The example has no flush handler (and tells the kernel not to send one).
            match ops.flush(&c, path, Fh(o.fh), 1) {
                Ok(()) | Err(crate::errno::Errno::ENOSYS) => {}
                Err(e) => panic!("{name}: flush: {e:?}"),
            }
            ops.release(&c, path, Fh(o.fh), libc::O_WRONLY, false)
                .unwrap();
            ops.unlink(&c, path).unwrap();
        }
        println!(
            "{name}: {} ns per create, getattr, flush, release, unlink",
            start.elapsed().as_nanos() / u128::from(calls)
        );
    }
}
