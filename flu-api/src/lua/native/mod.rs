//! Native backends seen from Lua: `flu.passthrough(root)` returns a table of functions
//! implemented in Rust over an `Operations` backend. Overrides call them like any
//! handler (`base.read(path, size, offset, fi)`); errors are raised as errno values.
//!
//! Each function is recorded in the `NativeRegistry`, so that when a filesystem table
//! still holds the backend's own function for an operation, the dispatcher calls the
//! backend directly and Lua is not entered at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use super::errno::LuaErrno;
use crate::operations::{OpResult, Operations};

mod args;
mod open_files;
mod paths;

pub use args::{lock_from_lua, lock_to_lua};

/// A native function's handler name and backend.
type NativeEntry = (&'static str, Arc<dyn Operations>);

/// Native functions by identity: Lua function pointer → (handler name, backend).
#[derive(Clone, Default)]
pub struct NativeRegistry {
    functions: Arc<Mutex<HashMap<usize, NativeEntry>>>,
}

impl NativeRegistry {
    fn record(&self, f: &Function, op: &'static str, backend: Arc<dyn Operations>) {
        let mut map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(f.to_pointer() as usize, (op, backend));
    }

    /// The backend when `f` is its own function for handler `op`.
    pub fn lookup(&self, f: &Function, op: &str) -> Option<Arc<dyn Operations>> {
        let map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&(f.to_pointer() as usize)) {
            Some((name, backend)) if *name == op => Some(backend.clone()),
            _ => None,
        }
    }
}

/// Rename flag names as handlers receive them.
pub const RENAME_FLAGS: &[(&str, u64)] = &[
    ("noreplace", libc::RENAME_NOREPLACE as u64),
    ("exchange", libc::RENAME_EXCHANGE as u64),
    ("whiteout", libc::RENAME_WHITEOUT as u64),
];

/// xattr flag names as handlers receive them.
pub const XATTR_FLAGS: &[(&str, u64)] = &[
    ("create", libc::XATTR_CREATE as u64),
    ("replace", libc::XATTR_REPLACE as u64),
];

/// `(true, results…)` or `(false, errno)`: the shim raises the errno.
fn answer<T: IntoLuaMulti>(lua: &Lua, r: OpResult<T>) -> mlua::Result<MultiValue> {
    match r {
        Ok(v) => {
            let mut mv = v.into_lua_multi(lua)?;
            mv.push_front(Value::Boolean(true));
            Ok(mv)
        }
        Err(e) => (false, LuaErrno(e)).into_lua_multi(lua),
    }
}

type Raw = fn(&Lua, &Arc<dyn Operations>, MultiValue) -> mlua::Result<MultiValue>;

/// The functions of a native handler table, by handler name.
fn raw_functions() -> Vec<(&'static str, Raw)> {
    let mut functions = paths::raw_functions();
    functions.extend(open_files::raw_functions());
    functions
}

/// The Lua shim that turns `(false, errno)` into a raised errno.
fn raising_wrapper(lua: &Lua) -> mlua::Result<Function> {
    const KEY: &str = "flu.native_wrapper";
    if let Ok(f) = lua.named_registry_value::<Function>(KEY) {
        return Ok(f);
    }
    let f: Function = lua
        .load(
            r#"
            local error = error
            local function check(ok, ...)
              if ok then return ... end
              error((...), 0)
            end
            return function(raw)
              return function(...) return check(raw(...)) end
            end
            "#,
        )
        .set_name("=flu.native")
        .eval()?;
    lua.set_named_registry_value(KEY, &f)?;
    Ok(f)
}

/// A handler table whose every function is `backend`'s own.
pub fn native_table(lua: &Lua, backend: Arc<dyn Operations>) -> mlua::Result<Table> {
    let registry = match lua.app_data_ref::<NativeRegistry>() {
        Some(r) => r.clone(),
        None => {
            let r = NativeRegistry::default();
            lua.set_app_data(r.clone());
            r
        }
    };
    let wrap = raising_wrapper(lua)?;
    let table = lua.create_table()?;
    for (name, raw) in raw_functions() {
        let b = backend.clone();
        let raw_fn = lua.create_function(move |lua, args: MultiValue| raw(lua, &b, args))?;
        let f: Function = wrap.call(raw_fn)?;
        registry.record(&f, name, backend.clone());
        table.raw_set(name, f)?;
    }
    Ok(table)
}
