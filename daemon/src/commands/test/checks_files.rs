//! File writing: create and O_EXCL, write, overwrite, append, truncate down and up,
//! sparse reads, unlink while open — each on a scratch file of its own, checked by
//! stat and by reading back. Also what a read-only filesystem must do: refuse changes
//! with EROFS.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::checks::{
    always, expect_errno, failed, quoted, Check, CheckResult, Ctx, Scratch, CREATE, UNLINK, WRITE,
};
use super::checks_reads::{read_until_eof, READ_LIMIT};

const TRUNCATE: &[&str] = &["truncate"];

pub const CHECKS: &[Check] = &[
    Check {
        name: "refuses-changes",
        expected: "EROFS for every change (read-only)",
        needs: &[],
        writes: false,
        applies: always,
        run: refuses_changes,
    },
    Check {
        name: "create",
        expected: "a new empty regular file, listed once",
        needs: &[CREATE, UNLINK],
        writes: true,
        applies: always,
        run: create,
    },
    Check {
        name: "create-excl",
        expected: "O_EXCL on an existing name: EEXIST",
        needs: &[CREATE, UNLINK],
        writes: true,
        applies: always,
        run: create_excl,
    },
    Check {
        name: "write",
        expected: "the bytes written read back",
        needs: &[CREATE, UNLINK, WRITE],
        writes: true,
        applies: always,
        run: write,
    },
    Check {
        name: "overwrite",
        expected: "a write inside a file replaces those bytes",
        needs: &[CREATE, UNLINK, WRITE],
        writes: true,
        applies: always,
        run: overwrite,
    },
    Check {
        name: "append",
        expected: "O_APPEND writes at the end",
        needs: &[CREATE, UNLINK, WRITE],
        writes: true,
        applies: always,
        run: append,
    },
    Check {
        name: "truncate-down",
        expected: "truncate shrinks to the size",
        needs: &[CREATE, UNLINK, WRITE, TRUNCATE],
        writes: true,
        applies: always,
        run: truncate_down,
    },
    Check {
        name: "truncate-up",
        expected: "truncate grows, with zeros",
        needs: &[CREATE, UNLINK, WRITE, TRUNCATE],
        writes: true,
        applies: always,
        run: truncate_up,
    },
    Check {
        name: "sparse-read",
        expected: "zeros before a write past the end",
        needs: &[CREATE, UNLINK, WRITE],
        writes: true,
        applies: always,
        run: sparse_read,
    },
    Check {
        name: "unlink-open",
        expected: "an unlinked open file still reads",
        needs: &[CREATE, UNLINK, WRITE],
        writes: true,
        applies: always,
        run: unlink_open,
    },
];

/// A new scratch file `name` holding `content`.
pub fn make_file(ctx: &Ctx, name: &str, content: &[u8]) -> Result<PathBuf, String> {
    let path = ctx.scratch(name);
    let p = ctx.shown(&path);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&path)
        .map_err(|e| failed(format!("create {p}"), e))?;
    if !content.is_empty() {
        f.write_all(content)
            .map_err(|e| failed(format!("write {p}"), e))?;
    }
    Ok(path)
}

/// The file at `path` must have `expected` as size and content (`after`: what was done).
pub fn content_is(ctx: &Ctx, path: &Path, expected: &[u8], after: &str) -> Result<(), String> {
    let p = ctx.shown(path);
    let size = std::fs::symlink_metadata(path)
        .map_err(|e| failed(format!("stat {p} {after}"), e))?
        .len();
    if size != expected.len() as u64 {
        return Err(format!(
            "{p}: size {size} {after}, expected {}",
            expected.len()
        ));
    }
    let f = File::open(path).map_err(|e| failed(format!("open {p} {after}"), e))?;
    let (bytes, _) = read_until_eof(&f, READ_LIMIT).map_err(|e| failed(format!("read {p}"), e))?;
    if bytes != expected {
        let at = bytes
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(bytes.len().min(expected.len()));
        return Err(format!(
            "{p} {after}: read {} from offset {at}, expected {}",
            quoted(&bytes[at.min(bytes.len())..]),
            quoted(&expected[at..])
        ));
    }
    Ok(())
}

fn refuses_changes(ctx: &Ctx) -> CheckResult {
    let Scratch::ReadOnly(how) = &ctx.scratch else {
        return Ok("not read-only: not applicable".into());
    };
    let mut seen = vec![how.clone()];
    if ctx.has_any(CREATE) {
        let path = ctx
            .mount
            .join(format!(".flu-test-{}-ro", std::process::id()));
        let made = OpenOptions::new().write(true).create_new(true).open(&path);
        if made.is_ok() {
            let _ = std::fs::remove_file(&path);
        }
        seen.push(format!(
            "create {}",
            expect_errno(format!("create {}", ctx.shown(&path)), made, &[libc::EROFS])?
        ));
    }
    if let Some((file, _)) = ctx.tree.files().first() {
        // Opening for writing changes nothing by itself (no O_TRUNC, nothing written).
        let opened = OpenOptions::new().write(true).open(file);
        seen.push(format!(
            "open for writing {}",
            expect_errno(
                format!("open {} for writing", ctx.shown(file)),
                opened,
                &[libc::EROFS]
            )?
        ));
    }
    Ok(seen.join(", "))
}

fn create(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "create", b"")?;
    let p = ctx.shown(&path);
    let m = std::fs::symlink_metadata(&path).map_err(|e| failed(format!("stat {p}"), e))?;
    if !m.is_file() {
        return Err(format!(
            "{p}: mode {:o} after create, not a regular file",
            m.mode()
        ));
    }
    if m.len() != 0 {
        return Err(format!("{p}: size {} after create, expected 0", m.len()));
    }
    let parent = path.parent().unwrap_or(&ctx.mount);
    let name = path.file_name().unwrap_or_default();
    let listed = std::fs::read_dir(parent)
        .map_err(|e| failed(format!("readdir {}", ctx.shown(parent)), e))?
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name() == name))
        .count();
    if listed != 1 {
        return Err(format!(
            "readdir {}: the new file is listed {listed} times, expected once",
            ctx.shown(parent)
        ));
    }
    Ok("an empty regular file, listed once".into())
}

fn create_excl(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "excl", b"x")?;
    let again = OpenOptions::new().write(true).create_new(true).open(&path);
    let got = expect_errno(
        format!("O_CREAT|O_EXCL on existing {}", ctx.shown(&path)),
        again,
        &[libc::EEXIST],
    )?;
    content_is(ctx, &path, b"x", "after a refused O_EXCL")?;
    Ok(got)
}

fn write(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "write", b"hello world")?;
    content_is(ctx, &path, b"hello world", "after writing 11 bytes")?;
    Ok("11 bytes read back".into())
}

fn overwrite(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "overwrite", b"hello world")?;
    let f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| failed(format!("open {}", ctx.shown(&path)), e))?;
    f.write_all_at(b"WORLD", 6)
        .map_err(|e| failed(format!("write at offset 6 of {}", ctx.shown(&path)), e))?;
    drop(f);
    content_is(
        ctx,
        &path,
        b"hello WORLD",
        "after writing 5 bytes at offset 6",
    )?;
    Ok("\"hello WORLD\"".into())
}

fn append(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "append", b"hello")?;
    for _ in 0..2 {
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| failed(format!("open {} O_APPEND", ctx.shown(&path)), e))?;
        f.write_all(b" more")
            .map_err(|e| failed(format!("append to {}", ctx.shown(&path)), e))?;
    }
    content_is(ctx, &path, b"hello more more", "after two appends")?;
    Ok("\"hello more more\"".into())
}

fn truncate_to(ctx: &Ctx, path: &Path, size: u64) -> Result<(), String> {
    nix::unistd::truncate(path, size as libc::off_t).map_err(|e| {
        failed(
            format!("truncate {} to {size}", ctx.shown(path)),
            io::Error::from(e),
        )
    })
}

fn truncate_down(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "truncate-down", b"hello world")?;
    truncate_to(ctx, &path, 5)?;
    content_is(ctx, &path, b"hello", "after truncate to 5")?;
    truncate_to(ctx, &path, 0)?;
    content_is(ctx, &path, b"", "after truncate to 0")?;
    Ok("11 → 5 → 0 bytes".into())
}

fn truncate_up(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "truncate-up", b"hello")?;
    truncate_to(ctx, &path, 5000)?;
    let mut expected = b"hello".to_vec();
    expected.resize(5000, 0);
    content_is(ctx, &path, &expected, "after truncate to 5000")?;
    Ok("5 → 5000 bytes, zeros after".into())
}

fn sparse_read(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "sparse", b"")?;
    let p = ctx.shown(&path);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| failed(format!("open {p}"), e))?;
    const AT: u64 = 100_000;
    f.write_all_at(b"X", AT)
        .map_err(|e| failed(format!("write at offset {AT} of {p}"), e))?;
    drop(f);
    let mut expected = vec![0u8; AT as usize];
    expected.push(b'X');
    content_is(
        ctx,
        &path,
        &expected,
        "after writing 1 byte at offset 100000",
    )?;
    Ok("100000 zeros, then the byte".into())
}

fn unlink_open(ctx: &Ctx) -> CheckResult {
    let path = make_file(ctx, "unlink-open", b"still here")?;
    let p = ctx.shown(&path);
    let f = File::open(&path).map_err(|e| failed(format!("open {p}"), e))?;
    std::fs::remove_file(&path).map_err(|e| failed(format!("unlink {p}"), e))?;
    expect_errno(
        format!("stat {p} after unlink"),
        std::fs::symlink_metadata(&path),
        &[libc::ENOENT],
    )?;
    let mut buf = [0u8; 32];
    let n = f
        .read_at(&mut buf, 0)
        .map_err(|e| failed(format!("read {p} (open, unlinked)"), e))?;
    if &buf[..n] != b"still here" {
        return Err(format!(
            "read {p} (open, unlinked): got {}, expected \"still here\"",
            quoted(&buf[..n])
        ));
    }
    f.metadata()
        .map_err(|e| failed(format!("fstat {p} (open, unlinked)"), e))?;
    Ok("reads and fstats after unlink".into())
}
