//! `flu test SCRIPT`: every example passes its own battery (failing only the checks its
//! header declares); deliberately broken scripts fail, with the fault named; `--json`
//! has the table's verdicts; a handler that hangs is given up on with `--timeout`; and
//! whatever happens, no mount, daemon or temporary directory is left behind. Also the
//! `handlers` member of the stats reply `flu test` chooses its checks from, including
//! handlers inherited through `__index`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use flu::control::json::{self, Value};

/// How long one `flu test` run may take (a whole battery takes a second or two).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// `flu test ARGS…` with TMPDIR pointing into `tmp` (so what it leaves there can be
/// seen). `None`: skip (no FUSE here, and not on CI).
fn flu_test(tmp: &TempDir, args: &[&str]) -> Option<Run> {
    let r = run_cmd(
        Command::new(flu_bin())
            .arg("test")
            .args(args)
            .env("TMPDIR", tmp.path())
            .current_dir(root_dir()),
        RUN_TIMEOUT,
    );
    if r.stderr.contains("the mount failed") && r.stderr.contains("/dev/fuse") {
        return skip_or_fail(&format!("flu test could not mount: {}", r.stderr));
    }
    Some(r)
}

/// Nothing left by a run: no FUSE mount below `tmp`, and its work directory removed.
fn assert_nothing_left(tmp: &TempDir) {
    let mounts: Vec<_> = fuse_mounts()
        .into_iter()
        .filter(|(m, _)| m.starts_with(tmp.path()))
        .collect();
    assert!(mounts.is_empty(), "mounts left behind: {mounts:?}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("flu-test."))
        .collect();
    assert!(
        left.is_empty(),
        "temporary directories left behind: {left:?}"
    );
}

/// check → verdict, from the table.
fn table_verdicts(stdout: &str) -> BTreeMap<String, String> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("check "));
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no table:\n{stdout}"));
    assert!(header.ends_with("verdict"), "{header}");
    lines
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with(' '))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].to_string(), words[words.len() - 1].to_string())
        })
        .collect()
}

/// The JSON rows: check → (verdict, got).
fn json_rows(stdout: &str) -> BTreeMap<String, (String, String)> {
    let v = json::parse(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    v.get("checks")
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .map(|row| {
            let s = |k: &str| {
                row.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (s("check"), (s("verdict"), s("got")))
        })
        .collect()
}

#[test]
fn every_example_passes_its_battery() {
    let mut examples: Vec<_> = std::fs::read_dir(root_dir().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 7, "{examples:?}");
    let tmp = TempDir::new("flu-test-examples");
    for ex in &examples {
        let text = std::fs::read_to_string(ex).unwrap();
        assert!(
            text.lines().any(|l| l.starts_with("-- flu test: --")),
            "{} declares no `-- flu test: --` header line",
            ex.display()
        );
        let Some(r) = flu_test(&tmp, &[ex.to_str().unwrap(), "--json"]) else {
            return;
        };
        assert!(
            r.ok(),
            "flu test {} failed ({}):\n{}\n{}",
            ex.display(),
            r.status,
            r.stdout,
            r.stderr
        );
        let rows = json_rows(&r.stdout);
        let count = |v: &str| rows.values().filter(|(verdict, _)| verdict == v).count();
        assert_eq!(count("FAIL"), 0, "{}: {rows:?}", ex.display());
        assert!(
            count("pass") >= 9,
            "{}: too few checks passed: {rows:?}",
            ex.display()
        );
        // Exactly the declared failures fail, as expected.
        let declared: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("-- flu test expects failure: "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let xfail: Vec<&str> = rows
            .iter()
            .filter(|(_, (v, _))| v == "xfail")
            .map(|(c, _)| c.as_str())
            .collect();
        assert_eq!(xfail, declared, "{}", ex.display());
        assert_nothing_left(&tmp);
    }
}

#[test]
fn examples_get_the_battery_their_handlers_call_for() {
    let tmp = TempDir::new("flu-test-choice");
    let Some(luafs) = flu_test(&tmp, &["examples/luafs.lua", "--json"]) else {
        return;
    };
    let rows = json_rows(&luafs.stdout);
    for check in [
        "create",
        "rename-over-dir",
        "unlink-open",
        "xattr-size-probe",
        "link",
        "cleanup",
    ] {
        assert_eq!(rows[check].0, "pass", "luafs {check}: {rows:?}");
    }
    // hellofs changes nothing: the read-only battery only, no writing check listed.
    let hello = flu_test(&tmp, &["examples/hellofs.lua", "--json"]).unwrap();
    let rows = json_rows(&hello.stdout);
    assert_eq!(rows["read-offsets"].0, "pass", "{rows:?}");
    assert!(
        !rows.contains_key("create") && !rows.contains_key("rename-file"),
        "{rows:?}"
    );
    assert_eq!(rows["statfs"], ("skip".into(), "no statfs handler".into()));
    // readonlyfs defines writing handlers that answer EROFS: it is recognised as
    // read-only, and the writing checks say so.
    let ro = flu_test(&tmp, &["examples/readonlyfs.lua", "--json"]).unwrap();
    let rows = json_rows(&ro.stdout);
    assert_eq!(rows["refuses-changes"].0, "pass", "{rows:?}");
    assert_eq!(rows["write"].0, "skip");
    assert!(rows["write"].1.contains("EROFS"), "{rows:?}");
    // statusfs writes but cannot create: writing checks are skipped with the reason.
    let status = flu_test(&tmp, &["examples/statusfs.lua", "--json"]).unwrap();
    let rows = json_rows(&status.stdout);
    assert_eq!(
        rows["write"],
        ("skip".into(), "no create or mknod handler".into())
    );
    assert_eq!(
        rows["symlink"],
        ("skip".into(), "no symlink handler".into())
    );
    assert_nothing_left(&tmp);
}

#[test]
fn broken_scripts_fail_with_the_fault_named() {
    let tmp = TempDir::new("flu-test-broken");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "broken_read_offset.lua",
            "read-offsets",
            &["/data: read at offset 1: got the bytes of offset 0"],
        ),
        (
            "broken_readdir_twice.lua",
            "readdir",
            &["readdir /: 'twice' listed 2 times"],
        ),
        (
            "broken_size.lua",
            "read-size",
            &[
                "/more: size 14 but 13 bytes read",
                "/less: size 12 but 13 bytes read",
            ],
        ),
        (
            "broken_truncate.lua",
            "truncate-down",
            &["truncate-down: size 11 after truncate to 5, expected 5"],
        ),
    ];
    for (script, check, needles) in cases {
        let path = test_script(script);
        let path = path.to_str().unwrap();
        let Some(table) = flu_test(&tmp, &[path]) else {
            return;
        };
        assert_eq!(table.status.code(), Some(1), "{script}:\n{}", table.stdout);
        assert!(
            table.stderr.contains("failed"),
            "{script}: {}",
            table.stderr
        );
        let json = flu_test(&tmp, &[path, "--json"]).unwrap();
        assert_eq!(json.status.code(), Some(1), "{script} --json");
        let rows = json_rows(&json.stdout);
        let (verdict, got) = &rows[*check];
        assert_eq!(verdict, "FAIL", "{script}: {check}: {rows:?}");
        for needle in *needles {
            assert!(
                got.contains(needle),
                "{script}: {check}: {got:?} lacks {needle:?}"
            );
        }
        // The fault is the script's, not flu test's: the plain checks still pass.
        for ok in ["stat-root", "enoent", "eisdir"] {
            assert_eq!(rows[ok].0, "pass", "{script}: {ok}: {rows:?}");
        }
        // The table and the JSON agree on every verdict.
        let from_json: BTreeMap<String, String> = rows
            .iter()
            .map(|(c, (v, _))| (c.clone(), v.clone()))
            .collect();
        assert_eq!(table_verdicts(&table.stdout), from_json, "{script}");
        let v = json::parse(json.stdout.trim()).unwrap();
        assert_eq!(v.get("ok").and_then(Value::as_bool), Some(false));
        assert_nothing_left(&tmp);
    }
    // The writable broken script fails only the check it breaks.
    let json = flu_test(
        &tmp,
        &[
            test_script("broken_truncate.lua").to_str().unwrap(),
            "--json",
        ],
    )
    .unwrap();
    let rows = json_rows(&json.stdout);
    let failed: Vec<&String> = rows
        .iter()
        .filter(|(_, (v, _))| v == "FAIL")
        .map(|(c, _)| c)
        .collect();
    assert_eq!(failed, ["truncate-down"], "{rows:?}");
    for ok in [
        "create",
        "write",
        "append",
        "truncate-up",
        "sparse-read",
        "unlink-open",
        "cleanup",
    ] {
        assert_eq!(rows[ok].0, "pass", "{ok}: {rows:?}");
    }
}

#[test]
fn a_hung_handler_is_given_up_on_and_the_mount_still_goes() {
    let tmp = TempDir::new("flu-test-hang");
    let script = test_script("broken_hangs.lua");
    let start = Instant::now();
    let Some(r) = flu_test(
        &tmp,
        &["--timeout", "2", script.to_str().unwrap(), "--json"],
    ) else {
        return;
    };
    let took = start.elapsed();
    assert_eq!(r.status.code(), Some(1), "{}\n{}", r.stdout, r.stderr);
    let rows = json_rows(&r.stdout);
    let (verdict, got) = &rows["read-size"];
    assert_eq!(verdict, "FAIL");
    assert!(got.contains("no answer within 2 s"), "{got}");
    assert_eq!(rows["read-offsets"].0, "skip");
    assert!(
        rows["read-offsets"].1.contains("did not finish"),
        "{rows:?}"
    );
    assert!(took < Duration::from_secs(40), "took {took:?}");
    assert_nothing_left(&tmp);
    assert!(
        wait_until(EXIT_TIMEOUT, || pids_mentioning(&script).is_empty()),
        "the daemon of {} is still running",
        script.display()
    );
}

#[test]
fn ctrl_c_stops_the_battery_and_still_unmounts() {
    use std::os::unix::process::CommandExt;
    let tmp = TempDir::new("flu-test-ctrl-c");
    let script = test_script("broken_hangs.lua");
    let out = tmp.join("stdout");
    let err = tmp.join("stderr");
    // Its own process group, as a shell gives a job: a Ctrl-C goes to the whole group,
    // flu test and its daemon.
    let mut child = Command::new(flu_bin())
        .args(["test", "--timeout", "60"])
        .arg(&script)
        .env("TMPDIR", tmp.path())
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let mounted = wait_until(MOUNT_TIMEOUT, || {
        fuse_mounts().iter().any(|(m, _)| m.starts_with(tmp.path()))
    });
    if !mounted {
        let _ = child.kill();
        let _ = child.wait();
        skip_or_fail::<()>(&format!(
            "flu test did not mount: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        ));
        return;
    }
    // Let the battery reach the read that hangs.
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: kill(2) on the process group of the child this test started.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) };
    let status =
        wait_child(&mut child, Duration::from_secs(40)).expect("flu test exits after Ctrl-C");
    let stdout = std::fs::read_to_string(&out).unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    assert_nothing_left(&tmp);
    assert!(
        wait_until(EXIT_TIMEOUT, || pids_mentioning(&script).is_empty()),
        "the daemon of {} is still running",
        script.display()
    );
}

#[test]
fn mount_and_header_errors_say_what_is_wrong() {
    let tmp = TempDir::new("flu-test-errors");
    let Some(r) = flu_test(&tmp, &["tests/scripts/syntax_error.lua"]) else {
        return;
    };
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("the mount failed"), "{}", r.stderr);
    assert!(r.stderr.contains("syntax_error.lua:4:"), "{}", r.stderr);
    assert_nothing_left(&tmp);

    let bad = tmp.join("bad_header.lua");
    std::fs::write(
        &bad,
        "-- flu test expects failure: stafs (a typo)\nreturn {}\n",
    )
    .unwrap();
    let r = flu_test(&tmp, &[bad.to_str().unwrap()]).unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(
        r.stderr.contains("names no check \"stafs\""),
        "{}",
        r.stderr
    );
    let r = flu_test(&tmp, &["--timeout", "0", "examples/hellofs.lua"]).unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(r.stderr.contains("--timeout"), "{}", r.stderr);
}

#[test]
fn stats_list_the_handlers_a_mount_serves() {
    let Some(m) = mount(&example("hellofs.lua")) else {
        return;
    };
    let handlers = |dir: &Path| -> Vec<String> {
        stats_of(dir)
            .get("handlers")
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(handlers(&m.dir), ["getattr", "open", "read", "readdir"]);
    drop(m);
    // readonlyfs defines the writing handlers itself and inherits the rest from the
    // native passthrough through __index: both count.
    let root = TempDir::new("flu-test-ro-root");
    let Some(m) = mount_with(
        &example("readonlyfs.lua"),
        MountOptions::new().arg(root.path()),
    ) else {
        return;
    };
    let served = handlers(&m.dir);
    for h in [
        "getattr", "read", "readdir", "getxattr", "statfs", "mkdir", "write", "open",
    ] {
        assert!(served.iter().any(|s| s == h), "{h} missing from {served:?}");
    }
}

/// A copy of hellofs whose header has `header` instead of its own `flu test` lines.
fn hellofs_with_header(tmp: &TempDir, name: &str, header: &str) -> std::path::PathBuf {
    let hello = std::fs::read_to_string(example("hellofs.lua")).unwrap();
    let body: Vec<&str> = hello
        .lines()
        .filter(|l| !l.starts_with("#!") && !l.starts_with("-- flu test:"))
        .collect();
    let path = tmp.join(name);
    std::fs::write(&path, format!("{header}{}\n", body.join("\n"))).unwrap();
    path
}

#[test]
fn setup_commands_run_first_and_what_they_leave_running_is_stopped() {
    let tmp = TempDir::new("flu-test-setup");
    let pidfile = tmp.join("background.pid");
    let seen = tmp.join("seen");
    // The first command sees {tmpdir} filled and {port} a number; the second leaves a
    // process running, as a test server that forks once it listens does.
    let script = hellofs_with_header(
        &tmp,
        "setup_ok.lua",
        &format!(
            "-- flu test setup: sh -c 'ls \"$0\" > \"$1\"; echo \"$2\" >> \"$1\"' {{tmpdir}} {seen} {{port}}\n-- flu test setup: sh -c 'sleep 60 & echo $! > \"$0\"' {pid}\n-- flu test: --\n",
            seen = seen.display(),
            pid = pidfile.display()
        ),
    );
    let Some(r) = flu_test(&tmp, &[script.to_str().unwrap(), "--json"]) else {
        return;
    };
    assert!(r.ok(), "{}\n{}", r.stdout, r.stderr);
    let seen = std::fs::read_to_string(&seen).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert!(
        lines.len() > 2,
        "{{tmpdir}} was filled before the setup ran: {seen}"
    );
    assert!(
        lines[lines.len() - 1].parse::<u16>().is_ok_and(|p| p > 0),
        "{seen}"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        wait_until(EXIT_TIMEOUT, || !pid_alive(pid)),
        "the process the setup left running ({pid}) was not stopped"
    );
    assert_nothing_left(&tmp);

    // A setup command that fails: the run fails before mounting, saying which and why.
    let script = hellofs_with_header(
        &tmp,
        "setup_fails.lua",
        "-- flu test setup: sh -c 'echo the-reason >&2; exit 3'\n-- flu test: --\n",
    );
    let r = flu_test(&tmp, &[script.to_str().unwrap()]).unwrap();
    assert_eq!(r.status.code(), Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("setup command") && r.stderr.contains("the-reason"),
        "{}",
        r.stderr
    );
    assert_nothing_left(&tmp);
    // The command line's own arguments replace the header's: no setup runs then.
    let r = flu_test(&tmp, &[script.to_str().unwrap(), "--", "x"]).unwrap();
    assert!(r.ok(), "{}\n{}", r.stdout, r.stderr);
}
