//! The dry calls: `getattr('/')`, `readdir('/')` (between opendir and releasedir, as
//! the daemon lists a directory) and `getattr` of each entry listed, made through the
//! same routing and conversions a mount uses, with failures kept as the log would get
//! them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mlua::Value;

use super::findings::{split_position, CheckReport, Finding, Location};
use super::shapes::{file_type, ignored_in_stat};
use crate::log_escape::escape_path;
use crate::lua::call::{call_protected, first, HandlerError};
use crate::lua::filesystem::{LuaFilesystem, Route};
use crate::lua::script::first_lua_position;
use crate::op::Op;
use crate::operations::{AttrOps, DirOps, Fh, RequestContext};
use crate::stat::Stat;

/// At most this many entries of the root get their getattr called.
const ENTRIES_STATED: usize = 100;

pub(super) fn dry_run(report: &mut CheckReport, lfs: &LuaFilesystem) {
    lfs.record_failures();
    let ctx = RequestContext {
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        pid: std::process::id(),
        umask: 0o022,
        unmasked_mode: None,
    };
    if lfs.handlers().route(Op::Getattr).is_missing() {
        return; // said by the table check
    }
    let root = Path::new("/");
    if let Some(st) = getattr(report, lfs, &ctx, root) {
        match file_type(st.mode) {
            Some("dir") => {}
            Some(other) => report.push(Finding::error(
                format!("getattr('/') returned a mode of type '{other}': the root must be a directory (dir=true in a mode set, 'directory', or S_IFDIR: 0o40755)"),
                handler_location(lfs, Op::Getattr),
            )),
            None => report.push(Finding::error(
                format!("getattr('/') returned mode {:#o}, which has no file type: flu would serve the root as a regular file, and the root must be a directory (dir=true in a mode set, 'directory', or S_IFDIR: 0o40755)", st.mode),
                handler_location(lfs, Op::Getattr),
            )),
        }
    }
    readdir_root(report, lfs, &ctx);
}

/// `getattr(path)` as a lookup or stat would call it; its stat when it answered one.
fn getattr(
    report: &mut CheckReport,
    lfs: &LuaFilesystem,
    ctx: &RequestContext,
    path: &Path,
) -> Option<Stat> {
    let who = format!("getattr({})", quoted(path));
    let result = match lfs.handlers().route(Op::Getattr).clone() {
        Route::Missing => return None,
        Route::Native(_) => lfs.getattr(ctx, path, None).map(|st| (st, Vec::new())),
        // The handler's raw result is needed too: the conversion does not say which
        // fields it ignored.
        Route::Lua(f) => lfs.call_lua(Op::Getattr, path, ctx, &f, |lua, f| {
            let p = LuaFilesystem::path_value(lua, path)?;
            let v = first(call_protected(lua, f, (p, Value::Nil))?)?;
            let ignored = ignored_in_stat("getattr", &v);
            let st = lfs.stat_result(Op::Getattr, v)?;
            Ok((st, ignored))
        }),
    };
    match result {
        Ok((st, ignored)) => {
            for note in ignored {
                report.push(Finding::warning(note, handler_location(lfs, Op::Getattr)));
            }
            Some(st)
        }
        Err(errno) => {
            report_failure(report, lfs, Op::Getattr, &who, errno);
            None
        }
    }
}

fn readdir_root(report: &mut CheckReport, lfs: &LuaFilesystem, ctx: &RequestContext) {
    let root = Path::new("/");
    if lfs.handlers().route(Op::Readdir).is_missing() {
        report.push(Finding::warning(
            "no readdir handler: listing the root (ls) fails with ENOSYS; files stay reachable by name",
            None,
        ));
        return;
    }
    let opened = match lfs.opendir(ctx, root, libc::O_RDONLY | libc::O_DIRECTORY) {
        Ok(o) => o,
        Err(errno) => {
            report_failure(report, lfs, Op::Opendir, "opendir('/')", errno);
            return;
        }
    };
    let listed = lfs.readdir(ctx, root, Fh(opened.fh));
    if let Err(errno) = lfs.releasedir(ctx, root, Fh(opened.fh)) {
        report_failure(report, lfs, Op::Releasedir, "releasedir('/')", errno);
    }
    let entries = match listed {
        Ok(entries) => entries,
        Err(errno) => {
            report_failure(report, lfs, Op::Readdir, "readdir('/')", errno);
            return;
        }
    };
    report.root_entries = Some(entries.len());
    let mut seen = BTreeSet::new();
    let mut stated = 0;
    for entry in &entries {
        let name = entry.name.as_os_str();
        if !seen.insert(name.to_os_string()) {
            report.push(Finding::error(
                format!(
                    "readdir('/') lists {} more than once: ls would show it twice",
                    quoted(Path::new(name))
                ),
                handler_location(lfs, Op::Readdir),
            ));
            continue;
        }
        if name == "." || name == ".." || stated == ENTRIES_STATED {
            continue;
        }
        stated += 1;
        let path = PathBuf::from("/").join(name);
        if let Some(st) = getattr(report, lfs, ctx, &path) {
            if file_type(st.mode).is_none() {
                report.push(Finding::warning(
                    format!(
                        "getattr({}) returned mode {:#o}, which has no file type: flu serves it as a regular file (reg=true in a mode set, 'file', or S_IFREG: 0o100644)",
                        quoted(&path),
                        st.mode
                    ),
                    handler_location(lfs, Op::Getattr),
                ));
            }
        }
    }
}

/// A failed call as one finding: what the log would say, where the script says it.
fn report_failure(
    report: &mut CheckReport,
    lfs: &LuaFilesystem,
    op: Op,
    who: &str,
    errno: crate::errno::Errno,
) {
    let failure = lfs
        .take_failures()
        .into_iter()
        .rev()
        .find(|(o, _)| *o == op)
        .map(|(_, e)| e);
    let at_handler = handler_location(lfs, op);
    let finding = match failure {
        Some(HandlerError::Script { message, traceback }) => {
            // A Rust callback's error (the filler's) carries its traceback: said apart.
            let message = match message.split_once("\nstack traceback:") {
                Some((m, _)) => m,
                None => &message,
            };
            let (location, text) = split_position(message);
            let location = location
                .or_else(|| {
                    first_lua_position(&traceback).and_then(|p| split_position(&format!("{p}: ")).0)
                })
                .or(at_handler);
            Finding::error(format!("{who} raised an error: {text}"), location)
        }
        Some(HandlerError::BadResult(message)) => {
            Finding::error(format!("{who}: {message}"), at_handler)
        }
        Some(HandlerError::OutOfMemory) => {
            Finding::error(format!("{who} ran out of Lua memory"), at_handler)
        }
        Some(HandlerError::Errno(_)) | None => Finding::error(
            format!(
                "{who} failed with {} ({})",
                errno.name().unwrap_or("an errno"),
                errno.strerror()
            ),
            at_handler,
        ),
    };
    report.push(finding);
}

/// Where the Lua handler of `op` is defined.
fn handler_location(lfs: &LuaFilesystem, op: Op) -> Option<Location> {
    match lfs.handlers().route(op) {
        Route::Lua(f) => Location::of_function(f),
        _ => None,
    }
}

/// A path quoted and escaped, as messages show paths.
fn quoted(path: &Path) -> String {
    format!("'{}'", escape_path(path))
}
