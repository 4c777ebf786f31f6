//! File objects: `fs.open` and the `f:read f:write f:seek …` methods.
//!
//! A file is one fd in a small userdata; Drop closes it, so files a script forgets are
//! closed by the garbage collector. Because the collector does not know that a
//! userdata pins a descriptor, running out of descriptors (EMFILE/ENFILE) triggers a
//! full collection and one retry ([`gc_retry`]).

use std::os::fd::RawFd;

use mlua::{
    AnyUserData, Lua, MetaMethod, MultiValue, UserData, UserDataFields, UserDataMethods, Value,
};

use super::attr::{self, Target};
use super::error::{cstr, cvt, cvt64, misuse, retry, FsResult, Ret};
use super::flags::OpenSpec;
use super::ops::{falloc_mode, fallocate};
use super::xattr;
use crate::errno::Errno;

/// An open file; `fd < 0` once closed.
pub(crate) struct File {
    fd: RawFd,
    /// Whether closing the object closes the fd. Only `fs.wrap_fd(fd, {own = false})`
    /// makes a file that does not own its descriptor.
    owned: bool,
}

impl File {
    /// A file object for a descriptor the caller has checked is open. With `owned`, the
    /// object closes it (on `close` or collection); otherwise it only forgets it.
    pub(crate) fn from_fd(fd: RawFd, owned: bool) -> File {
        File { fd, owned }
    }

    pub(crate) fn fd(&self) -> mlua::Result<RawFd> {
        if self.fd < 0 {
            Err(misuse("attempt to use a closed file"))
        } else {
            Ok(self.fd)
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if self.fd >= 0 && self.owned {
            // SAFETY: we own the fd and close it once.
            unsafe { libc::close(self.fd) };
        }
    }
}

/// Run an fd-allocating call; if the process is out of descriptors, collect garbage
/// (whose finalizers close forgotten files and directories) and try once more. The
/// second cycle catches objects that only became unreachable through the first's
/// finalizers.
pub(crate) fn gc_retry<T>(
    lua: &Lua,
    mut f: impl FnMut() -> FsResult<T>,
) -> mlua::Result<FsResult<T>> {
    match f() {
        Err(e) if e.code() == libc::EMFILE || e.code() == libc::ENFILE => {
            lua.gc_collect()?;
            lua.gc_collect()?;
            Ok(f())
        }
        r => Ok(r),
    }
}

/// `open` relative to a directory fd (`AT_FDCWD` for `fs.open`).
pub(crate) fn open_at(
    lua: &Lua,
    dirfd: RawFd,
    path: &[u8],
    spec: OpenSpec,
) -> mlua::Result<FsResult<File>> {
    let c = match cstr(path) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let r = gc_retry(lua, || {
        // SAFETY: NUL-terminated path; the returned fd is owned by File at once.
        retry(|| cvt(unsafe { libc::openat(dirfd, c.as_ptr(), spec.flags, spec.perms) }))
    })?;
    Ok(r.map(|fd| File::from_fd(fd, true)))
}

/// Read up to `n` bytes (at `offset`, or at the file position), stopping early only at
/// end of file. Data read before an error is returned; the error shows on the next call.
fn read_n(fd: RawFd, n: usize, offset: Option<i64>) -> FsResult<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::new();
    while buf.len() < n {
        // Grow in steps so a huge `n` on a small file allocates only what arrives.
        let want = (n - buf.len()).min(1 << 20);
        buf.reserve(want);
        let done = buf.len();
        let ptr = buf.spare_capacity_mut().as_mut_ptr().cast::<libc::c_void>();
        let r = retry(|| {
            // SAFETY: ptr has at least `want` writable bytes (reserved above).
            cvt64(unsafe {
                match offset {
                    Some(o) => libc::pread(fd, ptr, want, o + done as i64),
                    None => libc::read(fd, ptr, want),
                }
            } as i64)
        });
        match r {
            Ok(0) => break,
            // SAFETY: the kernel initialized k bytes past the old length.
            Ok(k) => unsafe { buf.set_len(done + k as usize) },
            Err(e) if buf.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    Ok(buf)
}

/// Read from the file position to the end of the file.
fn read_all(fd: RawFd) -> FsResult<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let chunk = read_n(fd, 1 << 16, None)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
    }
}

/// Write all of `data` (at `offset`, or at the file position); returns the count.
fn write_all(fd: RawFd, data: &[u8], offset: Option<i64>) -> FsResult<usize> {
    let mut done = 0usize;
    while done < data.len() {
        let rest = &data[done..];
        let r = retry(|| {
            // SAFETY: rest is a valid readable slice.
            cvt64(unsafe {
                match offset {
                    Some(o) => libc::pwrite(fd, rest.as_ptr().cast(), rest.len(), o + done as i64),
                    None => libc::write(fd, rest.as_ptr().cast(), rest.len()),
                }
            } as i64)
        })?;
        if r == 0 {
            return Err(Errno::EIO); // a write making no progress would loop forever
        }
        done += r as usize;
    }
    Ok(done)
}

fn lseek(fd: RawFd, offset: i64, whence: libc::c_int) -> FsResult<i64> {
    // SAFETY: plain syscall on an fd.
    cvt64(unsafe { libc::lseek(fd, offset, whence) })
}

/// `f:seek([whence][, offset])`, also luapower's `f:seek(offset)` (relative to 'cur').
fn seek_args(a: Value, b: Value) -> mlua::Result<(libc::c_int, i64)> {
    let (whence, offset) = match (a, b) {
        (Value::Integer(n), Value::Nil) => (None, n),
        (Value::Number(_), Value::Nil) => return Err(misuse("seek: integer offset expected")),
        (Value::Nil, Value::Nil) => (None, 0),
        (Value::String(w), o) => (
            Some(w.to_str()?.to_string()),
            match o {
                Value::Nil => 0,
                Value::Integer(n) => n,
                other => {
                    return Err(misuse(format!(
                        "seek: integer offset expected, got {}",
                        other.type_name()
                    )))
                }
            },
        ),
        (other, _) => {
            return Err(misuse(format!(
                "seek: whence ('set', 'cur', 'end', 'data' or 'hole') expected, got {}",
                other.type_name()
            )))
        }
    };
    let w = match whence.as_deref() {
        None | Some("cur") => libc::SEEK_CUR,
        Some("set") => libc::SEEK_SET,
        Some("end") => libc::SEEK_END,
        // The next data / hole at or after offset (sparse files; ENXIO past the end).
        Some("data") => libc::SEEK_DATA,
        Some("hole") => libc::SEEK_HOLE,
        Some(other) => return Err(misuse(format!("seek: invalid whence '{other}'"))),
    };
    Ok((w, offset))
}

fn offset_arg(v: Option<i64>, what: &str) -> mlua::Result<Option<i64>> {
    match v {
        Some(o) if o < 0 => Err(misuse(format!("{what}: negative offset"))),
        o => Ok(o),
    }
}

impl UserData for File {
    fn add_fields<F: UserDataFields<Self>>(f: &mut F) {
        f.add_field_method_get("fd", |_, f| Ok((f.fd >= 0).then_some(f.fd)));
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("read", |lua, f, (n, offset): (i64, Option<i64>)| {
            let fd = f.fd()?;
            let n = usize::try_from(n).map_err(|_| misuse("read: negative size"))?;
            let offset = offset_arg(offset, "read")?;
            Ok(Ret(match read_n(fd, n, offset) {
                Ok(b) => Ok(lua.create_string(b)?),
                Err(e) => Err(e),
            }))
        });
        m.add_method("read_all", |lua, f, ()| {
            Ok(Ret(match read_all(f.fd()?) {
                Ok(b) => Ok(lua.create_string(b)?),
                Err(e) => Err(e),
            }))
        });
        m.add_method(
            "write",
            |_, f, (s, offset): (mlua::LuaString, Option<i64>)| {
                let fd = f.fd()?;
                let offset = offset_arg(offset, "write")?;
                Ok(Ret(write_all(fd, &s.as_bytes(), offset)))
            },
        );
        m.add_method("seek", |_, f, (a, b): (Value, Value)| {
            let fd = f.fd()?;
            let (whence, offset) = seek_args(a, b)?;
            Ok(Ret(lseek(fd, offset, whence)))
        });
        m.add_method("tell", |_, f, ()| {
            Ok(Ret(lseek(f.fd()?, 0, libc::SEEK_CUR)))
        });
        m.add_method("truncate", |_, f, size: Option<i64>| {
            let fd = f.fd()?;
            if size.is_some_and(|s| s < 0) {
                return Err(misuse("truncate: negative size"));
            }
            let r = (|| {
                let size = match size {
                    Some(s) => s,
                    None => lseek(fd, 0, libc::SEEK_CUR)?,
                };
                // SAFETY: plain syscall on an fd.
                retry(|| cvt(unsafe { libc::ftruncate(fd, size) }))?;
                Ok(true)
            })();
            Ok(Ret(r))
        });
        m.add_method("sync", |_, f, datasync: Option<bool>| {
            let fd = f.fd()?;
            let r = retry(|| {
                // SAFETY: `fd` is this file object's open descriptor (`f` is borrowed
                // for the call); fsync/fdatasync take only an integer.
                cvt(unsafe {
                    if datasync.unwrap_or(false) {
                        libc::fdatasync(fd)
                    } else {
                        libc::fsync(fd)
                    }
                })
            });
            Ok(Ret(r.map(|_| true)))
        });
        // luapower's flush writes out its buffer; these files have none, so there is
        // nothing to do (as luapower on Linux). `f:sync()` is what reaches the disk.
        m.add_method("flush", |_, f, ()| f.fd().map(|_| true));
        // `f:map{...}` is `fs.map{file = f, ...}`.
        m.add_function("map", |lua, (ud, opt): (AnyUserData, Value)| {
            super::map::map_file(lua, ud, opt)
        });
        m.add_method(
            "allocate",
            |_, f, (offset, len, mode): (i64, i64, Value)| {
                let fd = f.fd()?;
                if offset < 0 || len <= 0 {
                    return Err(misuse("allocate: offset >= 0 and len > 0 expected"));
                }
                let mode = falloc_mode(&mode)?;
                Ok(Ret(fallocate(fd, mode, offset, len).map(|_| true)))
            },
        );
        m.add_method("attr", |lua, f, a: Value| {
            let t = Target::Fd(f.fd()?);
            Ok(Ret(match a {
                Value::Nil => attr::get(lua, &t, None)?,
                Value::String(s) => attr::get(lua, &t, Some(&s.to_str()?))?,
                Value::Table(tbl) => attr::set(&t, &tbl)?.map(Value::Boolean),
                other => {
                    return Err(misuse(format!(
                        "attr: name or table expected, got {}",
                        other.type_name()
                    )))
                }
            }))
        });
        m.add_method("getxattr", |lua, f, name: mlua::LuaString| {
            let t = xattr::XTarget::Fd(f.fd()?);
            xattr::get_lua(lua, &t, &name.as_bytes())
        });
        m.add_method(
            "setxattr",
            |_, f, (name, value, flags): (mlua::LuaString, mlua::LuaString, Value)| {
                let t = xattr::XTarget::Fd(f.fd()?);
                xattr::set_lua(&t, &name.as_bytes(), &value.as_bytes(), &flags)
            },
        );
        m.add_method("listxattr", |lua, f, ()| {
            xattr::list_lua(lua, &xattr::XTarget::Fd(f.fd()?))
        });
        m.add_method("removexattr", |_, f, name: mlua::LuaString| {
            xattr::remove_lua(&xattr::XTarget::Fd(f.fd()?), &name.as_bytes())
        });
        m.add_method_mut("close", |_, f, ()| Ok(Ret(close(f))));
        m.add_method("closed", |_, f, ()| Ok(f.fd < 0));
        m.add_meta_method(MetaMethod::ToString, |_, f, ()| {
            Ok(if f.fd < 0 {
                "fs.file (closed)".to_string()
            } else {
                format!("fs.file (fd {})", f.fd)
            })
        });
        m.add_meta_method_mut(MetaMethod::Close, |_, f, _: MultiValue| {
            close(f).ok();
            Ok(())
        });
    }
}

/// Close once; later calls are no-ops. The fd is released even when close reports an
/// error (Linux never leaves it open), so the error is only informative.
fn close(f: &mut File) -> FsResult<bool> {
    if f.fd < 0 {
        return Ok(true);
    }
    let fd = std::mem::replace(&mut f.fd, -1);
    if !f.owned {
        return Ok(true); // borrowed from the caller (`fs.wrap_fd(fd, {own = false})`)
    }
    // SAFETY: we owned fd; it is forgotten above before closing.
    match cvt(unsafe { libc::close(fd) }) {
        Err(e) if e.code() != libc::EINTR => Err(e),
        _ => Ok(true),
    }
}
