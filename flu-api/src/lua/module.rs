//! The `flu` module (`require 'flu'`): `flu.main`, `flu.errno`, `flu.get_context`,
//! `flu.log`, `flu.passthrough`, `flu.union` (`union.rs`), `flu.fs`, mode helpers and
//! version fields; for live filesystems `flu.notify`, `flu.after`/`flu.every` and
//! `flu.state` (a table that survives reloads: the module is made once per Lua state);
//! for slow data sources `flu.sleep`, `flu.exec`, `flu.http` and `flu.spawn` (`pending`).

use std::sync::Arc;

use mlua::{Lua, MultiValue, Table, Value};

use super::errno::{create_errno_table, errno_of_value};
use super::ops::native_table;
use super::sets::{mode_from_lua, mode_to_lua};
use crate::operations::Operations;

/// Where `flu.passthrough(root[, opts])` gets its backend: the native passthrough, or
/// a stand-in in tests.
pub type BackendFactory = fn(&Lua, &[u8], &Value) -> Result<Arc<dyn Operations>, String>;

/// The value `flu.main` yields to the loader with, so the loader knows it is the call.
pub const MAIN_TOKEN: &str = "flu.main";

fn log_line(args: &MultiValue) -> String {
    args.iter()
        .map(|v| match v {
            Value::String(s) => s.to_string_lossy(),
            other => other.to_string().unwrap_or_else(|_| format!("{other:?}")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn create_log_table(lua: &Lua) -> mlua::Result<Table> {
    let log = lua.create_table()?;
    log.set(
        "trace",
        lua.create_function(|_, a: MultiValue| {
            tracing::trace!(target: "flu::script", "{}", log_line(&a));
            Ok(())
        })?,
    )?;
    log.set(
        "debug",
        lua.create_function(|_, a: MultiValue| {
            tracing::debug!(target: "flu::script", "{}", log_line(&a));
            Ok(())
        })?,
    )?;
    log.set(
        "info",
        lua.create_function(|_, a: MultiValue| {
            tracing::info!(target: "flu::script", "{}", log_line(&a));
            Ok(())
        })?,
    )?;
    log.set(
        "warn",
        lua.create_function(|_, a: MultiValue| {
            tracing::warn!(target: "flu::script", "{}", log_line(&a));
            Ok(())
        })?,
    )?;
    log.set(
        "error",
        lua.create_function(|_, a: MultiValue| {
            tracing::error!(target: "flu::script", "{}", log_line(&a));
            Ok(())
        })?,
    )?;
    Ok(log)
}

/// Build the `flu` module table.
pub fn create_flu_module(
    lua: &Lua,
    fs_module: Table,
    passthrough: BackendFactory,
) -> mlua::Result<Table> {
    let flu = lua.create_table()?;
    // Before the script runs: the metatables and the stat reader, made once.
    super::sets::install_metatables(lua)?;
    super::stat::install_kit(lua)?;
    flu.set("errno", create_errno_table(lua)?)?;
    flu.set("VERSION", env!("CARGO_PKG_VERSION"))?;
    flu.set("FUSE_USE_VERSION", 26)?;
    flu.set("log", create_log_table(lua)?)?;
    flu.set("fs", fs_module)?;
    flu.set("notify", super::notify::create_notify_table(lua)?)?;
    flu.set("state", lua.create_table()?)?;
    super::timers::Timers::install(lua, &flu)?;
    // flu.sleep, flu.exec, flu.http.*, flu.spawn: slow work that gives the Lua lock up.
    super::pending::install(lua, &flu)?;

    flu.set(
        "get_context",
        lua.create_function(|lua, t: Option<Table>| {
            let ctx = super::caller::get(lua).unwrap_or_default();
            let t = match t {
                Some(t) => t,
                None => lua.create_table()?,
            };
            t.set("uid", ctx.uid)?;
            t.set("gid", ctx.gid)?;
            t.set("pid", ctx.pid)?;
            t.set("umask", ctx.umask)?;
            Ok(t)
        })?,
    )?;

    flu.set(
        "iserrno",
        lua.create_function(|_, v: Value| Ok(errno_of_value(&v).is_some()))?,
    )?;
    flu.set(
        "mode",
        lua.create_function(|_, v: Value| mode_from_lua(&v).map_err(mlua::Error::runtime))?,
    )?;
    flu.set(
        "modeset",
        lua.create_function(|lua, n: u32| mode_to_lua(lua, n))?,
    )?;

    flu.set(
        "passthrough",
        lua.create_function(move |lua, (root, opts): (mlua::LuaString, Value)| {
            let backend =
                passthrough(lua, &root.as_bytes(), &opts).map_err(mlua::Error::runtime)?;
            native_table(lua, backend)
        })?,
    )?;

    flu.set("compose", super::compose::function(lua)?)?;
    super::union::install(lua, &flu, passthrough)?;

    // flu.main yields to the loader, which mounts and resumes it after unmount.
    let main: mlua::Function = lua
        .load(
            r#"
            local token, yield, isyieldable, type, error = ...
            return function(argv, fs)
              if type(argv) ~= 'table' then error("bad argument #1 to 'main' (table expected, got " .. type(argv) .. ")", 2) end
              if type(fs) ~= 'table' then error("bad argument #2 to 'main' (table expected, got " .. type(fs) .. ")", 2) end
              -- In a module (`require 'luafs'`) there is nothing to mount: the table is
              -- the module's value, so Flu scripts compose (flu.compose, flu.union).
              if not isyieldable() then return fs end
              return yield(token, argv, fs)
            end
            "#,
        )
        .set_name("=flu.main")
        .call((
            MAIN_TOKEN,
            lua.globals().get::<Table>("coroutine")?.get::<mlua::Function>("yield")?,
            lua.globals().get::<Table>("coroutine")?.get::<mlua::Function>("isyieldable")?,
            lua.globals().get::<mlua::Function>("type")?,
            lua.globals().get::<mlua::Function>("error")?,
        ))?;
    flu.set("main", main)?;
    Ok(flu)
}
