//! Helpers shared by the passthrough suites (`posix_conformance`, `data_integrity`,
//! `stress`): raw syscall wrappers that return the errno, tmpfs-backed temp dirs, a
//! passthrough mount over a backing dir, a recorder of observations, a tiny PRNG.
//!
//! Include it next to the harness: `mod common; mod posix;`.
#![allow(dead_code)]

use std::ffi::{CString, OsStr};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{mount_points, mount_with, test_script, MountOptions, Mounted};

/// The native passthrough, unchanged (no Lua on any op).
pub const NATIVE: &str = "native_passthrough.lua";
/// Every passthrough handler overridden in Lua, calling the original.
pub const LUA: &str = "lua_passthrough_overridden.lua";

/// A syscall's result: the non-negative return value, or the errno.
pub type Sys = Result<i64, i32>;

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `rc` as a [`Sys`]: negative means "look at errno".
pub fn sys(rc: i64) -> Sys {
    if rc < 0 {
        Err(errno())
    } else {
        Ok(rc)
    }
}

pub fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

fn cbytes(b: &[u8]) -> CString {
    CString::new(b).expect("no NUL")
}

/// The symbolic name of an errno, for readable observations.
pub fn errno_name(e: i32) -> String {
    let name = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::EBADF => "EBADF",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EMLINK => "EMLINK",
        libc::ERANGE => "ERANGE",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOSYS => "ENOSYS",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ELOOP => "ELOOP",
        libc::ENODATA => "ENODATA",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENODEV => "ENODEV",
        libc::ETXTBSY => "ETXTBSY",
        libc::E2BIG => "E2BIG",
        libc::EAGAIN => "EAGAIN",
        _ => return format!("errno {e}"),
    };
    name.to_string()
}

// ---- raw syscalls -------------------------------------------------------------------

pub fn open(p: &Path, flags: i32, mode: u32) -> Sys {
    // SAFETY: valid NUL-terminated path.
    sys(unsafe { libc::open(cpath(p).as_ptr(), flags | libc::O_CLOEXEC, mode) } as i64)
}

pub fn openat(dirfd: i32, name: &[u8], flags: i32, mode: u32) -> Sys {
    let n = cbytes(name);
    // SAFETY: valid NUL-terminated name; dirfd is the caller's.
    sys(unsafe { libc::openat(dirfd, n.as_ptr(), flags | libc::O_CLOEXEC, mode) } as i64)
}

pub fn close(fd: i64) -> Sys {
    // SAFETY: closing an fd this test opened.
    sys(unsafe { libc::close(fd as i32) } as i64)
}

pub fn mkdir(p: &Path, mode: u32) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::mkdir(cpath(p).as_ptr(), mode) } as i64)
}

pub fn rmdir(p: &Path) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::rmdir(cpath(p).as_ptr()) } as i64)
}

pub fn unlink(p: &Path) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::unlink(cpath(p).as_ptr()) } as i64)
}

pub fn link(from: &Path, to: &Path) -> Sys {
    // SAFETY: valid paths.
    sys(unsafe { libc::link(cpath(from).as_ptr(), cpath(to).as_ptr()) } as i64)
}

pub fn symlink(target: &[u8], p: &Path) -> Sys {
    let t = cbytes(target);
    // SAFETY: valid strings.
    sys(unsafe { libc::symlink(t.as_ptr(), cpath(p).as_ptr()) } as i64)
}

pub fn readlink(p: &Path) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; 8192];
    // SAFETY: buf is writable for its length.
    let n = unsafe { libc::readlink(cpath(p).as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn rename(from: &Path, to: &Path) -> Sys {
    // SAFETY: valid paths.
    sys(unsafe { libc::rename(cpath(from).as_ptr(), cpath(to).as_ptr()) } as i64)
}

pub fn renameat2(from: &Path, to: &Path, flags: u32) -> Sys {
    // SAFETY: valid paths; AT_FDCWD with absolute or relative paths.
    sys(unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            cpath(from).as_ptr(),
            libc::AT_FDCWD,
            cpath(to).as_ptr(),
            flags,
        )
    } as i64)
}

pub fn mknod(p: &Path, mode: u32, dev: u64) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::mknod(cpath(p).as_ptr(), mode, dev) } as i64)
}

pub fn mkfifo(p: &Path, mode: u32) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::mkfifo(cpath(p).as_ptr(), mode) } as i64)
}

pub fn chmod(p: &Path, mode: u32) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::chmod(cpath(p).as_ptr(), mode) } as i64)
}

pub fn fchmod(fd: i64, mode: u32) -> Sys {
    // SAFETY: plain fd call.
    sys(unsafe { libc::fchmod(fd as i32, mode) } as i64)
}

pub fn chown(p: &Path, uid: u32, gid: u32) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::chown(cpath(p).as_ptr(), uid, gid) } as i64)
}

pub fn lchown(p: &Path, uid: u32, gid: u32) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::lchown(cpath(p).as_ptr(), uid, gid) } as i64)
}

pub fn fchown(fd: i64, uid: u32, gid: u32) -> Sys {
    // SAFETY: plain fd call.
    sys(unsafe { libc::fchown(fd as i32, uid, gid) } as i64)
}

pub fn truncate(p: &Path, len: i64) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::truncate(cpath(p).as_ptr(), len) } as i64)
}

pub fn ftruncate(fd: i64, len: i64) -> Sys {
    // SAFETY: plain fd call.
    sys(unsafe { libc::ftruncate(fd as i32, len) } as i64)
}

pub fn ts(sec: i64, nsec: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    }
}

pub fn utimensat(p: &Path, times: [libc::timespec; 2], flags: i32) -> Sys {
    // SAFETY: valid path and a two-element array.
    sys(unsafe { libc::utimensat(libc::AT_FDCWD, cpath(p).as_ptr(), times.as_ptr(), flags) } as i64)
}

pub fn futimens(fd: i64, times: [libc::timespec; 2]) -> Sys {
    // SAFETY: a two-element array.
    sys(unsafe { libc::futimens(fd as i32, times.as_ptr()) } as i64)
}

pub fn access(p: &Path, mode: i32) -> Sys {
    // SAFETY: valid path.
    sys(unsafe { libc::access(cpath(p).as_ptr(), mode) } as i64)
}

pub fn pwrite(fd: i64, data: &[u8], off: i64) -> Sys {
    // SAFETY: data is readable for its length.
    sys(unsafe { libc::pwrite(fd as i32, data.as_ptr().cast(), data.len(), off) } as i64)
}

pub fn write(fd: i64, data: &[u8]) -> Sys {
    // SAFETY: data is readable for its length.
    sys(unsafe { libc::write(fd as i32, data.as_ptr().cast(), data.len()) } as i64)
}

/// pread of up to `len` bytes (one call).
pub fn pread(fd: i64, len: usize, off: i64) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; len];
    // SAFETY: buf is writable for its length.
    let n = unsafe { libc::pread(fd as i32, buf.as_mut_ptr().cast(), len, off) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// pread until `len` bytes or EOF.
pub fn pread_full(fd: i64, len: usize, off: i64) -> Result<Vec<u8>, i32> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let chunk = pread(fd, len - out.len(), off + out.len() as i64)?;
        if chunk.is_empty() {
            break;
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// write(2) until everything is written.
pub fn pwrite_full(fd: i64, data: &[u8], off: i64) -> Sys {
    let mut done = 0usize;
    while done < data.len() {
        let n = pwrite(fd, &data[done..], off + done as i64)?;
        if n == 0 {
            return Err(libc::EIO);
        }
        done += n as usize;
    }
    Ok(done as i64)
}

pub fn read(fd: i64, len: usize) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; len];
    // SAFETY: buf is writable for its length.
    let n = unsafe { libc::read(fd as i32, buf.as_mut_ptr().cast(), len) };
    if n < 0 {
        return Err(errno());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

pub fn lseek(fd: i64, off: i64, whence: i32) -> Sys {
    // SAFETY: plain fd call.
    sys(unsafe { libc::lseek(fd as i32, off, whence) })
}

pub fn fsync(fd: i64) -> Sys {
    // SAFETY: plain fd call.
    sys(unsafe { libc::fsync(fd as i32) } as i64)
}

pub fn fallocate(fd: i64, mode: i32, off: i64, len: i64) -> Sys {
    // SAFETY: plain fd call.
    sys(unsafe { libc::fallocate(fd as i32, mode, off, len) } as i64)
}

pub fn copy_file_range(fd_in: i64, off_in: i64, fd_out: i64, off_out: i64, len: usize) -> Sys {
    let mut oi = off_in;
    let mut oo = off_out;
    // SAFETY: the offsets are valid for the call.
    sys(
        unsafe { libc::copy_file_range(fd_in as i32, &mut oi, fd_out as i32, &mut oo, len, 0) }
            as i64,
    )
}

fn xattr_name(name: &str) -> CString {
    CString::new(name).unwrap()
}

pub fn setxattr(p: &Path, name: &str, value: &[u8], flags: i32) -> Sys {
    // SAFETY: valid strings; value readable for its length.
    sys(unsafe {
        libc::setxattr(
            cpath(p).as_ptr(),
            xattr_name(name).as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    } as i64)
}

pub fn lsetxattr(p: &Path, name: &str, value: &[u8], flags: i32) -> Sys {
    // SAFETY: valid strings; value readable for its length.
    sys(unsafe {
        libc::lsetxattr(
            cpath(p).as_ptr(),
            xattr_name(name).as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    } as i64)
}

pub fn fsetxattr(fd: i64, name: &str, value: &[u8], flags: i32) -> Sys {
    // SAFETY: valid strings; value readable for its length.
    sys(unsafe {
        libc::fsetxattr(
            fd as i32,
            xattr_name(name).as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags,
        )
    } as i64)
}

/// Call `get(buffer, size)` with a buffer of `size` bytes (a null pointer for 0: ask
/// for the size) and shape its answer: the bytes, or `size N` when asked for the size.
fn xattr_bytes(
    size: usize,
    get: impl FnOnce(*mut libc::c_void, usize) -> isize,
) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; size];
    let ptr = if size == 0 {
        std::ptr::null_mut()
    } else {
        buf.as_mut_ptr().cast()
    };
    let n = get(ptr, size);
    if n < 0 {
        return Err(errno());
    }
    if size == 0 {
        return Ok(format!("size {n}").into_bytes());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// getxattr into a buffer of `size` bytes (0: ask for the size).
pub fn getxattr(p: &Path, name: &str, size: usize) -> Result<Vec<u8>, i32> {
    let (p, name) = (cpath(p), xattr_name(name));
    // SAFETY: `xattr_bytes` hands a buffer writable for `size` bytes (or null with 0);
    // the path and name are NUL-terminated and alive across the call.
    xattr_bytes(size, |buf, size| unsafe {
        libc::getxattr(p.as_ptr(), name.as_ptr(), buf, size)
    })
}

/// fgetxattr into a buffer of `size` bytes (0: ask for the size).
pub fn fgetxattr(fd: i64, name: &str, size: usize) -> Result<Vec<u8>, i32> {
    let name = xattr_name(name);
    // SAFETY: as in `getxattr`.
    xattr_bytes(size, |buf, size| unsafe {
        libc::fgetxattr(fd as i32, name.as_ptr(), buf, size)
    })
}

/// listxattr into a buffer of `size` bytes (0: ask for the size).
pub fn listxattr(p: &Path, size: usize) -> Result<Vec<u8>, i32> {
    let p = cpath(p);
    // SAFETY: as in `getxattr`.
    xattr_bytes(size, |buf, size| unsafe {
        libc::listxattr(p.as_ptr(), buf.cast(), size)
    })
}

/// flistxattr into a buffer of `size` bytes (0: ask for the size).
pub fn flistxattr(fd: i64, size: usize) -> Result<Vec<u8>, i32> {
    // SAFETY: as in `getxattr`.
    xattr_bytes(size, |buf, size| unsafe {
        libc::flistxattr(fd as i32, buf.cast(), size)
    })
}

pub fn fremovexattr(fd: i64, name: &str) -> Sys {
    // SAFETY: valid string; a bad fd is only EBADF.
    sys(unsafe { libc::fremovexattr(fd as i32, xattr_name(name).as_ptr()) } as i64)
}

/// One getdents64 call on directory `fd` into a buffer of `size` bytes: each record's
/// `(d_ino, name)`; empty at the end of the directory.
pub fn getdents(fd: i64, size: usize) -> Result<Vec<(u64, Vec<u8>)>, i32> {
    let mut buf = vec![0u8; size];
    // SAFETY: getdents64 writes at most `buf.len()` bytes into our buffer.
    let n = unsafe { libc::syscall(libc::SYS_getdents64, fd as i32, buf.as_mut_ptr(), buf.len()) };
    let n = sys(n)? as usize;
    let mut out = vec![];
    let mut pos = 0;
    // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name (NUL-ended).
    while pos + 19 <= n {
        let rec = &buf[pos..n];
        let ino = u64::from_ne_bytes(rec[..8].try_into().unwrap());
        let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
        let name = rec[19..reclen].split(|b| *b == 0).next().unwrap_or(&[]);
        out.push((ino, name.to_vec()));
        pos += reclen;
    }
    Ok(out)
}

pub fn removexattr(p: &Path, name: &str) -> Sys {
    // SAFETY: valid strings.
    sys(unsafe { libc::removexattr(cpath(p).as_ptr(), xattr_name(name).as_ptr()) } as i64)
}

pub fn lstat(p: &Path) -> Result<libc::stat, i32> {
    // SAFETY: st is fully written on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out pointer.
    let rc = unsafe { libc::lstat(cpath(p).as_ptr(), &mut st) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(st)
    }
}

pub fn stat(p: &Path) -> Result<libc::stat, i32> {
    // SAFETY: st is fully written on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out pointer.
    let rc = unsafe { libc::stat(cpath(p).as_ptr(), &mut st) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(st)
    }
}

pub fn fstat(fd: i64) -> Result<libc::stat, i32> {
    // SAFETY: st is fully written on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: out pointer valid.
    let rc = unsafe { libc::fstat(fd as i32, &mut st) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(st)
    }
}

/// A shared, writable mapping of `len` bytes of `fd` at `off`.
pub struct Map {
    ptr: *mut u8,
    len: usize,
}

impl Map {
    pub fn new(fd: i64, off: i64, len: usize) -> Result<Map, i32> {
        // SAFETY: a fresh shared mapping of an fd we own; checked for MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd as i32,
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(errno());
        }
        Ok(Map { ptr: p.cast(), len })
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is valid for `len` bytes while self lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is valid and writable for `len` bytes while self lives.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }

    pub fn msync(&self) -> Sys {
        // SAFETY: our own mapping.
        sys(unsafe { libc::msync(self.ptr.cast(), self.len, libc::MS_SYNC) } as i64)
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

// ---- spawning vs. open files --------------------------------------------------------

/// Tests in one binary run in parallel threads. A child spawned by one thread holds
/// copies of every fd of this process until it execs (O_CLOEXEC only closes them
/// then), so an unmount in another thread can meet EBUSY from an fd that thread has
/// long closed. So: everything that spawns (mount, unmount, `sh`, workers) takes
/// [`spawning`]; everything that opens files on a mount holds [`using_mounts`].
static SPAWN_LOCK: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Held while spawning processes: no thread has files of a mount open meanwhile.
pub fn spawning() -> std::sync::RwLockWriteGuard<'static, ()> {
    SPAWN_LOCK.write().unwrap_or_else(|e| e.into_inner())
}

/// Held while opening files on a mount (shared between threads).
pub fn using_mounts() -> std::sync::RwLockReadGuard<'static, ()> {
    SPAWN_LOCK.read().unwrap_or_else(|e| e.into_inner())
}

/// Unmount (asserting it works, as [`Mounted::unmount`]) without racing other threads'
/// open files.
pub fn unmount(m: Mounted) {
    let _g = spawning();
    m.unmount();
}

// ---- temp dirs and mounts -----------------------------------------------------------

/// A fresh directory on tmpfs (`/dev/shm`, where user xattrs work), or on disk
/// (`on_disk`), removed on drop unless something is mounted below it.
pub struct ShmDir {
    path: PathBuf,
}

impl ShmDir {
    pub fn new(tag: &str) -> ShmDir {
        ShmDir::in_base(Path::new("/dev/shm"), tag)
    }

    /// A fresh directory in the temporary directory (a disk filesystem, where one
    /// compares with what a disk filesystem does).
    pub fn on_disk(tag: &str) -> ShmDir {
        ShmDir::in_base(&std::env::temp_dir(), tag)
    }

    fn in_base(base: &Path, tag: &str) -> ShmDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("flu-test-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).expect("create temp dir");
        ShmDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ShmDir {
    fn drop(&mut self) {
        if mount_points().iter().any(|m| m.starts_with(&self.path)) {
            eprintln!(
                "leaving {}: something is mounted below it",
                self.path.display()
            );
            return;
        }
        // Files a scenario made read-only or immutable-ish are still removable by root.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// `script` (one of [`NATIVE`], [`LUA`]) mounted over `backing`, with `-o use_ino` so
/// inode numbers (and hard links) are the backing file's. `None`: skip (no FUSE here).
pub fn mount_passthrough(script: &str, backing: &Path) -> Option<Mounted> {
    let _g = spawning();
    mount_with(
        &test_script(script),
        MountOptions::new().opt("use_ino").arg(backing),
    )
}

/// Like [`mount_passthrough`] with the default options (no `use_ino`).
pub fn mount_passthrough_default(script: &str, backing: &Path) -> Option<Mounted> {
    let _g = spawning();
    mount_with(&test_script(script), MountOptions::new().arg(backing))
}

// ---- observations -------------------------------------------------------------------

/// Records what a scenario saw, as comparable lines. Inode numbers are recorded as the
/// order in which this recorder first saw them (`ino#0`, `ino#1`, …), so two runs agree
/// exactly when the same names share inodes.
#[derive(Default)]
pub struct Rec {
    lines: Vec<String>,
    inos: Vec<u64>,
}

/// A short, exact rendering of bytes: text when printable and short, else length and
/// a hash.
pub fn show_bytes(b: &[u8]) -> String {
    if b.len() <= 64 && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        format!("{:?}", String::from_utf8_lossy(b))
    } else {
        format!("{} bytes, fnv {:016x}", b.len(), fnv(b))
    }
}

pub fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for c in b {
        h ^= *c as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

impl Rec {
    pub fn new() -> Rec {
        Rec::default()
    }

    pub fn done(self) -> Vec<String> {
        self.lines
    }

    pub fn note(&mut self, what: &str, value: impl std::fmt::Display) {
        self.lines.push(format!("{what}: {value}"));
    }

    /// Records "ok N" or the errno; the value when it worked.
    pub fn rc(&mut self, what: &str, r: Sys) -> Option<i64> {
        match r {
            Ok(v) => self.note(what, format!("ok {v}")),
            Err(e) => self.note(what, errno_name(e)),
        }
        r.ok()
    }

    /// Records "ok" (the value, e.g. an fd number, is not comparable) or the errno;
    /// the value when it worked.
    pub fn ok(&mut self, what: &str, r: Sys) -> Option<i64> {
        match r {
            Ok(_) => self.note(what, "ok"),
            Err(e) => self.note(what, errno_name(e)),
        }
        r.ok()
    }

    /// Opens and records "ok"/errno; the fd when it worked.
    pub fn open(&mut self, what: &str, p: &Path, flags: i32, mode: u32) -> Option<i64> {
        self.ok(what, open(p, flags, mode))
    }

    /// Records bytes (or the errno).
    pub fn data(&mut self, what: &str, r: Result<Vec<u8>, i32>) -> Option<Vec<u8>> {
        match r {
            Ok(b) => {
                self.note(what, show_bytes(&b));
                Some(b)
            }
            Err(e) => {
                self.note(what, errno_name(e));
                None
            }
        }
    }

    fn ino(&mut self, ino: u64) -> usize {
        match self.inos.iter().position(|i| *i == ino) {
            Some(n) => n,
            None => {
                self.inos.push(ino);
                self.inos.len() - 1
            }
        }
    }

    fn record_stat(&mut self, what: &str, r: Result<libc::stat, i32>) -> Option<libc::stat> {
        match r {
            Ok(st) => {
                let ino = self.ino(st.st_ino);
                let kind = st.st_mode & libc::S_IFMT;
                let mut s = format!(
                    "mode {:o} nlink {} uid {} gid {} ino#{}",
                    st.st_mode, st.st_nlink, st.st_uid, st.st_gid, ino
                );
                let _ = write!(s, " size {} blocks {}", st.st_size, st.st_blocks);
                if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
                    let _ = write!(s, " rdev {:x}", st.st_rdev);
                }
                self.note(what, s);
                Some(st)
            }
            Err(e) => {
                self.note(what, errno_name(e));
                None
            }
        }
    }

    pub fn lstat(&mut self, what: &str, p: &Path) -> Option<libc::stat> {
        self.record_stat(what, lstat(p))
    }

    pub fn stat(&mut self, what: &str, p: &Path) -> Option<libc::stat> {
        self.record_stat(what, stat(p))
    }

    pub fn fstat(&mut self, what: &str, fd: i64) -> Option<libc::stat> {
        self.record_stat(what, fstat(fd))
    }

    /// atime and mtime exactly (for times a scenario set explicitly).
    pub fn times(&mut self, what: &str, p: &Path) {
        match lstat(p) {
            Ok(st) => self.note(
                what,
                format!(
                    "atime {}.{:09} mtime {}.{:09}",
                    st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec
                ),
            ),
            Err(e) => self.note(what, errno_name(e)),
        }
    }

    /// The whole contents of the file at `p`, read with read(2).
    pub fn contents(&mut self, what: &str, p: &Path) -> Option<Vec<u8>> {
        let r = fs::read(p).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO));
        self.data(what, r)
    }
}

/// Compare two runs of one scenario; on a mismatch, print a side-by-side table with the
/// first differing line marked, then fail with `assert_eq!` (so both sides print).
#[track_caller]
pub fn assert_same(scenario: &str, plain: &[String], other_name: &str, other: &[String]) {
    if plain == other {
        return;
    }
    let mut table = format!("scenario `{scenario}`: plain dir vs {other_name}\n");
    for i in 0..plain.len().max(other.len()) {
        let a = plain.get(i).map(String::as_str).unwrap_or("<missing>");
        let b = other.get(i).map(String::as_str).unwrap_or("<missing>");
        if a == b {
            let _ = writeln!(table, "      {a}");
        } else {
            let _ = writeln!(table, "!!! plain {a}\n!!! mount {b}");
        }
    }
    eprintln!("{table}");
    assert_eq!(
        plain, other,
        "scenario `{scenario}` diverges ({other_name})"
    );
}

/// Every entry below `root` (not following symlinks): relative path → a description
/// of type, permissions, size, link count, owner and contents (files) or target
/// (symlinks). Inode numbers and times are left out.
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, String>) {
        let Ok(rd) = fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let Ok(st) = lstat(&p) else {
                out.insert(rel, "vanished".into());
                continue;
            };
            let kind = st.st_mode & libc::S_IFMT;
            let mut d = format!(
                "mode {:o} nlink {} uid {} gid {}",
                st.st_mode, st.st_nlink, st.st_uid, st.st_gid
            );
            if kind == libc::S_IFREG {
                let c = fs::read(&p).unwrap_or_default();
                let _ = write!(d, " size {} {}", st.st_size, show_bytes(&c));
            } else if kind == libc::S_IFLNK {
                let t = readlink(&p).unwrap_or_default();
                let _ = write!(d, " -> {}", show_bytes(&t));
            }
            out.insert(rel, d);
            if kind == libc::S_IFDIR {
                walk(root, &p, out);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

// ---- randomness ---------------------------------------------------------------------

/// xorshift64*: small, fast, reproducible from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1) ^ 0x9e3779b97f4a7c15)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545f4914f6cdd1d)
    }
    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// A seed from the clock and pid, for the one run per suite that is not fixed.
pub fn random_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    t ^ ((std::process::id() as u64) << 32)
}

/// Bytes for a name of `n` characters.
pub fn long_name(n: usize) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(&vec![b'n'; n]))
}
