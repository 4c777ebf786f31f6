//! Tests of the `fs` module driven from Lua on real temporary directories, one file per
//! area. Every test gets its own directory and Lua state; paths are absolute, so
//! tests running in parallel do not depend on the (shared) current directory.

mod attrs;
mod dirhandle;
mod dirs;
mod docs;
mod files;
mod limits;
mod map;
mod ops;
mod wrap;
mod xattrs;

use std::os::unix::ffi::OsStrExt;

use mlua::Lua;

pub(super) use crate::test_support::TempDir;

/// Lua helpers every test chunk can use.
const PRELUDE: &str = r#"
function eq(a, b, what)
    if a ~= b then
        error(string.format('%s: expected %s, got %s', what or 'eq', tostring(b), tostring(a)), 2)
    end
end
-- check a `nil, message, code` failure
function fails(msg, code, v, m, c)
    if v ~= nil or m ~= msg or c ~= code then
        error(string.format('expected nil, %s, %s; got %s, %s, %s',
            msg, code, tostring(v), tostring(m), tostring(c)), 2)
    end
end
-- check that f raises an error containing `pat`
function raises(pat, f, ...)
    local ok, err = pcall(f, ...)
    if ok then error('expected an error matching ' .. pat, 2) end
    if not tostring(err):find(pat, 1, true) then
        error('error "' .. tostring(err) .. '" does not contain "' .. pat .. '"', 2)
    end
end
function writefile(p, s) local f = assert(fs.open(p, 'w')); assert(f:write(s)); f:close() end
function readfile(p) local f = assert(fs.open(p)); local s = assert(f:read_all()); f:close(); return s end
"#;

/// A Lua state with `fs` as a global and `T` = a fresh temporary directory.
pub(super) struct Env {
    pub lua: Lua,
    /// Kept so the directory lives as long as the state.
    pub _dir: TempDir,
}

pub(super) fn env_in(base: &str) -> Env {
    let lua = Lua::new();
    let fs = super::create_module(&lua).unwrap();
    lua.globals().set("fs", fs).unwrap();
    let dir = TempDir::new_in(base, "fs-test");
    let t = lua
        .create_string(dir.path().as_os_str().as_bytes())
        .unwrap();
    lua.globals().set("T", t).unwrap();
    lua.load(PRELUDE).set_name("=prelude").exec().unwrap();
    Env { lua, _dir: dir }
}

pub(super) fn env() -> Env {
    env_in("/tmp")
}

impl Env {
    pub(super) fn run(&self, code: &str) {
        if let Err(e) = self.lua.load(code).set_name("=test").exec() {
            panic!("Lua test failed:\n{e}");
        }
    }
}

/// Run `code` in a forked child after `setup` (run in the child) succeeds; true if the
/// Lua code succeeded. Used for what must not touch the test process itself: other
/// users' credentials, lower resource limits.
pub(super) fn run_in_child(env: &Env, setup: impl FnOnce() -> bool, code: &str) -> bool {
    // SAFETY: the child only runs Lua on its own copy of the state and leaves with
    // _exit; it never returns into the test harness.
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let ok = setup()
                && match env.lua.load(code).set_name("=test").exec() {
                    Ok(()) => true,
                    Err(e) => {
                        // The harness captures eprintln! in memory; write to fd 2.
                        let msg = format!("Lua test failed in child:\n{e}\n");
                        libc::write(2, msg.as_ptr().cast(), msg.len());
                        false
                    }
                };
            libc::_exit(if ok { 0 } else { 1 });
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

/// Run `code` in a child as uid/gid 65534 (nobody). Tests run as root, which bypasses
/// permission checks, so EACCES needs another user.
pub(super) fn run_as_nobody(env: &Env, code: &str) -> bool {
    run_in_child(
        env,
        // SAFETY: plain credential syscalls in the single-threaded child.
        || unsafe {
            libc::setgroups(0, std::ptr::null()) == 0
                && libc::setgid(65534) == 0
                && libc::setuid(65534) == 0
        },
        code,
    )
}
