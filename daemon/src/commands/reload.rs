//! `flu reload DIR`: ask the daemon of the mount at DIR to load its script again and
//! switch to the new handlers. Prints nothing and exits 0 on success; the choices fixed
//! at mount that the new table would change are printed (they need a remount). A
//! script that fails to load leaves the old handlers serving: its error (file:line) is
//! printed and the exit status is non-zero.

use std::time::Duration;

use crate::cli::ReloadArgs;
use crate::control::json::Value;
use crate::control::{query, ControlError, Request};

/// How long `flu reload` waits: the daemon waits up to 10 s for a running handler,
/// then runs the script's main chunk.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(60);

pub fn reload_command(args: ReloadArgs) -> Result<(), String> {
    let reply = query(&args.mountpoint, Request::Reload, RELOAD_TIMEOUT).map_err(|e| match e {
        ControlError::Refused(msg) => format!(
            "reloading {} failed; the old handlers keep serving:\n{msg}",
            args.mountpoint.display()
        ),
        other => other.to_string(),
    })?;
    if let Some(Value::Array(notes)) = reply.get("notes") {
        for note in notes.iter().filter_map(Value::as_str) {
            eprintln!("flu: reloaded, but {note}");
        }
    }
    Ok(())
}
