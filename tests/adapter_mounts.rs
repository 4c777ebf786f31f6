//! Real mounts of the in-memory filesystem of `memfs/` through `flu::kernel::FuseAdapter`, driven with std::fs,
//! libc calls and getfattr. Every mount is unmounted by a guard, even when a test fails.
//! When mounting fails, the test fails on CI (`CI=true`) and is skipped elsewhere.

use std::collections::HashSet;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flu::kernel::FuseAdapter;
use flu::session::{Access, BackgroundSession, MountSpec, Session, SessionConfig};
use flu::AdapterConfig;
use memfs::MemFs;

mod memfs;

/// A mounted test filesystem; dropping it unmounts (the session, then fusermount3 -u, then
/// umount -l) and removes the mountpoint.
struct Mounted {
    dir: PathBuf,
    session: Option<BackgroundSession>,
}

fn is_mounted(dir: &Path) -> bool {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let needle = format!(" {} ", dir.display());
    mountinfo.lines().any(|l| l.contains(&needle))
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            if let Err(e) = session.unmount_and_join() {
                eprintln!("session unmount of {} failed: {e}", self.dir.display());
            }
        }
        if is_mounted(&self.dir) {
            let _ = Command::new("fusermount3")
                .arg("-u")
                .arg(&self.dir)
                .status();
        }
        if is_mounted(&self.dir) {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
        let _ = fs::remove_dir(&self.dir);
    }
}

static MOUNTS: AtomicUsize = AtomicUsize::new(0);

/// Mount `fs` on a fresh directory, or `None` (skip) when FUSE is unavailable outside CI.
fn mount(fs: Arc<MemFs>, config: AdapterConfig) -> Option<Mounted> {
    let n = MOUNTS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("flu-adapter-{}-{n}", std::process::id()));
    fs::create_dir_all(&dir).expect("create mountpoint");
    let mut guard = Mounted {
        dir: dir.clone(),
        session: None,
    };
    let spec = MountSpec {
        mountpoint: dir.clone(),
        fsname: "flu-test".into(),
        subtype: Some("flu".into()),
        ..MountSpec::default()
    };
    let session_config = SessionConfig {
        threads: 2,
        access: Access::Owner,
        io_uring: false,
        spin: std::time::Duration::from_micros(30),
    };
    let session =
        Session::new(FuseAdapter::new(fs, config), &spec, session_config).and_then(Session::spawn);
    match session {
        Ok(session) => {
            guard.session = Some(session);
            Some(guard)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("cannot mount FUSE on CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping: cannot mount FUSE here: {e}");
            None
        }
    }
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL in test paths")
}

/// getxattr/listxattr through libc, with the size probe first, as getfattr does.
fn xattr_probe(path: &Path, name: Option<&str>) -> (isize, Vec<u8>, isize) {
    let p = cstr(path);
    let n = name.map(|n| CString::new(n).expect("name"));
    let call = |buf: *mut libc::c_void, size: usize| unsafe {
        match &n {
            Some(n) => libc::getxattr(p.as_ptr(), n.as_ptr(), buf, size),
            None => libc::listxattr(p.as_ptr(), buf as *mut libc::c_char, size),
        }
    };
    let size = call(std::ptr::null_mut(), 0);
    let mut buf = vec![0u8; size.max(0) as usize];
    let got = call(buf.as_mut_ptr().cast(), buf.len());
    buf.truncate(got.max(0) as usize);
    // One byte too small must be ERANGE.
    let small = if size > 0 {
        let mut tiny = vec![0u8; size as usize - 1];
        let r = call(tiny.as_mut_ptr().cast(), tiny.len());
        if r < 0 {
            -std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as isize
        } else {
            r
        }
    } else {
        0
    };
    (size, buf, small)
}

#[test]
fn mounted_memfs_behaves_like_a_filesystem() {
    let fs = Arc::new(MemFs::new());
    let Some(m) = mount(fs.clone(), AdapterConfig::default()) else {
        return;
    };
    let root = m.dir.clone();

    // Write and read back.
    let hello = root.join("hello.txt");
    fs::write(&hello, b"hello, flu\n").unwrap();
    assert_eq!(fs::read(&hello).unwrap(), b"hello, flu\n");
    let meta = fs::metadata(&hello).unwrap();
    assert_eq!(meta.len(), 11);
    assert!(meta.is_file());

    // chmod, truncate, utimens through setattr.
    fs::set_permissions(&hello, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(fs::metadata(&hello).unwrap().mode() & 0o7777, 0o600);
    let f = OpenOptions::new().write(true).open(&hello).unwrap();
    f.set_len(5).unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::new(1_000_000_000, 123_456_789);
    f.set_modified(when).unwrap();
    drop(f);
    let meta = fs::metadata(&hello).unwrap();
    assert_eq!(meta.len(), 5);
    assert_eq!(meta.modified().unwrap(), when);

    // 2,000 entries, each listed exactly once.
    let many = root.join("many");
    fs::create_dir(&many).unwrap();
    let expected: HashSet<String> = (0..2000).map(|i| format!("entry-{i:04}")).collect();
    for name in &expected {
        File::create(many.join(name)).unwrap();
    }
    for _ in 0..2 {
        let mut seen = HashSet::new();
        for e in fs::read_dir(&many).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(seen.insert(name.clone()), "{name} listed twice");
        }
        assert_eq!(seen, expected);
    }
    // The d_type reported lets tools tell directories apart.
    let types: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() == "many")
        .map(|e| e.file_type().unwrap().is_dir())
        .collect();
    assert_eq!(types, [true]);

    // Rename a directory, then reach a file inside it.
    fs::create_dir(root.join("d1")).unwrap();
    fs::write(root.join("d1/inner.txt"), b"inside").unwrap();
    let _ = fs::metadata(root.join("d1/inner.txt")).unwrap();
    fs::rename(root.join("d1"), root.join("d2")).unwrap();
    assert_eq!(fs::read(root.join("d2/inner.txt")).unwrap(), b"inside");
    assert!(!root.join("d1").exists());

    // Unlink while open: the handle keeps working.
    let gone = root.join("gone.txt");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&gone)
        .unwrap();
    f.write_all(b"before").unwrap();
    fs::remove_file(&gone).unwrap();
    assert!(!gone.exists());
    f.write_all(b" after").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut back = String::new();
    f.read_to_string(&mut back).unwrap();
    assert_eq!(back, "before after");
    assert_eq!(f.metadata().unwrap().len(), 12);
    drop(f);

    // Symlinks and hard links.
    std::os::unix::fs::symlink("hello.txt", root.join("link")).unwrap();
    assert_eq!(
        fs::read_link(root.join("link")).unwrap(),
        Path::new("hello.txt")
    );
    assert_eq!(fs::read(root.join("link")).unwrap(), b"hello");
    fs::hard_link(&hello, root.join("hard")).unwrap();
    assert_eq!(fs::metadata(root.join("hard")).unwrap().nlink(), 2);

    // Extended attributes: set, size probe, ERANGE, list, remove.
    let x = root.join("d2/inner.txt");
    let status = Command::new("setfattr")
        .args(["-n", "user.color", "-v", "blue"])
        .arg(&x)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        // Without the attr tools, set through libc.
        let (p, n) = (cstr(&x), CString::new("user.color").unwrap());
        let r = unsafe { libc::setxattr(p.as_ptr(), n.as_ptr(), b"blue".as_ptr().cast(), 4, 0) };
        assert_eq!(r, 0, "setxattr: {}", std::io::Error::last_os_error());
    }
    let (size, value, small) = xattr_probe(&x, Some("user.color"));
    assert_eq!(
        (size, value.as_slice(), small),
        (4, &b"blue"[..], -libc::ERANGE as isize)
    );
    let (size, names, small) = xattr_probe(&x, None);
    assert_eq!(names, b"user.color\0");
    assert_eq!((size, small), (11, -libc::ERANGE as isize));
    if let Ok(out) = Command::new("getfattr")
        .args(["-n", "user.color"])
        .arg(&x)
        .output()
    {
        if out.status.success() {
            assert!(String::from_utf8_lossy(&out.stdout).contains("user.color=\"blue\""));
        }
    }
    let (p, n) = (cstr(&x), CString::new("user.color").unwrap());
    assert_eq!(unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) }, 0);
    assert_eq!(xattr_probe(&x, None).0, 0);

    // statfs.
    let mut sv: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(cstr(&root).as_ptr(), &mut sv) }, 0);
    assert_eq!((sv.f_bsize, sv.f_blocks, sv.f_bfree), (4096, 1000, 500));

    // rmdir of a non-empty directory fails with the implementation's errno.
    let err = fs::remove_dir(root.join("d2")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOTEMPTY));
    drop(m);
}

#[test]
fn use_ino_shows_real_inode_numbers_and_shares_hard_links() {
    let fs = Arc::new(MemFs::new());
    let config = AdapterConfig {
        use_ino: true,
        negative_timeout: std::time::Duration::from_secs(1),
        ..AdapterConfig::default()
    };
    let Some(m) = mount(fs, config) else {
        return;
    };
    let a = m.dir.join("a");
    fs::write(&a, b"x").unwrap();
    fs::hard_link(&a, m.dir.join("b")).unwrap();
    let ia = fs::metadata(&a).unwrap().ino();
    let ib = fs::metadata(m.dir.join("b")).unwrap().ino();
    assert_eq!(ia, ib);
    assert!(ia > 1000, "MemFs numbers inodes from 1000, got {ia}");
    // Negative entries (cached for a second) must not hide a file created meanwhile
    // through the mount: the kernel drops them on create.
    let c = m.dir.join("c");
    assert!(!c.exists());
    fs::write(&c, b"now").unwrap();
    assert_eq!(fs::read(&c).unwrap(), b"now");
}

#[test]
fn kernel_passthrough_reads_the_backing_file_or_falls_back() {
    let backing_path = std::env::temp_dir().join(format!("flu-backing-{}", std::process::id()));
    fs::write(&backing_path, b"from the backing file").unwrap();
    let backing = File::open(&backing_path).unwrap();
    let _ = fs::remove_file(&backing_path);
    let fs = Arc::new(MemFs::new().with_backing(backing));
    let Some(m) = mount(fs, AdapterConfig::default()) else {
        return;
    };
    let f = m.dir.join("f");
    fs::write(&f, b"from memfs").unwrap();
    // Two opens of one node: both must work whichever mode the kernel allows.
    let mut a = File::open(&f).unwrap();
    let mut b = File::open(&f).unwrap();
    let (mut sa, mut sb) = (String::new(), String::new());
    a.read_to_string(&mut sa).unwrap();
    b.read_to_string(&mut sb).unwrap();
    assert_eq!(sa, sb);
    assert!(
        ["from the backing file", "from memfs"].contains(&sa.as_str()),
        "{sa:?}"
    );
    eprintln!(
        "kernel passthrough {}",
        if sa == "from memfs" {
            "not used"
        } else {
            "used"
        }
    );
}
