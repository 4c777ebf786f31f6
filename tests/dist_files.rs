//! The manual pages and completions committed in dist/ (what the Debian package ships)
//! are what the flu binary generates now: a CLI change without `dist/generate.sh` fails
//! here.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

const REGENERATE: &str = "run dist/generate.sh and commit dist/";

fn files_in(dir: &Path) -> BTreeMap<String, String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read_to_string(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn committed_man_pages_are_current() {
    let tmp = TempDir::new("man");
    let r = run_cmd(
        Command::new(flu_bin())
            .args(["man", "--dir"])
            .arg(tmp.path()),
        COMMAND_TIMEOUT,
    );
    assert!(r.ok(), "flu man --dir: {}", r.stderr);
    let generated = files_in(tmp.path());
    let committed = files_in(&root_dir().join("dist/man"));
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "the set of pages changed: {REGENERATE}"
    );
    for (name, text) in &generated {
        assert!(
            text.starts_with(".ie") || text.starts_with(".TH"),
            "{name} is roff"
        );
        assert!(
            &committed[name] == text,
            "dist/man/{name} is stale: {REGENERATE}"
        );
    }
}

#[test]
fn committed_completions_are_current() {
    for (shell, file) in [("bash", "flu.bash"), ("zsh", "_flu"), ("fish", "flu.fish")] {
        let r = run_cmd(
            Command::new(flu_bin()).args(["completions", shell]),
            COMMAND_TIMEOUT,
        );
        assert!(r.ok(), "flu completions {shell}: {}", r.stderr);
        assert!(r.stdout.contains("mount"), "{shell}");
        let committed = fs::read_to_string(root_dir().join("dist/completions").join(file))
            .unwrap_or_else(|e| panic!("dist/completions/{file}: {e}: {REGENERATE}"));
        assert!(
            committed == r.stdout,
            "dist/completions/{file} is stale: {REGENERATE}"
        );
    }
}
