//! Everything on the Lua side of flu: the `flu` module, errno values, Flu sets, stat
//! and time conversions, calling handlers safely, and `LuaFilesystem`, which turns a
//! script's handler table into an `Operations` implementation.

mod call;
mod compat;
mod dispatch;
mod environment;
pub mod errno;
mod handles;
mod module;
mod native;
mod ops;
mod script;
pub mod sets;
pub mod stat;
pub mod time;
mod watchdog;

pub use dispatch::{route_label, LuaFilesystem, Op, Route, DEFAULT_HANDLER_TIMEOUT};
pub use environment::default_environment;
pub use module::BackendFactory;
pub use native::native_table;
pub use script::{FsTable, Script, ScriptEnvironment, ScriptError, ScriptOutcome};
#[cfg(test)]
mod tests;
