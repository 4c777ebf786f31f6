//! The read-only tree checks, on what the walk found: the root is a directory, every
//! listing has `.` and `..` and each name once, every listed name stats as the type
//! readdir gave; and the errors POSIX names (ENOENT, ENOTDIR, EISDIR) come back.

use std::collections::HashMap;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;

use nix::dir::{Dir, Type};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::checks::{always, expect_errno, failed, plural, summarize, Check, CheckResult, Ctx};
use super::checks_reads::needs_file;

pub const CHECKS: &[Check] = &[
    Check {
        name: "stat-root",
        expected: "/ is a directory",
        needs: &[],
        writes: false,
        applies: always,
        run: stat_root,
    },
    Check {
        name: "readdir",
        expected: "each name once, . and .. listed",
        needs: &[&["readdir"]],
        writes: false,
        applies: always,
        run: readdir,
    },
    Check {
        name: "stat-entries",
        expected: "every listed name stats, as the type listed",
        needs: &[&["readdir"]],
        writes: false,
        applies: always,
        run: stat_entries,
    },
    Check {
        name: "enoent",
        expected: "ENOENT for a missing name",
        needs: &[],
        writes: false,
        applies: always,
        run: enoent,
    },
    Check {
        name: "enotdir",
        expected: "ENOTDIR for a file used as a directory",
        needs: &[],
        writes: false,
        applies: needs_file,
        run: enotdir,
    },
    Check {
        name: "eisdir",
        expected: "EISDIR writing or reading a directory",
        needs: &[],
        writes: false,
        applies: always,
        run: eisdir,
    },
];

fn stat_root(ctx: &Ctx) -> CheckResult {
    match &ctx.tree.root {
        Some(Ok(m)) if m.is_dir() => Ok("a directory".into()),
        Some(Ok(m)) => Err(format!(
            "stat /: mode {:o} is not a directory",
            std::os::unix::fs::MetadataExt::mode(m)
        )),
        Some(Err(e)) => Err(format!("stat /: {e}")),
        None => Err("stat /: not run".into()),
    }
}

/// The faults of one listing: missing `.`/`..`, names listed more than once.
pub fn listing_faults(dir: &str, names: &[Vec<u8>]) -> Vec<String> {
    let mut faults = Vec::new();
    for dot in [&b"."[..], b".."] {
        if !names.iter().any(|n| n == dot) {
            faults.push(format!(
                "readdir {dir}: no {:?}",
                String::from_utf8_lossy(dot)
            ));
        }
    }
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    let mut order = Vec::new();
    for n in names {
        let c = counts.entry(n.as_slice()).or_insert(0);
        if *c == 0 {
            order.push(n.as_slice());
        }
        *c += 1;
    }
    for n in order {
        let c = counts[n];
        if c > 1 {
            faults.push(format!(
                "readdir {dir}: '{}' listed {c} times",
                flu_api::log_escape::escape_bytes(n)
            ));
        }
        if n.is_empty() || n.contains(&b'/') {
            faults.push(format!(
                "readdir {dir}: invalid name '{}'",
                flu_api::log_escape::escape_bytes(n)
            ));
        }
    }
    faults
}

fn readdir(ctx: &Ctx) -> CheckResult {
    let mut faults = Vec::new();
    let mut names = 0;
    for l in &ctx.tree.listings {
        let dir = ctx.shown(&l.path);
        match &l.names {
            Ok(list) => {
                let bytes: Vec<Vec<u8>> = list.iter().map(|(n, _)| n.clone()).collect();
                names += bytes.len();
                faults.extend(listing_faults(&dir, &bytes));
            }
            Err(e) => faults.push(format!("{dir}: {e}")),
        }
    }
    if !faults.is_empty() {
        return Err(summarize(&faults));
    }
    Ok(format!(
        "{} in {}{}",
        plural(names, "name", "names"),
        plural(ctx.tree.listings.len(), "directory", "directories"),
        if ctx.tree.truncated {
            " (walk limited)"
        } else {
            ""
        }
    ))
}

/// The file type in a readdir entry that a stat's type must match.
fn type_name(t: Type) -> &'static str {
    match t {
        Type::Fifo => "fifo",
        Type::CharacterDevice => "character device",
        Type::Directory => "directory",
        Type::BlockDevice => "block device",
        Type::File => "regular file",
        Type::Symlink => "symlink",
        Type::Socket => "socket",
    }
}

fn stat_type(m: &Metadata) -> Type {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        Type::Directory
    } else if t.is_symlink() {
        Type::Symlink
    } else if t.is_fifo() {
        Type::Fifo
    } else if t.is_socket() {
        Type::Socket
    } else if t.is_char_device() {
        Type::CharacterDevice
    } else if t.is_block_device() {
        Type::BlockDevice
    } else {
        Type::File
    }
}

fn stat_entries(ctx: &Ctx) -> CheckResult {
    let mut faults = Vec::new();
    for e in &ctx.tree.entries {
        let p = ctx.shown(&e.path);
        match &e.stat {
            Err(err) => faults.push(format!("{p} is listed, but stat says {err}")),
            Ok(m) => {
                let actual = stat_type(m);
                if let Some(listed) = e.listed_type {
                    if listed != actual {
                        faults.push(format!(
                            "{p}: readdir says {}, stat says {}",
                            type_name(listed),
                            type_name(actual)
                        ));
                    }
                }
                if actual == Type::Symlink && ctx.has("readlink") {
                    if let Err(err) = std::fs::read_link(&e.path) {
                        faults.push(failed(format!("readlink {p}"), err));
                    }
                }
            }
        }
    }
    if !faults.is_empty() {
        return Err(summarize(&faults));
    }
    Ok(format!(
        "stat ok for {}",
        plural(ctx.tree.entries.len(), "name", "names")
    ))
}

fn enoent(ctx: &Ctx) -> CheckResult {
    let missing = ctx
        .mount
        .join(format!(".flu-test-missing-{}", std::process::id()));
    let p = ctx.shown(&missing);
    expect_errno(
        format!("stat {p}"),
        std::fs::symlink_metadata(&missing),
        &[libc::ENOENT],
    )?;
    expect_errno(format!("open {p}"), File::open(&missing), &[libc::ENOENT])
}

fn enotdir(ctx: &Ctx) -> CheckResult {
    let Some((file, _)) = ctx.tree.files().first().copied() else {
        return Err("no regular file found to try".into());
    };
    let p = ctx.shown(file);
    let below = file.join("x");
    expect_errno(
        format!("stat {p}/x"),
        std::fs::symlink_metadata(&below),
        &[libc::ENOTDIR],
    )?;
    expect_errno(
        format!("opendir {p}"),
        Dir::open(file, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty())
            .map_err(|e| io::Error::from_raw_os_error(e as i32)),
        &[libc::ENOTDIR],
    )
}

fn eisdir(ctx: &Ctx) -> CheckResult {
    let dir = ctx
        .tree
        .directories()
        .next()
        .unwrap_or(&ctx.mount)
        .to_path_buf();
    let p = ctx.shown(&dir);
    expect_errno(
        format!("open {p} for writing"),
        OpenOptions::new().write(true).custom_flags(0).open(&dir),
        &[libc::EISDIR],
    )?;
    let f = File::open(&dir).map_err(|e| failed(format!("open {p}"), e))?;
    let mut buf = [0u8; 16];
    expect_errno(format!("read {p}"), (&f).read(&mut buf), &[libc::EISDIR])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_faults_name_the_fault() {
        let names = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert!(listing_faults("/", &names(&[".", "..", "a", "b"])).is_empty());
        assert_eq!(
            listing_faults("/", &names(&[".", "..", "x", "y", "x"])),
            ["readdir /: 'x' listed 2 times"]
        );
        assert_eq!(
            listing_faults("/d", &names(&["a"])),
            ["readdir /d: no \".\"", "readdir /d: no \"..\""]
        );
        assert_eq!(
            listing_faults("/", &names(&[".", "..", "a/b"])),
            ["readdir /: invalid name 'a/b'"]
        );
    }
}
