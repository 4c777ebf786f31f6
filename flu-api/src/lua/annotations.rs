//! The LuaLS annotation files (`---@meta`) shipped in `flu-api/types/`: the `flu` and
//! `fs` modules, the handler table, stat and statfs tables, `fi`, mode and flag sets,
//! errno values. Embedded so that `flu types DIR` can write them anywhere; the tests
//! below hold them to what a real Lua state exports.

/// Each annotation file: its name and its text.
pub const ANNOTATION_FILES: &[(&str, &str)] = &[
    ("flu.lua", include_str!("../../types/flu.lua")),
    ("fs.lua", include_str!("../../types/fs.lua")),
    ("handlers.lua", include_str!("../../types/handlers.lua")),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use mlua::{Table, Value};

    use super::ANNOTATION_FILES;
    use crate::lua::sets::{MODE_BITS, MODE_TYPES, OPEN_FLAG_BITS};
    use crate::lua::stat::{statfs_to_lua, STAT_FIELDS};
    use crate::lua::{default_environment, Script};
    use crate::op::Op;
    use crate::stat::StatFs;
    use crate::test_support::TempDir;

    fn file(name: &str) -> &'static str {
        ANNOTATION_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .unwrap_or_else(|| panic!("no annotation file {name}"))
    }

    /// The `---@field` names of class `class` in `text` (up to the next class).
    fn fields(text: &str, class: &str) -> BTreeSet<String> {
        let start = format!("---@class {class}\n");
        let at = text
            .find(&start)
            .unwrap_or_else(|| panic!("no class {class}"));
        let body = &text[at + start.len()..];
        let end = body.find("---@class ").unwrap_or(body.len());
        body[..end]
            .lines()
            .filter_map(|l| l.strip_prefix("---@field "))
            .filter_map(|l| l.split_whitespace().next())
            .map(|n| n.trim_end_matches('?').to_string())
            .collect()
    }

    /// A real Lua state, made as `flu mount` makes it; its `flu` and `fs` modules.
    fn modules() -> (Script, Table, Table) {
        let dir = TempDir::new("annotations");
        // Not fs.lua: a script's own fs.lua would be what `require 'fs'` finds.
        let path = dir.join("main.lua");
        std::fs::write(&path, "return {}").unwrap();
        let script = Script::load(&path, &[], &default_environment()).unwrap();
        let (flu, fs): (Table, Table) = script
            .lua()
            .load("return require 'flu', require 'fs'")
            .eval()
            .unwrap();
        (script, flu, fs)
    }

    fn keys(t: &Table) -> Vec<(String, Value)> {
        let mut keys: Vec<(String, Value)> =
            t.pairs::<String, Value>().map(|kv| kv.unwrap()).collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys
    }

    #[test]
    fn every_export_of_the_flu_module_is_annotated() {
        let (_script, flu, fs) = modules();
        let text = file("flu.lua");
        let top = fields(text, "flu");
        let mut missing = Vec::new();
        for (name, value) in keys(&flu) {
            match value {
                Value::Function(_) => {
                    if !text.contains(&format!("\nfunction flu.{name}(")) {
                        missing.push(format!("function flu.{name}"));
                    }
                }
                Value::Table(sub) => {
                    if !top.contains(&name) {
                        missing.push(format!("field flu.{name}"));
                    }
                    // flu.fs is the fs module, held to fs.lua by its own test.
                    if sub == fs {
                        continue;
                    }
                    // Subtables of functions (flu.log, flu.notify): each one.
                    for (inner, v) in keys(&sub) {
                        if matches!(v, Value::Function(_))
                            && !text.contains(&format!("\nfunction {name}.{inner}("))
                        {
                            missing.push(format!("function flu.{name}.{inner}"));
                        }
                    }
                }
                _ => {
                    if !top.contains(&name) {
                        missing.push(format!("field flu.{name}"));
                    }
                }
            }
        }
        assert_eq!(
            missing,
            Vec::<String>::new(),
            "not annotated in types/flu.lua"
        );
    }

    #[test]
    fn every_errno_name_is_annotated() {
        let (_script, flu, _) = modules();
        let errno: Table = flu.get("errno").unwrap();
        let annotated = fields(file("flu.lua"), "flu.ErrnoTable");
        let names: BTreeSet<String> = keys(&errno).into_iter().map(|(n, _)| n).collect();
        assert!(names.len() > 130, "{names:?}");
        assert_eq!(annotated, names);
    }

    #[test]
    fn every_function_of_the_fs_module_is_annotated() {
        let (_script, _, fs) = modules();
        let text = file("fs.lua");
        let mut functions = 0;
        let mut missing = Vec::new();
        for (name, value) in keys(&fs) {
            assert!(
                matches!(value, Value::Function(_)),
                "fs.{name} is no function"
            );
            functions += 1;
            if !text.contains(&format!("\nfunction fs.{name}(")) {
                missing.push(name);
            }
        }
        assert!(functions > 30);
        assert_eq!(
            missing,
            Vec::<String>::new(),
            "not annotated in types/fs.lua"
        );
    }

    #[test]
    fn every_handler_and_table_field_is_annotated() {
        let text = file("handlers.lua");
        let handlers = fields(text, "flu.Filesystem");
        for op in Op::HANDLERS {
            assert!(handlers.contains(op.name()), "handler {}", op.name());
        }
        for extra in crate::lua::handler_names::FIELDS {
            assert!(handlers.contains(*extra), "field {extra}");
        }
        let stat = fields(text, "flu.Stat");
        let known: BTreeSet<String> = STAT_FIELDS.iter().map(|s| s.to_string()).collect();
        assert_eq!(stat, known, "flu.Stat");
        let modes = fields(text, "flu.ModeSet");
        for (name, _) in MODE_TYPES.iter().chain(MODE_BITS) {
            assert!(modes.contains(*name), "mode name {name}");
        }
        let flags = fields(text, "flu.OpenFlags");
        for name in OPEN_FLAG_BITS
            .iter()
            .map(|(n, _)| *n)
            .chain(["rdonly", "wronly", "rdwr"])
        {
            assert!(flags.contains(name), "open flag {name}");
        }
        let (script, _, _) = modules();
        let lua = script.lua();
        let fi = crate::lua::handles::new_file_info(lua, libc::O_RDONLY).unwrap();
        let fi_fields = fields(text, "flu.FileInfo");
        for (name, _) in keys(&fi) {
            assert!(fi_fields.contains(&name), "fi.{name}");
        }
        let statfs = statfs_to_lua(lua, &StatFs::default()).unwrap();
        let statfs_fields = fields(text, "flu.Statfs");
        for (name, _) in keys(&statfs) {
            assert!(statfs_fields.contains(&name), "statfs field {name}");
        }
    }

    #[test]
    fn every_file_is_a_meta_file_and_valid_lua() {
        let lua = mlua::Lua::new();
        for (name, text) in ANNOTATION_FILES {
            assert!(text.starts_with("---@meta"), "{name}");
            if let Err(e) = lua.load(*text).set_name(*name).into_function() {
                panic!("{name} does not compile: {e}");
            }
        }
    }
}
