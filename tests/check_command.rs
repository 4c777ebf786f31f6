//! `flu check`: every example passes (exit 0), and broken scripts get the finding they
//! deserve, one line each with the file and line, and the exit status that goes with it.
//! Nothing is mounted: these tests need no /dev/fuse.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn check(script: &Path, args: &[&Path]) -> Run {
    let mut cmd = Command::new(flu_bin());
    cmd.arg("check").arg(script);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run_cmd(&mut cmd, COMMAND_TIMEOUT)
}

/// Whether an example's usage line (`flu mount examples/NAME.lua DIR -- ROOT …` in its
/// header) asks for script arguments: passthrough-style examples need a directory.
fn needs_directory(script: &Path) -> bool {
    let text = std::fs::read_to_string(script).unwrap();
    let name = script.file_name().unwrap().to_string_lossy().into_owned();
    text.lines()
        .take_while(|l| l.starts_with("--") || l.starts_with("#!") || l.is_empty())
        .filter(|l| l.contains("flu mount") && l.contains(&name))
        .any(|l| {
            l.split("flu mount")
                .nth(1)
                .is_some_and(|rest| rest.contains(" -- "))
        })
}

#[test]
fn every_example_passes() {
    let root = TempDir::new("check-root");
    std::fs::write(root.join("file.txt"), "data\n").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root_dir().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 5, "{examples:?}");
    let mut with_args = 0;
    for example in &examples {
        let args: Vec<&Path> = if needs_directory(example) {
            with_args += 1;
            vec![root.path()]
        } else {
            vec![]
        };
        let run = check(example, &args);
        assert!(
            run.ok(),
            "flu check {} failed:\n{}{}",
            example.display(),
            run.stdout,
            run.stderr
        );
        let last = run.stdout.lines().last().unwrap_or_default();
        assert!(
            last.contains(": ok ("),
            "{}: {}",
            example.display(),
            run.stdout
        );
        assert!(!run.stdout.contains(": error:"), "{}", run.stdout);
    }
    assert!(
        with_args >= 3,
        "the passthrough-style examples take a directory"
    );
}

#[test]
fn an_example_without_its_arguments_fails_with_its_usage() {
    let script = example("passthrough.lua");
    let run = check(&script, &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    // The line of the script's own usage error.
    let source = std::fs::read_to_string(&script).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains("error(") && l.contains("usage:"))
        .map(|i| i + 1)
        .expect("passthrough.lua raises a usage error");
    assert!(
        run.stdout
            .contains(&format!("passthrough.lua:{line}: error: usage:")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_misspelled_handler_is_a_warning_with_a_suggestion() {
    let script = test_script("check_misspelled.lua");
    let run = check(&script, &[]);
    assert!(run.ok(), "{run:?}");
    let expected = format!(
        "{}:8: warning: 'raedlink' is no handler flu calls (did you mean 'readlink'?)",
        script.display()
    );
    assert!(run.stdout.lines().any(|l| l == expected), "{}", run.stdout);
    assert!(run.stdout.contains(": ok (2 handlers"), "{}", run.stdout);
    assert!(run.stdout.contains("1 warning)"), "{}", run.stdout);
}

#[test]
fn a_field_of_the_wrong_type_is_an_error_at_the_handler() {
    let script = test_script("check_bad_field.lua");
    let run = check(&script, &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let expected = format!(
        "{}:4: error: getattr('/'): bad result #1 from 'getattr' (field 'size' must be a number, got boolean)",
        script.display()
    );
    assert!(run.stdout.lines().any(|l| l == expected), "{}", run.stdout);
    assert!(run.stderr.contains("1 error, 0 warnings"), "{}", run.stderr);
}

#[test]
fn a_syntax_error_names_its_line() {
    let script = test_script("syntax_error.lua");
    let run = check(&script, &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let line = run.stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(&format!("{}:4: error: ", script.display())),
        "{}",
        run.stdout
    );
}

#[test]
fn tables_without_handlers_and_scripts_without_tables_are_errors() {
    let run = check(&test_script("no_handlers.lua"), &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("error: the filesystem table defines no handlers"),
        "{}",
        run.stdout
    );
    // The table's one function is a misspelled getattr: said too, as a warning.
    assert!(
        run.stdout.contains("did you mean 'getattr'?"),
        "{}",
        run.stdout
    );

    let run = check(&test_script("no_table.lua"), &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("error: the script returned no filesystem table"),
        "{}",
        run.stdout
    );

    let run = check(&root_dir().join("tests/scripts/does_not_exist.lua"), &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        run.stdout.contains("error: cannot read script"),
        "{}",
        run.stdout
    );
}

#[test]
fn help_ends_with_examples() {
    let run = run_cmd(
        Command::new(flu_bin()).args(["check", "--help"]),
        COMMAND_TIMEOUT,
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stdout.contains("Examples:\n  flu check myfs.lua"),
        "{}",
        run.stdout
    );
}
