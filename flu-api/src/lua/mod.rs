//! Everything on the Lua side of flu: the `flu` module, errno values, Flu sets, stat
//! and time conversions, calling handlers safely, and `LuaFilesystem`, which turns a
//! script's handler table into an `Operations` implementation; live filesystems
//! (`notify`, `timers`, `reload`).

mod annotations;
mod call;
mod caller;
pub mod check;
mod compat;
pub mod compose;
#[cfg(test)]
mod compose_tests;
mod environment;
pub mod errno;
mod filesystem;
#[cfg(test)]
mod fuzz_tests;
mod handler_names;
mod handler_table;
mod handles;
mod interpreter;
#[cfg(test)]
mod live_tests;
mod memory;
mod module;
mod notify;
mod ops;
mod pending;
#[cfg(test)]
mod pending_tests;
mod reload;
mod script;
mod searchers;
pub mod sets;
mod sets_raw;
pub mod stat;
mod stat_handoff;
#[cfg(test)]
mod stat_handoff_tests;
mod stat_raw;
pub mod time;
mod timers;
mod union;
mod version;
mod watchdog;

pub use annotations::ANNOTATION_FILES;
pub use environment::default_environment;
pub use filesystem::{LuaFilesystem, Route, ScriptSource, DEFAULT_HANDLER_TIMEOUT};
pub use handler_names::{inspect as inspect_table, suggestion as handler_suggestion, TableReport};
pub use module::BackendFactory;
pub use ops::native_table;
pub use script::{
    FsTable, Script, ScriptEnvironment, ScriptError, ScriptOutcome, DEFAULT_LUA_MEMORY_LIMIT,
};
pub use version::lua_version;
#[cfg(test)]
mod tests;
