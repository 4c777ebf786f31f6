//! Attributes: getattr (and fgetattr), chmod, chown, truncate (and ftruncate),
//! utimens, statfs and access, with the stat, time and id conversions they need.

use mlua::{Lua, Value};

use super::calling::{args, P};
use crate::errno::Errno;
use crate::lua::call::{bad_result, call_protected, first, HandlerError};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::sets::mode_to_lua;
use crate::lua::stat::{stat_from_lua, statfs_from_lua};
use crate::lua::time::timespec_to_lua;
use crate::operations::{Fh, OpResult, RequestContext};
use crate::stat::{Stat, StatFs};
use crate::time::{TimeSet, Timespec};

impl LuaFilesystem {
    fn stat_result(&self, op: Op, v: Value) -> Result<Stat, HandlerError> {
        match &v {
            Value::Table(_) => stat_from_lua(&v, &self.defaults).map_err(|e| {
                HandlerError::BadResult(format!("bad result #1 from '{}' ({e})", op.name()))
            }),
            other => Err(bad_result(op.name(), "table", other)),
        }
    }

    fn fi_value(&self, lua: &Lua, fh: Option<Fh>) -> mlua::Result<Value> {
        Ok(match fh {
            Some(fh) => Value::Table(self.file_info(lua, fh)?),
            None => Value::Nil,
        })
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

impl LuaFilesystem {
    pub(super) fn do_getattr(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Option<Fh>,
    ) -> OpResult<Stat> {
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

    pub(super) fn do_chmod(
        &self,
        ctx: &RequestContext,
        path: P,
        mode: u32,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        match self.route(Op::Chmod) {
            Route::Native(b) => b.chmod(ctx, path, mode, self.native_fh(b, fh)),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(Op::Chmod, path, ctx, |lua| {
                args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, mode)?, self.fi_value(lua, fh)?)
            }),
        }
    }

    pub(super) fn do_chown(
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

    pub(super) fn do_truncate(
        &self,
        ctx: &RequestContext,
        path: P,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
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

    pub(super) fn do_utimens(
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

    pub(super) fn do_statfs(&self, ctx: &RequestContext, path: P) -> OpResult<StatFs> {
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

    pub(super) fn do_access(&self, ctx: &RequestContext, path: P, mask: i32) -> OpResult<()> {
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
}
