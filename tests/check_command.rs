//! `flu check`: every example passes (exit 0), and broken scripts get the finding they
//! deserve, one line each with the file and line, and the exit status that goes with it.
//! Nothing is mounted: these tests need no /dev/fuse.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn check<A: AsRef<std::ffi::OsStr>>(script: &Path, args: &[A]) -> Run {
    let mut cmd = Command::new(flu_bin());
    cmd.arg("check").arg(script);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run_cmd(&mut cmd, COMMAND_TIMEOUT)
}

/// Words of a header line: separated by blanks, `'…'` or `"…"` quoting one (as `flu
/// test` reads them).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '\'' || c == '"' {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            } else {
                word.push(c);
            }
        }
        out.push(word);
    }
    out
}

/// An example made ready as its `flu test` header says: the setup commands run (in a
/// process group each, stopped on drop), and the script's arguments, placeholders
/// filled in.
struct Prepared {
    args: Vec<String>,
    groups: Vec<i32>,
    _tmp: TempDir,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        for &g in &self.groups {
            // SAFETY: signalling a process group this test started.
            unsafe { libc::kill(-g, libc::SIGTERM) };
        }
    }
}

fn prepare(script: &Path) -> Prepared {
    use std::os::unix::process::CommandExt;
    let tmp = TempDir::new("check-root");
    std::fs::write(tmp.join("file.txt"), "data\n").unwrap();
    std::fs::create_dir(tmp.join("sub")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
        .to_string();
    let dir = script.parent().unwrap().to_string_lossy().into_owned();
    let tmpdir = tmp.path().to_string_lossy().into_owned();
    let fill = |w: &str| {
        w.replace("{tmpdir}", &tmpdir)
            .replace("{port}", &port)
            .replace("{scriptdir}", &dir)
    };
    let text = std::fs::read_to_string(script).unwrap();
    let mut prepared = Prepared {
        args: Vec::new(),
        groups: Vec::new(),
        _tmp: tmp,
    };
    for line in text
        .lines()
        .take_while(|l| l.starts_with("--") || l.starts_with("#!") || l.is_empty())
    {
        if let Some(cmd) = line.strip_prefix("-- flu test setup:") {
            let argv: Vec<String> = words(cmd).iter().map(|w| fill(w)).collect();
            let mut child = Command::new(&argv[0]);
            child.args(&argv[1..]).process_group(0);
            let mut child = child.spawn().expect("setup command");
            prepared.groups.push(child.id() as i32);
            let status = wait_child(&mut child, COMMAND_TIMEOUT).expect("setup ends");
            assert!(
                status.success(),
                "{}: setup {argv:?} failed",
                script.display()
            );
        } else if let Some(rest) = line.strip_prefix("-- flu test:") {
            let rest = rest.trim().strip_prefix("--").unwrap_or(rest);
            prepared.args = words(rest).iter().map(|w| fill(w)).collect();
        }
    }
    prepared
}

#[test]
fn every_example_passes() {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root_dir().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 5, "{examples:?}");
    let mut with_args = 0;
    for example in &examples {
        // The arguments (and the data) its `flu test` header gives it.
        let prepared = prepare(example);
        with_args += usize::from(!prepared.args.is_empty());
        let run = check(example, &prepared.args);
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
    let run = check::<&str>(&script, &[]);
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
    let run = check::<&str>(&script, &[]);
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
    let run = check::<&str>(&script, &[]);
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
    let run = check::<&str>(&script, &[]);
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
    let run = check::<&str>(&test_script("no_handlers.lua"), &[]);
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

    let run = check::<&str>(&test_script("no_table.lua"), &[]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(
        run.stdout
            .contains("error: the script returned no filesystem table"),
        "{}",
        run.stdout
    );

    let run = check::<&str>(&root_dir().join("tests/scripts/does_not_exist.lua"), &[]);
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
