//! Reloading a mounted script (`flu reload`, SIGHUP, `--watch`): run it again in the same
//! Lua state and switch to its new table between requests.
//!
//! Under the Lua lock (no handler or timer runs meanwhile): the script's own modules
//! (those found in its directory) are dropped from `package.loaded` so they load afresh,
//! the chunk runs in a new coroutine, its table is routed, and the filesystem switches
//! to it whole (`LuaFilesystem::switch_handlers`; a request already being served keeps
//! the routing it started with). Timers made by the new load replace the old load's.
//! Then the new table's `reload(old)` runs, if it has one. `init` is not called again.
//!
//! If the new load fails (syntax error, runtime error, no table), the old handlers and
//! timers stay, the dropped modules are put back, and the error (with file:line) is
//! the reload's answer. What the failed run changed in globals or `flu.state` stays.
//! Open files keep their `fi` tables; their release goes to the new table's handler.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::call::{call_unyielding, HandlerError};
use super::filesystem::{Handlers, LuaFilesystem, Route, ScriptSource};
use super::interpreter::Wait;
use super::ops::NativeRegistry;
use super::script::{compile, message_of, read_source, resume, ScriptError, ScriptOutcome};
use crate::op::Op;
use crate::operations::ReloadNotes;

/// How long a reload waits for a running handler to finish.
const RELOAD_WAIT: Duration = Duration::from_secs(10);

impl LuaFilesystem {
    /// See the module documentation.
    pub(super) fn reload_script(&self) -> Result<ReloadNotes, String> {
        let Some(source) = &self.source else {
            return Err("this filesystem was not loaded from a script file".into());
        };
        let outcome = self.interpreter.run(Wait::AtMost(RELOAD_WAIT), |lua| {
            Ok(self.reload_locked(lua, source))
        });
        match outcome {
            None => Err(format!(
                "the script is busy: a handler or timer has run for more than {} s; nothing was reloaded, try again",
                RELOAD_WAIT.as_secs()
            )),
            Some(Ok(result)) => result,
            Some(Err(HandlerError::OutOfMemory)) => Err(
                "reloading ran out of Lua memory (--lua-memory-limit); the old handlers keep serving".into(),
            ),
            Some(Err(e)) => Err(format!("reloading failed: {}", e.errno())),
        }
    }

    fn reload_locked(&self, lua: &Lua, source: &ScriptSource) -> Result<ReloadNotes, String> {
        let previous_generation = self.timers.begin_generation();
        let dir = script_dir(&source.path);
        let saved = forget_own_modules(lua, &dir).map_err(|e| e.to_string())?;
        let loaded = load_table(lua, source).and_then(|table| {
            Handlers::of(lua, &table)
                .map_err(|e| format!("{}: {}", source.path.display(), message_of(&e)))
        });
        let handlers = match loaded {
            Ok(h) => h,
            Err(msg) => {
                self.timers.abandon_generation(previous_generation);
                if let Err(e) = restore_modules(lua, &dir, saved) {
                    tracing::warn!("after a failed reload, restoring package.loaded: {e}");
                }
                return Err(msg);
            }
        };
        drop(saved);
        // Compositions the new load made serve with this filesystem.
        self.bind_new_branches();
        let new_table = handlers.table.clone();
        let notes = {
            let old = self.handlers();
            let mut notes = fixed_at_mount(&old, &handlers);
            let same_io = |op| match (old.route(op), handlers.route(op)) {
                (Route::Native(a), Route::Native(b)) => Arc::ptr_eq(a, b),
                _ => false,
            };
            let direct = self
                .handles
                .find(|slot| {
                    slot.native
                        .as_ref()
                        .is_some_and(|n| n.handle.backing_fd.is_some())
                })
                .is_some();
            // Opens were passed to the kernel only when reads and writes were both one
            // backend's own (`backing_allowed`).
            let old_direct = matches!(
                (old.route(Op::Read), old.route(Op::Write)),
                (Route::Native(r), Route::Native(w)) if Arc::ptr_eq(r, w)
            );
            if direct && old_direct && !(same_io(Op::Read) && same_io(Op::Write)) {
                notes.push("files opened before the reload with kernel passthrough keep reading and writing their backing file directly, past the new handlers, until they are reopened".to_string());
            }
            notes
        };
        self.adopt_new_backends(lua);
        let old = self.switch_handlers(handlers);
        self.timers.retire_older_generations();
        self.refresh_source_files(lua);
        tracing::info!("reloaded {}", crate::log_escape::Escaped(&source.path));
        call_reload_hook(lua, &new_table, &old.table)?;
        Ok(notes)
    }

    /// Backends the new load made (`flu.passthrough`) are told of the mount, as the
    /// first ones were, and counted among the filesystem's.
    fn adopt_new_backends(&self, lua: &Lua) {
        let Some(registry) = lua.app_data_ref::<NativeRegistry>().map(|r| r.clone()) else {
            return;
        };
        let dev = self.mounted_dev.load(std::sync::atomic::Ordering::SeqCst);
        let mut known = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        for b in registry.backends() {
            if !known.iter().any(|k| Arc::ptr_eq(k, &b)) {
                if dev != 0 {
                    b.mounted(dev);
                }
                known.push(b);
            }
        }
    }

    /// The script and the modules it loaded from its own directory, for `--watch`.
    pub(super) fn refresh_source_files(&self, lua: &Lua) {
        let Some(source) = &self.source else { return };
        let mut files = vec![source.path.clone()];
        match own_module_files(lua, &script_dir(&source.path)) {
            Ok(modules) => files.extend(modules.into_iter().map(|(_, f)| f)),
            Err(e) => tracing::debug!("listing the script's modules: {e}"),
        }
        *self.source_files.lock().unwrap_or_else(|p| p.into_inner()) = files;
    }
}

/// Run the script again; its filesystem table.
fn load_table(lua: &Lua, source: &ScriptSource) -> Result<Table, String> {
    let text = read_source(&source.path).map_err(|e| e.to_string())?;
    let chunk = compile(lua, &source.path, &text).map_err(|e| e.to_string())?;
    let thread = lua.create_thread(chunk).map_err(|e| e.to_string())?;
    let args: MultiValue = source
        .args
        .iter()
        .map(|a| {
            lua.create_string(std::os::unix::ffi::OsStrExt::as_bytes(a.as_os_str()))
                .map(Value::String)
        })
        .collect::<mlua::Result<_>>()
        .map_err(|e| e.to_string())?;
    match resume(lua, &thread, args) {
        Ok(ScriptOutcome::Finished {
            filesystem: Some(t),
            ..
        }) => Ok(t.table().clone()),
        Ok(ScriptOutcome::Finished {
            filesystem: None,
            returned_type,
        }) => Err(format!(
            "{} returned no filesystem table (got {returned_type}): end it with `return fs` (a table of handlers) or call flu.main(argv, fs)",
            source.path.display()
        )),
        // Under reload, flu.main hands over its table; the new coroutine stays parked.
        Ok(ScriptOutcome::Main { fs, .. }) => Ok(fs.table().clone()),
        Err(ScriptError::Runtime(m)) | Err(ScriptError::Syntax(m)) => Err(m),
        Err(e) => Err(e.to_string()),
    }
}

fn script_dir(script: &Path) -> PathBuf {
    script
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The `package.loaded` entries that are modules of the script's directory (found there
/// by `package.searchpath`), with their files.
fn own_module_files(lua: &Lua, dir: &Path) -> mlua::Result<Vec<(String, PathBuf)>> {
    let package: Table = lua.globals().get("package")?;
    let loaded: Table = package.get("loaded")?;
    let searchpath: Function = package.get("searchpath")?;
    let dir = dir.to_string_lossy();
    let pattern = format!("{dir}/?.lua;{dir}/?/init.lua");
    let mut own = Vec::new();
    for pair in loaded.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let Value::String(name) = key else { continue };
        let name = name.to_string_lossy();
        let found: Option<String> = searchpath.call((name.as_str(), pattern.as_str()))?;
        if let Some(file) = found {
            own.push((name, PathBuf::from(file)));
        }
    }
    Ok(own)
}

/// Drop the script's own modules from `package.loaded`; what was dropped.
fn forget_own_modules(lua: &Lua, dir: &Path) -> mlua::Result<Vec<(String, Value)>> {
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    let mut saved = Vec::new();
    for (name, _) in own_module_files(lua, dir)? {
        let value: Value = loaded.get(name.as_str())?;
        loaded.set(name.as_str(), Value::Nil)?;
        saved.push((name, value));
    }
    Ok(saved)
}

/// After a failed load: the old modules back, and what the failed run loaded from the
/// script's directory dropped.
fn restore_modules(lua: &Lua, dir: &Path, saved: Vec<(String, Value)>) -> mlua::Result<()> {
    let loaded: Table = lua.globals().get::<Table>("package")?.get("loaded")?;
    for (name, _) in own_module_files(lua, dir)? {
        loaded.set(name.as_str(), Value::Nil)?;
    }
    for (name, value) in saved {
        loaded.set(name.as_str(), value)?;
    }
    Ok(())
}

/// What the new table would change of the choices made once, at mount.
fn fixed_at_mount(old: &Handlers, new: &Handlers) -> ReloadNotes {
    let mut notes = Vec::new();
    let lua_locks = |h: &Handlers| matches!(h.route(Op::Lock), Route::Lua(_));
    if lua_locks(old) != lua_locks(new) {
        notes.push(if lua_locks(new) {
            "the new table has a lock handler: POSIX locks are sent to scripts only when it is there at mount; remount for it to be called".to_string()
        } else {
            "the new table has no lock handler: the kernel keeps sending POSIX locks, which now answer ENOSYS; remount to have the kernel handle them".to_string()
        });
    }
    let stable = |h: &Handlers| match h.route(Op::Getattr) {
        Route::Native(b) => b.stable_inode_numbers(),
        Route::Lua(_) => true,
        Route::Missing => false,
    };
    if stable(old) != stable(new) {
        notes.push("the new table changes whether inode numbers are the filesystem's own (use_ino, chosen at mount); remount for it to take effect".to_string());
    }
    if old.max_file_size != new.max_file_size {
        notes.push(format!(
            "max_file_size changed ({} → {}): the daemon checks the limit chosen at mount; remount for it to take effect",
            show_size(old.max_file_size),
            show_size(new.max_file_size)
        ));
    }
    notes
}

fn show_size(n: Option<u64>) -> String {
    n.map_or_else(|| "none".into(), |n| n.to_string())
}

/// The new table's `reload(old)`, called once after the switch (as a method when its
/// first parameter is named `self`).
fn call_reload_hook(lua: &Lua, new: &Table, old: &Table) -> Result<(), String> {
    let f = match new.get::<Value>("reload") {
        Ok(Value::Function(f)) => f,
        _ => return Ok(()),
    };
    let is_method = lua
        .globals()
        .get::<Table>("debug")
        .and_then(|d| d.get::<Function>("getlocal"))
        .and_then(|getlocal| getlocal.call::<Option<String>>((f.clone(), 1)))
        .ok()
        .flatten()
        .as_deref()
        == Some("self");
    let result = if is_method {
        call_unyielding(lua, &f, (new.clone(), old.clone()))
    } else {
        call_unyielding(lua, &f, old.clone())
    };
    match result {
        Ok(_) => Ok(()),
        Err(HandlerError::Script { message, .. }) => Err(format!(
            "the new handlers serve, but their reload(old) failed: {message}"
        )),
        Err(e) => Err(format!(
            "the new handlers serve, but their reload(old) failed: {}",
            e.errno()
        )),
    }
}
