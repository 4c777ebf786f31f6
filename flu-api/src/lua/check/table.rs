//! The filesystem table itself: names that are no handler (with the same "did you
//! mean" as the warning at mount), handler names holding something other than a
//! function, no handlers at all, no getattr.

use mlua::{Table, Value};

use super::findings::{CheckReport, Finding, Location};
use crate::lua::call::lua_type_name;
use crate::lua::handler_names::inspect;
use crate::op::Op;

pub(super) fn check_table(report: &mut CheckReport, fs: &Table) {
    let names = inspect(fs);
    report.handlers = names.handlers;
    let mut unknown = names.unknown;
    unknown.sort();
    for (name, meant) in unknown {
        let location = match fs.get::<Value>(name.as_str()) {
            Ok(Value::Function(f)) => Location::of_function(&f),
            _ => None,
        };
        let message = match meant {
            Some(h) => format!("'{name}' is no handler flu calls (did you mean '{h}'?)"),
            None => format!("'{name}' is a function flu never calls (no handler has that name)"),
        };
        report.push(Finding::warning(message, location));
    }
    for op in Op::HANDLERS {
        // Read as the mount reads it (through __index).
        match fs.get::<Value>(op.name()) {
            Ok(Value::Nil | Value::Function(_)) => {}
            Ok(other) => report.push(Finding::error(
                format!(
                    "handler '{}' is a {}, not a function: flu ignores it",
                    op.name(),
                    lua_type_name(&other)
                ),
                None,
            )),
            Err(e) => report.push(Finding::from_message(
                super::Severity::Error,
                &format!("reading handler '{}' failed: {e}", op.name()),
            )),
        }
    }
    if names.handlers == 0 {
        report.push(Finding::error(
            "the filesystem table defines no handlers: every operation would answer ENOSYS (handlers are named getattr, readdir, read, ...)",
            None,
        ));
    } else if !matches!(fs.get::<Value>("getattr"), Ok(Value::Function(_))) {
        report.push(Finding::error(
            "no getattr handler: every stat and lookup would fail with ENOSYS, so nothing in the filesystem could be reached",
            None,
        ));
    }
}
