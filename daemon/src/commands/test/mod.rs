//! `flu test SCRIPT [-- ARGS]`: mount the script in a temporary directory, run the
//! conformance battery its handlers call for, print the results (a table, or `--json`),
//! and always unmount. Exit status 1 when a check fails.
//!
//! - `header`: the arguments, setup commands and expected failures a script declares
//!   in its comments; `placeholders`: `{tmpdir}`, `{port}`, `{scriptdir}` in them;
//!   `setup`: running the setup commands, and stopping what they leave running.
//! - `workdir`: the temporary directory (mountpoint, daemon output, `{tmpdir}` tree).
//! - `mount`: the daemon as a child, ready when its control channel answers; unmounted
//!   on drop.
//! - `battery`, `runner`: which checks run, each on a thread with a deadline.
//! - `walk`: the bounded walk of the mounted tree.
//! - `checks`: what a check is; `checks_tree` (the tree and POSIX errors),
//!   `checks_reads` (reading at offsets and the end), `checks_files` (file writing),
//!   `checks_names` (namespace operations), `checks_meta` (times, modes, xattrs,
//!   statfs): the checks by concern.
//! - `report`: the table and the JSON.

mod battery;
mod checks;
mod checks_files;
mod checks_meta;
mod checks_names;
mod checks_reads;
mod checks_tree;
mod header;
mod mount;
mod placeholders;
mod report;
mod runner;
mod setup;
mod walk;
mod workdir;

use std::ffi::OsString;
use std::io::Write as _;
use std::time::Duration;

use flu_api::log_escape::escape_path;

use crate::cli::TestArgs;
use header::Header;
use mount::{MountSpec, TestMount};
use placeholders::Placeholders;
use report::Verdict;
use workdir::WorkDir;

pub fn test_command(args: TestArgs) -> Result<(), String> {
    if !args.timeout.is_finite() || args.timeout <= 0.0 {
        return Err(format!(
            "--timeout takes a positive number of seconds, got {}",
            args.timeout
        ));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let shown = escape_path(&args.script);
    let text =
        std::fs::read(&args.script).map_err(|e| format!("cannot read script {shown}: {e}"))?;
    let header =
        header::parse(&String::from_utf8_lossy(&text)).map_err(|e| format!("{shown}: {e}"))?;
    check_header(&header).map_err(|e| format!("{shown}: {e}"))?;

    let work = WorkDir::create().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let scriptdir = match args.script.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_string_lossy().into_owned(),
        _ => ".".into(),
    };
    let mut placeholders = Placeholders::new(scriptdir, || {
        work.populated_root()
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| format!("cannot fill the temporary directory for {{tmpdir}}: {e}"))
    });
    let chosen = choose_args(&args.script_args, &header, &mut placeholders)?;
    drop(placeholders);
    // Dropped after the mount (declared before it): what the setup left running (a
    // test server) outlives the battery, and is stopped on every way out.
    let _setup = setup::run(&chosen.setup, &work.setup_log())?;
    let (script_args, expected) = (chosen.args, chosen.expected);

    runner::catch_interrupts();
    let mount = TestMount::start(MountSpec {
        script: &args.script,
        mountpoint: work.mountpoint(),
        options: &args.options,
        args: script_args,
        log: work.daemon_log(),
    })?;
    let handlers = mount.handlers.clone();
    let outcome = battery::run(mount.mountpoint(), handlers.clone(), timeout);
    // Unmount before anything is printed: a closed pipe on stdout must not leave the
    // mount behind.
    drop(mount);

    let mut rows = outcome.rows;
    battery::apply_expectations(&mut rows, &expected);
    let writable = battery::writable(&handlers);
    let mut out = String::new();
    if args.json {
        out.push_str(&report::json(
            &rows,
            &args.script.to_string_lossy(),
            &handlers,
            writable,
        ));
        out.push('\n');
    } else {
        out.push_str(&format!(
            "flu test {shown}: handlers {}\n",
            handlers.join(", ")
        ));
        if !writable {
            out.push_str("no handler changes anything: the read-only battery runs\n");
        }
        out.push('\n');
        out.push_str(&report::table(&rows));
    }
    // A reader that stops early (`| head`) is not an error of the filesystem's.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
    if args.show_log {
        let log = std::fs::read(work.daemon_log()).unwrap_or_default();
        eprintln!(
            "---- the daemon's output ----\n{}---- end ----",
            String::from_utf8_lossy(&log)
        );
    }
    if outcome.interrupted {
        return Err("interrupted".into());
    }
    match report::count(&rows, Verdict::Fail) {
        0 => Ok(()),
        1 => Err("1 check failed".into()),
        n => Err(format!("{n} checks failed")),
    }
}

/// Every check the header names must exist.
fn check_header(header: &Header) -> Result<(), String> {
    for x in &header.expected_failures {
        if !battery::is_check(&x.check) {
            let known: Vec<&str> = battery::all_checks().iter().map(|c| c.name).collect();
            return Err(format!(
                "`flu test expects failure:` names no check {:?} (checks: {}, cleanup)",
                x.check,
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// What a run uses: the script's arguments, the failures to expect, the setup
/// commands to run first (placeholders filled in all of them).
struct Chosen {
    args: Vec<OsString>,
    expected: Vec<header::ExpectedFailure>,
    setup: Vec<Vec<String>>,
}

/// The command line's arguments win over the header's, and then the header's expected
/// failures and setup commands (which describe a run with its own arguments) do not
/// apply. Placeholders are filled in either way.
fn choose_args(
    given: &[OsString],
    header: &Header,
    placeholders: &mut Placeholders<'_>,
) -> Result<Chosen, String> {
    let own_args = !given.is_empty() && header.args.is_some();
    let expected = if own_args {
        Vec::new()
    } else {
        header.expected_failures.clone()
    };
    let setup = if given.is_empty() {
        header
            .setup
            .iter()
            .map(|words| placeholders.fill_all(words))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let args = if given.is_empty() {
        let words = header.args.clone().unwrap_or_default();
        placeholders
            .fill_all(&words)?
            .into_iter()
            .map(OsString::from)
            .collect()
    } else if given
        .iter()
        .any(|a| Placeholders::in_word(&a.to_string_lossy()))
    {
        given
            .iter()
            .map(|a| placeholders.fill(&a.to_string_lossy()).map(OsString::from))
            .collect::<Result<_, _>>()?
    } else {
        // No placeholder: the arguments pass as they are (also bytes that are not UTF-8).
        given.to_vec()
    };
    Ok(Chosen {
        args,
        expected,
        setup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp<'a>() -> Placeholders<'a> {
        Placeholders::new("/ex".into(), || Ok("/tmp/t".to_string()))
    }

    fn unasked<'a>() -> Placeholders<'a> {
        Placeholders::new("/ex".into(), || Err("not asked".into()))
    }

    #[test]
    fn arguments_from_the_header_or_the_command_line() {
        let header = header::parse(
            "-- flu test setup: init {tmpdir}\n-- flu test: -- {tmpdir} rule\n-- flu test expects failure: statfs (rule)\n",
        )
        .unwrap();
        let c = choose_args(&[], &header, &mut tmp()).unwrap();
        assert_eq!(c.args, ["/tmp/t", "rule"]);
        assert_eq!(c.expected.len(), 1);
        assert_eq!(c.setup, [vec!["init", "/tmp/t"]]);
        let c = choose_args(&["/srv".into()], &header, &mut unasked()).unwrap();
        assert_eq!(c.args, ["/srv"]);
        assert!(
            c.expected.is_empty() && c.setup.is_empty(),
            "own arguments: the header's expectations and setup do not apply"
        );
        let c = choose_args(&["{scriptdir}/x".into()], &header, &mut unasked()).unwrap();
        assert_eq!(c.args, ["/ex/x"]);
        let plain = header::parse("-- flu test expects failure: statfs\n").unwrap();
        let c = choose_args(&[], &plain, &mut unasked()).unwrap();
        assert!(c.args.is_empty());
        assert_eq!(c.expected.len(), 1);
        assert!(check_header(&plain).is_ok());
        let wrong = header::parse("-- flu test expects failure: stafs\n").unwrap();
        assert!(check_header(&wrong).unwrap_err().contains("\"stafs\""));
    }
}
