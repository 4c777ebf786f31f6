//! Filesystem operations on names: mkdir, remove, move, links, readlink, special
//! files, statvfs, fallocate by path, and the process paths (cwd, home, tmp, exe).
//!
//! Every name-taking operation is written against a directory fd (`AT_FDCWD` for
//! plain paths) so `fs.*` and the `dh:*` methods of an open directory share one
//! implementation, and so deep trees never need a path longer than one name.

use std::ffi::{CStr, OsStr, OsString};
use std::os::fd::RawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use super::dir::RawDir;
use super::error::{cstr, cvt, retry, FsResult};
use crate::errno::Errno;
use crate::stat::StatFs;

/// `readlink` without a size limit: grows the buffer until the target fits.
pub(crate) fn readlink_at(dirfd: RawFd, path: &CStr) -> FsResult<Vec<u8>> {
    let mut cap = 256usize;
    loop {
        let mut buf = vec![0u8; cap];
        // SAFETY: buf has cap writable bytes; path is NUL-terminated.
        let n =
            unsafe { libc::readlinkat(dirfd, path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(Errno::last());
        }
        let n = n as usize;
        if n < cap {
            buf.truncate(n);
            return Ok(buf);
        }
        cap = cap.saturating_mul(2);
    }
}

fn is_dir_at(dirfd: RawFd, path: &CStr, deref: bool) -> bool {
    let t = super::attr::Target::At { dirfd, path, deref };
    t.stat()
        .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// The parent part of a path (`a/b` of `a/b/c/`), or None at the top.
fn parent(path: &[u8]) -> Option<&[u8]> {
    let trimmed = match path.iter().rposition(|&c| c != b'/') {
        Some(i) => &path[..=i],
        None => return None,
    };
    let slash = trimmed.iter().rposition(|&c| c == b'/')?;
    let p = &trimmed[..slash];
    let p = match p.iter().rposition(|&c| c != b'/') {
        Some(i) => &p[..=i],
        None => return None, // the parent is "/"
    };
    Some(p)
}

/// `mkdir`; with `recursive`, missing parents are made (0777 & ~umask, like
/// `mkdir -p`) and an existing directory is success, reported as `Ok(Some(EEXIST))`
/// so the binding can answer luapower's `true, 'already_exists', code`.
pub(crate) fn mkdir(
    dirfd: RawFd,
    path: &[u8],
    recursive: bool,
    perms: u32,
) -> FsResult<Option<Errno>> {
    let c = cstr(path)?;
    // SAFETY: NUL-terminated path.
    match cvt(unsafe { libc::mkdirat(dirfd, c.as_ptr(), perms) }) {
        Ok(_) => Ok(None),
        Err(e) if recursive && e == Errno::EEXIST && is_dir_at(dirfd, &c, true) => Ok(Some(e)),
        Err(e) if recursive && e == Errno::ENOENT => {
            let Some(p) = parent(path) else {
                return Err(e);
            };
            mkdir(dirfd, p, true, 0o777)?;
            // SAFETY: as above.
            match cvt(unsafe { libc::mkdirat(dirfd, c.as_ptr(), perms) }) {
                Ok(_) => Ok(None),
                // Someone else made it meanwhile: still what was asked for.
                Err(e) if e == Errno::EEXIST && is_dir_at(dirfd, &c, true) => Ok(Some(e)),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Remove a file, symlink, special file or empty directory; with `recursive`, a whole
/// tree. Symlinks are removed, never followed.
pub(crate) fn remove(dirfd: RawFd, path: &[u8], recursive: bool) -> FsResult<()> {
    remove_c(dirfd, &cstr(path)?, recursive)
}

fn remove_c(dirfd: RawFd, c: &CStr, recursive: bool) -> FsResult<()> {
    // SAFETY: NUL-terminated path.
    match cvt(unsafe { libc::unlinkat(dirfd, c.as_ptr(), 0) }) {
        Ok(_) => Ok(()),
        // Linux answers EISDIR for a directory; POSIX allows EPERM.
        Err(e) if (e == Errno::EISDIR || e == Errno::EPERM) && is_dir_at(dirfd, c, false) => {
            if recursive {
                empty_tree(dirfd, c)?;
            }
            // SAFETY: as above.
            cvt(unsafe { libc::unlinkat(dirfd, c.as_ptr(), libc::AT_REMOVEDIR) }).map(drop)
        }
        Err(e) => Err(e),
    }
}

/// Remove everything inside a directory. O_NOFOLLOW makes sure a directory swapped
/// for a symlink meanwhile is not followed out of the tree.
fn empty_tree(dirfd: RawFd, c: &CStr) -> FsResult<()> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: NUL-terminated path; the fd is owned by RawDir from here on.
    let fd = retry(|| cvt(unsafe { libc::openat(dirfd, c.as_ptr(), flags) }))?;
    let mut dir = RawDir::from_fd(fd)?;
    // Names are collected first: deleting while reading a directory stream may skip
    // entries on some filesystems.
    let mut names = Vec::new();
    while let Some(e) = dir.read()? {
        if e.name != b"." && e.name != b".." {
            names.push(e.name);
        }
    }
    for name in names {
        let cn = cstr(&name)?;
        match remove_c(dir.fd(), &cn, true) {
            Err(e) if e == Errno::ENOENT => {} // already gone: fine
            r => r?,
        }
    }
    Ok(())
}

/// `renameat2` flags by name (`{noreplace=true}`, `{exchange=true}`, `{whiteout=true}`).
pub(crate) fn rename_flags(opt: &mlua::Value) -> mlua::Result<libc::c_uint> {
    let t = match opt {
        mlua::Value::Nil => return Ok(0),
        mlua::Value::Table(t) => t,
        mlua::Value::String(s) => {
            let mut f = 0;
            for w in s.to_str()?.split_whitespace() {
                f |= rename_word(w)?;
            }
            return Ok(f);
        }
        other => {
            return Err(super::error::misuse(format!(
                "move: options table expected, got {}",
                other.type_name()
            )))
        }
    };
    let mut f = 0;
    for w in ["noreplace", "exchange", "whiteout"] {
        if t.get::<Option<bool>>(w)?.unwrap_or(false) {
            f |= rename_word(w)?;
        }
    }
    Ok(f)
}

fn rename_word(w: &str) -> mlua::Result<libc::c_uint> {
    Ok(match w {
        "noreplace" => libc::RENAME_NOREPLACE,
        "exchange" => libc::RENAME_EXCHANGE,
        "whiteout" => libc::RENAME_WHITEOUT,
        _ => return Err(super::error::misuse(format!("unknown move option '{w}'"))),
    })
}

/// Atomic rename, between two directory fds.
pub(crate) fn rename(
    olddir: RawFd,
    old: &[u8],
    newdir: RawFd,
    new: &[u8],
    flags: libc::c_uint,
) -> FsResult<()> {
    let (o, n) = (cstr(old)?, cstr(new)?);
    // SAFETY: NUL-terminated paths. Plain renameat when no flags: works on every
    // filesystem, even ones without renameat2 support.
    cvt(unsafe {
        if flags == 0 {
            libc::renameat(olddir, o.as_ptr(), newdir, n.as_ptr())
        } else {
            libc::renameat2(olddir, o.as_ptr(), newdir, n.as_ptr(), flags)
        }
    })
    .map(drop)
}

/// Make `link` a symlink whose content is `target`.
pub(crate) fn symlink(dirfd: RawFd, link: &[u8], target: &[u8]) -> FsResult<()> {
    let (l, t) = (cstr(link)?, cstr(target)?);
    // SAFETY: NUL-terminated strings.
    cvt(unsafe { libc::symlinkat(t.as_ptr(), dirfd, l.as_ptr()) }).map(drop)
}

/// Make `link` a hard link to `target` (a symlink target is linked itself, as link(2)).
pub(crate) fn hardlink(dirfd: RawFd, link: &[u8], target: &[u8]) -> FsResult<()> {
    let (l, t) = (cstr(link)?, cstr(target)?);
    // SAFETY: NUL-terminated paths.
    cvt(unsafe { libc::linkat(dirfd, t.as_ptr(), dirfd, l.as_ptr(), 0) }).map(drop)
}

/// `mknod` with a full mode (type bits included).
pub(crate) fn mknod(dirfd: RawFd, path: &[u8], mode: u32, rdev: u64) -> FsResult<()> {
    let c = cstr(path)?;
    // SAFETY: NUL-terminated path.
    cvt(unsafe { libc::mknodat(dirfd, c.as_ptr(), mode, rdev) }).map(drop)
}

pub(crate) fn mkfifo(dirfd: RawFd, path: &[u8], perms: u32) -> FsResult<()> {
    let c = cstr(path)?;
    // SAFETY: NUL-terminated path.
    cvt(unsafe { libc::mkfifoat(dirfd, c.as_ptr(), perms) }).map(drop)
}

/// `faccessat`: whether the process may access `path` with `mode` (`R_OK|W_OK|X_OK`,
/// or `F_OK` = 0 for existence), checked with the real ids like `access(2)`.
pub(crate) fn access(dirfd: RawFd, path: &[u8], mode: libc::c_int, deref: bool) -> FsResult<()> {
    let c = cstr(path)?;
    let flags = if deref { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    // SAFETY: NUL-terminated path.
    cvt(unsafe { libc::faccessat(dirfd, c.as_ptr(), mode, flags) }).map(drop)
}

/// An access mode: a number (`R_OK|W_OK|X_OK`, 0 = exists), or letters from `rwx`
/// (`''`, `'f'` or nil = exists).
pub(crate) fn access_mode(v: &mlua::Value) -> mlua::Result<libc::c_int> {
    match v {
        mlua::Value::Nil => Ok(libc::F_OK),
        mlua::Value::Integer(n) if (0..=7).contains(n) => Ok(*n as libc::c_int),
        mlua::Value::String(s) => {
            let mut m = libc::F_OK;
            for c in s.as_bytes().iter() {
                m |= match c {
                    b'r' => libc::R_OK,
                    b'w' => libc::W_OK,
                    b'x' => libc::X_OK,
                    b'f' => libc::F_OK,
                    _ => {
                        return Err(super::error::misuse(format!(
                            "access: invalid mode '{}' (letters rwx expected)",
                            s.to_string_lossy()
                        )))
                    }
                };
            }
            Ok(m)
        }
        other => Err(super::error::misuse(format!(
            "access: mode must be 'rwx' letters or a number 0-7, got {}",
            match other {
                mlua::Value::Integer(n) => n.to_string(),
                o => o.type_name().to_string(),
            }
        ))),
    }
}

/// The `S_IF*` bits for a type name given to `fs.mknod`.
pub(crate) fn type_bits(name: &str) -> Option<u32> {
    Some(match name {
        "file" => libc::S_IFREG,
        "pipe" => libc::S_IFIFO,
        "chardev" => libc::S_IFCHR,
        "blockdev" => libc::S_IFBLK,
        "socket" => libc::S_IFSOCK,
        _ => return None,
    })
}

/// Filesystem statistics of the filesystem holding `path` (or of an fd).
pub(crate) fn statvfs(path: Option<&CStr>, fd: RawFd) -> FsResult<StatFs> {
    // SAFETY: an all-zero statvfs is valid; the kernel fills it.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid out pointer; NUL-terminated path.
    cvt(unsafe {
        match path {
            Some(p) => libc::statvfs(p.as_ptr(), &mut s),
            None => libc::fstatvfs(fd, &mut s),
        }
    })?;
    Ok(StatFs::from(&s))
}

/// `fallocate` mode words (`'keep_size punch_hole'`) or a number.
pub(crate) fn falloc_mode(v: &mlua::Value) -> mlua::Result<libc::c_int> {
    match v {
        mlua::Value::Nil => Ok(0),
        mlua::Value::Integer(n) => libc::c_int::try_from(*n)
            .map_err(|_| super::error::misuse("fallocate mode out of range")),
        mlua::Value::String(s) => s.to_str()?.split_whitespace().try_fold(0, |acc, w| {
            Ok(acc
                | match w {
                    "keep_size" => libc::FALLOC_FL_KEEP_SIZE,
                    "punch_hole" => libc::FALLOC_FL_PUNCH_HOLE,
                    "zero_range" => libc::FALLOC_FL_ZERO_RANGE,
                    "collapse_range" => libc::FALLOC_FL_COLLAPSE_RANGE,
                    "insert_range" => libc::FALLOC_FL_INSERT_RANGE,
                    "unshare_range" => libc::FALLOC_FL_UNSHARE_RANGE,
                    _ => {
                        return Err(super::error::misuse(format!(
                            "unknown fallocate mode '{w}'"
                        )))
                    }
                })
        }),
        other => Err(super::error::misuse(format!(
            "fallocate mode: string or number expected, got {}",
            other.type_name()
        ))),
    }
}

pub(crate) fn fallocate(fd: RawFd, mode: libc::c_int, offset: i64, len: i64) -> FsResult<()> {
    // SAFETY: plain syscall on an fd.
    retry(|| cvt(unsafe { libc::fallocate(fd, mode, offset, len) })).map(drop)
}

/// Current directory as bytes.
pub(crate) fn getcwd() -> FsResult<Vec<u8>> {
    Ok(std::env::current_dir()?.into_os_string().into_vec())
}

pub(crate) fn chdir(path: &[u8]) -> FsResult<()> {
    let c = cstr(path)?;
    // SAFETY: NUL-terminated path.
    cvt(unsafe { libc::chdir(c.as_ptr()) }).map(drop)
}

/// `$HOME`, else the password database's home of the real uid.
pub(crate) fn homedir() -> FsResult<Vec<u8>> {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Ok(h.into_vec());
    }
    match nix::unistd::User::from_uid(nix::unistd::getuid()) {
        Ok(Some(u)) => Ok(u.dir.into_os_string().into_vec()),
        Ok(None) => Err(Errno::ENOENT),
        Err(e) => Err(e.into()),
    }
}

/// `$TMPDIR`, else `/tmp`.
pub(crate) fn tmpdir() -> Vec<u8> {
    std::env::var_os("TMPDIR")
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| OsString::from("/tmp"))
        .into_vec()
}

pub(crate) fn exepath() -> FsResult<Vec<u8>> {
    Ok(std::env::current_exe()?.into_os_string().into_vec())
}

pub(crate) fn exedir() -> FsResult<Vec<u8>> {
    let exe = exepath()?;
    let p = std::path::Path::new(OsStr::from_bytes(&exe));
    Ok(p.parent()
        .map(|d| d.as_os_str().as_bytes().to_vec())
        .unwrap_or_else(|| b"/".to_vec()))
}

#[cfg(test)]
mod tests {
    use super::parent;

    #[test]
    fn parents() {
        assert_eq!(parent(b"a/b/c"), Some(&b"a/b"[..]));
        assert_eq!(parent(b"a/b/c//"), Some(&b"a/b"[..]));
        assert_eq!(parent(b"a//b"), Some(&b"a"[..]));
        assert_eq!(parent(b"/a"), None);
        assert_eq!(parent(b"a"), None);
        assert_eq!(parent(b"/"), None);
    }
}
