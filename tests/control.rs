//! The control channel (DESIGN §4): `flu stats` of a mount; the socket is private (0600
//! in a 0700 directory) and goes away at unmount; a stale socket is replaced at the next
//! mount, a symlink in its place is refused; `flu stats` on anything that is not a flu
//! mount says so and exits 1; stats answer while a handler is stuck; errors are counted by
//! errno, latencies and handler timeouts are reported; `flu list` shows the running mounts.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn socket_of(dir: &Path) -> std::path::PathBuf {
    flu::control::socket_of(&dir.canonicalize().expect("canonical mountpoint"))
}

#[test]
fn stats_of_a_mount_and_its_private_socket() {
    let Some(m) = mount(&example("hellofs.lua")) else {
        return;
    };
    assert_eq!(m.sh("cat hello"), "Hello World!\n");
    let stats = stats_of(&m.dir);
    assert_eq!(stats.get("ok").and_then(|v| v.as_bool()), Some(true));
    assert_eq!(Some(stat_number(&stats, "pid") as i32), m.pid);
    let canonical = m.dir.canonicalize().unwrap();
    assert_eq!(
        stats.get("mountpoint").and_then(|v| v.as_str()),
        canonical.to_str()
    );
    assert_eq!(
        stats.get("script").and_then(|v| v.as_str()),
        example("hellofs.lua").to_str()
    );
    // The root and `hello`, which cat looked up.
    assert!(stat_number(&stats, "nodes") >= 2, "{stats:?}");
    assert_eq!(stat_number(&stats, "open_files"), 0);
    assert_eq!(stat_number(&stats, "open_dirs"), 0);
    assert_eq!(stat_number(&stats, "requests_in_flight"), 0);
    assert!(stat_number(&stats, "serving_threads") >= 1);
    assert!(stat_number(&stats, "lua_memory_bytes") > 0);
    stat_number(&stats, "uptime_s");
    let read = stats
        .get("ops")
        .and_then(|o| o.get("read"))
        .expect("ops.read");
    assert!(
        read.get("requests").and_then(|v| v.as_u64()) >= Some(1),
        "{read:?}"
    );
    let lookup = stats.get("ops").and_then(|o| o.get("lookup")).unwrap();
    let lookups = lookup.get("requests").and_then(|v| v.as_u64()).unwrap();
    // A missing name is one more lookup, and one more error.
    assert!(m.sh_run("cat nothing-here").status.code() == Some(1));
    let later = stats_of(&m.dir);
    let lookup = later.get("ops").and_then(|o| o.get("lookup")).unwrap();
    assert!(lookup.get("requests").and_then(|v| v.as_u64()) > Some(lookups));
    assert!(lookup.get("errors").and_then(|v| v.as_u64()) >= Some(1));
    // ... counted under its errno, with latencies in order.
    let enoent = lookup.get("errnos").and_then(|e| e.get("ENOENT"));
    assert!(enoent.and_then(|v| v.as_u64()) >= Some(1), "{lookup:?}");
    let latency = |name: &str| {
        lookup
            .get("latency_us")
            .and_then(|l| l.get(name))
            .and_then(|v| v.as_u64())
            .unwrap_or_else(|| panic!("no latency_us.{name} in {lookup:?}"))
    };
    assert!(latency("p50") <= latency("p99"), "{lookup:?}");
    assert!(latency("p99") <= latency("max"), "{lookup:?}");
    assert!(latency("mean") <= latency("max"), "{lookup:?}");
    assert_eq!(stat_number(&later, "handler_timeouts"), 0);

    // The table form.
    let table = run_cmd(
        Command::new(flu_bin()).arg("stats").arg(&m.dir),
        COMMAND_TIMEOUT,
    );
    assert!(table.ok(), "{}", table.stderr);
    for row in [
        "nodes",
        "open files",
        "serving threads",
        "Lua memory",
        "read",
        "p50",
        "p99",
        "handler timeouts",
        "errors by errno",
        "ENOENT",
    ] {
        assert!(table.stdout.contains(row), "no {row} in:\n{}", table.stdout);
    }

    let socket = socket_of(&m.dir);
    let meta = fs::symlink_metadata(&socket).expect("the control socket");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let dir_meta = fs::symlink_metadata(socket.parent().unwrap()).unwrap();
    assert_eq!(dir_meta.permissions().mode() & 0o777, 0o700);

    let dir = m.dir.clone();
    m.unmount();
    assert!(!socket.exists(), "{} outlived the mount", socket.display());
    // (The guard removed the directory with the mount.)
    let r = flu_stats(&dir);
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
}

#[test]
fn flu_stats_on_what_is_not_a_flu_mount_says_so() {
    let tmp = TempDir::new("notflu");
    let r = flu_stats(tmp.path());
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    assert!(r.stderr.contains("is not a mount point"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    let r = flu_stats(&tmp.join("missing"));
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);

    // A mount point of something else (a tmpfs; needs root).
    if !is_root() {
        eprintln!("SKIPPED (the tmpfs part): not root");
        return;
    }
    let mnt = tmp.join("tmpfs");
    fs::create_dir(&mnt).unwrap();
    let r = run_cmd(
        Command::new("mount")
            .args(["-t", "tmpfs", "none"])
            .arg(&mnt),
        COMMAND_TIMEOUT,
    );
    assert!(r.ok(), "mount -t tmpfs: {}", r.stderr);
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let r = flu_stats(&mnt);
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("is not a flu mount"), "{}", r.stderr);
}

#[test]
fn a_stale_socket_is_replaced_and_a_symlink_refused() {
    let tmp = TempDir::new("stale");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let socket = socket_of(&dir);
    fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let _ = fs::remove_file(&socket);
    // What a daemon killed with SIGKILL leaves: a socket nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("bind a stale socket"));
    let log = tmp.join("log");
    let mount_cmd = || {
        let mut c = Command::new(flu_bin());
        c.arg("mount")
            .arg(example("hellofs.lua"))
            .arg(&dir)
            .arg("--log-file")
            .arg(&log);
        c
    };
    let r = run_cmd(&mut mount_cmd(), MOUNT_TIMEOUT);
    if !r.ok() {
        skip_or_fail::<()>(&format!("flu mount failed: {}", r.stderr));
        return;
    }
    let m = adopt(tmp, dir.clone(), log.clone());
    assert_eq!(
        stat_number(&stats_of(&m.dir), "pid") as i32,
        m.pid.unwrap_or(-1)
    );
    drop(m);
    assert!(!socket.exists());

    // A symlink where the socket goes is neither followed nor replaced: no mount.
    let tmp = TempDir::new("symlink");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let socket = socket_of(&dir);
    let target = tmp.join("target");
    fs::write(&target, "keep").unwrap();
    let _ = fs::remove_file(&socket);
    std::os::unix::fs::symlink(&target, &socket).unwrap();
    let mut c = Command::new(flu_bin());
    c.arg("mount")
        .arg(example("hellofs.lua"))
        .arg(&dir)
        .arg("--log-file")
        .arg(tmp.join("log"));
    let r = run_cmd(&mut c, MOUNT_TIMEOUT);
    let mounted = is_fuse_mounted(&dir);
    if mounted {
        force_unmount(&dir);
    }
    let _ = fs::remove_file(&socket);
    assert!(!r.ok(), "mounted with a symlink at the control socket");
    assert!(!mounted, "left mounted after failing");
    assert!(r.stderr.contains("not a socket"), "{}", r.stderr);
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
}

#[test]
fn stats_answer_while_a_handler_is_stuck() {
    let Some(m) = mount_with(
        &test_script("stuck.lua"),
        MountOptions::new().flag("--handler-timeout").flag("20"),
    ) else {
        return;
    };
    let before = stats_of(&m.dir);
    let memory = stat_number(&before, "lua_memory_bytes");
    // A getattr that spins in Lua, holding the Lua lock.
    let mut spinner = Command::new("stat")
        .arg(m.path("spin"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn stat");
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let stats = stats_of(&m.dir);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "stats took {took:?}");
    assert!(
        stat_number(&stats, "requests_in_flight") >= 1,
        "the stuck getattr is not in flight: {stats:?}"
    );
    // The last value known before the stuck call.
    assert!(stat_number(&stats, "lua_memory_bytes") >= memory / 2);
    // Our stat process: killing it interrupts the request.
    let _ = spinner.kill();
    assert!(
        wait_child(&mut spinner, Duration::from_secs(30)).is_some(),
        "stat did not end"
    );
    assert!(
        wait_until(Duration::from_secs(20), || stat_number(
            &stats_of(&m.dir),
            "requests_in_flight"
        ) == 0),
        "the interrupted getattr stayed in flight"
    );
    m.unmount();
}

#[test]
fn stats_count_handler_timeouts() {
    let Some(m) = mount_with(
        &test_script("stuck.lua"),
        MountOptions::new().flag("--handler-timeout").flag("0.5"),
    ) else {
        return;
    };
    assert_eq!(stat_number(&stats_of(&m.dir), "handler_timeouts"), 0);
    // The watchdog stops the spinning getattr: the caller gets EIO.
    let spin = m.sh_run("stat spin");
    assert!(!spin.ok(), "stat of a spinning getattr succeeded");
    let stats = stats_of(&m.dir);
    assert_eq!(stat_number(&stats, "handler_timeouts"), 1, "{stats:?}");
    let lookup = stats.get("ops").and_then(|o| o.get("lookup")).unwrap();
    let eio = lookup.get("errnos").and_then(|e| e.get("EIO"));
    assert_eq!(eio.and_then(|v| v.as_u64()), Some(1), "{lookup:?}");
    // The half-second the handler ran shows in the latency.
    let max = lookup.get("latency_us").and_then(|l| l.get("max"));
    assert!(max.and_then(|v| v.as_u64()) >= Some(400_000), "{lookup:?}");
    m.unmount();
}

#[test]
fn flu_list_shows_the_running_mounts() {
    let Some(a) = mount(&example("hellofs.lua")) else {
        return;
    };
    let Some(b) = mount(&example("luafs.lua")) else {
        return;
    };
    // A socket nobody listens on any more (a daemon that died) is left out.
    let run_dir = socket_of(&a.dir).parent().unwrap().to_path_buf();
    let dead = run_dir.join(format!("flu-list-dead-{}.sock", std::process::id()));
    drop(std::os::unix::net::UnixListener::bind(&dead).expect("bind a socket"));
    let list = || {
        let r = run_cmd(Command::new(flu_bin()).arg("list"), COMMAND_TIMEOUT);
        assert!(r.ok(), "{}", r.stderr);
        r.stdout
    };
    let table = list();
    let _ = fs::remove_file(&dead);
    assert!(table.starts_with("MOUNTPOINT"), "{table}");
    for (m, script) in [(&a, "hellofs.lua"), (&b, "luafs.lua")] {
        let dir = m.dir.canonicalize().unwrap();
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("{} ", dir.display())))
            .unwrap_or_else(|| panic!("no row for {}:\n{table}", dir.display()));
        assert!(row.contains(&m.pid.unwrap().to_string()), "{row}");
        assert!(row.ends_with(example(script).to_str().unwrap()), "{row}");
    }
    assert!(!table.contains("flu-list-dead"), "{table}");

    let json = run_cmd(
        Command::new(flu_bin()).args(["list", "--json"]),
        COMMAND_TIMEOUT,
    );
    let parsed = flu::control::json::parse(json.stdout.trim()).expect("JSON");
    let flu::control::json::Value::Array(items) = parsed else {
        panic!("not an array: {}", json.stdout)
    };
    let canonical = a.dir.canonicalize().unwrap();
    let item = items
        .iter()
        .find(|i| i.get("mountpoint").and_then(|v| v.as_str()) == canonical.to_str())
        .expect("the hellofs mount in the JSON");
    assert_eq!(
        item.get("pid").and_then(|v| v.as_u64()),
        a.pid.map(|p| p as u64)
    );

    // Unmounted: gone from the list.
    let gone = b.dir.canonicalize().unwrap();
    b.unmount();
    assert!(
        !list().contains(&format!("{} ", gone.display())),
        "an unmounted mount is still listed"
    );
    a.unmount();
}
