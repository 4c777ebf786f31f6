//! `flu types DIR`: the annotation files and a .luarc.json that uses them, and an
//! existing .luarc.json kept unless --force.

mod common;

use std::process::Command;

use common::*;

fn types(dir: &std::path::Path, force: bool) -> Run {
    let mut cmd = Command::new(flu_bin());
    cmd.arg("types").arg(dir);
    if force {
        cmd.arg("--force");
    }
    run_cmd(&mut cmd, COMMAND_TIMEOUT)
}

#[test]
fn writes_the_annotations_and_a_luarc() {
    let dir = TempDir::new("types");
    let run = types(dir.path(), false);
    assert!(run.ok(), "{run:?}");
    for name in ["flu.lua", "fs.lua", "handlers.lua"] {
        let written = std::fs::read_to_string(dir.join(".flu-types").join(name)).unwrap();
        let shipped = std::fs::read_to_string(root_dir().join("flu-api/types").join(name)).unwrap();
        assert_eq!(written, shipped, "{name}");
        assert!(written.starts_with("---@meta"), "{name}");
    }
    let luarc = std::fs::read_to_string(dir.join(".luarc.json")).unwrap();
    assert!(luarc.contains(r#""runtime.version": "Lua 5.4""#), "{luarc}");
    assert!(
        luarc.contains(r#""workspace.library": [".flu-types"]"#),
        "{luarc}"
    );
    // Again: the annotations are refreshed, the .luarc.json (ours) is left alone.
    std::fs::write(dir.join(".flu-types/flu.lua"), "stale").unwrap();
    let run = types(dir.path(), false);
    assert!(run.ok(), "{run:?}");
    assert!(std::fs::read_to_string(dir.join(".flu-types/flu.lua"))
        .unwrap()
        .starts_with("---@meta"));
    assert!(run.stdout.contains("left as it is"), "{}", run.stdout);
}

#[test]
fn a_foreign_luarc_is_kept_unless_forced() {
    let dir = TempDir::new("types-own");
    let mine = r#"{ "diagnostics.globals": ["vim"] }"#;
    std::fs::write(dir.join(".luarc.json"), mine).unwrap();
    let run = types(dir.path(), false);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join(".luarc.json")).unwrap(),
        mine
    );
    assert!(dir.join(".flu-types/handlers.lua").is_file());

    let run = types(dir.path(), true);
    assert!(run.ok(), "{run:?}");
    let luarc = std::fs::read_to_string(dir.join(".luarc.json")).unwrap();
    assert!(luarc.contains(".flu-types"), "{luarc}");
}

#[test]
fn help_ends_with_examples() {
    let run = run_cmd(
        Command::new(flu_bin()).args(["types", "--help"]),
        COMMAND_TIMEOUT,
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stdout.contains("Examples:\n  flu types ."),
        "{}",
        run.stdout
    );
}
