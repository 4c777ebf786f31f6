//! Compositions mounted for real (`flu.compose`): examples/composefs.lua (luafs at `/`,
//! a passthrough at `/real`, a live tree at `/status`) and tests/scripts/
//! compose_nested.lua (compositions nested and overridden in Lua). Routing, paths
//! relative to mount points, mount points in their parents' listings, EBUSY, EXDEV,
//! statfs per backend, handles per backend, notifications under the branch's prefix,
//! and a native branch that never waits for the Lua lock.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// `script` mounted over a fresh directory holding `r`.
fn mounted_over_a_directory(script: &Path) -> Option<(Mounted, TempDir)> {
    let data = TempDir::new("compose-data");
    fs::write(data.join("r"), "real\n").unwrap();
    let m = mount_with(script, MountOptions::new().arg(data.path()))?;
    Some((m, data))
}

fn composefs() -> Option<(Mounted, TempDir)> {
    mounted_over_a_directory(&example("composefs.lua"))
}

fn nested() -> Option<(Mounted, TempDir)> {
    mounted_over_a_directory(&test_script("compose_nested.lua"))
}

fn errno_of(r: std::io::Result<()>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

#[test]
fn each_backend_serves_its_subtree_with_paths_of_its_own() {
    let Some((m, data)) = composefs() else { return };
    // luafs at the root, the mount points beside its files.
    let root = sorted_names(&m.dir);
    for expected in ["README", "docs", "real", "status"] {
        assert!(root.contains(&expected.to_string()), "{root:?}");
    }
    assert_eq!(fs::read_to_string(m.path("real/r")).unwrap(), "real\n");
    fs::write(m.path("real/new"), "through the mount\n").unwrap();
    assert_eq!(
        fs::read_to_string(data.join("new")).unwrap(),
        "through the mount\n",
        "/real/new is new in the backing directory"
    );
    fs::create_dir(m.path("real/sub")).unwrap();
    assert!(data.join("sub").is_dir());
    // A file made at the root stays in luafs's memory, not in the directory.
    fs::write(m.path("mem"), "in memory\n").unwrap();
    assert!(!data.join("mem").exists());
    assert_eq!(fs::read_to_string(m.path("mem")).unwrap(), "in memory\n");
    assert!(fs::metadata(m.path("status")).unwrap().is_dir());
    assert_eq!(sorted_names(&m.path("status")), ["time"]);
    m.unmount();
}

#[test]
fn mount_points_cannot_be_removed_or_renamed() {
    let Some((m, _data)) = composefs() else {
        return;
    };
    assert_eq!(errno_of(fs::remove_dir(m.path("real"))), Some(libc::EBUSY));
    assert_eq!(
        errno_of(fs::rename(m.path("status"), m.path("elsewhere"))),
        Some(libc::EBUSY)
    );
    fs::create_dir(m.path("d")).unwrap();
    assert_eq!(
        errno_of(fs::rename(m.path("d"), m.path("real"))),
        Some(libc::EBUSY),
        "renamed over a mount point"
    );
    let r = m.sh_run("rm -rf real 2>&1; echo rc=$?");
    assert!(
        r.stdout.contains("rc=1"),
        "rm -rf of a mount point: {}",
        r.stdout
    );
    // rm -rf empties what it can; the mount point itself stays.
    assert!(fs::metadata(m.path("real")).unwrap().is_dir());
    m.unmount();
}

#[test]
fn names_move_and_link_only_within_a_backend() {
    let Some((m, data)) = composefs() else { return };
    fs::write(m.path("real/a"), "a\n").unwrap();
    assert_eq!(
        errno_of(fs::rename(m.path("real/a"), m.path("a"))),
        Some(libc::EXDEV)
    );
    assert_eq!(
        errno_of(fs::hard_link(m.path("real/a"), m.path("a-link"))),
        Some(libc::EXDEV)
    );
    // Within a backend both work.
    fs::rename(m.path("real/a"), m.path("real/b")).unwrap();
    fs::hard_link(m.path("real/b"), m.path("real/c")).unwrap();
    assert_eq!(fs::metadata(data.join("c")).unwrap().nlink(), 2);
    // mv copies between backends, as between filesystems.
    let out = m.sh("mv real/b moved && cat moved && ls real");
    assert_eq!(out, "a\nc\nr\n");
    assert!(!data.join("b").exists());
    m.unmount();
}

#[test]
fn real_tools_cross_the_mount_points() {
    let Some((m, data)) = composefs() else { return };
    let out = m.sh(
        "mkdir -p real/tree/deep && echo one > real/tree/deep/f && ln -s deep/f real/tree/l \
         && cp -a real/tree copied && tar -C real -cf - tree | tar -C real -xf - --transform s/tree/untarred/ \
         && cat copied/deep/f && readlink copied/l && cat real/untarred/deep/f && ls real",
    );
    assert_eq!(out, "one\ndeep/f\none\nr\ntree\nuntarred\n");
    assert!(data.join("untarred/deep/f").exists());
    m.unmount();
}

#[test]
fn statfs_answers_per_backend() {
    let Some((m, data)) = composefs() else { return };
    let through = m.sh("stat -f -c '%b %S' real");
    let below = sh(data.path(), "stat -f -c '%b %S' .");
    assert_eq!(
        through, below,
        "the passthrough's statfs is its directory's"
    );
    let root = m.sh("stat -f -c '%b %S' .");
    assert_ne!(root, below, "luafs answers its own statfs");
    m.unmount();
}

#[test]
fn a_live_branch_notifies_with_its_own_paths() {
    let Some((m, _data)) = composefs() else {
        return;
    };
    // /status/time is cached for an hour: only the timer's notification of "/time",
    // made "/status/time" by flu, lets a reader see it change.
    let first = fs::read_to_string(m.path("status/time")).unwrap();
    let changed = wait_until(Duration::from_secs(5), || {
        fs::read_to_string(m.path("status/time")).unwrap() != first
    });
    assert!(changed, "status/time stayed {first:?}");
    m.unmount();
}

#[test]
fn nested_compositions_overridden_in_lua() {
    let Some((m, data)) = nested() else { return };
    assert_eq!(sorted_names(&m.dir), ["a", "busy", "in", "live"]);
    assert_eq!(sorted_names(&m.path("a")), ["b"]);
    assert_eq!(sorted_names(&m.path("a/b")), ["deep"]);
    assert_eq!(sorted_names(&m.path("in")), ["fh", "pt"]);
    assert_eq!(fs::read_to_string(m.path("a/b/deep/r")).unwrap(), "real\n");
    assert_eq!(fs::read_to_string(m.path("in/pt/r")).unwrap(), "real\n");
    // The override's own file, and the composition reached from inside a Lua handler.
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), "hello\n");
    // Each open gets the memory branch's own handle back in read.
    let a = fs::read_to_string(m.path("in/fh")).unwrap();
    let b = fs::read_to_string(m.path("in/fh")).unwrap();
    assert!(
        a.starts_with("700") && b.starts_with("700") && a != b,
        "{a} {b}"
    );
    fs::write(m.path("in/pt/w"), "w").unwrap();
    assert!(data.join("w").exists());
    assert_eq!(
        errno_of(fs::rename(m.path("in/pt/w"), m.path("a/b/deep/w2"))),
        Some(libc::EXDEV),
        "two passthroughs of one directory are still two backends"
    );
    assert_eq!(errno_of(fs::remove_dir(m.path("in/pt"))), Some(libc::EBUSY));
    assert_eq!(errno_of(fs::remove_dir(m.path("a/b"))), Some(libc::EBUSY));
    m.unmount();
}

#[test]
fn a_nested_branch_notifies_under_every_prefix() {
    let Some((m, _data)) = nested() else { return };
    assert_eq!(fs::read_to_string(m.path("live/clock")).unwrap(), "0");
    fs::write(m.path("live/tick"), "x").unwrap();
    assert_eq!(fs::read_to_string(m.path("live/clock")).unwrap(), "1");
    m.unmount();
}

#[test]
fn a_native_branch_never_waits_for_lua() {
    let Some((m, _data)) = nested() else { return };
    let spin = m.path("busy/spin");
    let reader = std::thread::spawn(move || fs::read_to_string(spin));
    // Let the busy read take the Lua lock.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    for i in 0..20 {
        let p = m.path(format!("a/b/deep/n{i}"));
        fs::write(&p, "n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "n");
    }
    let native = started.elapsed();
    let spun = reader.join().unwrap().unwrap();
    let whole = started.elapsed();
    assert_eq!(spun, "done\n");
    assert!(
        native < whole,
        "the passthrough branch finished ({native:?}) only when the Lua read did ({whole:?})"
    );
    m.unmount();
}

#[test]
fn a_composition_reloads_whole() {
    let dir = TempDir::new("compose-reload");
    let data = TempDir::new("compose-reload-data");
    fs::write(data.join("f"), "real\n").unwrap();
    let script = dir.join("fs.lua");
    let source = |v: &str| {
        format!(
            "local flu = require 'flu'
             local V = '{v}\\n'
             local b = {{}}
             function b.getattr(p)
               if p == '/' then return {{mode = tonumber('40755', 8)}} end
               if p == '/v' then return {{mode = tonumber('100644', 8), size = #V}} end
               error(flu.errno.ENOENT)
             end
             function b.readdir(p, f) f('.') f('..') f('v') end
             function b.read(p, size, off) return V:sub(off + 1, off + size) end
             return flu.compose{{['/b'] = b, ['/real'] = flu.passthrough(...)}}"
        )
    };
    fs::write(&script, source("one")).unwrap();
    let Some(m) = mount_with(
        &script,
        MountOptions::new()
            .opt("attr_timeout=0,entry_timeout=0,direct_io")
            .arg(data.path()),
    ) else {
        return;
    };
    assert_eq!(fs::read_to_string(m.path("b/v")).unwrap(), "one\n");
    fs::write(&script, source("two")).unwrap();
    let r = run_cmd(
        std::process::Command::new(flu_bin())
            .arg("reload")
            .arg(&m.dir),
        Duration::from_secs(20),
    );
    assert!(r.ok(), "flu reload: {}", r.stderr);
    assert_eq!(fs::read_to_string(m.path("b/v")).unwrap(), "two\n");
    assert_eq!(fs::read_to_string(m.path("real/f")).unwrap(), "real\n");
    m.unmount();
}
