//! `flu check`: load a script without mounting and say what is wrong with it, as a typed
//! report the command prints. The table is looked at (`table`), then `getattr('/')` and
//! `readdir('/')` are called as a mount would call them, and what they return is held
//! against what flu accepts (`calls`, `shapes`).
//!
//! Not called: `init` (it may start work or touch the outside world, and it starts the
//! script's timers) and every handler that changes something; a handler that needs what
//! `init` sets up is therefore checked without it.

mod calls;
mod findings;
mod shapes;
mod table;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use mlua::{HookTriggers, Thread, VmState};

pub use findings::{CheckReport, Finding, Location, Severity};

use super::script::{Script, ScriptOutcome};

/// How long the main chunk, and each handler called, may run Lua code.
pub const CHECK_TIME_LIMIT: Duration = Duration::from_secs(10);

/// Check a loaded script: run its main chunk (up to `flu.main`, which is not resumed:
/// nothing is mounted), look at the filesystem table and dry-call its getattr and
/// readdir on the root.
pub fn check(script: Script) -> CheckReport {
    check_within(script, CHECK_TIME_LIMIT)
}

/// `check`, with `limit` for the main chunk and each handler call.
fn check_within(mut script: Script, limit: Duration) -> CheckReport {
    let mut report = CheckReport::new(script.path());
    if let Err(e) = bound_main_chunk(script.main_thread(), limit) {
        report.push(Finding::error(
            format!("cannot set up the check: {e}"),
            None,
        ));
        return report;
    }
    let fs = match script.run() {
        Ok(ScriptOutcome::Finished {
            filesystem: Some(fs),
            ..
        }) => fs,
        // The rest of a Flu-style script runs after unmount: it is not run here.
        Ok(ScriptOutcome::Main { fs, .. }) => fs,
        Ok(ScriptOutcome::Finished {
            filesystem: None,
            returned_type,
        }) => {
            report.push(Finding::error(
                format!("the script returned no filesystem table (got {returned_type}): end it with `return fs` (a table of handlers) or call flu.main(argv, fs)"),
                None,
            ));
            return report;
        }
        Err(e) => {
            report.push(Finding::from_message(Severity::Error, &e.to_string()));
            return report;
        }
    };
    table::check_table(&mut report, fs.table());
    script.set_handler_timeout(Some(limit));
    let lfs = match script.lua_filesystem(&fs) {
        // Shared, so that the Lua branches of its compositions are served by it.
        Ok(lfs) => {
            let lfs = std::sync::Arc::new(lfs);
            lfs.bind_branches();
            lfs
        }
        Err(e) => {
            let text = e.to_string();
            let text = text.trim_start_matches("runtime error: ");
            report.push(Finding::from_message(Severity::Error, text));
            return report;
        }
    };
    // Tasks the script spawned run, as once a mount serves (a handler may wait for
    // what they fetch); everything ends with the check.
    let tasks = crate::lua::pending::Tasks::of(&lfs.lua);
    tasks.serve(&lfs.interpreter);
    // Waiting for slow work is not Lua time, which the watchdog bounds: the dry calls
    // as a whole are interrupted after twice `limit` (so that a handler running Lua
    // too long is the watchdog's, reported as such).
    let wall = limit * 2;
    let interrupt = crate::interrupt::InterruptFlag::new();
    let (finished, wait) = std::sync::mpsc::channel::<()>();
    let watcher = {
        let interrupt = interrupt.clone();
        std::thread::spawn(move || {
            if wait.recv_timeout(wall).is_err() {
                interrupt.interrupt();
            }
        })
    };
    crate::interrupt::serving(&interrupt, || calls::dry_run(&mut report, &lfs));
    let _ = finished.send(());
    let _ = watcher.join();
    if interrupt.is_set() {
        report.push(Finding::error(
            format!(
                "the dry calls did not finish within {} s: a handler waits for slow work (flu.sleep, flu.exec, flu.http) that does not end",
                wall.as_secs_f64()
            ),
            None,
        ));
    }
    lfs.interpreter.gate().close();
    tasks.stop();
    report
}

/// Interrupt a main chunk that runs Lua code past `limit` (an endless loop at load
/// would hang the check); handlers have the watchdog.
fn bound_main_chunk(thread: &Thread, limit: Duration) -> mlua::Result<()> {
    let start = Instant::now();
    let triggers = HookTriggers {
        every_nth_instruction: Some(1_000_000),
        ..HookTriggers::default()
    };
    thread.set_hook(triggers, move |_, _| {
        if start.elapsed() > limit {
            return Err(mlua::Error::runtime(format!(
                "the main chunk ran for more than {} s (an endless loop?)",
                limit.as_secs()
            )));
        }
        Ok(VmState::Continue)
    })
}
