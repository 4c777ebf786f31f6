//! examples/hellofs.lua, mounted by the real `flu` binary, both ways (`flu mount` and
//! Flu's `flu run` / shebang style).

mod common;

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};

use common::*;

const HELLO: &str = "Hello World!\n";

#[test]
fn ls_cat_and_stat() {
    let Some(m) = mount(&example("hellofs.lua")) else {
        return;
    };
    assert_eq!(m.sh("ls"), "hello\n");
    assert_eq!(m.sh("cat hello"), HELLO);
    // `ls -a` shows exactly the three entries readdir gives
    assert_eq!(m.sh("ls -a"), ".\n..\nhello\n");

    let st = fs::metadata(m.path("hello")).unwrap();
    assert!(st.is_file());
    assert_eq!(st.mode(), libc::S_IFREG | 0o444);
    assert_eq!(st.len(), 13);
    assert_eq!(st.nlink(), 1);
    assert_eq!(m.sh("stat -c '%s %a %F' hello"), "13 444 regular file\n");

    let root = fs::metadata(&m.dir).unwrap();
    assert!(root.is_dir());
    assert_eq!(root.mode(), libc::S_IFDIR | 0o755);
    assert_eq!(root.nlink(), 2);

    // reads at an offset go through the read handler's offset arithmetic
    let f = fs::File::open(m.path("hello")).unwrap();
    let mut buf = [0u8; 5];
    assert_eq!(f.read_at(&mut buf, 6).unwrap(), 5);
    assert_eq!(&buf, b"World");
    let mut tail = [0u8; 32];
    assert_eq!(
        f.read_at(&mut tail, 13).unwrap(),
        0,
        "read at EOF returns 0"
    );
    drop(f);

    assert_errno(
        fs::metadata(m.path("nope")),
        libc::ENOENT,
        "stat of a missing file",
    );
    m.unmount();
}

#[test]
fn writing_is_refused() {
    let Some(m) = mount(&example("hellofs.lua")) else {
        return;
    };
    let hello = m.path("hello");
    assert_errno(
        OpenOptions::new().write(true).open(&hello),
        libc::EACCES,
        "open hello write-only",
    );
    assert_errno(
        OpenOptions::new().read(true).write(true).open(&hello),
        libc::EACCES,
        "open hello read-write",
    );
    let r = m.sh_run("echo changed > hello");
    assert!(!r.ok(), "the shell could write to a read-only file");
    assert_eq!(fs::read_to_string(&hello).unwrap(), HELLO);

    // no create/mknod handler: a new file cannot appear
    assert!(fs::write(m.path("new"), "x").is_err());
    assert_errno(fs::metadata(m.path("new")), libc::ENOENT, "stat new");
    assert!(m.daemon_alive());
    m.unmount();
}

#[test]
fn pid_file_and_flu_unmount() {
    let Some(mut m) = mount(&example("hellofs.lua")) else {
        return;
    };
    let pid = m.pid.expect("--pid-file must receive the daemon's pid");
    assert!(pid_alive(pid), "pid {pid} from --pid-file is not running");
    assert_ne!(pid as u32, std::process::id());
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), HELLO);

    let r = m.flu_unmount();
    assert!(r.ok(), "flu unmount failed: {}", r.stderr);
    assert!(!is_mounted(&m.dir), "still mounted after flu unmount");
    m.wait_daemon_exit();
    assert!(!pid_alive(pid));
}

#[test]
fn foreground_daemon_exits_zero_after_flu_unmount() {
    let Some(mut m) = mount_foreground(&example("hellofs.lua"), MountOptions::new()) else {
        return;
    };
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), HELLO);
    let r = m.flu_unmount();
    assert!(r.ok(), "flu unmount failed: {}", r.stderr);
    let status = m
        .wait_daemon_exit()
        .expect("daemon did not exit after unmount");
    assert_eq!(status.code(), Some(0), "daemon exit status: {status}");
    assert!(!is_mounted(&m.dir));
}

/// `flu run SCRIPT MOUNTPOINT`: the script calls `flu.main({"hellofs", ...}, fs)` and
/// the mountpoint comes from its arguments, parsed like libfuse's fuse_main.
#[test]
fn flu_run_mounts_flu_style() {
    let tmp = TempDir::new("run");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let r = run_cmd(
        Command::new(flu_bin())
            .arg("run")
            .arg(example("hellofs.lua"))
            .arg(&dir),
        MOUNT_TIMEOUT,
    );
    let m = adopt(tmp, dir, "/dev/null".into());
    if !r.ok() {
        let why = format!("flu run failed ({}): {}", r.status, r.stderr);
        drop(m);
        skip_or_fail::<()>(&why);
        return;
    }
    assert!(is_fuse_mounted(&m.dir), "flu run exited 0 without a mount");
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), HELLO);

    let r = m.flu_unmount();
    assert!(r.ok(), "flu unmount failed: {}", r.stderr);
    assert!(!is_mounted(&m.dir));
    let dir = m.dir.clone();
    assert!(
        wait_until(EXIT_TIMEOUT, || pids_mentioning(&dir).is_empty()),
        "the flu run daemon is still running after unmount"
    );
}

/// `flu run SCRIPT MOUNTPOINT -f`: Flu's foreground flag; the process itself serves and
/// exits 0 once unmounted.
#[test]
fn flu_run_foreground_exits_zero_when_unmounted() {
    let tmp = TempDir::new("runf");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let child = Command::new(flu_bin())
        .arg("run")
        .arg(example("hellofs.lua"))
        .arg(&dir)
        .arg("-f")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(tmp.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let mut m = adopt(tmp, dir, "/dev/null".into());
    m.pid = Some(child.id() as i32);
    m.child = Some(child);
    let mounted = wait_until(MOUNT_TIMEOUT, || {
        is_fuse_mounted(&m.dir) || m.child.as_mut().unwrap().try_wait().unwrap().is_some()
    }) && is_fuse_mounted(&m.dir);
    if !mounted {
        drop(m);
        skip_or_fail::<()>("flu run … -f did not mount");
        return;
    }
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), HELLO);
    let r = m.flu_unmount();
    assert!(r.ok(), "flu unmount failed: {}", r.stderr);
    let status = m.wait_daemon_exit().expect("flu run -f did not exit");
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

/// `#!/usr/bin/env flu`: running the example directly mounts it.
#[test]
fn shebang_runs_the_script() {
    let script = example("hellofs.lua");
    let mode = fs::metadata(&script).unwrap().permissions().mode();
    assert!(mode & 0o111 != 0, "examples/hellofs.lua must be executable");
    assert!(fs::read_to_string(&script)
        .unwrap()
        .starts_with("#!/usr/bin/env flu\n"));

    let tmp = TempDir::new("shebang");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let bin_dir = flu_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let r = run_cmd(
        Command::new(&script).arg(&dir).env("PATH", path),
        MOUNT_TIMEOUT,
    );
    let m = adopt(tmp, dir, "/dev/null".into());
    if !r.ok() {
        let why = format!(
            "{} {} failed: {}",
            script.display(),
            m.dir.display(),
            r.stderr
        );
        drop(m);
        skip_or_fail::<()>(&why);
        return;
    }
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), HELLO);
    drop(m);
}

/// `-d`: every operation is logged with its path (`-d` implies `-f`: the daemon is our
/// child).
#[test]
fn debug_flag_logs_operations() {
    let Some(m) = mount_child(&example("hellofs.lua"), MountOptions::new().flag("-d")) else {
        return;
    };
    assert_eq!(m.sh("cat hello"), HELLO);
    let lines = m.wait_log_lines(&["read", "/hello"]);
    assert!(
        !lines.is_empty(),
        "with -d the log should show the read of /hello; log:\n{}",
        m.log_text()
    );
    m.unmount();
}
