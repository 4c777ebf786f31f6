//! Requests the kernel need not send: closing a file of the native passthrough on a
//! local filesystem sends no FLUSH (FOPEN_NOFLUSH: its flush would do nothing a caller
//! could see), while a script that handles flush itself, or POSIX locks, still gets one
//! per close; a file just created is stated from the kernel's cache. Counted with the
//! mount's own `flu stats`.

mod common;

use common::*;

/// How many requests of `op` the mount at `m` has served.
fn served(m: &Mounted, op: &str) -> u64 {
    let stats = stats_of(&m.dir);
    stats
        .get("ops")
        .and_then(|o| o.get(op))
        .and_then(|c| c.get("requests"))
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("no ops.{op}.requests in {stats:?}"))
}

fn mount_over(script: &str, backing: &TempDir) -> Option<Mounted> {
    mount_with(
        &test_script(script),
        MountOptions::new().arg(backing.path()),
    )
}

#[test]
fn native_passthrough_closes_without_flush() {
    let backing = TempDir::new("noflush");
    std::fs::write(backing.join("f"), "data\n").unwrap();
    let Some(m) = mount_over("native_passthrough.lua", &backing) else {
        return;
    };
    for _ in 0..5 {
        assert_eq!(m.sh("cat f"), "data\n");
    }
    m.sh("echo more >> f");
    assert_eq!(served(&m, "open"), 6, "opens were not counted");
    assert_eq!(served(&m, "flush"), 0, "a close sent FLUSH");
    assert_eq!(
        std::fs::read_to_string(backing.join("f")).unwrap(),
        "data\nmore\n"
    );
    m.unmount();
}

#[test]
fn a_flush_handler_in_lua_still_gets_every_close() {
    let backing = TempDir::new("flush-lua");
    std::fs::write(backing.join("f"), "data\n").unwrap();
    let dir = TempDir::new("flush-lua-script");
    let script = dir.join("fs.lua");
    std::fs::write(
        &script,
        "local base = require('flu').passthrough(...)\n\
         local fs = setmetatable({}, {__index = base})\n\
         local flushes = 0\n\
         function fs.flush(path, fi) flushes = flushes + 1 return base.flush(path, fi) end\n\
         return fs\n",
    )
    .unwrap();
    let Some(m) = mount_with(&script, MountOptions::new().arg(backing.path())) else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(m.sh("cat f"), "data\n");
    }
    assert_eq!(served(&m, "flush"), 3);
    m.unmount();
}

/// A file just created through the native passthrough keeps the attributes its CREATE
/// reply gave: stating it right after asks the daemon nothing (with kernel passthrough,
/// attributes of files open for writing are not cached, but a created file is empty:
/// a mapping cannot write to it before a write or truncate the kernel sees).
#[test]
fn a_created_file_is_stated_from_the_kernels_cache() {
    let backing = TempDir::new("created-stat");
    let Some(m) = mount_over("native_passthrough.lua", &backing) else {
        return;
    };
    let before = served(&m, "getattr");
    for i in 0..20 {
        let p = m.path(format!("f{i}"));
        std::fs::File::create(&p).unwrap();
        std::fs::symlink_metadata(&p).unwrap();
    }
    assert_eq!(served(&m, "create"), 20);
    let asked = served(&m, "getattr") - before;
    // Within the mount's 1 s attribute timeout; a stalled machine may let a few expire.
    assert!(asked <= 2, "{asked} GETATTRs for 20 stats of created files");
    m.unmount();
}
