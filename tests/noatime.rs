//! `-o noatime` through the native passthrough: running a script and a binary from the
//! mount, reading a file and mapping it leave the backing files' access times alone,
//! as they leave them alone on a tmpfs mounted `noatime`. Without the option, the same
//! reads update the backing atime as they do on a plain (relatime) tmpfs, so the check
//! can tell the two apart. Needs root (a tmpfs mount for the plain side; the daemon's
//! detached noatime mount of the backing directory needs CAP_SYS_ADMIN).

mod common;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

/// An old access time, before any mtime the files get: relatime updates it on a read.
const OLD: i64 = 1_577_836_800;

fn set_old_atime(p: &Path) {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let times = [
        libc::timespec {
            tv_sec: OLD,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    ];
    // SAFETY: a valid path and a two-element array.
    assert_eq!(
        unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) },
        0
    );
}

fn atime(p: &Path) -> i64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p).unwrap().atime()
}

/// Put the files in `files` (a script, a binary, a data file).
fn populate(files: &Path) {
    fs::write(files.join("s.sh"), "#!/bin/sh\necho ran\n").unwrap();
    fs::copy("/bin/true", files.join("true")).unwrap();
    fs::write(files.join("data"), vec![7u8; 100_000]).unwrap();
    for f in ["s.sh", "true"] {
        fs::set_permissions(files.join(f), fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Use each file through `run_in` and report whether the access time of its copy in
/// `seen_in` moved: "s.sh exec: kept" or "…: updated".
fn observe(run_in: &Path, seen_in: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut step = |name: &str, what: &str, act: &dyn Fn(&Path)| {
        set_old_atime(&seen_in.join(name));
        act(&run_in.join(name));
        let moved = atime(&seen_in.join(name)) != OLD;
        out.push(format!(
            "{name} {what}: {}",
            if moved { "updated" } else { "kept" }
        ));
    };
    let exec = |p: &Path| {
        let r = run_cmd(&mut Command::new(p), std::time::Duration::from_secs(10));
        assert!(r.ok(), "{} failed: {}", p.display(), r.stderr);
    };
    step("s.sh", "exec", &exec);
    step("true", "exec", &exec);
    step("data", "read", &|p: &Path| {
        assert_eq!(fs::read(p).unwrap().len(), 100_000);
    });
    step("data", "mmap", &|p: &Path| {
        let r = run_cmd(
            Command::new("python3")
                .arg("-c")
                .arg(
                    "import mmap,sys; f=open(sys.argv[1],'rb'); \
                 m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ); assert m[5000]==7",
                )
                .arg(p),
            std::time::Duration::from_secs(10),
        );
        assert!(r.ok(), "mmap read failed: {}", r.stderr);
    });
    out
}

/// A tmpfs mounted at a fresh directory with `opts`, unmounted on drop.
struct Tmpfs(TempDir);

impl Tmpfs {
    fn mount(opts: &str) -> Tmpfs {
        let t = TempDir::new("plain-tmpfs");
        let r = run_cmd(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", opts, "flu-test"])
                .arg(t.path()),
            std::time::Duration::from_secs(10),
        );
        assert!(r.ok(), "mount -t tmpfs failed: {}", r.stderr);
        Tmpfs(t)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = run_cmd(
            Command::new("umount").arg(self.0.path()),
            std::time::Duration::from_secs(10),
        );
    }
}

/// Plain tmpfs with `plain_opts` vs the passthrough `script` mounted with `flu_opts`
/// over a relatime tmpfs.
fn compare(plain_opts: &str, script: &str, flu_opts: &[&str]) {
    // One at a time: a child spawned by one test must not hold files of another's
    // mount open when that one unmounts.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !is_root() {
        eprintln!("SKIPPED: needs root (tmpfs mounts)");
        return;
    }
    let plain = Tmpfs::mount(plain_opts);
    populate(plain.0.path());
    let expected = observe(plain.0.path(), plain.0.path());

    let backing = Tmpfs::mount("relatime");
    populate(backing.0.path());
    let mut o = MountOptions::new().arg(backing.0.path());
    for opt in flu_opts {
        o = o.opt(opt);
    }
    let Some(m) = mount_with(&test_script(script), o) else {
        return;
    };
    let got = observe(&m.dir, backing.0.path());
    assert!(m.daemon_alive());
    m.unmount();
    assert_eq!(
        expected, got,
        "{script} -o {flu_opts:?}: access times of the backing files"
    );
}

#[test]
fn noatime_keeps_backing_access_times_native() {
    compare("noatime", "native_passthrough.lua", &["noatime"]);
}

#[test]
fn noatime_keeps_backing_access_times_lua() {
    compare("noatime", "lua_passthrough_overridden.lua", &["noatime"]);
}

#[test]
fn relatime_updates_backing_access_times_native() {
    compare("relatime", "native_passthrough.lua", &[]);
}
