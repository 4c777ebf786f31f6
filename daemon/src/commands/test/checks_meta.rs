//! Metadata: utimens (nanoseconds), chmod, extended attributes (set, get, list,
//! remove, and the size probe programs use: a get or list with a zero-sized buffer
//! answers the size), statfs.

use std::ffi::CString;
use std::fs::{FileTimes, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::checks::{
    always, expect_errno, failed, quoted, Check, CheckResult, Ctx, CREATE, UNLINK,
};
use super::checks_files::make_file;

const XATTR: &str = "user.flu_test";
const XATTR_VALUE: &[u8] = b"value 1";

pub const CHECKS: &[Check] = &[
    Check {
        name: "utimens",
        expected: "the times set, to the nanosecond",
        needs: &[CREATE, UNLINK, &["utimens"]],
        writes: true,
        applies: always,
        run: utimens,
    },
    Check {
        name: "chmod",
        expected: "the permission bits set",
        needs: &[CREATE, UNLINK, &["chmod"]],
        writes: true,
        applies: always,
        run: chmod,
    },
    Check {
        name: "xattr",
        expected: "set, get, list and remove an xattr",
        needs: &[CREATE, UNLINK, &["setxattr"], &["getxattr"]],
        writes: true,
        applies: always,
        run: xattr,
    },
    Check {
        name: "xattr-size-probe",
        expected: "a zero-sized get or list answers the size",
        needs: &[CREATE, UNLINK, &["setxattr"], &["getxattr"]],
        writes: true,
        applies: always,
        run: xattr_size_probe,
    },
    Check {
        name: "statfs",
        expected: "statfs answers consistent numbers",
        needs: &[&["statfs"]],
        writes: false,
        applies: always,
        run: statfs,
    },
];

fn utimens(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "utimens", b"t")?;
    let p = ctx.shown(&path);
    let atime = UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    let mtime = UNIX_EPOCH + Duration::new(1_200_000_000, 987_654_321);
    let f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| failed(format!("open {p}"), e))?;
    f.set_times(FileTimes::new().set_accessed(atime).set_modified(mtime))
        .map_err(|e| failed(format!("utimens {p}"), e))?;
    drop(f);
    let m = std::fs::symlink_metadata(&path).map_err(|e| failed(format!("stat {p}"), e))?;
    let got = |s: i64, ns: i64| {
        UNIX_EPOCH + Duration::new(s.max(0) as u64, ns.clamp(0, 999_999_999) as u32)
    };
    for (what, want, have) in [
        ("mtime", mtime, got(m.mtime(), m.mtime_nsec())),
        ("atime", atime, got(m.atime(), m.atime_nsec())),
    ] {
        if want != have {
            return Err(format!(
                "{p}: {what} {} after utimens, expected {}",
                seconds(have),
                seconds(want)
            ));
        }
    }
    Ok("atime and mtime exact".into())
}

fn seconds(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

fn chmod(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "chmod", b"")?;
    let p = ctx.shown(&path);
    for mode in [0o600, 0o751] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| failed(format!("chmod {p} {mode:o}"), e))?;
        let m = std::fs::symlink_metadata(&path).map_err(|e| failed(format!("stat {p}"), e))?;
        if m.mode() & 0o7777 != mode {
            return Err(format!(
                "{p}: mode {:o} after chmod {mode:o}",
                m.mode() & 0o7777
            ));
        }
        if !m.is_file() {
            return Err(format!(
                "{p}: no longer a regular file after chmod {mode:o}"
            ));
        }
    }
    Ok("600, then 751".into())
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| "a path with a NUL byte".to_string())
}

fn c_name() -> CString {
    // A constant without NUL bytes.
    CString::new(XATTR).unwrap_or_default()
}

/// Run one call of the size-probe kind into a buffer of `size` bytes (0: the probe,
/// with a null pointer): the bytes it wrote and the length it returned.
fn probed(
    size: usize,
    call: impl FnOnce(*mut libc::c_void, usize) -> isize,
) -> io::Result<(Vec<u8>, usize)> {
    let mut buf = vec![0u8; size];
    let ptr = if size == 0 {
        std::ptr::null_mut()
    } else {
        buf.as_mut_ptr().cast()
    };
    let n = call(ptr, size);
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    buf.truncate(n.min(size));
    Ok((buf, n))
}

/// `lgetxattr`: into a buffer of `size` bytes (0: the size probe); the bytes (with a
/// zero size: empty) and the length the call returned.
fn get_xattr(path: &Path, size: usize) -> io::Result<(Vec<u8>, usize)> {
    let p = c_path(path).map_err(io::Error::other)?;
    let name = c_name();
    // SAFETY: both strings are NUL-terminated and live across the call; `buf` is `len`
    // bytes long (null when 0, as the probe form allows).
    probed(size, |buf, len| unsafe {
        libc::lgetxattr(p.as_ptr(), name.as_ptr(), buf, len)
    })
}

fn set_xattr(path: &Path, value: &[u8]) -> io::Result<()> {
    let p = c_path(path).map_err(io::Error::other)?;
    let name = c_name();
    // SAFETY: NUL-terminated strings and a value buffer of the length passed, all alive
    // across the call.
    let r = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `llistxattr` into `size` bytes (0: the probe): the bytes and the returned length.
fn list_xattrs(path: &Path, size: usize) -> io::Result<(Vec<u8>, usize)> {
    let p = c_path(path).map_err(io::Error::other)?;
    // SAFETY: a NUL-terminated path alive across the call and a buffer of `len` bytes
    // (null when 0).
    probed(size, |buf, len| unsafe {
        libc::llistxattr(p.as_ptr(), buf.cast(), len)
    })
}

fn remove_xattr(path: &Path) -> io::Result<()> {
    let p = c_path(path).map_err(io::Error::other)?;
    let name = c_name();
    // SAFETY: two NUL-terminated strings alive across the call.
    let r = unsafe { libc::lremovexattr(p.as_ptr(), name.as_ptr()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A file with the test attribute set.
fn file_with_xattr(ctx: &Ctx, name: &str) -> Result<std::path::PathBuf, String> {
    let path = make_file(ctx, name, b"")?;
    set_xattr(&path, XATTR_VALUE)
        .map_err(|e| failed(format!("setxattr {XATTR} on {}", ctx.shown(&path)), e))?;
    Ok(path)
}

fn xattr(ctx: &Ctx) -> CheckResult {
    let path = file_with_xattr(ctx, "xattr")?;
    let p = ctx.shown(&path);
    let (value, _) =
        get_xattr(&path, 256).map_err(|e| failed(format!("getxattr {XATTR} on {p}"), e))?;
    if value != XATTR_VALUE {
        return Err(format!(
            "getxattr {XATTR} on {p}: {}, expected {}",
            quoted(&value),
            quoted(XATTR_VALUE)
        ));
    }
    let mut seen = vec!["set, get"];
    if ctx.has("listxattr") {
        let (list, _) =
            list_xattrs(&path, 4096).map_err(|e| failed(format!("listxattr {p}"), e))?;
        if !list.split(|b| *b == 0).any(|n| n == XATTR.as_bytes()) {
            return Err(format!(
                "listxattr {p}: {} does not hold {XATTR}",
                quoted(&list)
            ));
        }
        seen.push("list");
    }
    if ctx.has("removexattr") {
        remove_xattr(&path).map_err(|e| failed(format!("removexattr {XATTR} on {p}"), e))?;
        expect_errno(
            format!("getxattr {XATTR} on {p} after removexattr"),
            get_xattr(&path, 256),
            &[libc::ENODATA],
        )?;
        seen.push("remove");
    }
    Ok(seen.join(", "))
}

fn xattr_size_probe(ctx: &Ctx) -> CheckResult {
    let path = file_with_xattr(ctx, "xattr-probe")?;
    let p = ctx.shown(&path);
    let (_, n) =
        get_xattr(&path, 0).map_err(|e| failed(format!("getxattr {XATTR} on {p}, size 0"), e))?;
    if n != XATTR_VALUE.len() {
        return Err(format!(
            "getxattr {XATTR} on {p} with size 0 answered {n}, expected the value's size {}",
            XATTR_VALUE.len()
        ));
    }
    expect_errno(
        format!("getxattr {XATTR} on {p} into 2 bytes"),
        get_xattr(&path, 2),
        &[libc::ERANGE],
    )?;
    if ctx.has("listxattr") {
        let (_, probed) =
            list_xattrs(&path, 0).map_err(|e| failed(format!("listxattr {p}, size 0"), e))?;
        let (list, _) =
            list_xattrs(&path, 4096).map_err(|e| failed(format!("listxattr {p}"), e))?;
        if probed != list.len() {
            return Err(format!(
                "listxattr {p} with size 0 answered {probed}, but the list is {} bytes",
                list.len()
            ));
        }
    }
    Ok(format!("size {n}; ERANGE when too small"))
}

fn statfs(ctx: &Ctx) -> CheckResult {
    let s = nix::sys::statvfs::statvfs(&ctx.mount)
        .map_err(|e| failed("statfs /", io::Error::from(e)))?;
    let mut faults = Vec::new();
    if s.block_size() == 0 {
        faults.push("block size 0".to_string());
    }
    if s.blocks_free() > s.blocks() {
        faults.push(format!("{} free blocks of {}", s.blocks_free(), s.blocks()));
    }
    if s.blocks_available() > s.blocks_free() {
        faults.push(format!(
            "{} available blocks but {} free",
            s.blocks_available(),
            s.blocks_free()
        ));
    }
    if s.files_free() > s.files() {
        faults.push(format!("{} free inodes of {}", s.files_free(), s.files()));
    }
    if s.name_max() == 0 {
        faults.push("name length limit 0".to_string());
    }
    if !faults.is_empty() {
        return Err(format!("statfs /: {}", faults.join(", ")));
    }
    Ok(format!(
        "{} blocks of {} bytes, {} free",
        s.blocks(),
        s.block_size(),
        s.blocks_free()
    ))
}
