//! Locks: POSIX record locks (getlk, setlk, both through the `lock` handler) and
//! flock.

use mlua::Value;

use super::calling::{args, P};
use crate::errno::Errno;
use crate::lua::call::{bad_result, call_protected, first};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::native::{lock_from_lua, lock_to_lua};
use crate::operations::{Fh, FileLock, OpResult, RequestContext};

impl LuaFilesystem {
    pub(super) fn do_getlk(
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

    pub(super) fn do_setlk(
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

    pub(super) fn do_flock(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        owner: u64,
        op: i32,
    ) -> OpResult<()> {
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
}
