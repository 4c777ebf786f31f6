//! Calling a Lua handler that returns nothing (`unit`), the `args!` macro that builds
//! a handler's argument list, and `P`, the path type every operation takes.

use std::path::Path;

use mlua::Lua;

use crate::lua::call::{call_protected, expect_unit};
use crate::lua::dispatch::{LuaFilesystem, Op};
use crate::operations::{OpResult, RequestContext};

pub(super) type P<'a> = &'a Path;

macro_rules! args {
    ($lua:expr; $($v:expr),* $(,)?) => {{
        use mlua::IntoLuaMulti;
        ($($v,)*).into_lua_multi($lua)
    }};
}
pub(super) use args;

impl LuaFilesystem {
    /// Call a handler that returns nothing.
    pub(super) fn unit(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        args: impl FnOnce(&Lua) -> mlua::Result<mlua::MultiValue>,
    ) -> OpResult<()> {
        self.with_lua(op, path, ctx, |lua, f| {
            expect_unit(call_protected(lua, f, args(lua)?)?)
        })
    }
}
