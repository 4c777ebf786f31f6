//! Files: open, create, read, write, flush, release, fsync, fallocate, lseek and
//! copy_file_range.

use super::calling::{args, P};
use crate::errno::Errno;
use crate::lua::call::{call_protected, expect_bytes, expect_count, first};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::handles::Slot;
use crate::operations::{Fh, OpResult, Opened, Operations, RequestContext};

impl LuaFilesystem {
    pub(super) fn do_open(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
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

    pub(super) fn do_create(
        &self,
        ctx: &RequestContext,
        path: P,
        mode: u32,
        flags: i32,
    ) -> OpResult<Opened> {
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

    pub(super) fn do_read(
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

    pub(super) fn do_write(
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

    pub(super) fn do_flush(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        lock_owner: u64,
    ) -> OpResult<()> {
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

    pub(super) fn do_release(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        // The slot keeps the flags the file was opened with.
        _flags: i32,
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
        result
    }

    pub(super) fn do_fsync(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        datasync: bool,
    ) -> OpResult<()> {
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

    pub(super) fn do_fallocate(
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

    pub(super) fn do_lseek(
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

    // The trait method's arguments, as they are.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn do_copy_file_range(
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
