//! The operation traits for `LuaFilesystem`, one file per trait, each holding both
//! directions of its Lua binding: the impl that calls a script's handlers (arguments
//! converted to the handler's Lua signature, DESIGN 3.2, and results back), and the
//! native functions of `flu.passthrough(root)` for the same operations (Lua arguments
//! to a Rust backend call, and its result back to Lua).
//!
//! Shared by them: `dispatch` (in `filesystem.rs`) routes each call; `slots` keeps open
//! handles; `native` builds the native handler tables; `native_args` reads the arguments
//! of native functions.

use std::path::Path;

use mlua::{Function, Lua, MultiValue};

use crate::lua::call::{call_protected, expect_unit, HandlerError};

mod attrs;
mod dirs;
mod files;
#[cfg(test)]
mod fuzz_tests;
mod lifecycle;
mod locks;
mod names;
mod native;
mod native_args;
mod slots;
mod xattrs;

pub use native::{native_table, native_table_with_lifecycle, NativeRegistry};

type P<'a> = &'a Path;

/// A handler's argument list from Rust values.
macro_rules! args {
    ($lua:expr; $($v:expr),* $(,)?) => {{
        use mlua::IntoLuaMulti;
        ($($v,)*).into_lua_multi($lua)
    }};
}
use args;

/// Call a handler that returns nothing meaningful.
fn call_unit(lua: &Lua, f: &Function, args: mlua::Result<MultiValue>) -> Result<(), HandlerError> {
    expect_unit(call_protected(lua, f, args?)?)
}
