//! Loading and running a filesystem script: a fresh Lua state with `flu` and `fs`
//! requirable, the script's directory on `package.path`, `arg` and `...` set as the
//! `lua` interpreter does, and the main chunk run as a coroutine so that `flu.main`
//! can hand over the filesystem, let the daemon serve it, and return after unmount.
//! Where `require` looks is `searchers.rs`'s.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Thread, Value};

use super::call::install as install_call;
use super::errno::errno_of_value;
use super::filesystem::{LuaFilesystem, ScriptSource, DEFAULT_HANDLER_TIMEOUT};
use super::module::{create_flu_module, BackendFactory, MAIN_TOKEN};
use super::stat::StatDefaults;
use crate::operations::Operations;
use crate::time::Timespec;

/// Why a script could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Syntax(String),
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Setup(String),
}

impl From<mlua::Error> for ScriptError {
    fn from(e: mlua::Error) -> ScriptError {
        ScriptError::Setup(e.to_string())
    }
}

/// How much memory the Lua state may use unless `--lua-memory-limit` says otherwise: far
/// more than any sane filesystem script needs, little enough that a runaway handler fails
/// with ENOMEM before the machine starts swapping.
pub const DEFAULT_LUA_MEMORY_LIMIT: usize = 1 << 30;

/// A filesystem table a script produced (opaque outside the Lua layer).
pub struct FsTable(Table);

impl FsTable {
    pub(super) fn table(&self) -> &Table {
        &self.0
    }
}

/// Where a run of the script stopped.
pub enum ScriptOutcome {
    /// The chunk ran to its end; `filesystem` is its first result when that is a
    /// table, else `returned_type` names what it was.
    Finished {
        filesystem: Option<FsTable>,
        returned_type: &'static str,
    },
    /// The script called `flu.main(argv, fs)`; resume it with `resume_after_main`.
    Main { argv: Vec<OsString>, fs: FsTable },
}

/// A loaded script and its Lua state.
pub struct Script {
    lua: Lua,
    thread: Thread,
    path: PathBuf,
    args: Vec<OsString>,
    handler_timeout: Option<Duration>,
    max_pending: usize,
    trace_yields: bool,
}

/// How `require 'fs'` and `flu.passthrough` are provided.
pub struct ScriptEnvironment {
    pub fs_module: fn(&Lua) -> mlua::Result<Table>,
    pub passthrough: BackendFactory,
}

/// The error's message without mlua's prefixes; the traceback goes to the debug log.
pub(super) fn message_of(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => message_of(cause),
        other => other.to_string(),
    };
    let (message, traceback) = match text.split_once("\nstack traceback:") {
        Some((m, t)) => (m.to_string(), t.to_string()),
        None => (text, String::new()),
    };
    if !traceback.trim().is_empty() {
        tracing::debug!("script traceback:{traceback}");
    }
    message
}

impl Script {
    /// Create the Lua state and compile the script (syntax errors are reported here,
    /// as `file:line: message`).
    pub fn load(
        path: &Path,
        args: &[OsString],
        env: &ScriptEnvironment,
    ) -> Result<Script, ScriptError> {
        let source = read_source(path)?;
        // SAFETY: the debug library is loaded on purpose (tracebacks, scripts' own use);
        // no C modules are loaded by the host.
        let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::default()) };
        let fs_module = (env.fs_module)(&lua)?;
        let flu = create_flu_module(&lua, fs_module.clone(), env.passthrough)?;
        let is_errno = lua.create_function(|_, v: Value| Ok(errno_of_value(&v).is_some()))?;
        install_call(&lua, is_errno)?;
        super::compat::install(&lua)?;

        super::searchers::install(&lua, path, flu.clone(), fs_module)?;

        let argt = lua.create_table()?;
        argt.set(0, lua.create_string(path.as_os_str().as_bytes())?)?;
        for (i, a) in args.iter().enumerate() {
            argt.set(i + 1, lua.create_string(a.as_bytes())?)?;
        }
        lua.globals().set("arg", argt)?;

        let chunk = compile(&lua, path, &source)?;
        let thread = lua.create_thread(chunk)?;
        // The default limit holds from the first line the script runs.
        let memory = super::memory::MemoryLimit::of(&lua);
        memory.set(&lua, Some(DEFAULT_LUA_MEMORY_LIMIT))?;
        memory.guard_string_rep(&lua)?;
        Ok(Script {
            lua,
            thread,
            // Absolute: a reload must find it whatever the daemon's directory is then.
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            args: args.to_vec(),
            handler_timeout: Some(DEFAULT_HANDLER_TIMEOUT),
            max_pending: super::interpreter::DEFAULT_MAX_PENDING,
            trace_yields: false,
        })
    }

    /// How many handlers may wait for slow work (`flu.sleep`, `flu.exec`, …) at once;
    /// beyond it, new calls wait for one to finish.
    pub fn set_max_pending(&mut self, n: usize) {
        self.max_pending = n.max(1);
    }

    /// Log each handler's waits at info level (`-d`), not debug.
    pub fn set_trace_yields(&mut self, on: bool) {
        self.trace_yields = on;
    }

    /// How long one handler call may run Lua code before it is interrupted (None:
    /// forever); the default is `DEFAULT_HANDLER_TIMEOUT`.
    pub fn set_handler_timeout(&mut self, limit: Option<Duration>) {
        self.handler_timeout = limit;
    }

    /// The most memory the Lua state may use, in bytes (None: no limit); an allocation
    /// beyond it fails the handler call that made it with ENOMEM. The default is
    /// `DEFAULT_LUA_MEMORY_LIMIT`.
    pub fn set_memory_limit(&mut self, limit: Option<usize>) -> Result<(), ScriptError> {
        super::memory::MemoryLimit::of(&self.lua).set(&self.lua, limit)?;
        Ok(())
    }

    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Run the chunk until it ends or calls `flu.main`.
    pub fn run(&mut self) -> Result<ScriptOutcome, ScriptError> {
        let args: MultiValue = self
            .args
            .iter()
            .map(|a| self.lua.create_string(a.as_bytes()).map(Value::String))
            .collect::<mlua::Result<_>>()?;
        self.step(args)
    }

    /// Let `flu.main` return (`true`, or `nil, message`) and run on.
    pub fn resume_after_main(
        &mut self,
        result: Result<(), String>,
    ) -> Result<ScriptOutcome, ScriptError> {
        let args = match result {
            Ok(()) => MultiValue::from_iter([Value::Boolean(true)]),
            Err(m) => {
                MultiValue::from_iter([Value::Nil, Value::String(self.lua.create_string(m)?)])
            }
        };
        self.step(args)
    }

    fn step(&mut self, args: MultiValue) -> Result<ScriptOutcome, ScriptError> {
        resume(&self.lua, &self.thread, args)
    }

    /// The filesystem for table `fs`: the native backend itself when every handler is
    /// still the backend's own, else a `LuaFilesystem` routing each operation.
    pub fn filesystem(&self, fs: &FsTable) -> Result<Arc<dyn Operations>, ScriptError> {
        let lfs = self.lua_filesystem(fs)?;
        if let Some(native) = lfs.sole_native_backend() {
            return Ok(native);
        }
        let lfs = Arc::new(lfs);
        lfs.bind_branches();
        Ok(lfs)
    }

    /// The `LuaFilesystem` of table `fs`, routed as a mount would route it.
    pub(super) fn lua_filesystem(&self, fs: &FsTable) -> Result<LuaFilesystem, ScriptError> {
        let defaults = StatDefaults {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            time: Timespec::now(),
        };
        let source = ScriptSource {
            path: self.path.clone(),
            args: self.args.clone(),
        };
        let lfs = LuaFilesystem::new(
            self.lua.clone(),
            &fs.0,
            defaults,
            self.handler_timeout,
            Some(source),
        )?;
        lfs.interpreter.gate().set_max_pending(self.max_pending);
        lfs.interpreter.gate().set_trace(self.trace_yields);
        Ok(lfs)
    }

    /// The coroutine that runs the main chunk.
    pub(super) fn main_thread(&self) -> &Thread {
        &self.thread
    }

    /// The script's path (absolute).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The script's bytes; a first line starting with `#` (a shebang) is blanked, as `lua`
/// does, keeping line numbers.
pub(super) fn read_source(path: &Path) -> Result<Vec<u8>, ScriptError> {
    let mut source = std::fs::read(path).map_err(|source| ScriptError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if source.first() == Some(&b'#') {
        let end = source
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(source.len());
        source.drain(..end);
    }
    Ok(source)
}

/// Compile the script's main chunk (a syntax error is `file:line: message`).
pub(super) fn compile(lua: &Lua, path: &Path, source: &[u8]) -> Result<Function, ScriptError> {
    let name = format!("@{}", path.display());
    lua.load(source)
        .set_name(name)
        .into_function()
        .map_err(|e| ScriptError::Syntax(message_of(&e)))
}

/// Resume the main chunk's coroutine `thread` with `args`: where it stopped.
pub(super) fn resume(
    lua: &Lua,
    thread: &Thread,
    args: MultiValue,
) -> Result<ScriptOutcome, ScriptError> {
    let results: MultiValue = match thread.resume(args) {
        Ok(results) => results,
        Err(e) => return Err(ScriptError::Runtime(located_message(lua, thread, &e))),
    };
    let mut it = results.into_iter();
    let first = it.next().unwrap_or(Value::Nil);
    if thread.is_resumable() {
        let is_main =
            matches!(&first, Value::String(s) if s.as_bytes().as_ref() == MAIN_TOKEN.as_bytes());
        if !is_main {
            return Err(ScriptError::Runtime(
                "the script yielded outside flu.main".into(),
            ));
        }
        let argv = match it.next() {
            Some(Value::Table(t)) => t
                .sequence_values::<mlua::LuaString>()
                .map(|s| s.map(|s| OsString::from(std::ffi::OsStr::from_bytes(&s.as_bytes()))))
                .collect::<mlua::Result<Vec<_>>>()?,
            _ => Vec::new(),
        };
        let Some(Value::Table(fs)) = it.next() else {
            return Err(ScriptError::Runtime(
                "flu.main needs a filesystem table".into(),
            ));
        };
        return Ok(ScriptOutcome::Main {
            argv,
            fs: FsTable(fs),
        });
    }
    let returned_type = super::call::lua_type_name(&first);
    let filesystem = match first {
        Value::Table(t) => Some(FsTable(t)),
        _ => None,
    };
    Ok(ScriptOutcome::Finished {
        filesystem,
        returned_type,
    })
}

/// The message of an error the chunk raised, with the `file:line` of the script frame
/// it came from. Lua prefixes its own errors with that position, but an error raised by
/// a Rust function (`fs.attr(nil)`: "bad argument #1: error converting Lua nil to
/// string") has none; the failed coroutine keeps its stack, so its traceback names the
/// Lua frame that made the call.
fn located_message(lua: &Lua, thread: &Thread, e: &mlua::Error) -> String {
    let message = message_of(e);
    if has_position(&message) {
        return message;
    }
    let traceback = lua
        .globals()
        .get::<Table>("debug")
        .and_then(|d| d.get::<Function>("traceback"))
        .and_then(|tb| tb.call::<String>((thread.clone(), "", 0)))
        .unwrap_or_default();
    match first_lua_position(&traceback)
        .or_else(|| callback_traceback(e).and_then(first_lua_position))
    {
        Some(position) => format!("{position}: {message}"),
        None => message,
    }
}

/// Whether a message starts with Lua's `source:line:` prefix.
fn has_position(message: &str) -> bool {
    let Some((head, _)) = message.split_once(": ") else {
        return false;
    };
    head.rsplit_once(':').is_some_and(|(src, line)| {
        !src.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The `source:line` of the innermost Lua frame in a traceback (`\tb.lua:3: in main
/// chunk`); C frames (`[C]: in function …`) have no line and are skipped.
pub(super) fn first_lua_position(traceback: &str) -> Option<String> {
    traceback.lines().map(str::trim).find_map(|frame| {
        let (position, _) = frame.split_once(": in ")?;
        has_position(&format!("{position}: ")).then(|| position.to_string())
    })
}

/// The traceback mlua recorded when a Rust callback failed.
fn callback_traceback(e: &mlua::Error) -> Option<&str> {
    match e {
        mlua::Error::CallbackError { traceback, .. } => Some(traceback),
        _ => None,
    }
}

#[cfg(test)]
mod position_tests {
    use super::*;

    #[test]
    fn positions_are_found_in_messages_and_tracebacks() {
        assert!(has_position("b.lua:3: attempt to index a nil value"));
        assert!(!has_position(
            "bad argument #1: error converting Lua nil to string"
        ));
        let tb = "stack traceback:\n\t[C]: in function 'fs.attr'\n\t./b.lua:3: in main chunk";
        assert_eq!(first_lua_position(tb).as_deref(), Some("./b.lua:3"));
        assert_eq!(first_lua_position("stack traceback:\n\t[C]: in ?"), None);
    }
}
