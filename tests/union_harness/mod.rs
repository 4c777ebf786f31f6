//! The differential harness of tests/union.rs: an overlayfs mount guard, the walk that
//! says what a user (or a layer) shows, the seed trees, and `Pair`, a flu union and an
//! overlayfs over identical copies of them, with `both` (one operation on each, the
//! same answer) and `same` (the same trees and uppers).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{
    example, is_root, mount_with, run_cmd, skip_or_fail, MountOptions, Mounted, TempDir,
    COMMAND_TIMEOUT,
};

/// What one node looks like: its type, permission bits, owner, contents (a file's
/// bytes, a link's target, a device's numbers; for a directory of an upper, whether
/// opaque) and `user.*` xattrs.
#[derive(Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: char,
    pub perm: u32,
    pub owner: (u32, u32),
    pub content: Vec<u8>,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

pub type Tree = BTreeMap<String, Node>;

/// An overlayfs mount; dropping it unmounts (lazily, so a busy mount cannot stay).
pub struct Overlay {
    dir: PathBuf,
}

impl Overlay {
    pub fn mount(lowers: &[&Path], upper: &Path, work: &Path, dir: &Path) -> Option<Overlay> {
        let lowerdir: Vec<String> = lowers.iter().map(|l| l.display().to_string()).collect();
        let opts = format!(
            "lowerdir={},upperdir={},workdir={}",
            lowerdir.join(":"),
            upper.display(),
            work.display()
        );
        let r = run_cmd(
            Command::new("mount")
                .args(["-t", "overlay", "overlay", "-o", &opts])
                .arg(dir),
            COMMAND_TIMEOUT,
        );
        if !r.ok() {
            return skip_or_fail(&format!("mount -t overlay failed: {}", r.stderr));
        }
        Some(Overlay {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = run_cmd(
            Command::new("umount").arg("-l").arg(&self.dir),
            COMMAND_TIMEOUT,
        );
    }
}

/// The value of xattr `name` of `p` (not following a symlink), if it has one.
pub fn xattr(p: &Path, name: &[u8]) -> Option<Vec<u8>> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let name = CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: `c` and `name` are NUL-terminated and live across the call; `buf` is a
    // writable buffer of the length given.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

pub fn opaque(p: &Path) -> bool {
    xattr(p, b"trusted.overlay.opaque").as_deref() == Some(b"y")
}

/// The `user.*` xattrs of `p`, sorted, with their values.
pub fn user_xattrs(p: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: `c` is NUL-terminated and lives across the call; `buf` is a writable
    // buffer of the length given.
    let n = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    let list = if n > 0 { &buf[..n as usize] } else { &[][..] };
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = list
        .split(|&b| b == 0)
        .filter(|n| n.starts_with(b"user."))
        .map(|n| (n.to_vec(), xattr(p, n).unwrap_or_default()))
        .collect();
    out.sort();
    out
}

/// Every node below `root` (not `root` itself). `upper`: a layer's raw view, where a
/// 0/0 character device is a whiteout (`w`) and a directory says whether it is opaque.
pub fn walk(root: &Path, upper: bool) -> Tree {
    let mut tree = Tree::new();
    walk_into(root, root, upper, &mut tree);
    tree
}

pub fn walk_into(root: &Path, dir: &Path, upper: bool, tree: &mut Tree) {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        let m = fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("lstat {}: {e}", p.display()));
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        let ft = m.file_type();
        let perm = m.permissions().mode() & 0o7777;
        let (kind, perm, content) = if ft.is_dir() {
            let flag = if upper && opaque(&p) {
                b"opaque".to_vec()
            } else {
                vec![]
            };
            ('d', perm, flag)
        } else if ft.is_file() {
            ('f', perm, fs::read(&p).unwrap())
        } else if ft.is_symlink() {
            let target = fs::read_link(&p).unwrap();
            ('l', 0, target.as_os_str().as_bytes().to_vec())
        } else if ft.is_char_device() && m.rdev() == 0 {
            ('w', 0, vec![])
        } else {
            let dev = format!("{:o}:{}", m.mode() & libc::S_IFMT, m.rdev());
            ('s', perm, dev.into_bytes())
        };
        let node = Node {
            kind,
            perm,
            owner: (m.uid(), m.gid()),
            content,
            xattrs: if kind == 'l' { vec![] } else { user_xattrs(&p) },
        };
        tree.insert(rel, node);
        if ft.is_dir() {
            walk_into(root, &p, upper, tree);
        }
    }
}

/// The lower tree both sides start from.
pub fn seed_lower(l: &Path) {
    fs::create_dir_all(l.join("d/sub/deep")).unwrap();
    fs::create_dir_all(l.join("e/x")).unwrap();
    fs::create_dir_all(l.join("empty")).unwrap();
    fs::write(l.join("d/f"), b"lower f\n").unwrap();
    fs::write(l.join("d/sub/g"), b"g").unwrap();
    fs::write(l.join("d/sub/deep/h"), b"hhh").unwrap();
    fs::write(l.join("e/x/y"), b"y").unwrap();
    fs::write(l.join("top"), b"top\n").unwrap();
    fs::write(l.join("ro"), b"read only").unwrap();
    fs::set_permissions(l.join("ro"), fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(l.join("e"), fs::Permissions::from_mode(0o750)).unwrap();
    symlink("d/f", l.join("link")).unwrap();
    std::os::unix::fs::lchown(l.join("d/sub/g"), Some(1234), Some(5678)).unwrap();
    std::os::unix::fs::lchown(l.join("d/sub"), Some(4321), Some(8765)).unwrap();
    let c = CString::new(l.join("top").as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated path and name, a value of the length given.
    let r = unsafe { libc::setxattr(c.as_ptr(), c"user.tag".as_ptr(), b"v".as_ptr().cast(), 1, 0) };
    assert_eq!(r, 0, "setxattr user.tag");
}

/// What the upper holds before the first operation (both sides).
pub fn seed_upper(u: &Path) {
    fs::create_dir_all(u.join("d")).unwrap();
    fs::write(u.join("d/mine"), b"upper's own").unwrap();
    fs::create_dir_all(u.join("up")).unwrap();
    fs::write(u.join("up/u"), b"u").unwrap();
}

/// One side: its layers and its mount point.
pub struct Side {
    pub upper: PathBuf,
    /// Top to bottom.
    pub lowers: Vec<PathBuf>,
    pub mnt: PathBuf,
}

/// A flu union and an overlayfs over identical copies of the same trees.
pub struct Pair {
    pub flu: Side,
    pub ovl: Side,
    _ovl_mount: Overlay,
    /// Taken to unmount flu before the end.
    pub flu_mount: Option<Mounted>,
    pub tmp: TempDir,
}

impl Pair {
    pub fn new(tag: &str) -> Option<Pair> {
        Pair::with(tag, &[seed_lower])
    }

    /// With one lower per seed (top to bottom), each made by its seed.
    pub fn with(tag: &str, seeds: &[fn(&Path)]) -> Option<Pair> {
        if !is_root() {
            eprintln!("SKIPPED: mount -t overlay and its trusted.* xattrs need root");
            return None;
        }
        let tmp = TempDir::new(tag);
        let side = |name: &str| {
            let s = Side {
                upper: tmp.join(format!("{name}/upper")),
                lowers: (0..seeds.len())
                    .map(|i| tmp.join(format!("{name}/lower{i}")))
                    .collect(),
                mnt: tmp.join(format!("{name}/mnt")),
            };
            for d in s.lowers.iter().chain([&s.upper, &s.mnt]) {
                fs::create_dir_all(d).unwrap();
            }
            for (seed, l) in seeds.iter().zip(&s.lowers) {
                seed(l);
            }
            seed_upper(&s.upper);
            s
        };
        let (mut flu, ovl) = (side("flu"), side("ovl"));
        let work = tmp.join("ovl/work");
        fs::create_dir_all(&work).unwrap();
        let lowers: Vec<&Path> = ovl.lowers.iter().map(PathBuf::as_path).collect();
        let ovl_mount = Overlay::mount(&lowers, &ovl.upper, &work, &ovl.mnt)?;
        let mut o = MountOptions::new()
            .opt("attr_timeout=0")
            .opt("entry_timeout=0")
            .arg(&flu.upper);
        for l in &flu.lowers {
            o = o.arg(l);
        }
        let m = mount_with(&example("unionfs.lua"), o)?;
        flu.mnt = m.dir.clone();
        Some(Pair {
            flu,
            ovl,
            _ovl_mount: ovl_mount,
            flu_mount: Some(m),
            tmp,
        })
    }

    /// Run `op` on both sides; their results must agree; answers flu's.
    #[track_caller]
    pub fn both(&self, what: &str, op: impl Fn(&Path) -> Result<(), i32>) -> Result<(), i32> {
        let a = op(&self.flu.mnt);
        let b = op(&self.ovl.mnt);
        assert_eq!(a, b, "{what}: flu answered {a:?}, overlayfs {b:?}");
        a
    }

    /// The trees users see, and the uppers, are the same.
    #[track_caller]
    pub fn same(&self, after: &str) {
        let (a, b) = (walk(&self.flu.mnt, false), walk(&self.ovl.mnt, false));
        assert_eq!(
            a, b,
            "after {after}: the trees differ (left flu, right overlayfs)"
        );
        let (a, b) = (walk(&self.flu.upper, true), walk(&self.ovl.upper, true));
        assert_eq!(
            a, b,
            "after {after}: the uppers differ (left flu, right overlayfs)"
        );
    }
}

pub fn errno(r: std::io::Result<()>) -> Result<(), i32> {
    r.map_err(|e| e.raw_os_error().unwrap_or(-1))
}

pub fn append(p: &Path, data: &[u8]) -> std::io::Result<()> {
    fs::OpenOptions::new().append(true).open(p)?.write_all(data)
}

pub fn write_at_start(p: &Path, data: &[u8]) -> std::io::Result<()> {
    fs::OpenOptions::new().write(true).open(p)?.write_all(data)
}

pub fn truncate(p: &Path, size: u64) -> std::io::Result<()> {
    fs::OpenOptions::new().write(true).open(p)?.set_len(size)
}

pub fn create_new(p: &Path, data: &[u8]) -> std::io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(p)?
        .write_all(data)
}

/// The errno of the last failed call.
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
}

/// `lsetxattr(p, name, value, 0)`.
pub fn set_xattr(p: &Path, name: &str, value: &[u8]) -> Result<(), i32> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let name = CString::new(name).unwrap();
    // SAFETY: NUL-terminated path and name, a value of the length given.
    let r = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `lgetxattr(p, name)`, the errno on failure.
pub fn get_xattr(p: &Path, name: &str) -> Result<Vec<u8>, i32> {
    xattr(p, name.as_bytes()).ok_or_else(last_errno)
}

/// `lremovexattr(p, name)`.
pub fn remove_xattr(p: &Path, name: &str) -> Result<(), i32> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let name = CString::new(name).unwrap();
    // SAFETY: NUL-terminated path and name alive across the call.
    if unsafe { libc::lremovexattr(c.as_ptr(), name.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// Every xattr name of `p` (`llistxattr`), sorted.
pub fn list_xattrs(p: &Path) -> Vec<Vec<u8>> {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: `c` is NUL-terminated and lives across the call; `buf` is a writable
    // buffer of the length given.
    let n = unsafe { libc::llistxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    let list = if n > 0 { &buf[..n as usize] } else { &[][..] };
    let mut names: Vec<Vec<u8>> = list
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    names.sort();
    names
}

/// `mknod(path, mode, rdev)`.
pub fn mknod(path: &Path, mode: u32, rdev: u64) -> Result<(), i32> {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path alive across the call.
    if unsafe { libc::mknod(c.as_ptr(), mode, rdev) } == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// `renameat2(from, to, flags)`.
pub fn rename2(from: &Path, to: &Path, flags: u32) -> Result<(), i32> {
    let (a, b) = (
        CString::new(from.as_os_str().as_bytes()).unwrap(),
        CString::new(to.as_os_str().as_bytes()).unwrap(),
    );
    // SAFETY: two NUL-terminated paths alive across the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1))
    }
}

/// A middle layer as an overlayfs upper leaves it: a whiteout of `d/f`, an opaque `e`,
/// a file over a directory below (`top` is a directory here).
pub fn seed_middle(l: &Path) {
    fs::create_dir_all(l.join("d")).unwrap();
    fs::write(l.join("d/mid"), b"middle").unwrap();
    fs::create_dir_all(l.join("d/sub")).unwrap();
    fs::write(l.join("d/sub/g"), b"middle g").unwrap();
    let c = CString::new(l.join("d/f").as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path alive across the call.
    assert_eq!(
        unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR, 0) },
        0,
        "mknod"
    );
    fs::create_dir_all(l.join("e/own")).unwrap();
    let c = CString::new(l.join("e").as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated path and name, a value of the length given.
    let r = unsafe {
        libc::setxattr(
            c.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            b"y".as_ptr().cast(),
            1,
            0,
        )
    };
    assert_eq!(r, 0, "setxattr trusted.overlay.opaque");
    fs::create_dir_all(l.join("top/inside")).unwrap();
}
