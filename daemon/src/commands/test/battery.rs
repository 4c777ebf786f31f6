//! The battery: which checks run (chosen from the handlers the mount serves), in what
//! order, each with its deadline — the bounded walk, the scratch place for writing
//! checks, every check, then the cleanup — and the rows they give. A check that does
//! not finish in time fails, and the rest are not run (the mount is torn down next).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::checks::{
    errno_name, missing_handlers, Check, Ctx, Scratch, CREATE, MKDIR, RMDIR, UNLINK,
};
use super::header::ExpectedFailure;
use super::report::{Row, Verdict};
use super::runner::{run_with_timeout, Stopped};
use super::walk::walk;

/// Every check, in the order they run.
pub fn all_checks() -> Vec<Check> {
    [
        super::checks_tree::CHECKS,
        super::checks_reads::CHECKS,
        super::checks_files::CHECKS,
        super::checks_names::CHECKS,
        super::checks_meta::CHECKS,
    ]
    .concat()
}

/// Whether `name` is a check (or the cleanup row).
pub fn is_check(name: &str) -> bool {
    name == CLEANUP || all_checks().iter().any(|c| c.name == name)
}

const CLEANUP: &str = "cleanup";

/// Handlers that change something: a script with none of them gets only the read-only
/// battery (and statfs).
const CHANGING: &[&str] = &[
    "write",
    "create",
    "mknod",
    "mkdir",
    "unlink",
    "rmdir",
    "symlink",
    "rename",
    "link",
    "chmod",
    "chown",
    "truncate",
    "ftruncate",
    "utimens",
    "setxattr",
    "removexattr",
    "fallocate",
    "copy_file_range",
];

/// Whether a mount serving `handlers` can change anything.
pub fn writable(handlers: &[String]) -> bool {
    handlers.iter().any(|h| CHANGING.contains(&h.as_str()))
}

/// What the run ended with.
pub struct Outcome {
    pub rows: Vec<Row>,
    /// A Ctrl-C stopped it.
    pub interrupted: bool,
}

/// Run the battery on the mount at `mount`, which serves `handlers`.
pub fn run(mount: &Path, handlers: Vec<String>, timeout: Duration) -> Outcome {
    let mut rows = Vec::new();
    let checks: Vec<Check> = if writable(&handlers) {
        all_checks()
    } else {
        all_checks()
            .into_iter()
            .filter(|c| !c.writes && c.name != "refuses-changes")
            .collect()
    };
    let stop = |rows: &mut Vec<Row>, from: &[Check], why: &str| {
        for c in from {
            rows.push(Row::new(
                c.name,
                c.expected,
                &format!("not run: {why}"),
                Verdict::Skip,
            ));
        }
    };
    let walked = {
        let m = mount.to_path_buf();
        run_with_timeout("walk", timeout, move || walk(&m))
    };
    let tree = match walked {
        Ok(t) => t,
        Err(s) => {
            let verdict = match s {
                Stopped::Interrupted => Verdict::Skip,
                _ => Verdict::Fail,
            };
            rows.push(Row::new(
                "stat-root",
                checks[0].expected,
                &stopped_text("walking the tree", s, timeout),
                verdict,
            ));
            stop(
                &mut rows,
                &checks[1..],
                "the walk of the tree did not finish",
            );
            return Outcome {
                rows,
                interrupted: s == Stopped::Interrupted,
            };
        }
    };
    let any_writing = checks.iter().any(|c| {
        c.writes && missing_handlers(c.needs, |h| handlers.contains(&h.to_string())).is_none()
    });
    let scratch = if any_writing {
        let (m, h) = (mount.to_path_buf(), handlers.clone());
        match run_with_timeout("scratch", timeout, move || make_scratch(&m, &h)) {
            Ok(s) => s,
            Err(s) => Scratch::Unavailable(stopped_text("making a scratch directory", s, timeout)),
        }
    } else {
        Scratch::Unavailable("no handler to create files with".into())
    };
    let ctx = Arc::new(Ctx {
        mount: mount.to_path_buf(),
        handlers,
        tree,
        scratch,
    });
    for (i, check) in checks.iter().enumerate() {
        if let Some(why) = skip_reason(check, &ctx) {
            rows.push(Row::new(check.name, check.expected, &why, Verdict::Skip));
            continue;
        }
        let (c, run) = (ctx.clone(), check.run);
        match run_with_timeout(check.name, timeout, move || run(&c)) {
            Ok(Ok(got)) => rows.push(Row::new(check.name, check.expected, &got, Verdict::Pass)),
            Ok(Err(fault)) => {
                rows.push(Row::new(check.name, check.expected, &fault, Verdict::Fail))
            }
            Err(s) => {
                // A check cut short by Ctrl-C did not fail; one that hung did.
                let verdict = match s {
                    Stopped::Interrupted => Verdict::Skip,
                    _ => Verdict::Fail,
                };
                rows.push(Row::new(
                    check.name,
                    check.expected,
                    &stopped_text(check.name, s, timeout),
                    verdict,
                ));
                let why = match s {
                    Stopped::Interrupted => "interrupted",
                    _ => "an earlier check did not finish",
                };
                stop(&mut rows, &checks[i + 1..], why);
                return Outcome {
                    rows,
                    interrupted: s == Stopped::Interrupted,
                };
            }
        }
    }
    if scratch_made(&ctx.scratch) {
        let c = ctx.clone();
        let row = match run_with_timeout(CLEANUP, timeout, move || clean_up(&c)) {
            Ok(Ok(got)) => Row::new(CLEANUP, "the scratch files removed", &got, Verdict::Pass),
            Ok(Err(fault)) => Row::new(CLEANUP, "the scratch files removed", &fault, Verdict::Fail),
            Err(s) => Row::new(
                CLEANUP,
                "the scratch files removed",
                &stopped_text("removing the scratch files", s, timeout),
                Verdict::Fail,
            ),
        };
        rows.push(row);
    }
    Outcome {
        rows,
        interrupted: super::runner::interrupted(),
    }
}

fn scratch_made(s: &Scratch) -> bool {
    matches!(s, Scratch::Dir(_) | Scratch::Prefix { .. })
}

/// Why `check` does not run here, if it does not.
fn skip_reason(check: &Check, ctx: &Ctx) -> Option<String> {
    if let Some(why) = missing_handlers(check.needs, |h| ctx.has(h)) {
        return Some(why);
    }
    if let Some(why) = (check.applies)(ctx) {
        return Some(why);
    }
    if check.name == "refuses-changes" && !matches!(ctx.scratch, Scratch::ReadOnly(_)) {
        return Some("the filesystem is not read-only".into());
    }
    if !check.writes {
        return None;
    }
    match &ctx.scratch {
        Scratch::ReadOnly(how) => Some(format!("read-only ({how})")),
        Scratch::Unavailable(why) => Some(why.clone()),
        Scratch::Dir(_) | Scratch::Prefix { .. } => None,
    }
}

fn stopped_text(what: &str, s: Stopped, timeout: Duration) -> String {
    match s {
        Stopped::TimedOut => format!(
            "{what}: no answer within {} s (does a handler hang?)",
            timeout.as_secs_f64()
        ),
        Stopped::Interrupted => format!("{what}: interrupted"),
        Stopped::Lost => format!("{what}: the check's thread failed"),
    }
}

/// The scratch place: a directory made for the run when mkdir works; scratch names in
/// the root otherwise; read-only when the filesystem answers EROFS.
fn make_scratch(mount: &Path, handlers: &[String]) -> Scratch {
    let has = |names: &[&str]| names.iter().any(|n| handlers.iter().any(|h| h == n));
    let prefix = format!(".flu-test-{}-", std::process::id());
    let in_root = Scratch::Prefix {
        root: mount.to_path_buf(),
        prefix: prefix.clone(),
    };
    if has(MKDIR) && has(RMDIR) {
        let dir = mount.join(format!(".flu-test-{}", std::process::id()));
        return match std::fs::create_dir(&dir) {
            Ok(()) => Scratch::Dir(dir),
            Err(e) if e.raw_os_error() == Some(libc::EROFS) => {
                Scratch::ReadOnly("mkdir answers EROFS".into())
            }
            // The mkdir check reports the fault; the other checks use the root.
            Err(_) => in_root,
        };
    }
    if has(CREATE) && has(UNLINK) {
        let probe = mount.join(format!("{prefix}probe"));
        return match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&probe)
        {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                in_root
            }
            Err(e) if e.raw_os_error() == Some(libc::EROFS) => {
                Scratch::ReadOnly("create answers EROFS".into())
            }
            Err(_) => in_root,
        };
    }
    Scratch::Unavailable("no create, mknod or mkdir handler to make scratch files with".into())
}

/// Remove everything the writing checks made; what is left is the fault.
fn clean_up(ctx: &Ctx) -> Result<String, String> {
    let targets: Vec<PathBuf> = match &ctx.scratch {
        Scratch::Dir(dir) => vec![dir.clone()],
        Scratch::Prefix { root, prefix } => std::fs::read_dir(root)
            .map_err(|e| format!("readdir /: {}", errno_name(&e)))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix.as_str()))
            .map(|e| e.path())
            .collect(),
        Scratch::ReadOnly(_) | Scratch::Unavailable(_) => return Ok("nothing made".into()),
    };
    for t in &targets {
        let removed = match std::fs::symlink_metadata(t) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(t),
            Ok(_) => std::fs::remove_file(t),
            Err(e) => Err(e),
        };
        if let Err(e) = removed {
            return Err(format!("{} left behind: {}", ctx.shown(t), errno_name(&e)));
        }
    }
    Ok(format!(
        "{} removed",
        super::checks::plural(targets.len(), "scratch entry", "scratch entries")
    ))
}

/// Apply the script's declared failures: a declared check that fails is `xfail`; one
/// that passes is a failure (the header is out of date).
pub fn apply_expectations(rows: &mut [Row], expected: &[ExpectedFailure]) {
    for row in rows.iter_mut() {
        let Some(x) = expected.iter().find(|x| x.check == row.check) else {
            continue;
        };
        let reason = if x.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", x.reason)
        };
        match row.verdict {
            Verdict::Fail => {
                row.verdict = Verdict::ExpectedFail;
                row.got = format!("{}; expected by the script{reason}", row.got);
            }
            Verdict::Pass => {
                row.verdict = Verdict::Fail;
                row.got = format!(
                    "{}, but the script's header says it fails on purpose{reason}",
                    row.got
                );
            }
            Verdict::Skip | Verdict::ExpectedFail => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test::walk::Tree;

    #[test]
    fn check_names_are_unique_and_known() {
        let checks = all_checks();
        let mut names: Vec<&str> = checks.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), checks.len());
        assert!(is_check("read-offsets") && is_check("cleanup") && !is_check("nope"));
        // Writing checks need a handler that creates.
        for c in checks.iter().filter(|c| c.writes) {
            assert!(
                missing_handlers(c.needs, |_| false).is_some(),
                "{} needs nothing",
                c.name
            );
        }
    }

    #[test]
    fn writable_scripts() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(!writable(&h(&[
            "getattr", "readdir", "read", "open", "statfs"
        ])));
        assert!(writable(&h(&["getattr", "write"])));
        assert!(writable(&h(&["mkdir"])));
    }

    #[test]
    fn expectations_turn_verdicts() {
        let mut rows = vec![
            Row::new("statfs", "e", "statfs /: EIO", Verdict::Fail),
            Row::new("read-size", "e", "3 files", Verdict::Pass),
            Row::new("xattr", "e", "no setxattr handler", Verdict::Skip),
            Row::new("enoent", "e", "ENOENT", Verdict::Pass),
        ];
        let x = |c: &str| ExpectedFailure {
            check: c.into(),
            reason: "on purpose".into(),
        };
        apply_expectations(&mut rows, &[x("statfs"), x("read-size"), x("xattr")]);
        assert_eq!(rows[0].verdict, Verdict::ExpectedFail);
        assert!(rows[0].got.contains("(on purpose)"));
        assert_eq!(rows[1].verdict, Verdict::Fail);
        assert!(rows[1].got.contains("fails on purpose"));
        assert_eq!(rows[2].verdict, Verdict::Skip);
        assert_eq!(rows[3].verdict, Verdict::Pass);
    }

    #[test]
    fn skips_say_why() {
        let ctx = Ctx {
            mount: PathBuf::from("/m"),
            handlers: vec!["getattr".into(), "readdir".into(), "mkdir".into()],
            tree: Tree::default(),
            scratch: Scratch::ReadOnly("mkdir answers EROFS".into()),
        };
        let by_name = |n: &str| all_checks().into_iter().find(|c| c.name == n).unwrap();
        assert_eq!(skip_reason(&by_name("readdir"), &ctx), None);
        assert_eq!(
            skip_reason(&by_name("read-size"), &ctx),
            Some("no read handler".into())
        );
        assert_eq!(
            skip_reason(&by_name("mkdir"), &ctx),
            Some("no rmdir handler".into())
        );
        assert_eq!(
            skip_reason(&by_name("create"), &ctx),
            Some("no create or mknod handler".into())
        );
        assert_eq!(skip_reason(&by_name("refuses-changes"), &ctx), None);
    }
}
