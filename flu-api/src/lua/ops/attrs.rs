//! Attributes: getattr (and fgetattr), chmod, chown, truncate (and ftruncate),
//! utimens, statfs and access — handler calls and native functions, with the stat,
//! time and id conversions they need.

use std::sync::Arc;

use mlua::{Lua, MultiValue, Value};

use super::native_args::{
    answer, arg, ctx, handle_of, int_arg, optional_id, path_arg, time_arg, Raw,
};
use super::{args, call_unit, P};
use crate::lua::call::{bad_result, call_protected, first, HandlerError};
use crate::lua::filesystem::LuaFilesystem;
use crate::lua::sets::{mode_from_lua, mode_to_lua};
use crate::lua::stat::{stat_from_lua, stat_to_lua, statfs_from_lua, statfs_to_lua};
use crate::lua::stat_handoff;
use crate::lua::time::timespec_to_lua;
use crate::op::Op;
use crate::operations::{AttrOps, Fh, OpResult, Operations, RequestContext};
use crate::stat::{Stat, StatFs};
use crate::time::{TimeSet, Timespec};

impl LuaFilesystem {
    /// A handler's stat result as the daemon gets it (also what `flu check` validates).
    pub(in crate::lua) fn stat_result(&self, op: Op, v: Value) -> Result<Stat, HandlerError> {
        if let Some(handed) = stat_handoff::take(&v) {
            return handed.map_err(HandlerError::Errno);
        }
        match &v {
            Value::Table(_) => stat_from_lua(&v, &self.defaults).map_err(|e| {
                HandlerError::BadResult(format!("bad result #1 from '{}' ({e})", op.name()))
            }),
            other => Err(bad_result(op.name(), "table", other)),
        }
    }

    pub(super) fn fi_value(&self, lua: &Lua, fh: Option<Fh>) -> mlua::Result<Value> {
        Ok(match fh {
            Some(fh) => Value::Table(self.file_info(lua, fh)?),
            None => Value::Nil,
        })
    }

    /// The handler for a call that may come with a handle: `with_fh` (fgetattr,
    /// ftruncate) when there is one and the script defines it.
    fn by_handle(&self, op: Op, with_fh: Op, fh: Option<Fh>) -> Op {
        if fh.is_some() && self.has(with_fh) {
            with_fh
        } else {
            op
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

impl AttrOps for LuaFilesystem {
    fn getattr(&self, ctx: &RequestContext, path: P, fh: Option<Fh>) -> OpResult<Stat> {
        let op = self.by_handle(Op::Getattr, Op::Fgetattr, fh);
        self.dispatch(
            op,
            path,
            ctx,
            |b| b.getattr(ctx, path, self.native_fh(b, fh)),
            |lua, f| {
                let p = Self::path_value(lua, path)?;
                let fi = self.fi_value(lua, fh)?;
                if op == Op::Fgetattr && self.handlers().fgetattr_fills_st {
                    // Flu 2010–2015: fgetattr(path, st, fi) fills `st`; a stat table it
                    // returns instead wins.
                    let st = lua.create_table()?;
                    let v = first(call_protected(lua, f, (p, st.clone(), fi))?)?;
                    // Nothing, `0` (C style) or `true` returned: the filled table.
                    let v = match v {
                        Value::Nil | Value::Integer(0) | Value::Boolean(true) => Value::Table(st),
                        v => v,
                    };
                    return self.stat_result(op, v);
                }
                let v = first(stat_handoff::armed(|| call_protected(lua, f, (p, fi)))?)?;
                self.stat_result(op, v)
            },
        )
    }

    fn chmod(&self, ctx: &RequestContext, path: P, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        self.dispatch(
            Op::Chmod,
            path,
            ctx,
            |b| b.chmod(ctx, path, mode, self.native_fh(b, fh)),
            |lua, f| {
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, mode)?, self.fi_value(lua, fh)?))
            },
        )
    }

    fn chown(
        &self,
        ctx: &RequestContext,
        path: P,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.dispatch(
            Op::Chown,
            path,
            ctx,
            |b| b.chown(ctx, path, uid, gid, self.native_fh(b, fh)),
            |lua, f| {
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, id_value(uid), id_value(gid), self.fi_value(lua, fh)?))
            },
        )
    }

    fn truncate(&self, ctx: &RequestContext, path: P, size: u64, fh: Option<Fh>) -> OpResult<()> {
        let op = self.by_handle(Op::Truncate, Op::Ftruncate, fh);
        self.dispatch(
            op,
            path,
            ctx,
            |b| b.truncate(ctx, path, size, self.native_fh(b, fh)),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, size as i64, self.fi_value(lua, fh)?),
                )
            },
        )
    }

    fn utimens(
        &self,
        ctx: &RequestContext,
        path: P,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.dispatch(
            Op::Utimens,
            path,
            ctx,
            |b| b.utimens(ctx, path, atime, mtime, self.native_fh(b, fh)),
            |lua, f| {
                let a = time_value(lua, atime)?;
                let m = time_value(lua, mtime)?;
                // The original Flu passed one table `{atime, mtime}`: the atime argument
                // also answers `[1]` and `[2]`, so such handlers keep working.
                if let Value::Table(t) = &a {
                    t.raw_set(1, time_value(lua, atime)?)?;
                    t.raw_set(2, m.clone())?;
                }
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, a, m, self.fi_value(lua, fh)?),
                )
            },
        )
    }

    fn statfs(&self, ctx: &RequestContext, path: P) -> OpResult<StatFs> {
        self.dispatch(
            Op::Statfs,
            path,
            ctx,
            |b| b.statfs(ctx, path),
            |lua, f| {
                let v = first(call_protected(lua, f, Self::path_value(lua, path)?)?)?;
                match &v {
                    Value::Table(_) => statfs_from_lua(&v).map_err(|e| {
                        HandlerError::BadResult(format!("bad result #1 from 'statfs' ({e})"))
                    }),
                    other => Err(bad_result("statfs", "table", other)),
                }
            },
        )
    }

    fn access(&self, ctx: &RequestContext, path: P, mask: i32) -> OpResult<()> {
        self.dispatch(
            Op::Access,
            path,
            ctx,
            |b| b.access(ctx, path, mask),
            |lua, f| call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, mask)),
        )
    }
}

/// `base.getattr(path[, fi])` and friends: the backend's attribute operations from Lua.
pub(super) fn natives() -> Vec<(Op, Raw)> {
    vec![
        (Op::Getattr, native_getattr),
        (Op::Fgetattr, native_getattr),
        (Op::Chmod, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.chmod(&ctx(lua), &p, mode & 0o7777, fh))
        }),
        (Op::Chown, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let uid = optional_id(&arg(&a, 1));
            let gid = optional_id(&arg(&a, 2));
            let fh = handle_of(&arg(&a, 3)).map(|h| Fh(h.fh));
            answer(lua, b.chown(&ctx(lua), &p, uid, gid, fh))
        }),
        (Op::Truncate, native_truncate),
        (Op::Ftruncate, native_truncate),
        (Op::Utimens, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let atime = time_arg(&arg(&a, 1))?;
            let mtime = time_arg(&arg(&a, 2))?;
            let fh = handle_of(&arg(&a, 3)).map(|h| Fh(h.fh));
            answer(lua, b.utimens(&ctx(lua), &p, atime, mtime, fh))
        }),
        (Op::Statfs, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path").unwrap_or_else(|_| "/".into());
            match b.statfs(&ctx(lua), &p) {
                Ok(s) => answer(lua, Ok(statfs_to_lua(lua, &s)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        (Op::Access, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mask = int_arg(&arg(&a, 1), "mask").unwrap_or(0) as i32;
            answer(lua, b.access(&ctx(lua), &p, mask))
        }),
    ]
}

/// `getattr(path[, fi])` and `fgetattr(path, fi)` take the same arguments.
fn native_getattr(lua: &Lua, b: &Arc<dyn Operations>, a: MultiValue) -> mlua::Result<MultiValue> {
    let p = path_arg(&arg(&a, 0), "path")?;
    let fh = handle_of(&arg(&a, 1)).map(|h| Fh(h.fh));
    let result = b.getattr(&ctx(lua), &p, fh);
    if let Some(marker) = stat_handoff::hand_off(lua, &result) {
        return answer(lua, Ok(marker));
    }
    match result {
        Ok(st) => answer(lua, Ok(stat_to_lua(lua, &st)?)),
        Err(e) => answer::<()>(lua, Err(e)),
    }
}

/// `truncate(path, size[, fi])` and `ftruncate(path, size, fi)` take the same arguments.
fn native_truncate(lua: &Lua, b: &Arc<dyn Operations>, a: MultiValue) -> mlua::Result<MultiValue> {
    let p = path_arg(&arg(&a, 0), "path")?;
    let size = int_arg(&arg(&a, 1), "size")?.max(0) as u64;
    let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
    answer(lua, b.truncate(&ctx(lua), &p, size, fh))
}
