//! Files: open, create, read, write, flush, release, fsync, fallocate, lseek and
//! copy_file_range — handler calls and native functions.

use mlua::{Lua, Value};

use super::native_args::{
    answer, arg, ctx, datasync_arg, flags_of, handle_of, int_arg, lock_owner_of, path_arg,
    with_fi_handle, Raw,
};
use super::{args, call_unit, P};
use crate::errno::Errno;
use crate::lua::call::{call_protected, expect_bytes, expect_count, first};
use crate::lua::filesystem::LuaFilesystem;
use crate::lua::handles::{HandleKind, NativeHandle};
use crate::lua::sets::mode_from_lua;
use crate::op::Op;
use crate::operations::{Fh, FileOps, OpResult, Opened, RequestContext};

impl FileOps for LuaFilesystem {
    fn open(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        self.open_slot(Op::Open, path, ctx, flags, None, |b| {
            b.open(ctx, path, flags)
        })
    }

    fn create(&self, ctx: &RequestContext, path: P, mode: u32, flags: i32) -> OpResult<Opened> {
        self.open_slot(Op::Create, path, ctx, flags, Some(mode), |b| {
            b.create(ctx, path, mode, flags)
        })
    }

    /// A nameless file is the backend's to make: only where `create` is native (a Lua
    /// create has no way to make one; the caller then gets EOPNOTSUPP).
    fn tmpfile(&self, ctx: &RequestContext, dir: P, mode: u32, flags: i32) -> OpResult<Opened> {
        match self.handlers().route(Op::Create) {
            crate::lua::Route::Native(b) => {
                let opened = b.tmpfile(ctx, dir, mode, flags)?;
                Ok(self.native_slot(b, flags, opened, false))
            }
            _ => Err(Errno::ENOSYS),
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
        self.dispatch_on(
            Op::Read,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.read(ctx, path, nfh, offset, size),
            |lua, f| {
                let fi = self.file_info(lua, fh)?;
                let p = Self::path_value(lua, path)?;
                let v = first(call_protected(lua, f, (p, size, offset as i64, fi))?)?;
                expect_bytes("read", v)
            },
        )
    }

    fn write(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        self.dispatch_on(
            Op::Write,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.write(ctx, path, nfh, offset, data),
            |lua, f| {
                let fi = self.file_info(lua, fh)?;
                let p = Self::path_value(lua, path)?;
                let v = first(call_protected(
                    lua,
                    f,
                    (p, lua.create_string(data)?, offset as i64, fi),
                )?)?;
                // A handler that returns nothing wrote everything (a common Lua idiom).
                let n = if v.is_nil() {
                    data.len() as u64
                } else {
                    expect_count("write", v)?
                };
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            },
        )
    }

    fn flush(&self, ctx: &RequestContext, path: P, fh: Fh, lock_owner: u64) -> OpResult<()> {
        self.dispatch(
            Op::Flush,
            path,
            ctx,
            // Nothing to flush on a handle the backend did not open.
            |b| match self.native_handle(fh, b) {
                Some(h) => b.flush(ctx, path, Fh(h.fh), lock_owner),
                None if self.is_unimplemented(b) => b.flush(ctx, path, fh, lock_owner),
                None => Ok(()),
            },
            |lua, f| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("lock_owner", lock_owner as i64)?;
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, fi))
            },
        )
    }

    // The slot keeps the flags the file was opened with.
    fn release(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        _flags: i32,
        flush: bool,
    ) -> OpResult<()> {
        self.release_slot(Op::Release, path, ctx, fh, |lua, f| {
            let fi = self.file_info(lua, fh)?;
            fi.raw_set("flush", flush)?;
            call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, fi))
        })
    }

    fn fsync(&self, ctx: &RequestContext, path: P, fh: Fh, datasync: bool) -> OpResult<()> {
        self.dispatch_on(
            Op::Fsync,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.fsync(ctx, path, nfh, datasync),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, datasync, self.file_info(lua, fh)?),
                )
            },
        )
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
        self.dispatch_on(
            Op::Fallocate,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.fallocate(ctx, path, nfh, mode, offset, length),
            |lua, f| {
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, mode, offset as i64, length as i64, self.file_info(lua, fh)?))
            },
        )
    }

    fn lseek(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        offset: i64,
        whence: i32,
    ) -> OpResult<i64> {
        self.dispatch_on(
            Op::Lseek,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.lseek(ctx, path, nfh, offset, whence),
            |lua, f| {
                let whence = match whence {
                    libc::SEEK_DATA => "data",
                    libc::SEEK_HOLE => "hole",
                    libc::SEEK_END => "end",
                    libc::SEEK_CUR => "cur",
                    _ => "set",
                };
                let p = Self::path_value(lua, path)?;
                let v = first(call_protected(
                    lua,
                    f,
                    (p, offset, whence, self.file_info(lua, fh)?),
                )?)?;
                Ok(expect_count("lseek", v)? as i64)
            },
        )
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
        self.dispatch(
            Op::CopyFileRange,
            path_in,
            ctx,
            |b| match (self.native_handle(fh_in, b), self.native_handle(fh_out, b)) {
                (Some(i), Some(o)) => b.copy_file_range(
                    ctx, path_in, Fh(i.fh), offset_in, path_out, Fh(o.fh), offset_out, len, flags,
                ),
                // The kernel falls back to read + write.
                _ => Err(Errno::ENOSYS),
            },
            |lua, f| {
                let v = first(call_protected(
                    lua,
                    f,
                    args!(lua;
                        Self::path_value(lua, path_in)?, self.file_info(lua, fh_in)?, offset_in as i64,
                        Self::path_value(lua, path_out)?, self.file_info(lua, fh_out)?, offset_out as i64,
                        len as i64, flags)?,
                )?)?;
                expect_count("copy_file_range", v)
            },
        )
    }
}

/// Keep a backend's open handle in `fi.fh` (and its open options in `fi`).
fn store_open(lua: &Lua, fi: &Value, opened: Opened) -> mlua::Result<()> {
    if let Value::Table(fi) = fi {
        fi.raw_set(
            "fh",
            lua.create_userdata(NativeHandle {
                fh: opened.fh,
                backing_fd: opened.backing_fd,
            })?,
        )?;
        if opened.direct_io {
            fi.raw_set("direct_io", true)?;
        }
        if opened.keep_cache {
            fi.raw_set("keep_cache", true)?;
        }
        if opened.nonseekable {
            fi.raw_set("nonseekable", true)?;
        }
    }
    Ok(())
}

/// The answer of a native open: the handle goes into `fi`.
pub(super) fn answer_open(
    lua: &Lua,
    fi: &Value,
    opened: OpResult<Opened>,
) -> mlua::Result<mlua::MultiValue> {
    match opened {
        Ok(opened) => {
            store_open(lua, fi, opened)?;
            answer(lua, Ok(()))
        }
        Err(e) => answer::<()>(lua, Err(e)),
    }
}

/// `base.open(path, fi)`, `base.read(path, size, offset, fi)` and friends: the
/// backend's file operations from Lua, on the handle in `fi.fh` (or a temporary one).
pub(super) fn natives() -> Vec<(Op, Raw)> {
    vec![
        (Op::Open, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fi = arg(&a, 1);
            answer_open(lua, &fi, b.open(&ctx(lua), &p, flags_of(&fi)))
        }),
        (Op::Create, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let fi = arg(&a, 2);
            answer_open(lua, &fi, b.create(&ctx(lua), &p, mode, flags_of(&fi)))
        }),
        (Op::Read, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let size = int_arg(&arg(&a, 1), "size")?.clamp(0, u32::MAX as i64) as u32;
            let offset = int_arg(&arg(&a, 2), "offset")?.max(0) as u64;
            let c = ctx(lua);
            let read = with_fi_handle(b, &c, &p, &arg(&a, 3), HandleKind::File, |fh| {
                b.read(&c, &p, fh, offset, size)
            });
            match read {
                Ok(data) => answer(lua, Ok(lua.create_string(data)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        (Op::Write, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Value::String(data) = arg(&a, 1) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'data' (string expected)",
                ));
            };
            let offset = int_arg(&arg(&a, 2), "offset")?.max(0) as u64;
            let c = ctx(lua);
            let bytes = data.as_bytes();
            answer(
                lua,
                with_fi_handle(b, &c, &p, &arg(&a, 3), HandleKind::File, |fh| {
                    b.write(&c, &p, fh, offset, &bytes)
                }),
            )
        }),
        (Op::Flush, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let owner = lock_owner_of(&arg(&a, 1));
            match handle_of(&arg(&a, 1)) {
                Some(h) => answer(lua, b.flush(&ctx(lua), &p, Fh(h.fh), owner)),
                None => answer(lua, Ok(())),
            }
        }),
        (Op::Release, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fi = arg(&a, 1);
            match handle_of(&fi) {
                Some(h) => answer(
                    lua,
                    b.release(&ctx(lua), &p, Fh(h.fh), flags_of(&fi), false),
                ),
                None => answer(lua, Ok(())),
            }
        }),
        (Op::Fsync, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let datasync = datasync_arg(&arg(&a, 1));
            let c = ctx(lua);
            answer(
                lua,
                with_fi_handle(b, &c, &p, &arg(&a, 2), HandleKind::File, |fh| {
                    b.fsync(&c, &p, fh, datasync)
                }),
            )
        }),
        (Op::Fallocate, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = int_arg(&arg(&a, 1), "mode").unwrap_or(0) as i32;
            let offset = int_arg(&arg(&a, 2), "offset")?.max(0) as u64;
            let length = int_arg(&arg(&a, 3), "length")?.max(0) as u64;
            let c = ctx(lua);
            answer(
                lua,
                with_fi_handle(b, &c, &p, &arg(&a, 4), HandleKind::File, |fh| {
                    b.fallocate(&c, &p, fh, mode, offset, length)
                }),
            )
        }),
        (Op::Lseek, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let offset = int_arg(&arg(&a, 1), "offset")?;
            let whence = match arg(&a, 2) {
                Value::String(s) if s.as_bytes().as_ref() == b"hole" => libc::SEEK_HOLE,
                Value::String(s) if s.as_bytes().as_ref() == b"data" => libc::SEEK_DATA,
                Value::String(s) if s.as_bytes().as_ref() == b"end" => libc::SEEK_END,
                Value::String(s) if s.as_bytes().as_ref() == b"cur" => libc::SEEK_CUR,
                Value::Integer(n) => n as i32,
                _ => libc::SEEK_SET,
            };
            let c = ctx(lua);
            answer(
                lua,
                with_fi_handle(b, &c, &p, &arg(&a, 3), HandleKind::File, |fh| {
                    b.lseek(&c, &p, fh, offset, whence)
                }),
            )
        }),
        (Op::CopyFileRange, |lua, b, a| {
            let pin = path_arg(&arg(&a, 0), "path_in")?;
            let off_in = int_arg(&arg(&a, 2), "offset_in")?.max(0) as u64;
            let pout = path_arg(&arg(&a, 3), "path_out")?;
            let off_out = int_arg(&arg(&a, 5), "offset_out")?.max(0) as u64;
            let len = int_arg(&arg(&a, 6), "len")?.max(0) as u64;
            let flags = int_arg(&arg(&a, 7), "flags").unwrap_or(0) as u32;
            let (Some(hin), Some(hout)) = (handle_of(&arg(&a, 1)), handle_of(&arg(&a, 4))) else {
                return answer::<()>(lua, Err(Errno::ENOSYS));
            };
            let copied = b.copy_file_range(
                &ctx(lua),
                &pin,
                Fh(hin.fh),
                off_in,
                &pout,
                Fh(hout.fh),
                off_out,
                len,
                flags,
            );
            answer(lua, copied)
        }),
    ]
}
