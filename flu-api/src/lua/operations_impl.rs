//! `impl Operations for LuaFilesystem`: each operation converted to its handler's
//! Lua signature (DESIGN 3.2), and the handler's results converted back.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::{Arc, Mutex};

use mlua::{Lua, Value};

use super::call::{
    bad_result, call_protected, expect_bytes, expect_count, expect_unit, first, HandlerError,
};
use super::dispatch::{route_label, LuaFilesystem, Op, Route};
use super::handles::{new_file_info, NativeHandle, NativeRef, Slot};
use super::native::{lock_from_lua, lock_to_lua, RENAME_FLAGS, XATTR_FLAGS};
use super::sets::{bits_to_lua, mode_from_lua, mode_to_lua};
use super::stat::{stat_from_lua, statfs_from_lua};
use super::time::timespec_to_lua;
use crate::errno::Errno;
use crate::operations::{
    ConnectionInfo, DirEntry, Fh, FileLock, OpResult, Opened, Operations, RequestContext,
};
use crate::stat::{Stat, StatFs};
use crate::time::{TimeSet, Timespec};

type P<'a> = &'a Path;

impl LuaFilesystem {
    fn stat_result(&self, op: Op, v: Value) -> Result<Stat, HandlerError> {
        match &v {
            Value::Table(_) => stat_from_lua(&v, &self.defaults).map_err(|e| {
                HandlerError::BadResult(format!("bad result #1 from '{}' ({e})", op.name()))
            }),
            other => Err(bad_result(op.name(), "table", other)),
        }
    }

    /// Call a handler that returns nothing.
    fn unit(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        args: impl FnOnce(&Lua) -> mlua::Result<mlua::MultiValue>,
    ) -> OpResult<()> {
        self.with_lua(op, path, ctx, |lua, f| {
            expect_unit(call_protected(lua, f, args(lua)?)?)
        })
    }

    fn fi_value(&self, lua: &Lua, fh: Option<Fh>) -> mlua::Result<Value> {
        Ok(match fh {
            Some(fh) => Value::Table(self.file_info(lua, fh)?),
            None => Value::Nil,
        })
    }

    /// Open through a Lua handler (`open`, `create` or `opendir`): build `fi`, call,
    /// keep `fi` (and a native handle found in `fi.fh`) in a new slot.
    fn open_lua(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        flags: i32,
        mode: Option<u32>,
    ) -> OpResult<Opened> {
        let (fi, native) = self.with_lua(op, path, ctx, |lua, f| {
            let fi = new_file_info(lua, flags)?;
            let p = Self::path_value(lua, path)?;
            let results = match mode {
                Some(m) => call_protected(lua, f, (p, mode_to_lua(lua, m)?, fi.clone()))?,
                None => call_protected(lua, f, (p, fi.clone()))?,
            };
            expect_unit(results)?;
            let native = match fi.raw_get::<Value>("fh")? {
                Value::UserData(ud) => ud.borrow::<NativeHandle>().ok().map(|h| *h),
                _ => None,
            };
            Ok((fi, native))
        })?;
        let flag = |k: &str| {
            fi.raw_get::<Value>(k)
                .map(|v| !matches!(v, Value::Nil | Value::Boolean(false)))
                .unwrap_or(false)
        };
        let (direct_io, keep_cache, nonseekable) =
            (flag("direct_io"), flag("keep_cache"), flag("nonseekable"));
        // The native handle came from whichever backend serves the op natively.
        let native_ref = native.and_then(|handle| {
            self.native_backend()
                .map(|backend| NativeRef { backend, handle })
        });
        let backing_fd = native_ref.as_ref().and_then(|n| {
            self.backing_allowed(&n.backend)
                .then_some(n.handle.backing_fd)
                .flatten()
        });
        let fh = self.handles.insert(Slot {
            flags,
            fi: Some(fi),
            native: native_ref,
        });
        Ok(Opened {
            fh,
            direct_io,
            keep_cache,
            nonseekable,
            backing_fd,
        })
    }

    /// Any native backend the routes use (for handles set by `base.open` in Lua).
    fn native_backend(&self) -> Option<Arc<dyn Operations>> {
        Op::ALL.iter().find_map(|op| match self.route(*op) {
            Route::Native(b) => Some(b.clone()),
            _ => None,
        })
    }

    /// Reads and writes may bypass the daemon only when both are the backend's own.
    fn backing_allowed(&self, backend: &Arc<dyn Operations>) -> bool {
        [Op::Read, Op::Write]
            .iter()
            .all(|op| matches!(self.route(*op), Route::Native(b) if Arc::ptr_eq(b, backend)))
    }

    fn open_native(&self, backend: &Arc<dyn Operations>, flags: i32, opened: Opened) -> Opened {
        let handle = NativeHandle {
            fh: opened.fh,
            backing_fd: opened.backing_fd,
        };
        let fh = self.handles.insert(Slot {
            flags,
            fi: None,
            native: Some(NativeRef {
                backend: backend.clone(),
                handle,
            }),
        });
        let backing_fd = if self.backing_allowed(backend) {
            opened.backing_fd
        } else {
            None
        };
        Opened {
            fh,
            backing_fd,
            ..opened
        }
    }

    /// Run a native op on the backend's handle for `fh`, or on a temporary handle.
    fn native_io<R>(
        &self,
        backend: &Arc<dyn Operations>,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        dir: bool,
        f: impl FnOnce(Fh) -> OpResult<R>,
    ) -> OpResult<R> {
        if let Some(h) = self.native_handle(fh, backend) {
            return f(Fh(h.fh));
        }
        let flags = self
            .handles
            .get(fh.0)
            .map(|s| s.flags)
            .unwrap_or(libc::O_RDONLY)
            & !(libc::O_CREAT | libc::O_EXCL | libc::O_TRUNC);
        let opened = if dir {
            backend.opendir(ctx, path, flags)?
        } else {
            backend.open(ctx, path, flags)?
        };
        let tmp = Fh(opened.fh);
        let r = f(tmp);
        let _ = if dir {
            backend.releasedir(ctx, path, tmp)
        } else {
            backend.release(ctx, path, tmp, flags, false)
        };
        r
    }

    fn native_fh(&self, backend: &Arc<dyn Operations>, fh: Option<Fh>) -> Option<Fh> {
        fh.and_then(|fh| self.native_handle(fh, backend))
            .map(|h| Fh(h.fh))
    }

    /// Close what a native backend still holds for a released slot.
    fn release_native(&self, ctx: &RequestContext, path: P, slot: &Slot, dir: bool) {
        if let Some(n) = &slot.native {
            let fh = Fh(n.handle.fh);
            let _ = if dir {
                n.backend.releasedir(ctx, path, fh)
            } else {
                n.backend.release(ctx, path, fh, slot.flags, false)
            };
        }
    }
}

fn time_value(lua: &Lua, t: TimeSet) -> mlua::Result<Value> {
    Ok(match t {
        TimeSet::Omit => Value::Nil,
        TimeSet::Now => Value::Table(timespec_to_lua(lua, Timespec::now())?),
        TimeSet::At(ts) => Value::Table(timespec_to_lua(lua, ts)?),
    })
}

fn id_value(id: Option<u32>) -> i64 {
    id.map(i64::from).unwrap_or(-1)
}

macro_rules! args {
    ($lua:expr; $($v:expr),* $(,)?) => {{
        use mlua::IntoLuaMulti;
        ($($v,)*).into_lua_multi($lua)
    }};
}

impl Operations for LuaFilesystem {
    /// Inode numbers are real when the backend's own getattr reports them.
    fn stable_inode_numbers(&self) -> bool {
        match self.route(Op::Getattr) {
            Route::Native(b) => b.stable_inode_numbers(),
            _ => false,
        }
    }

    fn served_by(&self, handler: &str) -> &'static str {
        let handler = match handler {
            "lookup" => "getattr",
            "stat_entry" => "readdir",
            h => h,
        };
        Op::ALL
            .iter()
            .find(|op| op.name() == handler)
            .map(|op| route_label(self.route(*op)))
            .unwrap_or("daemon")
    }

    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        match self.route(Op::Init) {
            Route::Native(b) => b.init(conn),
            Route::Missing => Ok(()),
            Route::Lua(_) => self.unit(
                Op::Init,
                Path::new("/"),
                &RequestContext::default(),
                |lua| {
                    let t = lua.create_table()?;
                    t.set("proto_major", conn.proto_major)?;
                    t.set("proto_minor", conn.proto_minor)?;
                    t.set("max_write", conn.max_write)?;
                    t.set("max_readahead", conn.max_readahead)?;
                    args!(lua; t)
                },
            ),
        }
    }

    fn destroy(&self) {
        match self.route(Op::Destroy) {
            Route::Native(b) => b.destroy(),
            Route::Missing => {}
            Route::Lua(_) => {
                let _ = self.unit(
                    Op::Destroy,
                    Path::new("/"),
                    &RequestContext::default(),
                    |lua| args!(lua;),
                );
            }
        }
    }

    fn getattr(&self, ctx: &RequestContext, path: P, fh: Option<Fh>) -> OpResult<Stat> {
        let op = if fh.is_some() && self.has(Op::Fgetattr) {
            Op::Fgetattr
        } else {
            Op::Getattr
        };
        match self.route(op) {
            Route::Native(b) => b.getattr(ctx, path, self.native_fh(b, fh)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(op, path, ctx, |lua, f| {
                let p = Self::path_value(lua, path)?;
                let fi = self.fi_value(lua, fh)?;
                let v = first(call_protected(lua, f, (p, fi))?)?;
                self.stat_result(op, v)
            }),
        }
    }

    fn readlink(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<u8>> {
        match self.route(Op::Readlink) {
            Route::Native(b) => b.readlink(ctx, path),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Readlink, path, ctx, |lua, f| {
                let p = Self::path_value(lua, path)?;
                let v = first(call_protected(lua, f, (p, libc::PATH_MAX))?)?;
                expect_bytes("readlink", v)
            }),
        }
    }

    fn mknod(&self, ctx: &RequestContext, path: P, mode: u32, rdev: u64) -> OpResult<()> {
        match self.route(Op::Mknod) {
            Route::Native(b) => b.mknod(ctx, path, mode, rdev),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Mknod, path, ctx, |lua| args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, mode)?, rdev as i64)),
        }
    }

    fn mkdir(&self, ctx: &RequestContext, path: P, mode: u32) -> OpResult<()> {
        match self.route(Op::Mkdir) {
            Route::Native(b) => b.mkdir(ctx, path, mode),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Mkdir, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, libc::S_IFDIR | (mode & 0o7777))?)
            }),
        }
    }

    fn unlink(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
        match self.route(Op::Unlink) {
            Route::Native(b) => b.unlink(ctx, path),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Unlink,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?),
            ),
        }
    }

    fn rmdir(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
        match self.route(Op::Rmdir) {
            Route::Native(b) => b.rmdir(ctx, path),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Rmdir,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?),
            ),
        }
    }

    fn symlink(&self, ctx: &RequestContext, target: P, path: P) -> OpResult<()> {
        match self.route(Op::Symlink) {
            Route::Native(b) => b.symlink(ctx, target, path),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Symlink,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, target)?, Self::path_value(lua, path)?),
            ),
        }
    }

    fn rename(&self, ctx: &RequestContext, from: P, to: P, flags: u32) -> OpResult<()> {
        match self.route(Op::Rename) {
            Route::Native(b) => b.rename(ctx, from, to, flags),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Rename, from, ctx, |lua| {
                let flags = if flags == 0 {
                    Value::Nil
                } else {
                    Value::Table(bits_to_lua(lua, flags as u64, RENAME_FLAGS)?)
                };
                args!(lua; Self::path_value(lua, from)?, Self::path_value(lua, to)?, flags)
            }),
        }
    }

    fn link(&self, ctx: &RequestContext, from: P, to: P) -> OpResult<()> {
        match self.route(Op::Link) {
            Route::Native(b) => b.link(ctx, from, to),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Link,
                from,
                ctx,
                |lua| args!(lua; Self::path_value(lua, from)?, Self::path_value(lua, to)?),
            ),
        }
    }

    fn chmod(&self, ctx: &RequestContext, path: P, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        match self.route(Op::Chmod) {
            Route::Native(b) => b.chmod(ctx, path, mode, self.native_fh(b, fh)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Chmod, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, mode)?, self.fi_value(lua, fh)?)
            }),
        }
    }

    fn chown(
        &self,
        ctx: &RequestContext,
        path: P,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        match self.route(Op::Chown) {
            Route::Native(b) => b.chown(ctx, path, uid, gid, self.native_fh(b, fh)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Chown, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, id_value(uid), id_value(gid), self.fi_value(lua, fh)?)
            }),
        }
    }

    fn truncate(&self, ctx: &RequestContext, path: P, size: u64, fh: Option<Fh>) -> OpResult<()> {
        let op = if fh.is_some() && self.has(Op::Ftruncate) {
            Op::Ftruncate
        } else {
            Op::Truncate
        };
        match self.route(op) {
            Route::Native(b) => b.truncate(ctx, path, size, self.native_fh(b, fh)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(op, path, ctx, |lua| args!(lua; Self::path_value(lua, path)?, size as i64, self.fi_value(lua, fh)?)),
        }
    }

    fn utimens(
        &self,
        ctx: &RequestContext,
        path: P,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        match self.route(Op::Utimens) {
            Route::Native(b) => b.utimens(ctx, path, atime, mtime, self.native_fh(b, fh)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Utimens, path, ctx, |lua| {
                let a = time_value(lua, atime)?;
                let m = time_value(lua, mtime)?;
                // The original Flu passed one table `{atime, mtime}`: the atime argument
                // also answers `[1]` and `[2]`, so such handlers keep working.
                if let Value::Table(t) = &a {
                    t.raw_set(1, time_value(lua, atime)?)?;
                    t.raw_set(2, m.clone())?;
                }
                args!(lua; Self::path_value(lua, path)?, a, m, self.fi_value(lua, fh)?)
            }),
        }
    }

    fn open(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        match self.route(Op::Open) {
            Route::Native(b) => {
                let opened = b.open(ctx, path, flags)?;
                Ok(self.open_native(b, flags, opened))
            }
            Route::Missing => Ok(Opened {
                fh: self.handles.insert(Slot {
                    flags,
                    ..Slot::default()
                }),
                ..Opened::default()
            }),
            Route::Lua(_) => self.open_lua(Op::Open, path, ctx, flags, None),
        }
    }

    fn create(&self, ctx: &RequestContext, path: P, mode: u32, flags: i32) -> OpResult<Opened> {
        match self.route(Op::Create) {
            Route::Native(b) => {
                let opened = b.create(ctx, path, mode, flags)?;
                Ok(self.open_native(b, flags, opened))
            }
            Route::Lua(_) => self.open_lua(Op::Create, path, ctx, flags, Some(mode)),
            // As libfuse: without create, mknod then open.
            Route::Missing => {
                self.mknod(ctx, path, libc::S_IFREG | (mode & 0o7777), 0)?;
                self.open(ctx, path, flags & !(libc::O_CREAT | libc::O_EXCL))
            }
        }
    }

    fn read(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        match self.route(Op::Read) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| {
                b.read(ctx, path, nfh, offset, size)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Read, path, ctx, |lua, f| {
                let fi = self.file_info(lua, fh)?;
                let v = first(call_protected(
                    lua,
                    f,
                    (Self::path_value(lua, path)?, size, offset as i64, fi),
                )?)?;
                let mut data = expect_bytes("read", v)?;
                data.truncate(size as usize);
                Ok(data)
            }),
        }
    }

    fn write(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        match self.route(Op::Write) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| {
                b.write(ctx, path, nfh, offset, data)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Write, path, ctx, |lua, f| {
                let fi = self.file_info(lua, fh)?;
                let v = first(call_protected(
                    lua,
                    f,
                    (
                        Self::path_value(lua, path)?,
                        lua.create_string(data)?,
                        offset as i64,
                        fi,
                    ),
                )?)?;
                // A handler that returns nothing wrote everything (a common Lua idiom).
                let n = if v.is_nil() {
                    data.len() as u64
                } else {
                    expect_count("write", v)?
                };
                Ok(n.min(data.len() as u64) as u32)
            }),
        }
    }

    fn flush(&self, ctx: &RequestContext, path: P, fh: Fh, lock_owner: u64) -> OpResult<()> {
        match self.route(Op::Flush) {
            Route::Native(b) => match self.native_handle(fh, b) {
                Some(h) => b.flush(ctx, path, Fh(h.fh), lock_owner),
                None => Ok(()),
            },
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Flush, path, ctx, |lua| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("lock_owner", lock_owner as i64)?;
                args!(lua; Self::path_value(lua, path)?, fi)
            }),
        }
    }

    fn release(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        let result = match self.route(Op::Release) {
            Route::Lua(_) => self.unit(Op::Release, path, ctx, |lua| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("flush", flush)?;
                args!(lua; Self::path_value(lua, path)?, fi)
            }),
            _ => Ok(()),
        };
        if let Some(slot) = self.handles.remove(fh.0) {
            self.release_native(ctx, path, &slot, false);
        }
        let _ = flags;
        result
    }

    fn fsync(&self, ctx: &RequestContext, path: P, fh: Fh, datasync: bool) -> OpResult<()> {
        match self.route(Op::Fsync) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| {
                b.fsync(ctx, path, nfh, datasync)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Fsync,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?, datasync, self.file_info(lua, fh)?),
            ),
        }
    }

    fn opendir(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        match self.route(Op::Opendir) {
            Route::Native(b) => {
                let opened = b.opendir(ctx, path, flags)?;
                let handle = NativeHandle {
                    fh: opened.fh,
                    backing_fd: None,
                };
                let fh = self.handles.insert(Slot {
                    flags,
                    fi: None,
                    native: Some(NativeRef {
                        backend: b.clone(),
                        handle,
                    }),
                });
                Ok(Opened {
                    fh,
                    backing_fd: None,
                    ..opened
                })
            }
            Route::Missing => Ok(Opened {
                fh: self.handles.insert(Slot {
                    flags,
                    ..Slot::default()
                }),
                ..Opened::default()
            }),
            Route::Lua(_) => self
                .open_lua(Op::Opendir, path, ctx, flags, None)
                .map(|o| Opened {
                    backing_fd: None,
                    ..o
                }),
        }
    }

    fn readdir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<Vec<DirEntry>> {
        match self.route(Op::Readdir) {
            Route::Native(b) => {
                self.native_io(b, ctx, path, fh, true, |nfh| b.readdir(ctx, path, nfh))
            }
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Readdir, path, ctx, |lua, f| {
                let entries: Arc<Mutex<Vec<DirEntry>>> = Arc::default();
                let sink = entries.clone();
                let defaults = self.defaults;
                let filler = lua.create_function(
                    move |_, (name, stat, _offset): (mlua::LuaString, Value, Value)| {
                        let bad = |e: String| {
                            mlua::Error::runtime(format!("bad argument #2 to 'filler' ({e})"))
                        };
                        let (stat, kind) = match &stat {
                            Value::Nil => (None, None),
                            // A type alone ('directory', 0o040000): enough for a listing.
                            v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
                                let kind = mode_from_lua(v).map_err(bad)? & libc::S_IFMT;
                                (None, (kind != 0).then_some(kind))
                            }
                            v => (Some(stat_from_lua(v, &defaults).map_err(bad)?), None),
                        };
                        let bytes = name.as_bytes();
                        // The kernel rejects a whole listing that has such a name.
                        if bytes.is_empty() || bytes.contains(&b'/') || bytes.contains(&0) {
                            return Err(mlua::Error::runtime(format!(
                                "bad argument #1 to 'filler' (a name cannot be empty or contain '/' or NUL: {:?})",
                                String::from_utf8_lossy(&bytes)
                            )));
                        }
                        let name = OsString::from_vec(bytes.to_vec());
                        let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
                        // A listing this long is a runaway loop, not a directory.
                        if sink.len() >= 10_000_000 {
                            return Ok(false);
                        }
                        sink.push(DirEntry { name, stat, kind });
                        Ok(true)
                    },
                )?;
                let fi = self.file_info(lua, fh)?;
                expect_unit(call_protected(
                    lua,
                    f,
                    (Self::path_value(lua, path)?, filler, fi),
                )?)?;
                let list = std::mem::take(&mut *entries.lock().unwrap_or_else(|p| p.into_inner()));
                Ok(list)
            }),
        }
    }

    /// Only where the listing came from a backend's own readdir on its own handle, and
    /// that backend also answers getattr (a Lua getattr must see every stat request).
    fn stat_entry(
        &self,
        ctx: &RequestContext,
        dir: P,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        let Route::Native(b) = self.route(Op::Readdir) else {
            return None;
        };
        if !matches!(self.route(Op::Getattr), Route::Native(g) if Arc::ptr_eq(g, b)) {
            return None;
        }
        let h = self.native_handle(fh, b)?;
        b.stat_entry(ctx, dir, Fh(h.fh), name)
    }

    fn releasedir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<()> {
        let result = match self.route(Op::Releasedir) {
            Route::Lua(_) => self.unit(
                Op::Releasedir,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?, self.file_info(lua, fh)?),
            ),
            _ => Ok(()),
        };
        if let Some(slot) = self.handles.remove(fh.0) {
            self.release_native(ctx, path, &slot, true);
        }
        result
    }

    fn fsyncdir(&self, ctx: &RequestContext, path: P, fh: Fh, datasync: bool) -> OpResult<()> {
        match self.route(Op::Fsyncdir) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, true, |nfh| {
                b.fsyncdir(ctx, path, nfh, datasync)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Fsyncdir,
                path,
                ctx,
                // Flu passed fsyncdir's datasync as a number (fsync's as a boolean).
                |lua| args!(lua; Self::path_value(lua, path)?, i32::from(datasync), self.file_info(lua, fh)?),
            ),
        }
    }

    fn statfs(&self, ctx: &RequestContext, path: P) -> OpResult<StatFs> {
        match self.route(Op::Statfs) {
            Route::Native(b) => b.statfs(ctx, path),
            Route::Missing => Ok(StatFs::default()),
            Route::Lua(_) => self.with_lua(Op::Statfs, path, ctx, |lua, f| {
                let v = first(call_protected(lua, f, Self::path_value(lua, path)?)?)?;
                match &v {
                    Value::Table(_) => statfs_from_lua(&v).map_err(|e| {
                        HandlerError::BadResult(format!("bad result #1 from 'statfs' ({e})"))
                    }),
                    other => Err(bad_result("statfs", "table", other)),
                }
            }),
        }
    }

    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        match self.route(Op::Setxattr) {
            Route::Native(b) => b.setxattr(ctx, path, name, value, flags),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Setxattr, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, Self::name_value(lua, name)?, lua.create_string(value)?, bits_to_lua(lua, flags as u64, XATTR_FLAGS)?)
            }),
        }
    }

    fn getxattr(&self, ctx: &RequestContext, path: P, name: &OsStr) -> OpResult<Vec<u8>> {
        match self.route(Op::Getxattr) {
            Route::Native(b) => b.getxattr(ctx, path, name),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Getxattr, path, ctx, |lua, f| {
                let v = first(call_protected(
                    lua,
                    f,
                    (Self::path_value(lua, path)?, Self::name_value(lua, name)?),
                )?)?;
                // A missing attribute may be reported by returning nothing.
                if v.is_nil() {
                    return Err(HandlerError::Errno(Errno::ENODATA));
                }
                expect_bytes("getxattr", v)
            }),
        }
    }

    fn listxattr(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<OsString>> {
        match self.route(Op::Listxattr) {
            Route::Native(b) => b.listxattr(ctx, path),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Listxattr, path, ctx, |lua, f| {
                let v = first(call_protected(lua, f, Self::path_value(lua, path)?)?)?;
                let Value::Table(t) = &v else {
                    return Err(bad_result("listxattr", "array of strings", &v));
                };
                let mut names = Vec::new();
                for item in t.clone().sequence_values::<Value>() {
                    match item? {
                        Value::String(s) => {
                            names.push(OsStr::from_bytes(&s.as_bytes()).to_os_string())
                        }
                        _ => return Err(bad_result("listxattr", "array of strings", &v)),
                    }
                }
                Ok(names)
            }),
        }
    }

    fn removexattr(&self, ctx: &RequestContext, path: P, name: &OsStr) -> OpResult<()> {
        match self.route(Op::Removexattr) {
            Route::Native(b) => b.removexattr(ctx, path, name),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Removexattr,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?, Self::name_value(lua, name)?),
            ),
        }
    }

    fn access(&self, ctx: &RequestContext, path: P, mask: i32) -> OpResult<()> {
        match self.route(Op::Access) {
            Route::Native(b) => b.access(ctx, path, mask),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Access,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?, mask),
            ),
        }
    }

    fn getlk(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        match self.route(Op::Lock) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| {
                b.getlk(ctx, path, nfh, owner, lock)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Lock, path, ctx, |lua, f| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("lock_owner", owner as i64)?;
                let v = first(call_protected(
                    lua,
                    f,
                    (
                        Self::path_value(lua, path)?,
                        fi,
                        "getlk",
                        lock_to_lua(lua, &lock)?,
                    ),
                )?)?;
                match v {
                    Value::Nil => Ok(FileLock {
                        typ: libc::F_UNLCK,
                        ..lock
                    }),
                    v @ Value::Table(_) => Ok(lock_from_lua(&v, lock)),
                    other => Err(bad_result("lock", "table", &other)),
                }
            }),
        }
    }

    fn setlk(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        owner: u64,
        lock: FileLock,
        sleep: bool,
    ) -> OpResult<()> {
        match self.route(Op::Lock) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| b.setlk(ctx, path, nfh, owner, lock, sleep)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Lock, path, ctx, |lua| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("lock_owner", owner as i64)?;
                args!(lua; Self::path_value(lua, path)?, fi, if sleep { "setlkw" } else { "setlk" }, lock_to_lua(lua, &lock)?)
            }),
        }
    }

    fn flock(&self, ctx: &RequestContext, path: P, fh: Fh, owner: u64, op: i32) -> OpResult<()> {
        match self.route(Op::Flock) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| {
                b.flock(ctx, path, nfh, owner, op)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Flock,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?, self.file_info(lua, fh)?, op),
            ),
        }
    }

    fn fallocate(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        mode: i32,
        offset: u64,
        length: u64,
    ) -> OpResult<()> {
        match self.route(Op::Fallocate) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| b.fallocate(ctx, path, nfh, mode, offset, length)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Fallocate, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, mode, offset as i64, length as i64, self.file_info(lua, fh)?)
            }),
        }
    }

    fn lseek(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        match self.route(Op::Lseek) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, false, |nfh| {
                b.lseek(ctx, path, nfh, offset, whence)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Lseek, path, ctx, |lua, f| {
                let whence = match whence {
                    libc::SEEK_DATA => "data",
                    libc::SEEK_HOLE => "hole",
                    libc::SEEK_END => "end",
                    libc::SEEK_CUR => "cur",
                    _ => "set",
                };
                let v = first(call_protected(
                    lua,
                    f,
                    (
                        Self::path_value(lua, path)?,
                        offset,
                        whence,
                        self.file_info(lua, fh)?,
                    ),
                )?)?;
                Ok(expect_count("lseek", v)? as i64)
            }),
        }
    }

    fn copy_file_range(
        &self,
        ctx: &RequestContext,
        path_in: P,
        fh_in: Fh,
        offset_in: u64,
        path_out: P,
        fh_out: Fh,
        offset_out: u64,
        len: u64,
        flags: u32,
    ) -> OpResult<u64> {
        match self.route(Op::CopyFileRange) {
            Route::Native(b) => match (self.native_handle(fh_in, b), self.native_handle(fh_out, b)) {
                (Some(i), Some(o)) => b.copy_file_range(ctx, path_in, Fh(i.fh), offset_in, path_out, Fh(o.fh), offset_out, len, flags),
                // The kernel falls back to read + write.
                _ => Err(Errno::ENOSYS),
            },
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::CopyFileRange, path_in, ctx, |lua, f| {
                let v = first(call_protected(
                    lua,
                    f,
                    args!(lua;
                        Self::path_value(lua, path_in)?, self.file_info(lua, fh_in)?, offset_in as i64,
                        Self::path_value(lua, path_out)?, self.file_info(lua, fh_out)?, offset_out as i64,
                        len as i64, flags)?,
                )?)?;
                expect_count("copy_file_range", v)
            }),
        }
    }
}
