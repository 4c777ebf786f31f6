//! Names: readlink, mknod, mkdir, unlink, rmdir, symlink, rename and link.

use mlua::Value;

use super::calling::{args, P};
use crate::errno::Errno;
use crate::lua::call::{call_protected, expect_bytes, first};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::native::RENAME_FLAGS;
use crate::lua::sets::{bits_to_lua, mode_to_lua};
use crate::operations::{OpResult, RequestContext};

impl LuaFilesystem {
    pub(super) fn do_readlink(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<u8>> {
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

    pub(super) fn do_mknod(
        &self,
        ctx: &RequestContext,
        path: P,
        mode: u32,
        rdev: u64,
    ) -> OpResult<()> {
        match self.route(Op::Mknod) {
            Route::Native(b) => b.mknod(ctx, path, mode, rdev),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Mknod, path, ctx, |lua| args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, mode)?, rdev as i64)),
        }
    }

    pub(super) fn do_mkdir(&self, ctx: &RequestContext, path: P, mode: u32) -> OpResult<()> {
        match self.route(Op::Mkdir) {
            Route::Native(b) => b.mkdir(ctx, path, mode),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Mkdir, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, libc::S_IFDIR | (mode & 0o7777))?)
            }),
        }
    }

    pub(super) fn do_unlink(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
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

    pub(super) fn do_rmdir(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
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

    pub(super) fn do_symlink(&self, ctx: &RequestContext, target: P, path: P) -> OpResult<()> {
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

    pub(super) fn do_rename(
        &self,
        ctx: &RequestContext,
        from: P,
        to: P,
        flags: u32,
    ) -> OpResult<()> {
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

    pub(super) fn do_link(&self, ctx: &RequestContext, from: P, to: P) -> OpResult<()> {
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
}
