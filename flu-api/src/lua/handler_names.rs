//! The names a filesystem table may hold: the handlers flu calls (`Op::HANDLERS`), the
//! few fields it reads, and a "did you mean" for a name that looks like a misspelled
//! handler. Used when the filesystem is built (a warning at mount) and by tools that
//! check a script.

use mlua::{Table, Value};

use crate::op::Op;

/// Fields of a filesystem table that are read but are no handlers.
pub const FIELDS: &[&str] = &["max_file_size", "reload"];

/// The handler `name` most likely meant: the nearest handler name within an edit
/// distance of 2 (1 for names of four letters or fewer).
pub fn suggestion(name: &str) -> Option<&'static str> {
    nearest(name, Op::HANDLERS.iter().map(|op| op.name()))
}

/// The candidate `name` most likely meant, by the same rule as `suggestion` (used for
/// stat fields and mode names too).
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let max = if name.len() <= 4 { 1 } else { 2 };
    candidates
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance over bytes.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// What a filesystem table says about itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TableReport {
    /// Handler names defined (also through `__index` tables).
    pub handlers: usize,
    /// Functions under names flu never calls, with the handler they probably meant.
    pub unknown: Vec<(String, Option<&'static str>)>,
}

/// Look at `fs` and the tables its `__index` chain leads to.
pub fn inspect(fs: &Table) -> TableReport {
    let mut report = TableReport::default();
    let mut seen = std::collections::BTreeSet::new();
    let mut table = Some(fs.clone());
    // A chain of __index tables (a metatable's function __index cannot be listed).
    for _ in 0..8 {
        let Some(t) = table.take() else { break };
        for (key, value) in t.clone().pairs::<Value, Value>().flatten() {
            let Value::String(key) = key else { continue };
            let Ok(name) = key.to_str().map(|s| s.to_string()) else {
                continue;
            };
            if !matches!(value, Value::Function(_)) || !seen.insert(name.clone()) {
                continue;
            }
            if Op::from_name(&name).is_some() {
                report.handlers += 1;
            } else if !FIELDS.contains(&name.as_str()) {
                report.unknown.push((name.clone(), suggestion(&name)));
            }
        }
        table = t
            .metatable()
            .and_then(|m| m.raw_get::<Value>("__index").ok())
            .and_then(|i| match i {
                Value::Table(t) => Some(t),
                _ => None,
            });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_get_suggestions() {
        assert_eq!(suggestion("getatr"), Some("getattr"));
        assert_eq!(suggestion("readdirr"), Some("readdir"));
        assert_eq!(suggestion("opne"), None, "short names need a closer match");
        assert_eq!(suggestion("helper_for_paths"), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn tables_are_inspected_through_index() {
        let lua = mlua::Lua::new();
        let fs: Table = lua
            .load(
                r#"
                local base = { read = function() end, getatr = function() end }
                local fs = setmetatable({ getattr = function() end, max_file_size = 10,
                  data = {}, helper = function() end }, { __index = base })
                return fs
                "#,
            )
            .eval()
            .unwrap();
        let r = inspect(&fs);
        assert_eq!(r.handlers, 2);
        let mut unknown = r.unknown.clone();
        unknown.sort();
        assert_eq!(
            unknown,
            vec![
                ("getatr".to_string(), Some("getattr")),
                ("helper".to_string(), None)
            ]
        );
        let empty: Table = lua.load("return {}").eval().unwrap();
        assert_eq!(inspect(&empty).handlers, 0);
    }
}
