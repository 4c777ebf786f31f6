//! What a stat table may hold, beyond what the conversion itself rejects: fields flu
//! ignores (a misspelled `sise` is silently no size), names in a mode set that are no
//! mode bit, and modes without a file type. The names come from the conversion's own
//! lists (`STAT_FIELDS`, `MODE_TYPES`, `MODE_BITS`), so check and mount agree.

use mlua::Value;

use crate::lua::handler_names::nearest;
use crate::lua::sets::{MODE_BITS, MODE_TYPES};
use crate::lua::stat::STAT_FIELDS;

/// The fields of an `fs.attr` table that a stat table does not read: returning such a
/// table as it is (`return fs.attr(p, false)`) is meant, since its `mode` says the
/// type and permissions; without a `mode` they are reported like any other.
const FS_ATTR_EXTRAS: [&str; 3] = ["type", "perms", "target"];

/// What in stat table `v` flu ignores, one sentence each (`who`: "getattr").
pub(super) fn ignored_in_stat(who: &str, v: &Value) -> Vec<String> {
    let Value::Table(t) = v else {
        return Vec::new();
    };
    let has_mode = !t
        .raw_get::<Value>("mode")
        .map(|m| m.is_nil())
        .unwrap_or(true);
    let mut notes = Vec::new();
    for (key, value) in t.clone().pairs::<Value, Value>().flatten() {
        let Value::String(key) = key else {
            notes.push(format!(
                "{who} returns a stat table with a {} key, which flu ignores",
                key.type_name()
            ));
            continue;
        };
        let key = key.to_string_lossy();
        if key == "mode" {
            if let Value::Table(mode) = value {
                notes.extend(ignored_in_mode_set(who, &mode));
            }
            continue;
        }
        if STAT_FIELDS.contains(&key.as_str())
            || (has_mode && FS_ATTR_EXTRAS.contains(&key.as_str()))
        {
            continue;
        }
        notes.push(match nearest(&key, STAT_FIELDS.iter().copied()) {
            Some(meant) => format!(
                "{who} returns a stat table with field '{key}', which flu ignores (did you mean '{meant}'?)"
            ),
            None => format!("{who} returns a stat table with field '{key}', which flu ignores"),
        });
    }
    notes.sort();
    notes
}

/// Names set in a mode set that are no file type or permission bit.
fn ignored_in_mode_set(who: &str, mode: &mlua::Table) -> Vec<String> {
    let known = || MODE_TYPES.iter().chain(MODE_BITS).map(|(n, _)| *n);
    let mut notes = Vec::new();
    for (key, _) in mode.clone().pairs::<Value, Value>().flatten() {
        let Value::String(key) = key else { continue };
        let key = key.to_string_lossy();
        if known().any(|k| k == key) {
            continue;
        }
        notes.push(match nearest(&key, known()) {
            Some(meant) => format!(
                "{who} returns a mode set with '{key}', which is no mode bit (did you mean '{meant}'?)"
            ),
            None => format!(
                "{who} returns a mode set with '{key}', which is no mode bit (types: dir, reg, lnk, ...; bits: rusr, wusr, xusr, ...)"
            ),
        });
    }
    notes
}

/// The file type of `mode` when it names one flu knows (`S_IFDIR`, …).
pub(super) fn file_type(mode: u32) -> Option<&'static str> {
    MODE_TYPES
        .iter()
        .find(|(_, t)| mode & libc::S_IFMT == *t)
        .map(|(n, _)| *n)
}
