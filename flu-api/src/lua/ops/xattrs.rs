//! Extended attributes: setxattr, getxattr, listxattr and removexattr.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use mlua::Value;

use super::calling::{args, P};
use crate::errno::Errno;
use crate::lua::call::{bad_result, call_protected, expect_bytes, first, HandlerError};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::native::XATTR_FLAGS;
use crate::lua::sets::bits_to_lua;
use crate::operations::{OpResult, RequestContext};

impl LuaFilesystem {
    pub(super) fn do_setxattr(
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

    pub(super) fn do_getxattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
    ) -> OpResult<Vec<u8>> {
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

    pub(super) fn do_listxattr(&self, ctx: &RequestContext, path: P) -> OpResult<Vec<OsString>> {
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

    pub(super) fn do_removexattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
    ) -> OpResult<()> {
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
}
