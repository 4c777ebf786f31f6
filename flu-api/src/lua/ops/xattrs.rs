//! Extended attributes: setxattr, getxattr, listxattr and removexattr — handler calls
//! and native functions.
//!
//! Handlers get Flu's arguments and a trailing `fi`: `nil` usually (the kernel sends no
//! handle with xattr requests), the open file's or directory's `fi` when the daemon
//! serves a node whose name was removed or replaced while open. A Flu handler ignores
//! it (it then sees the path the node last had); `base.*xattr(..., fi)` acts on the
//! open handle.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use mlua::Value;

use super::native_args::{answer, arg, ctx, handle_of, path_arg, Raw};
use super::{args, call_unit, P};
use crate::errno::Errno;
use crate::lua::call::{bad_result, call_protected, expect_bytes, first, HandlerError};
use crate::lua::filesystem::LuaFilesystem;
use crate::lua::sets::{bits_from_lua, bits_to_lua};
use crate::op::Op;
use crate::operations::{Fh, OpResult, RequestContext, XattrOps};

/// xattr flag names as handlers receive them.
pub const XATTR_FLAGS: &[(&str, u64)] = &[
    ("create", libc::XATTR_CREATE as u64),
    ("replace", libc::XATTR_REPLACE as u64),
];

impl XattrOps for LuaFilesystem {
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.dispatch(
            Op::Setxattr,
            path,
            ctx,
            |b| b.setxattr(ctx, path, name, value, flags, self.native_fh(b, fh)),
            |lua, f| {
                let flags = bits_to_lua(lua, flags as u64, XATTR_FLAGS)?;
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, Self::name_value(lua, name)?, lua.create_string(value)?, flags, self.fi_value(lua, fh)?))
            },
        )
    }

    fn getxattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        self.dispatch(
            Op::Getxattr,
            path,
            ctx,
            |b| b.getxattr(ctx, path, name, self.native_fh(b, fh)),
            |lua, f| {
                let v = first(call_protected(
                    lua,
                    f,
                    (
                        Self::path_value(lua, path)?,
                        Self::name_value(lua, name)?,
                        self.fi_value(lua, fh)?,
                    ),
                )?)?;
                // A missing attribute may be reported by returning nothing.
                if v.is_nil() {
                    return Err(HandlerError::Errno(Errno::ENODATA));
                }
                expect_bytes("getxattr", v)
            },
        )
    }

    fn listxattr(&self, ctx: &RequestContext, path: P, fh: Option<Fh>) -> OpResult<Vec<OsString>> {
        self.dispatch(
            Op::Listxattr,
            path,
            ctx,
            |b| b.listxattr(ctx, path, self.native_fh(b, fh)),
            |lua, f| {
                let v = first(call_protected(
                    lua,
                    f,
                    (Self::path_value(lua, path)?, self.fi_value(lua, fh)?),
                )?)?;
                let Value::Table(t) = &v else {
                    return Err(bad_result("listxattr", "array of strings", &v));
                };
                let mut names = Vec::new();
                for item in t.clone().sequence_values::<Value>() {
                    match item? {
                        Value::String(s) => {
                            let name = s.as_bytes();
                            // The kernel's list is NUL-separated: such a name would corrupt it.
                            if name.is_empty() || name.contains(&0) {
                                return Err(HandlerError::BadResult(format!(
                                    "bad result #1 from 'listxattr' (an xattr name cannot be empty or contain NUL: {:?})",
                                    String::from_utf8_lossy(&name)
                                )));
                            }
                            names.push(OsStr::from_bytes(&name).to_os_string())
                        }
                        _ => return Err(bad_result("listxattr", "array of strings", &v)),
                    }
                }
                Ok(names)
            },
        )
    }

    fn removexattr(
        &self,
        ctx: &RequestContext,
        path: P,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        self.dispatch(
            Op::Removexattr,
            path,
            ctx,
            |b| b.removexattr(ctx, path, name, self.native_fh(b, fh)),
            |lua, f| {
                call_unit(
                    lua,
                    f,
                    args!(lua; Self::path_value(lua, path)?, Self::name_value(lua, name)?, self.fi_value(lua, fh)?),
                )
            },
        )
    }
}

/// `base.getxattr(path, name[, fi])` and friends: the backend's xattr operations from
/// Lua; an `fi` with a native handle acts on that open file or directory.
pub(super) fn natives() -> Vec<(Op, Raw)> {
    vec![
        (Op::Setxattr, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            let Value::String(value) = arg(&a, 2) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'value' (string expected)",
                ));
            };
            let flags = bits_from_lua(&arg(&a, 3), XATTR_FLAGS) as i32;
            let fh = handle_of(&arg(&a, 4)).map(|h| Fh(h.fh));
            answer(
                lua,
                b.setxattr(
                    &ctx(lua),
                    &p,
                    name.as_os_str(),
                    &value.as_bytes(),
                    flags,
                    fh,
                ),
            )
        }),
        (Op::Getxattr, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            match b.getxattr(&ctx(lua), &p, name.as_os_str(), fh) {
                Ok(v) => answer(lua, Ok(lua.create_string(v)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        (Op::Listxattr, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fh = handle_of(&arg(&a, 1)).map(|h| Fh(h.fh));
            match b.listxattr(&ctx(lua), &p, fh) {
                Ok(names) => {
                    let t = lua.create_table()?;
                    for n in names {
                        t.raw_push(lua.create_string(n.as_bytes())?)?;
                    }
                    answer(lua, Ok(t))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        (Op::Removexattr, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.removexattr(&ctx(lua), &p, name.as_os_str(), fh))
        }),
    ]
}
