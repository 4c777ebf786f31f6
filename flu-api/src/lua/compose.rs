//! `flu.compose{[prefix] = table, …}`: the Lua side of `crate::compose`. Each table
//! becomes a branch of a native `Composite`: a table whose every handler is one native
//! backend's own (`flu.passthrough(dir)`, another composition) is that backend, called
//! without Lua; any other handler table is a `LuaBranch`, served by the script's
//! filesystem with that table's routing. The result is a native handler table, so a
//! composition nests, is mounted as it is, or is overridden like `flu.passthrough`.

use std::sync::{Arc, Mutex, OnceLock, Weak};

use mlua::{Lua, Table, Value};

use super::filesystem::{in_branch, Handlers, LuaFilesystem};
use super::ops::native_table_with_lifecycle;
use crate::compose::{Composite, Scope, Target};
use crate::op::{Op, ServedBy};
use crate::operations::Operations;

/// A handler table mounted in a composition.
pub struct LuaBranch {
    handlers: Arc<Handlers>,
    /// The script's filesystem, once it exists (`bind_branches`).
    served_by: OnceLock<Weak<LuaFilesystem>>,
}

impl Scope for LuaBranch {
    fn run(&self, f: &mut dyn FnMut(&dyn Operations)) -> bool {
        let Some(fs) = self.served_by.get().and_then(Weak::upgrade) else {
            return false;
        };
        in_branch(&self.handlers, || f(fs.as_ref()));
        true
    }

    fn served_by(&self, op: Op) -> ServedBy {
        self.handlers.served_by(op)
    }
}

/// The Lua branches made since the script's filesystem last took them (app data).
#[derive(Clone, Default)]
struct Unbound(Arc<Mutex<Vec<Arc<LuaBranch>>>>);

impl Unbound {
    fn of(lua: &Lua) -> Unbound {
        if let Some(u) = lua.app_data_ref::<Unbound>() {
            return u.clone();
        }
        let u = Unbound::default();
        lua.set_app_data(u.clone());
        u
    }
}

/// Serve the Lua branches made so far with `fs`.
pub(super) fn bind_branches(lua: &Lua, fs: &Weak<LuaFilesystem>) {
    let branches =
        std::mem::take(&mut *Unbound::of(lua).0.lock().unwrap_or_else(|p| p.into_inner()));
    for branch in branches {
        let _ = branch.served_by.set(fs.clone());
    }
}

/// What serves handler table `table` as a branch or layer: its native backend when
/// every handler is that backend's own, else the table's Lua handlers.
pub fn target_of(lua: &Lua, table: &Table) -> mlua::Result<Target> {
    let handlers = Handlers::of(lua, table)?;
    if let Some(backend) = handlers.sole_native_backend() {
        return Ok(Target::Backend(backend));
    }
    let branch = Arc::new(LuaBranch {
        handlers: Arc::new(handlers),
        served_by: OnceLock::new(),
    });
    Unbound::of(lua)
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(branch.clone());
    Ok(Target::Scoped(branch))
}

/// `target_of` as a backend of its own, for what takes backends (`flu.union`'s
/// layers): a Lua table is served through a composition of that table alone at `/`,
/// which runs each call in the table's setting and changes nothing else.
pub fn backend_of(lua: &Lua, table: &Table) -> mlua::Result<Arc<dyn Operations>> {
    match target_of(lua, table)? {
        Target::Backend(b) => Ok(b),
        scoped => {
            let alone =
                Composite::new(vec![(b"/".to_vec(), scoped)]).map_err(mlua::Error::runtime)?;
            Ok(Arc::new(alone))
        }
    }
}

/// `flu.compose`.
pub fn function(lua: &Lua) -> mlua::Result<mlua::Function> {
    lua.create_function(|lua, mounts: Value| {
        let Value::Table(mounts) = mounts else {
            return Err(mlua::Error::runtime(format!(
                "bad argument #1 to 'compose' (a table of mount point = handler table expected, got {})",
                mounts.type_name()
            )));
        };
        let mut branches = Vec::new();
        for pair in mounts.pairs::<Value, Value>() {
            let (key, value) = pair?;
            let Value::String(prefix) = &key else {
                return Err(mlua::Error::runtime(format!(
                    "flu.compose: mount points are paths such as '/real', got a {} key",
                    key.type_name()
                )));
            };
            let prefix = prefix.as_bytes().to_vec();
            let shown = String::from_utf8_lossy(&prefix).into_owned();
            let Value::Table(table) = value else {
                return Err(mlua::Error::runtime(format!(
                    "flu.compose: '{shown}' must be a handler table (such as flu.passthrough(dir) or a table of handlers), got {}",
                    value.type_name()
                )));
            };
            let target = target_of(lua, &table)
                .map_err(|e| mlua::Error::runtime(format!("flu.compose: '{shown}': {e}")))?;
            branches.push((prefix, target));
        }
        let composite = Composite::new(branches)
            .map_err(|e| mlua::Error::runtime(format!("flu.compose: {e}")))?;
        native_table_with_lifecycle(lua, Arc::new(composite))
    })
}
