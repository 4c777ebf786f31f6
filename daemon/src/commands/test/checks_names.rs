//! Namespace operations: mkdir and rmdir (ENOTEMPTY), rename of files and directories
//! (onto new names, over files, over empty directories, ENOTEMPTY over full ones),
//! symlink and readlink, hard links.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use super::checks::{
    always, expect_errno, failed, Check, CheckResult, Ctx, CREATE, MKDIR, RMDIR, UNLINK, WRITE,
};
use super::checks_files::{content_is, make_file};

const RENAME: &[&str] = &["rename"];

pub const CHECKS: &[Check] = &[
    Check {
        name: "mkdir",
        expected: "a new directory listing . and .. only",
        needs: &[MKDIR, RMDIR],
        writes: true,
        applies: always,
        run: mkdir,
    },
    Check {
        name: "rmdir",
        expected: "rmdir removes; ENOTEMPTY when full",
        needs: &[MKDIR, RMDIR],
        writes: true,
        applies: always,
        run: rmdir,
    },
    Check {
        name: "rename-file",
        expected: "the file under its new name only",
        needs: &[CREATE, UNLINK, WRITE, RENAME],
        writes: true,
        applies: always,
        run: rename_file,
    },
    Check {
        name: "rename-over-file",
        expected: "rename replaces the target file",
        needs: &[CREATE, UNLINK, WRITE, RENAME],
        writes: true,
        applies: always,
        run: rename_over_file,
    },
    Check {
        name: "rename-dir",
        expected: "a directory moves with its content",
        needs: &[MKDIR, RMDIR, CREATE, UNLINK, WRITE, RENAME],
        writes: true,
        applies: always,
        run: rename_dir,
    },
    Check {
        name: "rename-over-dir",
        expected: "rename replaces an empty directory",
        needs: &[MKDIR, RMDIR, CREATE, UNLINK, WRITE, RENAME],
        writes: true,
        applies: always,
        run: rename_over_dir,
    },
    Check {
        name: "rename-enotempty",
        expected: "ENOTEMPTY over a full directory",
        needs: &[MKDIR, RMDIR, CREATE, UNLINK, WRITE, RENAME],
        writes: true,
        applies: always,
        run: rename_enotempty,
    },
    Check {
        name: "symlink",
        expected: "a symlink, seen by lstat",
        needs: &[&["symlink"], UNLINK],
        writes: true,
        applies: always,
        run: symlink_check,
    },
    Check {
        name: "readlink",
        expected: "readlink gives the target",
        needs: &[&["symlink"], &["readlink"], UNLINK],
        writes: true,
        applies: always,
        run: readlink,
    },
    Check {
        name: "link",
        expected: "two names, one file, nlink 2",
        needs: &[CREATE, UNLINK, WRITE, &["link"]],
        writes: true,
        applies: always,
        run: link,
    },
];

fn make_dir(ctx: &Ctx, name: &str) -> Result<std::path::PathBuf, String> {
    let path = ctx.scratch(name);
    fs::create_dir(&path).map_err(|e| failed(format!("mkdir {}", ctx.shown(&path)), e))?;
    Ok(path)
}

fn gone(ctx: &Ctx, path: &Path, after: &str) -> Result<(), String> {
    expect_errno(
        format!("stat {} {after}", ctx.shown(path)),
        fs::symlink_metadata(path),
        &[libc::ENOENT],
    )
    .map(drop)
}

/// The names `dir` lists besides `.` and `..`.
fn names_in(ctx: &Ctx, dir: &Path) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| failed(format!("readdir {}", ctx.shown(dir)), e))? {
        let e = e.map_err(|e| failed(format!("readdir {}", ctx.shown(dir)), e))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn mkdir(ctx: &Ctx) -> CheckResult {
    let dir = make_dir(ctx, "mkdir")?;
    let p = ctx.shown(&dir);
    let m = fs::symlink_metadata(&dir).map_err(|e| failed(format!("stat {p}"), e))?;
    if !m.is_dir() {
        return Err(format!(
            "{p}: mode {:o} after mkdir, not a directory",
            m.mode()
        ));
    }
    let names = names_in(ctx, &dir)?;
    if !names.is_empty() {
        return Err(format!("readdir {p}: a new directory lists {names:?}"));
    }
    expect_errno(
        format!("mkdir {p} again"),
        fs::create_dir(&dir),
        &[libc::EEXIST],
    )?;
    Ok("a directory; mkdir again: EEXIST".into())
}

fn rmdir(ctx: &Ctx) -> CheckResult {
    let dir = make_dir(ctx, "rmdir")?;
    let p = ctx.shown(&dir);
    let mut seen = Vec::new();
    if ctx.has_any(CREATE) && ctx.has("unlink") {
        let inside = dir.join("f");
        fs::write(&inside, b"x").map_err(|e| failed(format!("create {p}/f"), e))?;
        seen.push(format!(
            "full: {}",
            expect_errno(
                format!("rmdir {p} (not empty)"),
                fs::remove_dir(&dir),
                &[libc::ENOTEMPTY, libc::EEXIST]
            )?
        ));
        fs::remove_file(&inside).map_err(|e| failed(format!("unlink {p}/f"), e))?;
    }
    fs::remove_dir(&dir).map_err(|e| failed(format!("rmdir {p}"), e))?;
    gone(ctx, &dir, "after rmdir")?;
    seen.push("empty: removed".into());
    Ok(seen.join(", "))
}

fn rename(ctx: &Ctx, from: &Path, to: &Path) -> Result<(), String> {
    fs::rename(from, to).map_err(|e| {
        failed(
            format!("rename {} to {}", ctx.shown(from), ctx.shown(to)),
            e,
        )
    })
}

fn rename_file(ctx: &Ctx) -> CheckResult {
    let from = make_file(ctx, "rename-from", b"one")?;
    let to = ctx.scratch("rename-to");
    rename(ctx, &from, &to)?;
    gone(ctx, &from, "after rename")?;
    content_is(ctx, &to, b"one", "after rename")?;
    Ok("moved".into())
}

fn rename_over_file(ctx: &Ctx) -> CheckResult {
    let from = make_file(ctx, "over-from", b"one")?;
    let to = make_file(ctx, "over-to", b"two, longer")?;
    rename(ctx, &from, &to)?;
    gone(ctx, &from, "after rename")?;
    content_is(ctx, &to, b"one", "after rename over it")?;
    let parent = to.parent().unwrap_or(&ctx.mount);
    let target = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let listed = names_in(ctx, parent)?
        .iter()
        .filter(|n| **n == target)
        .count();
    if listed != 1 {
        return Err(format!(
            "readdir {}: the target is listed {listed} times after rename",
            ctx.shown(parent)
        ));
    }
    Ok("replaced".into())
}

/// A directory `name` holding a file `f` with `content`.
fn full_dir(ctx: &Ctx, name: &str, content: &[u8]) -> Result<std::path::PathBuf, String> {
    let dir = make_dir(ctx, name)?;
    fs::write(dir.join("f"), content)
        .map_err(|e| failed(format!("create {}/f", ctx.shown(&dir)), e))?;
    Ok(dir)
}

fn rename_dir(ctx: &Ctx) -> CheckResult {
    let from = full_dir(ctx, "dir-from", b"inside")?;
    let to = ctx.scratch("dir-to");
    rename(ctx, &from, &to)?;
    gone(ctx, &from, "after rename")?;
    content_is(
        ctx,
        &to.join("f"),
        b"inside",
        "after its directory was renamed",
    )?;
    Ok("moved with its file".into())
}

fn rename_over_dir(ctx: &Ctx) -> CheckResult {
    let from = full_dir(ctx, "overdir-from", b"inside")?;
    let to = make_dir(ctx, "overdir-to")?;
    rename(ctx, &from, &to)?;
    gone(ctx, &from, "after rename")?;
    content_is(
        ctx,
        &to.join("f"),
        b"inside",
        "after rename over an empty directory",
    )?;
    Ok("replaced the empty directory".into())
}

fn rename_enotempty(ctx: &Ctx) -> CheckResult {
    let from = make_dir(ctx, "full-from")?;
    let to = full_dir(ctx, "full-to", b"keep")?;
    let got = expect_errno(
        format!(
            "rename {} over non-empty {}",
            ctx.shown(&from),
            ctx.shown(&to)
        ),
        fs::rename(&from, &to),
        &[libc::ENOTEMPTY, libc::EEXIST],
    )?;
    content_is(ctx, &to.join("f"), b"keep", "after a refused rename")?;
    Ok(got)
}

const TARGET: &str = "some/target-of-link";

fn symlink_check(ctx: &Ctx) -> CheckResult {
    let path = ctx.scratch("symlink");
    let p = ctx.shown(&path);
    symlink(TARGET, &path).map_err(|e| failed(format!("symlink {p}"), e))?;
    let m = fs::symlink_metadata(&path).map_err(|e| failed(format!("lstat {p}"), e))?;
    if !m.file_type().is_symlink() {
        return Err(format!(
            "{p}: mode {:o} after symlink, not a symlink",
            m.mode()
        ));
    }
    Ok("a symlink".into())
}

fn readlink(ctx: &Ctx) -> CheckResult {
    let path = ctx.scratch("readlink");
    let p = ctx.shown(&path);
    symlink(TARGET, &path).map_err(|e| failed(format!("symlink {p}"), e))?;
    let got = fs::read_link(&path).map_err(|e| failed(format!("readlink {p}"), e))?;
    if got != Path::new(TARGET) {
        return Err(format!("readlink {p}: {got:?}, expected {TARGET:?}"));
    }
    Ok(format!("{TARGET:?}"))
}

fn nlink(ctx: &Ctx, path: &Path) -> Result<u64, String> {
    fs::symlink_metadata(path)
        .map(|m| m.nlink())
        .map_err(|e| failed(format!("stat {}", ctx.shown(path)), e))
}

fn link(ctx: &Ctx) -> CheckResult {
    let first = make_file(ctx, "link-a", b"linked")?;
    let second = ctx.scratch("link-b");
    fs::hard_link(&first, &second).map_err(|e| {
        failed(
            format!("link {} to {}", ctx.shown(&first), ctx.shown(&second)),
            e,
        )
    })?;
    content_is(ctx, &second, b"linked", "(a new hard link)")?;
    for path in [&first, &second] {
        let n = nlink(ctx, path)?;
        if n != 2 {
            return Err(format!(
                "{}: nlink {n} with two names, expected 2",
                ctx.shown(path)
            ));
        }
    }
    fs::remove_file(&first).map_err(|e| failed(format!("unlink {}", ctx.shown(&first)), e))?;
    content_is(ctx, &second, b"linked", "after the other name was unlinked")?;
    let n = nlink(ctx, &second)?;
    if n != 1 {
        return Err(format!(
            "{}: nlink {n} after the other name was unlinked, expected 1",
            ctx.shown(&second)
        ));
    }
    Ok("nlink 2, then 1".into())
}
