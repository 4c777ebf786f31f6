//! The subcommands: each takes its parsed arguments and returns the process result.

pub mod check;
pub mod completions;
pub mod list;
pub mod man;
pub mod mount;
pub mod reload;
pub mod run;
pub mod stats;
pub mod test;
pub mod types;
pub mod unmount;

use std::path::Path;

use flu_api::lua::{Script, ScriptError};

/// Load a script, with the error message `flu mount` and `flu run` print.
pub fn load_script(path: &Path, args: &[std::ffi::OsString]) -> Result<Script, String> {
    Script::load(path, args, &flu_api::lua::default_environment()).map_err(|e| match e {
        ScriptError::Read { path, source } => {
            format!("cannot read script {}: {source}", path.display())
        }
        other => other.to_string(),
    })
}
