//! Open directory handles (`fs.opendir(path)` → `dh`) and their `*at` methods.
//!
//! Every name given to a `dh:` method is resolved relative to the directory itself,
//! not the current directory, with `openat`, `fstatat`, `mkdirat`, `unlinkat`,
//! `renameat2`, `readlinkat`, `symlinkat`, `linkat`, `mknodat`. A passthrough
//! filesystem holding a handle on its backing root keeps working when that root is
//! moved or when the full path would exceed PATH_MAX.

use std::os::fd::RawFd;

use mlua::{Lua, MetaMethod, MultiValue, UserData, UserDataFields, UserDataMethods, Value};

use super::bind;
use super::error::{cstr, cvt, misuse, retry, Ret};
use super::file::gc_retry;
use super::ops;

type LStr = mlua::LuaString;

/// An open directory; `fd < 0` once closed.
pub(crate) struct DirHandle {
    fd: RawFd,
}

impl DirHandle {
    fn fd(&self) -> mlua::Result<RawFd> {
        if self.fd < 0 {
            Err(misuse("attempt to use a closed directory handle"))
        } else {
            Ok(self.fd)
        }
    }
}

impl Drop for DirHandle {
    fn drop(&mut self) {
        if self.fd >= 0 {
            // SAFETY: we own the fd and close it once.
            unsafe { libc::close(self.fd) };
        }
    }
}

/// `opendir` relative to `at`: O_DIRECTORY makes a non-directory fail with ENOTDIR.
pub(crate) fn open_at(lua: &Lua, at: RawFd, path: &LStr) -> mlua::Result<Ret<DirHandle>> {
    let c = match cstr(&path.as_bytes()) {
        Ok(c) => c,
        Err(e) => return Ok(Ret(Err(e))),
    };
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    let r = gc_retry(lua, || {
        // SAFETY: NUL-terminated path; the fd is owned by DirHandle at once.
        retry(|| cvt(unsafe { libc::openat(at, c.as_ptr(), flags) }))
    })?;
    Ok(Ret(r.map(|fd| DirHandle { fd })))
}

/// The directory fd of a `move` destination: another handle, or this one.
fn other_fd(v: &Value) -> mlua::Result<Option<RawFd>> {
    match v {
        Value::UserData(ud) if ud.is::<DirHandle>() => Ok(Some(ud.borrow::<DirHandle>()?.fd()?)),
        _ => Ok(None),
    }
}

impl UserData for DirHandle {
    fn add_fields<F: UserDataFields<Self>>(f: &mut F) {
        f.add_field_method_get("fd", |_, d| Ok((d.fd >= 0).then_some(d.fd)));
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("open", |lua, d, (p, mode): (LStr, Value)| {
            bind::open(lua, d.fd()?, &p, &mode)
        });
        m.add_method("opendir", |lua, d, p: LStr| open_at(lua, d.fd()?, &p));
        m.add_method("attr", |lua, d, (p, a, b): (LStr, Value, Value)| {
            bind::attr(lua, d.fd()?, &p, a, b)
        });
        m.add_method(
            "is",
            |_, d, (p, t, deref): (LStr, Option<String>, Option<bool>)| {
                bind::is(d.fd()?, &p, t, deref)
            },
        );
        m.add_method("mkdir", |lua, d, (p, a, b): (LStr, Value, Value)| {
            bind::mkdir(lua, d.fd()?, &p, a, b)
        });
        m.add_method("remove", |_, d, (p, rec): (LStr, Option<bool>)| {
            bind::remove(d.fd()?, &p, rec)
        });
        // dh:move(old, new[, opt]) or dh:move(old, dh2, new[, opt]).
        m.add_method(
            "move",
            |_, d, (old, a, b, c): (LStr, Value, Value, Value)| {
                let fd = d.fd()?;
                match other_fd(&a)? {
                    Some(fd2) => match b {
                        Value::String(new) => bind::mv(fd, &old, fd2, &new, &c),
                        _ => Err(misuse("move: new name expected after the directory handle")),
                    },
                    None => match a {
                        Value::String(new) => bind::mv(fd, &old, fd, &new, &b),
                        _ => Err(misuse("move: new name or directory handle expected")),
                    },
                }
            },
        );
        m.add_method("mksymlink", |_, d, (l, t): (LStr, LStr)| {
            bind::mksymlink(d.fd()?, &l, &t)
        });
        m.add_method("mkhardlink", |_, d, (l, t): (LStr, LStr)| {
            bind::mkhardlink(d.fd()?, &l, &t)
        });
        m.add_method("readlink", |lua, d, p: LStr| {
            bind::readlink(lua, d.fd()?, &p)
        });
        m.add_method(
            "mknod",
            |_, d, (p, t, perms, rdev): (LStr, Value, Value, Value)| {
                bind::mknod(d.fd()?, &p, t, perms, rdev)
            },
        );
        m.add_method("mkfifo", |_, d, (p, perms): (LStr, Value)| {
            bind::mkfifo(d.fd()?, &p, perms)
        });
        m.add_method("dir", |lua, d, (p, dots): (Option<LStr>, Option<bool>)| {
            bind::dir(lua, d.fd()?, p, dots)
        });
        m.add_method("statvfs", |lua, d, ()| {
            let r = ops::statvfs(None, d.fd()?);
            Ok(Ret(match r {
                Ok(s) => Ok(super::statvfs_table(lua, &s)?),
                Err(e) => Err(e),
            }))
        });
        m.add_method_mut("close", |_, d, ()| {
            if d.fd >= 0 {
                // SAFETY: owned fd, forgotten right here.
                unsafe { libc::close(std::mem::replace(&mut d.fd, -1)) };
            }
            Ok(true)
        });
        m.add_method("closed", |_, d, ()| Ok(d.fd < 0));
        m.add_meta_method(MetaMethod::ToString, |_, d, ()| {
            Ok(if d.fd < 0 {
                "fs.dirhandle (closed)".to_string()
            } else {
                format!("fs.dirhandle (fd {})", d.fd)
            })
        });
        m.add_meta_method_mut(MetaMethod::Close, |_, d, _: MultiValue| {
            if d.fd >= 0 {
                // SAFETY: as in close.
                unsafe { libc::close(std::mem::replace(&mut d.fd, -1)) };
            }
            Ok(())
        });
    }
}

/// Whether a value is a directory handle (for `fs.isdirhandle`).
pub(crate) fn is_dirhandle(v: &Value) -> bool {
    matches!(v, Value::UserData(ud) if ud.is::<DirHandle>())
}
