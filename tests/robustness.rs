//! Robustness: bad input and hostile conditions get a clear message and lose nothing.
//! Each test mounts for real (or runs the real `flu` binary); docs/robustness.md says
//! which guarantee each one shows.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

fn flu(args: &[&str]) -> Run {
    run_cmd(Command::new(flu_bin()).args(args), COMMAND_TIMEOUT)
}

fn robustness_script() -> std::path::PathBuf {
    test_script("robustness.lua")
}

// ---- 1. log injection ----------------------------------------------------------------

#[test]
fn paths_in_log_lines_are_escaped() {
    let Some(m) = mount(&robustness_script()) else {
        return;
    };
    let name = "evil\nERROR forged line\x1b[31m";
    let e = fs::metadata(m.path(name)).expect_err("getattr of the evil name must fail");
    assert_eq!(errno_of(&e), libc::EIO, "{e}");
    let lines = m.wait_log_lines(&["error in handler 'getattr'"]);
    assert!(!lines.is_empty(), "no error line:\n{}", m.log_text());
    let log = fs::read(&m.log).unwrap();
    assert!(
        !log.contains(&0x1b),
        "a raw ESC reached the log:\n{}",
        m.log_text()
    );
    for line in m.log_text().lines() {
        assert!(
            !line.starts_with("ERROR forged"),
            "forged log line: {line:?}\n{}",
            m.log_text()
        );
    }
    let line = &lines[0];
    assert!(
        line.contains(r"/evil\nERROR forged line\x1b[31m"),
        "path not escaped as expected: {line}"
    );
    m.unmount();
}

// ---- 2. clear messages ---------------------------------------------------------------

#[test]
fn unmount_of_a_directory_not_mounted_says_so() {
    let dir = TempDir::new("notmounted");
    let r = flu(&["unmount", dir.path().to_str().unwrap()]);
    assert!(!r.ok(), "exit status {}", r.status);
    assert_eq!(
        r.stderr.trim(),
        format!("flu: {} is not mounted", dir.path().display()),
    );
}

#[test]
fn a_mistyped_subcommand_gets_a_suggestion() {
    let dir = TempDir::new("typo");
    let r = run_cmd(
        Command::new(flu_bin())
            .args(["mout", "x", "y"])
            .current_dir(dir.path()),
        COMMAND_TIMEOUT,
    );
    assert!(!r.ok());
    assert!(
        r.stderr.contains("did you mean `flu mount`?"),
        "stderr: {}",
        r.stderr
    );
}

#[test]
fn an_error_raised_by_a_rust_function_names_the_script_line() {
    let dir = TempDir::new("argerr");
    let script = dir.join("needs_root.lua");
    fs::write(
        &script,
        "local flu = require 'flu'\nlocal root = arg[1]\nreturn flu.passthrough(root)\n",
    )
    .unwrap();
    let mnt = dir.join("mnt");
    fs::create_dir(&mnt).unwrap();
    let r = flu(&["mount", script.to_str().unwrap(), mnt.to_str().unwrap()]);
    assert!(!r.ok());
    assert!(
        r.stderr.contains("needs_root.lua:3:"),
        "no file:line in: {}",
        r.stderr
    );
    assert!(!is_mounted(&mnt));
}

#[test]
fn an_unwritable_pid_file_fails_the_mount() {
    let dir = TempDir::new("pidfile");
    let mnt = dir.join("mnt");
    fs::create_dir(&mnt).unwrap();
    let pid_file = dir.join("no-such-dir").join("flu.pid");
    let r = flu(&[
        "mount",
        example("hellofs.lua").to_str().unwrap(),
        mnt.to_str().unwrap(),
        "--log-file",
        dir.join("log").to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    if r.ok() {
        force_unmount(&mnt);
    }
    assert!(!r.ok(), "mount succeeded with an unwritable pid file");
    assert!(
        r.stderr.contains("cannot write pid file"),
        "stderr: {}",
        r.stderr
    );
    assert!(!is_mounted(&mnt), "left mounted");
}

#[test]
fn no_colour_codes_when_output_is_not_a_terminal() {
    // Debug lines go through tracing to stderr, which is a file here.
    let dir = TempDir::new("ansi");
    let script = dir.join("fails.lua");
    fs::write(&script, "local x = nil\nreturn x.y\n").unwrap();
    let r = flu(&["run", "-v", script.to_str().unwrap()]);
    assert!(!r.ok());
    assert!(r.stderr.contains("DEBUG"), "stderr: {}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "ANSI codes: {:?}", r.stderr);
}

// ---- 3. mount identity ---------------------------------------------------------------

/// (source, fstype) of the mount on `dir`, from /proc/self/mountinfo.
fn mount_identity(dir: &Path) -> Option<(String, String)> {
    let dir = dir.canonicalize().ok()?;
    let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|l| {
        let fields: Vec<&str> = l.split(' ').collect();
        if Path::new(fields.get(4)?) != dir {
            return None;
        }
        let dash = fields.iter().position(|f| *f == "-")?;
        Some((
            fields.get(dash + 2)?.to_string(),
            fields.get(dash + 1)?.to_string(),
        ))
    })
}

#[test]
fn mounts_are_named_after_flu_and_the_script() {
    let Some(m) = mount(&example("hellofs.lua")) else {
        return;
    };
    assert_eq!(
        mount_identity(&m.dir),
        Some(("flu:hellofs.lua".into(), "fuse".into()))
    );
    m.unmount();
    let Some(m) = mount_with(
        &example("hellofs.lua"),
        MountOptions::new().opt("subtype=lua").opt("fsname=myfs"),
    ) else {
        return;
    };
    assert_eq!(
        mount_identity(&m.dir),
        Some(("myfs".into(), "fuse.lua".into()))
    );
    m.unmount();
}

// ---- 4. signals ----------------------------------------------------------------------

/// Send `sig` to a mounted daemon: it must unmount, run destroy and exit.
fn signal_unmounts_cleanly(sig: libc::c_int) {
    let marker_dir = TempDir::new("marker");
    let marker = marker_dir.join("destroyed");
    let Some(mut m) = mount_with(
        &test_script("destroy_marker.lua"),
        MountOptions::new().arg(&marker),
    ) else {
        return;
    };
    let pid = m.pid.expect("--pid-file must receive the daemon's pid");
    // SAFETY: kill(2) on the daemon we started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    m.wait_daemon_exit();
    assert!(
        !is_mounted(&m.dir),
        "signal {sig} left the filesystem mounted"
    );
    assert_eq!(
        fs::read_to_string(&marker).ok().as_deref(),
        Some("destroyed"),
        "destroy did not run after signal {sig}\n{}",
        m.log_text()
    );
}

#[test]
fn sigusr1_unmounts_cleanly() {
    signal_unmounts_cleanly(libc::SIGUSR1);
}

#[test]
fn other_terminating_signals_unmount_cleanly() {
    for sig in [
        libc::SIGUSR2,
        libc::SIGQUIT,
        libc::SIGALRM,
        libc::SIGPROF,
        libc::SIGRTMIN() + 1,
    ] {
        signal_unmounts_cleanly(sig);
    }
}

#[test]
fn sigpipe_is_ignored() {
    let Some(m) = mount(&example("hellofs.lua")) else {
        return;
    };
    let pid = m.pid.expect("pid");
    // SAFETY: kill(2) on the daemon we started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGPIPE) }, 0);
    std::thread::sleep(Duration::from_millis(200));
    assert!(m.daemon_alive(), "SIGPIPE ended the daemon");
    assert_eq!(m.sh("cat hello"), "Hello World!\n");
    m.unmount();
}

// ---- 5. logs are never lost ----------------------------------------------------------

#[test]
fn without_syslog_a_detached_daemon_logs_to_a_file_it_names() {
    if Path::new("/dev/log").exists() {
        eprintln!("SKIPPED: this machine has /dev/log, so the daemon logs to syslog");
        return;
    }
    let tmp = TempDir::new("nolog");
    let runtime = tmp.join("runtime");
    fs::create_dir(&runtime).unwrap();
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let r = run_cmd(
        Command::new(flu_bin())
            .arg("mount")
            .arg(example("hellofs.lua"))
            .arg(&dir)
            .env("XDG_RUNTIME_DIR", &runtime),
        MOUNT_TIMEOUT,
    );
    let printed = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("flu: logging to "))
        .map(std::path::PathBuf::from);
    let log = printed.clone().unwrap_or_else(|| tmp.join("none"));
    if !r.ok() {
        skip_or_fail::<()>(&format!("flu mount failed: {}", r.stderr));
        return;
    }
    let m = adopt(tmp, dir, log.clone());
    let Some(log) = printed else {
        panic!("no `flu: logging to` line on stderr: {:?}", r.stderr);
    };
    assert_eq!(r.stderr.lines().count(), 1, "stderr: {}", r.stderr);
    assert!(
        log.starts_with(&runtime),
        "{} is not under XDG_RUNTIME_DIR",
        log.display()
    );
    assert!(
        !m.wait_log_lines(&["mounted on"]).is_empty(),
        "the log file got no `mounted on` line:\n{}",
        m.log_text()
    );
    assert!(!m.log_text().contains('\x1b'), "ANSI codes in the log file");
    drop(m);
}

#[test]
fn debug_implies_foreground() {
    let Some(mut m) = mount_child(&example("hellofs.lua"), MountOptions::new().flag("-d")) else {
        return;
    };
    assert!(m.child_running(), "`flu mount -d` detached");
    assert_eq!(m.sh("cat hello"), "Hello World!\n");
    assert!(
        !m.wait_log_lines(&["read"]).is_empty(),
        "no operation lines:\n{}",
        m.log_text()
    );
    let r = m.flu_unmount();
    assert!(r.ok(), "{}", r.stderr);
    let status = m.wait_daemon_exit().expect("the daemon did not exit");
    assert!(status.success(), "exit status {status}");
}

// ---- 6. Lua memory and stack limits --------------------------------------------------

fn read_file(p: &Path) -> std::io::Result<String> {
    let mut s = String::new();
    fs::File::open(p)?.read_to_string(&mut s)?;
    Ok(s)
}

#[test]
fn a_handler_over_the_memory_limit_gets_enomem_and_the_mount_serves_on() {
    let Some(m) = mount_with(
        &robustness_script(),
        MountOptions::new().flag("--lua-memory-limit").flag("64M"),
    ) else {
        return;
    };
    for name in ["huge", "table"] {
        assert_errno(read_file(&m.path(name)), libc::ENOMEM, name);
        assert!(fs::metadata(m.path("small")).is_ok(), "stat after {name}");
        assert_eq!(
            read_file(&m.path("small")).unwrap(),
            "hello\n",
            "after {name}"
        );
        // One line per failed call (the kernel may retry a failed page read once).
        let lines = m.wait_log_lines(&["ran out of Lua memory", &format!("/{name}")]);
        assert!(
            !lines.is_empty(),
            "no log line for {name}:\n{}",
            m.log_text()
        );
        assert!(lines.iter().all(|l| l.contains("'read'")), "{lines:?}");
    }
    assert!(m.daemon_alive());
    m.unmount();
}

#[test]
fn runaway_recursion_gets_eio_and_the_mount_serves_on() {
    let Some(m) = mount(&robustness_script()) else {
        return;
    };
    assert_errno(read_file(&m.path("deep")), libc::EIO, "deep");
    // One line per failed call (the kernel may retry a failed page read once).
    let lines = m.wait_log_lines(&["error in handler 'read'", "/deep"]);
    assert!(!lines.is_empty(), "{}", m.log_text());
    assert!(
        lines.iter().all(|l| l.contains("stack overflow")),
        "{lines:?}"
    );
    assert_eq!(read_file(&m.path("small")).unwrap(), "hello\n");
    assert!(m.daemon_alive());
    m.unmount();
}

// ---- name and size limits ----------------------------------------------------------

fn os_error(r: std::io::Result<impl Sized>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => errno_of(&e),
    }
}

/// Names longer than the filesystem's namemax (statfs, 255 for luafs) are refused with
/// ENAMETOOLONG before Lua sees them; names up to it work.
#[test]
fn names_longer_than_namemax_are_refused() {
    let Some(m) = mount(&example("luafs.lua")) else {
        return;
    };
    let ok = "n".repeat(255);
    fs::write(m.path(&ok), b"x").expect("a 255-byte name");
    for len in [256, 300, 1000, 4000] {
        let long = "n".repeat(len);
        assert_eq!(
            os_error(fs::write(m.path(&long), b"x")),
            libc::ENAMETOOLONG,
            "{len}"
        );
        assert_eq!(
            os_error(fs::create_dir(m.path(&long))),
            libc::ENAMETOOLONG,
            "{len}"
        );
        assert_eq!(
            os_error(fs::metadata(m.path(&long))),
            libc::ENAMETOOLONG,
            "{len}"
        );
        assert_eq!(
            os_error(fs::rename(m.path(&ok), m.path(&long))),
            libc::ENAMETOOLONG,
            "{len}"
        );
    }
    let names: Vec<String> = fs::read_dir(m.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&ok) && names.iter().all(|n| n.len() <= 255),
        "{names:?}"
    );
}

/// luafs declares its largest file: writes and truncates past it answer EFBIG (they
/// used to fail with EIO deep in Lua); the mount option caps any filesystem the same
/// way, and a write that straddles the limit writes what fits.
#[test]
fn files_past_the_size_limit_are_efbig() {
    use std::os::unix::fs::FileExt;
    let Some(m) = mount(&example("luafs.lua")) else {
        return;
    };
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(m.path("big"))
        .unwrap();
    assert_eq!(os_error(f.write_at(b"x", 1 << 62)), libc::EFBIG);
    assert_eq!(os_error(f.set_len(1 << 62)), libc::EFBIG);
    f.write_at(b"fine", 10).expect("a small write");
    assert_eq!(fs::metadata(m.path("big")).unwrap().len(), 14);
    assert!(!m.log_text().contains("ERROR"), "{}", m.log_text());
    drop(f);

    let Some(m) = mount_with(
        &example("luafs.lua"),
        MountOptions::new().opt("max_file_size=1k"),
    ) else {
        return;
    };
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(m.path("small"))
        .unwrap();
    assert_eq!(
        f.write_at(&[7u8; 100], 1000).unwrap(),
        24,
        "what fits below 1 KiB"
    );
    assert_eq!(os_error(f.write_at(b"x", 1024)), libc::EFBIG);
    assert_eq!(os_error(f.set_len(1025)), libc::EFBIG);
    f.set_len(1024).expect("up to the limit");
}

/// Making a name in a directory that was moved out of the passthrough's root while
/// held open answers ENOENT, also with negative entries cached (it was EIO: a node id 0
/// entry, which only a lookup may answer, went back for the mkdir).
#[test]
fn making_names_in_a_directory_moved_away_is_enoent() {
    use std::os::fd::AsRawFd;
    let backing = TempDir::new("backing");
    let outside = TempDir::new("outside");
    fs::create_dir(backing.join("d")).unwrap();
    let o = MountOptions::new()
        .arg(backing.path())
        .opt("negative_timeout=5");
    let Some(m) = mount_with(&test_script("native_passthrough.lua"), o) else {
        return;
    };
    let dir = fs::File::open(m.path("d")).expect("open the directory");
    fs::rename(backing.join("d"), outside.join("d")).unwrap();
    let name = std::ffi::CString::new("x").unwrap();
    let target = std::ffi::CString::new("t").unwrap();
    // SAFETY: a live directory fd and NUL-terminated names.
    let r = unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755) };
    let e = std::io::Error::last_os_error();
    assert_eq!(
        (r, e.raw_os_error()),
        (-1, Some(libc::ENOENT)),
        "mkdirat: {e}"
    );
    // SAFETY: as above.
    let r = unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) };
    let e = std::io::Error::last_os_error();
    assert_eq!(
        (r, e.raw_os_error()),
        (-1, Some(libc::ENOENT)),
        "symlinkat: {e}"
    );
    assert!(!outside.join("d/x").exists());
}

// ---- self-mounts and stuck unmounts ----------------------------------------------------

/// A passthrough whose root holds the mountpoint would serve its own mount (every
/// request under the mountpoint waits on another of its own): refused, with a message,
/// before anything is mounted.
#[test]
fn a_passthrough_root_holding_the_mountpoint_is_refused() {
    let backing = TempDir::new("selfroot");
    let mnt = backing.join("m");
    fs::create_dir(&mnt).unwrap();
    let run = run_cmd(
        Command::new(flu_bin())
            .arg("mount")
            .arg(test_script("native_passthrough.lua"))
            .arg(&mnt)
            .arg("--")
            .arg(backing.path()),
        COMMAND_TIMEOUT,
    );
    assert!(!run.ok(), "mounted: {}", run.stderr);
    assert!(
        run.stderr.contains("contains the mountpoint"),
        "message: {}",
        run.stderr
    );
    assert!(!is_fuse_mounted(&mnt), "something stayed mounted");
}

/// The mount bind-mounted back under the passthrough's root: a path through it would
/// lead into the mount itself, and is refused (ELOOP) instead of recursing.
#[test]
fn a_path_back_into_the_mount_is_refused() {
    if !is_root() {
        eprintln!("SKIPPED: bind mounts need root");
        return;
    }
    let backing = TempDir::new("loopback");
    fs::create_dir(backing.join("inside")).unwrap();
    fs::write(backing.join("file"), b"data").unwrap();
    let o = MountOptions::new().arg(backing.path());
    let Some(m) = mount_with(&test_script("native_passthrough.lua"), o) else {
        return;
    };
    struct Bind(std::path::PathBuf);
    impl Drop for Bind {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let inside = backing.join("inside");
    let bound = run_cmd(
        Command::new("mount").arg("--bind").arg(&m.dir).arg(&inside),
        COMMAND_TIMEOUT,
    );
    assert!(bound.ok(), "mount --bind: {}", bound.stderr);
    let _bind = Bind(inside.clone());
    let start = std::time::Instant::now();
    let deep = m.path("inside/inside/file");
    let e = fs::metadata(&deep).expect_err("a path through the mount itself");
    assert_eq!(errno_of(&e), libc::ELOOP, "{e}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    // The mount itself still serves.
    assert_eq!(fs::read(m.path("file")).unwrap(), b"data");
}

/// A mount kept busy (a process sits in it) while its only handler never returns:
/// SIGTERM cannot unmount it, detaches it lazily, then aborts the connection, and the
/// daemon exits instead of staying forever.
#[test]
fn a_stuck_unmount_still_ends() {
    if !is_root() {
        eprintln!("SKIPPED: aborting a connection through fusectl needs root");
        return;
    }
    let o = MountOptions::new().flag("--handler-timeout").flag("0");
    let Some(m) = mount_with(&test_script("stuck.lua"), o) else {
        return;
    };
    let pid = m.pid.expect("pid");
    let mut holder = Command::new("sh")
        .arg("-c")
        .arg("sleep 60")
        .current_dir(&m.dir)
        .spawn()
        .expect("a process inside the mount");
    let mut spinner = Command::new("stat")
        .arg(m.path("spin"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("a caller of the stuck handler");
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on the daemon we started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let ended = wait_until(Duration::from_secs(30), || !pid_alive(pid));
    let _ = holder.kill();
    let _ = holder.wait();
    let _ = spinner.kill();
    let _ = wait_child(&mut spinner, Duration::from_secs(10));
    assert!(ended, "the daemon is still running:\n{}", m.log_text());
    assert!(!is_fuse_mounted(&m.dir), "still mounted");
    assert!(
        m.log_text().contains("aborting its FUSE connection"),
        "{}",
        m.log_text()
    );
}

/// A file that lost its name, truncated by path while only open read-only (the kernel
/// sends no handle with a path-based truncate): the daemon truncates it through the
/// handle it finds (it answered EINVAL, ftruncate on a read-only fd, under load; and
/// EBADF when that handle was being released).
#[test]
fn truncating_an_unlinked_file_through_a_read_only_open_works() {
    use std::os::fd::AsRawFd;
    let backing = TempDir::new("backing");
    fs::write(backing.join("f"), b"0123456789").unwrap();
    let o = MountOptions::new().arg(backing.path());
    let Some(m) = mount_with(&test_script("native_passthrough.lua"), o) else {
        return;
    };
    let f = fs::File::open(m.path("f")).expect("open read-only");
    fs::remove_file(m.path("f")).unwrap();
    let by_path = format!("/proc/self/fd/{}", f.as_raw_fd());
    let c = std::ffi::CString::new(by_path).unwrap();
    // SAFETY: a NUL-terminated path.
    let r = unsafe { libc::truncate(c.as_ptr(), 4) };
    let e = std::io::Error::last_os_error();
    assert_eq!(r, 0, "truncate of the unlinked file: {e}");
    assert_eq!(f.metadata().unwrap().len(), 4);
}
