//! `Handlers`: one load of a script's filesystem table, routed. Each operation goes to a
//! Lua handler, to a native backend (a handler that is still `flu.passthrough`'s own
//! function), or to the libfuse default when the script has none. A reload builds a new
//! `Handlers` and the filesystem switches to it whole.

use std::sync::Arc;

use mlua::{Function, Lua, Table, Value};

use super::ops::NativeRegistry;
use crate::op::{Op, ServedBy};
use crate::operations::Operations;

/// Where one operation goes.
#[derive(Clone)]
pub enum Route {
    Missing,
    Lua(Function),
    Native(Arc<dyn Operations>),
}

impl Route {
    pub fn is_missing(&self) -> bool {
        matches!(self, Route::Missing)
    }

    /// Who serves handler `op` on this route: a native backend says itself (a
    /// composition answers for its branches).
    pub fn served_by(&self, op: Op) -> ServedBy {
        match self {
            Route::Missing => ServedBy::Default,
            Route::Lua(_) => ServedBy::Lua,
            Route::Native(b) => b.served_by(op),
        }
    }
}

/// See the module documentation.
pub struct Handlers {
    /// The table itself (handed to the next load's `reload(old)`).
    pub table: Table,
    routes: Vec<Route>,
    /// The table's `max_file_size` field, if it has one.
    pub max_file_size: Option<u64>,
    /// The script's `fgetattr` is Flu 2010–2015's `fgetattr(path, st, fi)`, which fills
    /// the table `st` (declared with three or more parameters, not a vararg function).
    pub fgetattr_fills_st: bool,
}

impl Handlers {
    /// Route every operation of the filesystem table `fs` (handlers may be inherited
    /// through `__index`).
    pub fn of(lua: &Lua, fs: &Table) -> mlua::Result<Handlers> {
        let natives = lua
            .app_data_ref::<NativeRegistry>()
            .map(|r| r.clone())
            .unwrap_or_default();
        // One route per op; requests that are no handler stay Missing.
        let mut routes = Vec::with_capacity(Op::ALL.len());
        for &op in Op::ALL {
            if op.handler() != Some(op) {
                routes.push(Route::Missing);
                continue;
            }
            let route = match fs.get::<Value>(op.name())? {
                Value::Function(f) => match natives.lookup(&f, op) {
                    Some(backend) => Route::Native(backend),
                    None => Route::Lua(f),
                },
                _ => Route::Missing,
            };
            routes.push(route);
        }
        let max_file_size = match fs.get::<Value>("max_file_size")? {
            Value::Integer(n) if n > 0 => Some(n as u64),
            Value::Number(n) if n >= 1.0 => Some(n.min(u64::MAX as f64) as u64),
            Value::Nil => None,
            other => {
                return Err(mlua::Error::runtime(format!(
                "the filesystem table's max_file_size must be a positive number of bytes, got {}",
                other.type_name()
            )))
            }
        };
        match fs.get::<Value>("reload")? {
            Value::Nil | Value::Function(_) => {}
            other => {
                return Err(mlua::Error::runtime(format!(
                    "the filesystem table's reload must be a function, got {}",
                    other.type_name()
                )))
            }
        }
        warn_about_table(fs);
        let fgetattr_fills_st = match &routes[Op::Fgetattr.index()] {
            Route::Lua(f) => takes_st_table(lua, f)?,
            _ => false,
        };
        Ok(Handlers {
            table: fs.clone(),
            routes,
            max_file_size,
            fgetattr_fills_st,
        })
    }

    /// Who serves request `op` (the daemon itself, for a request that is no handler).
    pub fn served_by(&self, op: Op) -> ServedBy {
        match op.handler() {
            Some(handler) => self.route(handler).served_by(handler),
            None => ServedBy::Daemon,
        }
    }

    /// The route of handler `op` (a request that is no handler: Missing).
    pub fn route(&self, op: Op) -> &Route {
        &self.routes[op.index()]
    }

    /// When every handler is one native backend's own, that backend can serve the
    /// mount directly, with no Lua in the way.
    pub fn sole_native_backend(&self) -> Option<Arc<dyn Operations>> {
        let mut backend: Option<&Arc<dyn Operations>> = None;
        for &op in Op::HANDLERS {
            match self.route(op) {
                Route::Native(b) => match backend {
                    None => backend = Some(b),
                    Some(prev) if Arc::ptr_eq(prev, b) => {}
                    Some(_) => return None,
                },
                Route::Missing
                    if matches!(op, Op::Init | Op::Destroy | Op::Fgetattr | Op::Ftruncate) => {}
                _ => return None,
            }
        }
        backend.cloned()
    }

    /// Any native backend the routes use (for handles set by `base.open` in Lua).
    pub fn native_backend(&self) -> Option<Arc<dyn Operations>> {
        Op::HANDLERS.iter().find_map(|op| match self.route(*op) {
            Route::Native(b) => Some(b.clone()),
            _ => None,
        })
    }
}

/// A table that defines no handler, or functions under names flu never calls, mounts
/// fine but serves nothing (or not what was meant): say so once, at mount.
fn warn_about_table(fs: &Table) {
    let report = super::handler_names::inspect(fs);
    for (name, meant) in &report.unknown {
        match meant {
            Some(h) => tracing::warn!(
                "the filesystem table's '{}' is no handler flu calls (did you mean '{h}'?)",
                crate::log_escape::escape_str(name)
            ),
            None => tracing::warn!(
                "the filesystem table's '{}' is no handler flu calls",
                crate::log_escape::escape_str(name)
            ),
        }
    }
    if report.handlers == 0 {
        tracing::warn!(
            "the filesystem table defines no handlers: every operation answers ENOSYS (handlers are named getattr, readdir, read, …)"
        );
    }
}

/// Whether `f` is declared `function(path, st, fi)`: three or more named parameters and
/// no `...` (a vararg wrapper, whose nparams is 0, keeps the current form).
fn takes_st_table(lua: &Lua, f: &Function) -> mlua::Result<bool> {
    let getinfo: Function = lua.globals().get::<Table>("debug")?.get("getinfo")?;
    let info: Table = getinfo.call((f, "u"))?;
    let nparams: i64 = info.get("nparams").unwrap_or(0);
    let vararg: bool = info.get("isvararg").unwrap_or(false);
    Ok(nparams >= 3 && !vararg)
}
