//! Locks: POSIX record locks (getlk, setlk, both through the `lock` handler) and
//! flock — handler calls, native functions, and lock tables in both directions.

use mlua::{Lua, Table, Value};

use super::native_args::{answer, arg, ctx, handle_of, int_arg, lock_owner_of, path_arg, Raw};
use super::{args, call_unit, P};
use crate::errno::Errno;
use crate::lua::call::{bad_result, call_protected, first};
use crate::lua::filesystem::LuaFilesystem;
use crate::lua::handles::HandleKind;
use crate::op::Op;
use crate::operations::{Fh, FileLock, LockOps, OpResult, RequestContext};

impl LockOps for LuaFilesystem {
    fn getlk(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        owner: u64,
        lock: FileLock,
    ) -> OpResult<FileLock> {
        self.dispatch_on(
            Op::Lock,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.getlk(ctx, path, nfh, owner, lock),
            |lua, f| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("lock_owner", owner as i64)?;
                let p = Self::path_value(lua, path)?;
                let v = first(call_protected(
                    lua,
                    f,
                    (p, fi, "getlk", lock_to_lua(lua, &lock)?),
                )?)?;
                match v {
                    Value::Nil => Ok(FileLock {
                        typ: libc::F_UNLCK,
                        ..lock
                    }),
                    v @ Value::Table(_) => Ok(lock_from_lua(&v, lock)),
                    other => Err(bad_result("lock", "table", &other)),
                }
            },
        )
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
        self.dispatch_on(
            Op::Lock,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.setlk(ctx, path, nfh, owner, lock, sleep),
            |lua, f| {
                let fi = self.file_info(lua, fh)?;
                fi.raw_set("lock_owner", owner as i64)?;
                let cmd = if sleep { "setlkw" } else { "setlk" };
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, fi, cmd, lock_to_lua(lua, &lock)?),
                )
            },
        )
    }

    fn flock(&self, ctx: &RequestContext, path: P, fh: Fh, owner: u64, op: i32) -> OpResult<()> {
        self.dispatch_on(
            Op::Flock,
            path,
            ctx,
            fh,
            HandleKind::File,
            |b, nfh| b.flock(ctx, path, nfh, owner, op),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, self.file_info(lua, fh)?, op),
                )
            },
        )
    }
}

/// `base.lock(path, fi, cmd, lock)` and `base.flock(path, fi, op)`: the backend's locks
/// from Lua, on the handle in `fi.fh`.
pub(super) fn natives() -> Vec<(Op, Raw)> {
    vec![
        (Op::Lock, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Some(h) = handle_of(&arg(&a, 1)) else {
                return answer::<()>(lua, Err(Errno::EBADF));
            };
            let cmd = arg(&a, 2).to_string().unwrap_or_default();
            let whole = FileLock {
                start: 0,
                end: i64::MAX as u64,
                typ: libc::F_UNLCK,
                pid: 0,
            };
            let lock = lock_from_lua(&arg(&a, 3), whole);
            let owner = lock_owner_of(&arg(&a, 1));
            let c = ctx(lua);
            match cmd.as_str() {
                "getlk" => match b.getlk(&c, &p, Fh(h.fh), owner, lock) {
                    Ok(l) => answer(lua, Ok(lock_to_lua(lua, &l)?)),
                    Err(e) => answer::<()>(lua, Err(e)),
                },
                "setlkw" => answer(lua, b.setlk(&c, &p, Fh(h.fh), owner, lock, true)),
                _ => answer(lua, b.setlk(&c, &p, Fh(h.fh), owner, lock, false)),
            }
        }),
        (Op::Flock, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Some(h) = handle_of(&arg(&a, 1)) else {
                return answer::<()>(lua, Err(Errno::EBADF));
            };
            let op = int_arg(&arg(&a, 2), "op").unwrap_or(libc::LOCK_UN as i64) as i32;
            answer(
                lua,
                b.flock(&ctx(lua), &p, Fh(h.fh), lock_owner_of(&arg(&a, 1)), op),
            )
        }),
    ]
}

/// A lock table (`{type='rdlck'|'wrlck'|'unlck', start=, ['end']=, pid=}`; `'read'`
/// and `'write'` are accepted too); fields left out come from `default`.
pub fn lock_from_lua(v: &Value, default: FileLock) -> FileLock {
    let Value::Table(t) = v else { return default };
    let get = |k: &str| t.get::<Option<i64>>(k).ok().flatten();
    let typ = match t.get::<Option<String>>("type").ok().flatten().as_deref() {
        Some("rdlck") | Some("read") => libc::F_RDLCK,
        Some("wrlck") | Some("write") => libc::F_WRLCK,
        Some(_) => libc::F_UNLCK,
        None => default.typ,
    };
    FileLock {
        start: get("start").map(|n| n as u64).unwrap_or(default.start),
        end: get("end").map(|n| n as u64).unwrap_or(default.end),
        typ,
        pid: get("pid").map(|n| n as u32).unwrap_or(default.pid),
    }
}

pub fn lock_to_lua(lua: &Lua, l: &FileLock) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let typ = match l.typ {
        libc::F_RDLCK => "rdlck",
        libc::F_WRLCK => "wrlck",
        _ => "unlck",
    };
    t.raw_set("type", typ)?;
    t.raw_set("start", l.start as i64)?;
    t.raw_set("end", l.end as i64)?;
    t.raw_set("pid", l.pid)?;
    Ok(t)
}
