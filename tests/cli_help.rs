//! The CLI teaches itself: `flu mount -o help` without a script, `flu --version` with
//! the Lua release and kernel passthrough, examples at the end of each `--help`, and
//! completions a shell accepts.

mod common;

use std::process::Command;

use common::*;

fn flu(args: &[&str]) -> Run {
    run_cmd(Command::new(flu_bin()).args(args), COMMAND_TIMEOUT)
}

#[test]
fn mount_option_help_lists_options_without_a_script() {
    for args in [
        &["mount", "-o", "help"][..],
        &["mount", "-ohelp"],
        &["mount", "x.lua", "/nonexistent", "-o", "ro,help"],
    ] {
        let r = flu(args);
        assert!(r.ok(), "{args:?}: {}", r.stderr);
        for needle in [
            "uid=USER",
            "umask=OCTAL",
            "max_read=BYTES",
            "attr_timeout=SECS",
            "[default: 1]",
            "script_arg=ARG",
        ] {
            assert!(r.stdout.contains(needle), "{args:?}: {needle}");
        }
    }
    // A Flu-style script (flu.main) takes `-o help` too, as libfuse programs do.
    let r = run_cmd(
        Command::new(flu_bin())
            .arg(example("hellofs.lua"))
            .args(["-o", "help"]),
        COMMAND_TIMEOUT,
    );
    assert!(r.ok(), "{}", r.stderr);
    assert!(r.stdout.contains("umask=OCTAL"), "{}", r.stdout);
    // Without help, the script and mountpoint are still required.
    let r = flu(&["mount", "-o", "ro"]);
    assert!(!r.ok());
    assert!(r.stderr.contains("<SCRIPT>"), "{}", r.stderr);
}

#[test]
fn version_names_lua_and_kernel_passthrough() {
    let r = flu(&["--version"]);
    assert!(r.ok());
    let line = r.stdout.trim();
    assert!(
        line.starts_with(&format!("flu {} (Lua 5.4.", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    let verdict = line
        .split_once("; kernel passthrough: ")
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        [
            "available",
            "probably available",
            "not available",
            "unknown"
        ]
        .iter()
        .any(|w| verdict.starts_with(w)),
        "{verdict}"
    );
    if !is_root() {
        assert!(verdict.starts_with("not available"), "{verdict}");
    }
}

#[test]
fn every_help_ends_with_examples() {
    for sub in [
        "mount",
        "unmount",
        "stats",
        "reload",
        "run",
        "completions",
        "man",
    ] {
        let r = flu(&[sub, "--help"]);
        assert!(r.ok(), "{sub}");
        let (_, examples) = r
            .stdout
            .rsplit_once("Examples:\n")
            .unwrap_or_else(|| panic!("flu {sub} --help has no examples"));
        assert!(examples.lines().all(|l| l.starts_with("  flu ")
            || l.starts_with("  ./")
            || l.starts_with("  kill ")
            || l.starts_with("  sudo flu ")));
    }
    let top = flu(&["--help"]);
    assert!(top.stdout.contains("flu SCRIPT [ARGS]..."), "the shorthand");
}

#[test]
fn bash_accepts_the_completion_script() {
    let r = flu(&["completions", "bash"]);
    assert!(r.ok());
    let tmp = TempDir::new("compl");
    let file = tmp.join("flu.bash");
    std::fs::write(&file, &r.stdout).unwrap();
    // Sourcing defines the completion function and registers it for flu.
    let check = run_cmd(
        Command::new("bash").arg("-c").arg(format!(
            "source {:?} && complete -p flu && declare -F _flu",
            file
        )),
        COMMAND_TIMEOUT,
    );
    assert!(check.ok(), "{}", check.stderr);
    assert!(check.stdout.contains("_flu"), "{}", check.stdout);
}
