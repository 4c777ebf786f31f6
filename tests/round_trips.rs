//! Requests the kernel need not send: closing a file of the native passthrough on a
//! local filesystem sends no FLUSH (FOPEN_NOFLUSH: its flush would do nothing a caller
//! could see), nor does closing a file a script opened when the script has no flush
//! handler (or set `fi.noflush`), while a script that handles flush itself, or POSIX
//! locks, still gets one per close; a file just created is stated from the kernel's
//! cache. Counted with the mount's own `flu stats`.

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

/// Write script `body` as `name` in `dir` and mount it over `backing`.
fn mount_script(dir: &TempDir, name: &str, body: &str, backing: &TempDir) -> Option<Mounted> {
    let script = dir.join(name);
    std::fs::write(&script, body).unwrap();
    mount_with(&script, MountOptions::new().arg(backing.path()))
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
    let script = "local base = require('flu').passthrough(...)\n\
         local fs = setmetatable({}, {__index = base})\n\
         local flushes = 0\n\
         function fs.flush(path, fi) flushes = flushes + 1 return base.flush(path, fi) end\n\
         return fs\n";
    let Some(m) = mount_script(&dir, "fs.lua", script, &backing) else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(m.sh("cat f"), "data\n");
    }
    assert_eq!(served(&m, "flush"), 3);
    m.unmount();
}

/// A script's own `open`: without a `flush` handler the kernel is told not to send
/// FLUSH at close (it would only be answered ENOSYS); with one, every close sends it,
/// unless `open` set `fi.noflush` for that file.
#[test]
fn lua_opens_skip_flush_when_no_handler_would_hear_it() {
    let backing = TempDir::new("noflush-lua");
    std::fs::write(backing.join("loud"), "data\n").unwrap();
    std::fs::write(backing.join("quiet"), "data\n").unwrap();
    let dir = TempDir::new("noflush-lua-script");
    let without = "local base = require('flu').passthrough(...)\n\
         return {\n\
           getattr = base.getattr, read = base.read, release = base.release,\n\
           open = function(path, fi) return base.open(path, fi) end,\n\
         }\n";
    let Some(m) = mount_script(&dir, "without.lua", without, &backing) else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(m.sh("cat loud"), "data\n");
    }
    assert_eq!(served(&m, "open"), 3, "opens were not counted");
    assert_eq!(
        served(&m, "flush"),
        0,
        "a close sent FLUSH with no handler for it"
    );
    m.unmount();

    let with = "local base = require('flu').passthrough(...)\n\
         local fs = setmetatable({}, {__index = base})\n\
         function fs.open(path, fi)\n\
           local r, e, c = base.open(path, fi)\n\
           if path == '/quiet' then fi.noflush = true end\n\
           return r, e, c\n\
         end\n\
         function fs.flush(path, fi) return base.flush(path, fi) end\n\
         return fs\n";
    let Some(m) = mount_script(&dir, "with.lua", with, &backing) else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(m.sh("cat quiet"), "data\n");
    }
    assert_eq!(served(&m, "flush"), 0, "fi.noflush was not heeded");
    for _ in 0..2 {
        assert_eq!(m.sh("cat loud"), "data\n");
    }
    assert_eq!(served(&m, "flush"), 2, "the flush handler missed closes");
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

/// The names of `dir`, sorted.
fn listed(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A directory of the native passthrough is listed once: the kernel keeps the listing
/// (FOPEN_CACHE_DIR) and answers the next ones itself, until the directory changes
/// through the mount (the kernel drops its cache) or below it (the next opendir finds
/// its times changed and tells the kernel not to keep the cache).
#[test]
fn native_listings_come_from_the_kernels_cache_until_the_directory_changes() {
    let backing = TempDir::new("listing-cache");
    std::fs::create_dir(backing.join("d")).unwrap();
    for i in 0..300 {
        std::fs::write(backing.join(format!("d/file-with-a-long-name-{i:04}")), "").unwrap();
    }
    let Some(m) = mount_over("native_passthrough.lua", &backing) else {
        return;
    };
    let d = m.path("d");
    let first = listed(&d);
    assert_eq!(first.len(), 300);
    let one_pass = served(&m, "readdir");
    assert!(
        one_pass >= 2,
        "300 long names fit no single reply: {one_pass}"
    );
    for _ in 0..5 {
        assert_eq!(listed(&d), first);
    }
    assert_eq!(
        served(&m, "readdir"),
        one_pass,
        "a listing of an unchanged directory asked the daemon again"
    );
    assert_eq!(served(&m, "opendir"), 6);

    // Through the mount: seen at once.
    std::fs::write(d.join("made-through"), "").unwrap();
    std::fs::remove_file(d.join("file-with-a-long-name-0000")).unwrap();
    let now = listed(&d);
    assert!(now.contains(&"made-through".to_string()), "{now:?}");
    assert!(!now.contains(&"file-with-a-long-name-0000".to_string()));
    assert_eq!(now.len(), 300);

    // Below the mount: seen at the next opendir, not an attribute timeout later.
    std::fs::write(backing.join("d/made-below"), "").unwrap();
    std::fs::remove_file(backing.join("d/file-with-a-long-name-0001")).unwrap();
    let now = listed(&d);
    assert!(now.contains(&"made-below".to_string()), "{now:?}");
    assert!(!now.contains(&"file-with-a-long-name-0001".to_string()));
    assert_eq!(now, listed(&backing.join("d")));
    m.unmount();
}

/// A Lua readdir is the script's answer: asked at every listing, even when it wraps the
/// native one, unless the script's opendir sets `fi.cache_readdir` (libfuse's field):
/// then the kernel keeps the listing, with `fi.keep_cache` across opens too.
#[test]
fn lua_listings_are_cached_only_when_the_script_says_so() {
    let backing = TempDir::new("listing-lua");
    std::fs::create_dir(backing.join("d")).unwrap();
    std::fs::write(backing.join("d/f"), "").unwrap();
    let dir = TempDir::new("listing-lua-script");
    let wrapped = dir.join("wrapped.lua");
    std::fs::write(
        &wrapped,
        "local base = require('flu').passthrough(...)\n\
         local fs = setmetatable({}, {__index = base})\n\
         function fs.readdir(path, filler, fi) return base.readdir(path, filler, fi) end\n\
         return fs\n",
    )
    .unwrap();
    let Some(m) = mount_with(&wrapped, MountOptions::new().arg(backing.path())) else {
        return;
    };
    assert_eq!(listed(&m.path("d")), ["f"]);
    let one_pass = served(&m, "readdir");
    for _ in 0..2 {
        assert_eq!(listed(&m.path("d")), ["f"]);
    }
    assert_eq!(
        served(&m, "readdir"),
        3 * one_pass,
        "every listing asks Lua"
    );
    m.unmount();

    let cached = dir.join("cached.lua");
    std::fs::write(
        &cached,
        "local DIR, FILE = tonumber('40755', 8), tonumber('100644', 8)\n\
         local names = {'one'}\n\
         return {\n\
           getattr = function(path)\n\
             if path == '/' then return {mode = DIR} end\n\
             for _, n in ipairs(names) do if path == '/' .. n then return {mode = FILE} end end\n\
             if path == '/poke' then require('flu').notify.inval_inode('/') end\n\
             error(require('flu').errno.ENOENT)\n\
           end,\n\
           opendir = function(path, fi) fi.cache_readdir = true; fi.keep_cache = true end,\n\
           readdir = function(path, filler)\n\
             filler('.') filler('..')\n\
             for _, n in ipairs(names) do filler(n) end\n\
             names[#names + 1] = 'more'\n\
           end,\n\
         }\n",
    )
    .unwrap();
    let Some(m) = mount_with(&cached, MountOptions::new()) else {
        return;
    };
    assert_eq!(listed(&m.dir), ["one"]);
    let one_pass = served(&m, "readdir");
    for _ in 0..2 {
        assert_eq!(listed(&m.dir), ["one"], "the first listing, kept");
    }
    assert_eq!(served(&m, "readdir"), one_pass);
    // An invalidation of the directory drops the kernel's copy: readdir is asked again.
    assert!(std::fs::symlink_metadata(m.path("poke")).is_err());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while served(&m, "readdir") == one_pass && std::time::Instant::now() < deadline {
        assert!(listed(&m.dir).len() <= 2);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        served(&m, "readdir") > one_pass,
        "inval_inode kept the cached listing"
    );
    m.unmount();
}
