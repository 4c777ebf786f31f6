//! The environment real scripts get: the portable `fs` module behind `require 'fs'`,
//! and the native passthrough backend behind `flu.passthrough(root[, opts])`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use mlua::{Lua, Value};

use super::script::ScriptEnvironment;
use crate::operations::Operations;
use crate::passthrough::{Passthrough, PassthroughOptions};

/// `opts`: `{kernel_passthrough = bool, create_as_caller = bool}`.
fn passthrough_backend(
    _lua: &Lua,
    root: &[u8],
    opts: &Value,
) -> Result<Arc<dyn Operations>, String> {
    let mut options = PassthroughOptions::default();
    if let Value::Table(t) = opts {
        let flag = |k: &str, d: bool| t.get::<Option<bool>>(k).ok().flatten().unwrap_or(d);
        options.kernel_passthrough = flag("kernel_passthrough", options.kernel_passthrough);
        options.create_as_caller = flag("create_as_caller", options.create_as_caller);
    }
    let root = Path::new(OsStr::from_bytes(root));
    Passthrough::new(root, options)
        .map(|p| Arc::new(p) as Arc<dyn Operations>)
        .map_err(|e| format!("flu.passthrough: cannot open {}: {e}", root.display()))
}

/// `require 'fs'` is the fs module; `flu.passthrough` is the native backend.
pub fn default_environment() -> ScriptEnvironment {
    ScriptEnvironment {
        fs_module: crate::fs::create_module,
        passthrough: passthrough_backend,
    }
}
