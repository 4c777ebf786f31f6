//! Names: readlink, mknod, mkdir, unlink, rmdir, symlink, rename and link — handler
//! calls and native functions.

use mlua::Value;

use super::native_args::{answer, arg, ctx, int_arg, path_arg, Raw};
use super::{args, call_unit, P};
use crate::lua::call::{call_protected, expect_bytes, first};
use crate::lua::filesystem::LuaFilesystem;
use crate::lua::sets::{bits_from_lua, bits_to_lua, mode_from_lua, mode_to_lua};
use crate::op::Op;
use crate::operations::{Fh, NameOps, OpResult, RequestContext};

/// Rename flag names as handlers receive them.
pub const RENAME_FLAGS: &[(&str, u64)] = &[
    ("noreplace", libc::RENAME_NOREPLACE as u64),
    ("exchange", libc::RENAME_EXCHANGE as u64),
    ("whiteout", libc::RENAME_WHITEOUT as u64),
];

impl NameOps for LuaFilesystem {
    fn readlink(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<u8>> {
        self.dispatch(
            Op::Readlink,
            path,
            ctx,
            |b| b.readlink(ctx, path),
            |lua, f| {
                let p = Self::path_value(lua, path)?;
                let v = first(call_protected(lua, f, (p, libc::PATH_MAX))?)?;
                expect_bytes("readlink", v)
            },
        )
    }

    fn mknod(&self, ctx: &RequestContext, path: P, mode: u32, rdev: u64) -> OpResult<()> {
        self.dispatch(
            Op::Mknod,
            path,
            ctx,
            |b| b.mknod(ctx, path, mode, rdev),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, mode_to_lua(lua, mode)?, rdev as i64),
                )
            },
        )
    }

    fn mkdir(&self, ctx: &RequestContext, path: P, mode: u32) -> OpResult<()> {
        self.dispatch(
            Op::Mkdir,
            path,
            ctx,
            |b| b.mkdir(ctx, path, mode),
            |lua, f| {
                let mode = mode_to_lua(lua, libc::S_IFDIR | (mode & 0o7777))?;
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, mode))
            },
        )
    }

    fn unlink(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
        self.dispatch(
            Op::Unlink,
            path,
            ctx,
            |b| b.unlink(ctx, path),
            |lua, f| call_unit(lua, f, args!(lua; Self::path_value(lua, path)?)),
        )
    }

    fn rmdir(&self, ctx: &RequestContext, path: P) -> OpResult<()> {
        self.dispatch(
            Op::Rmdir,
            path,
            ctx,
            |b| b.rmdir(ctx, path),
            |lua, f| call_unit(lua, f, args!(lua; Self::path_value(lua, path)?)),
        )
    }

    fn symlink(&self, ctx: &RequestContext, target: P, path: P) -> OpResult<()> {
        self.dispatch(
            Op::Symlink,
            path,
            ctx,
            |b| b.symlink(ctx, target, path),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, target)?, Self::path_value(lua, path)?),
                )
            },
        )
    }

    fn rename(&self, ctx: &RequestContext, from: P, to: P, flags: u32) -> OpResult<()> {
        self.dispatch(
            Op::Rename,
            from,
            ctx,
            |b| b.rename(ctx, from, to, flags),
            |lua, f| {
                let flags = if flags == 0 {
                    Value::Nil
                } else {
                    Value::Table(bits_to_lua(lua, flags as u64, RENAME_FLAGS)?)
                };
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, from)?, Self::path_value(lua, to)?, flags),
                )
            },
        )
    }

    /// Only a native link can name a nameless file: a Lua link handler takes paths.
    fn link_open(&self, ctx: &RequestContext, fh: Fh, to: P) -> OpResult<()> {
        match self.handlers().route(Op::Link).clone() {
            crate::lua::Route::Native(b) => self.native_io(
                &b,
                ctx,
                to,
                fh,
                crate::lua::handles::HandleKind::File,
                |b, nfh| b.link_open(ctx, nfh, to),
            ),
            _ => Err(crate::errno::Errno::ENOSYS),
        }
    }

    fn link(&self, ctx: &RequestContext, from: P, to: P) -> OpResult<()> {
        self.dispatch(
            Op::Link,
            from,
            ctx,
            |b| b.link(ctx, from, to),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, from)?, Self::path_value(lua, to)?),
                )
            },
        )
    }
}

/// `base.mkdir(path, mode)` and friends: the backend's name operations from Lua.
pub(super) fn natives() -> Vec<(Op, Raw)> {
    vec![
        (Op::Readlink, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            match b.readlink(&ctx(lua), &p) {
                Ok(target) => answer(lua, Ok(lua.create_string(target)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        (Op::Mknod, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let rdev = int_arg(&arg(&a, 2), "rdev").unwrap_or(0) as u64;
            answer(lua, b.mknod(&ctx(lua), &p, mode, rdev))
        }),
        (Op::Mkdir, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            answer(lua, b.mkdir(&ctx(lua), &p, mode))
        }),
        (Op::Unlink, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            answer(lua, b.unlink(&ctx(lua), &p))
        }),
        (Op::Rmdir, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            answer(lua, b.rmdir(&ctx(lua), &p))
        }),
        (Op::Symlink, |lua, b, a| {
            let target = path_arg(&arg(&a, 0), "target")?;
            let p = path_arg(&arg(&a, 1), "path")?;
            answer(lua, b.symlink(&ctx(lua), &target, &p))
        }),
        (Op::Rename, |lua, b, a| {
            let from = path_arg(&arg(&a, 0), "old")?;
            let to = path_arg(&arg(&a, 1), "new")?;
            let flags = bits_from_lua(&arg(&a, 2), RENAME_FLAGS) as u32;
            answer(lua, b.rename(&ctx(lua), &from, &to, flags))
        }),
        (Op::Link, |lua, b, a| {
            let from = path_arg(&arg(&a, 0), "old")?;
            let to = path_arg(&arg(&a, 1), "new")?;
            answer(lua, b.link(&ctx(lua), &from, &to))
        }),
    ]
}
