//! Native backends seen from Lua: `flu.passthrough(root)` returns a table of functions
//! implemented in Rust over an `Operations` backend. Overrides call them like any
//! handler (`base.read(path, size, offset, fi)`); errors are raised as errno values.
//! Each operation's function is written beside its handler call, in the file of its
//! trait; this file collects them into the table.
//!
//! Each function is recorded in the `NativeRegistry`, so that when a filesystem table
//! still holds the backend's own function for an operation, the dispatcher calls the
//! backend directly and Lua is not entered at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mlua::{Function, Lua, MultiValue, Table};

use super::native_args::Raw;

use crate::op::Op;
use crate::operations::Operations;

/// A native function's handler and backend, and the function itself: holding it keeps
/// its address from being reused by a Lua function made later (after a reload drops
/// the old table), which would otherwise be taken for this native one.
type NativeEntry = (Op, Arc<dyn Operations>, Function);

/// Native functions by identity: Lua function pointer → (handler name, backend).
#[derive(Clone, Default)]
pub struct NativeRegistry {
    functions: Arc<Mutex<HashMap<usize, NativeEntry>>>,
}

impl NativeRegistry {
    fn record(&self, f: &Function, op: Op, backend: Arc<dyn Operations>) {
        let mut map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(f.to_pointer() as usize, (op, backend, f.clone()));
    }

    /// Every backend whose functions were made in this Lua state, once each.
    pub fn backends(&self) -> Vec<Arc<dyn Operations>> {
        let map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<Arc<dyn Operations>> = Vec::new();
        for (_, b, _) in map.values() {
            if !all.iter().any(|a| Arc::ptr_eq(a, b)) {
                all.push(b.clone());
            }
        }
        all
    }

    /// The backend when `f` is its own function for handler `op`.
    pub fn lookup(&self, f: &Function, op: Op) -> Option<Arc<dyn Operations>> {
        let map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&(f.to_pointer() as usize)) {
            Some((own, backend, _)) if *own == op => Some(backend.clone()),
            _ => None,
        }
    }
}

/// The functions of a native handler table, by handler.
fn raw_functions() -> Vec<(Op, Raw)> {
    let mut functions = super::attrs::natives();
    functions.extend(super::names::natives());
    functions.extend(super::files::natives());
    functions.extend(super::dirs::natives());
    functions.extend(super::xattrs::natives());
    functions.extend(super::locks::natives());
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
        .set_name(crate::lua::stat_handoff::SHIM_CHUNK)
        .eval()?;
    lua.set_named_registry_value(KEY, &f)?;
    Ok(f)
}

/// A handler table whose every function is `backend`'s own.
pub fn native_table(lua: &Lua, backend: Arc<dyn Operations>) -> mlua::Result<Table> {
    native_table_of(lua, backend, raw_functions())
}

/// `native_table` with `init` and `destroy` too: for a backend made of others (a
/// composition), whose parts must be told when the mount starts and ends.
pub fn native_table_with_lifecycle(lua: &Lua, backend: Arc<dyn Operations>) -> mlua::Result<Table> {
    let mut functions = raw_functions();
    functions.extend(super::lifecycle::natives());
    native_table_of(lua, backend, functions)
}

fn native_table_of(
    lua: &Lua,
    backend: Arc<dyn Operations>,
    functions: Vec<(Op, Raw)>,
) -> mlua::Result<Table> {
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
    for (op, raw) in functions {
        let b = backend.clone();
        let raw_fn = lua.create_function(move |lua, args: MultiValue| raw(lua, &b, args))?;
        let f: Function = wrap.call(raw_fn)?;
        registry.record(&f, op, backend.clone());
        table.raw_set(op.name(), f)?;
    }
    Ok(table)
}
