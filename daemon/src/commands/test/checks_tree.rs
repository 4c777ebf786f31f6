//! The read-only battery: a bounded walk of the tree (depth, directories and entries
//! are limited so a huge tree stays fast), then checks on what it found — every listed
//! name stats and appears once, `.` and `..` are listed, sizes match the bytes read,
//! reads at offsets give the bytes of the whole file at those offsets, reads at the end
//! give nothing, and the errors POSIX names (ENOENT, ENOTDIR, EISDIR) come back.
//!
//! A file whose content changes while it is read (a live status file) is read up to
//! three times; a fault is reported only when no attempt agrees.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::dir::{Dir, Type};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::checks::{
    always, errno_name, expect_errno, failed, plural, quoted, summarize, Check, CheckResult, Ctx,
};

/// How deep the walk goes below the root.
const MAX_DEPTH: usize = 4;
/// How many directories it lists.
const MAX_DIRS: usize = 50;
/// How many names it stats in all.
const MAX_ENTRIES: usize = 500;
/// How many names one listing may hold before the walk stops reading it.
const MAX_LISTING: usize = 10_000;
/// How many regular files the read checks read.
const MAX_FILES: usize = 20;
/// Files up to this size are read whole; of larger ones only the end is read.
pub const READ_LIMIT: u64 = 1 << 20;
/// Attempts at reading a file that may change meanwhile.
const ATTEMPTS: usize = 3;

/// Names as a directory lists them, with the type readdir gave (`None`: unknown).
pub type Names = Vec<(Vec<u8>, Option<Type>)>;

/// One directory's listing.
pub struct Listing {
    pub path: PathBuf,
    pub names: Result<Names, String>,
}

/// A listed name and what lstat said of it.
pub struct Entry {
    pub path: PathBuf,
    pub listed_type: Option<Type>,
    pub stat: Result<Metadata, String>,
}

/// What the walk found.
#[derive(Default)]
pub struct Tree {
    pub root: Option<Result<Metadata, String>>,
    pub listings: Vec<Listing>,
    pub entries: Vec<Entry>,
    /// The walk stopped at one of its limits.
    pub truncated: bool,
}

impl Tree {
    /// Regular files the read checks use, smallest path first.
    pub fn files(&self) -> Vec<(&Path, u64)> {
        self.entries
            .iter()
            .filter_map(|e| match &e.stat {
                Ok(m) if m.is_file() => Some((e.path.as_path(), m.len())),
                _ => None,
            })
            .take(MAX_FILES)
            .collect()
    }

    pub fn directories(&self) -> impl Iterator<Item = &Path> {
        self.entries.iter().filter_map(|e| match &e.stat {
            Ok(m) if m.is_dir() => Some(e.path.as_path()),
            _ => None,
        })
    }
}

/// Walk the tree under `mount`, breadth first, within the limits.
pub fn walk(mount: &Path) -> Tree {
    let mut tree = Tree {
        root: Some(std::fs::symlink_metadata(mount).map_err(|e| errno_name(&e))),
        ..Tree::default()
    };
    let mut queue = std::collections::VecDeque::from([(mount.to_path_buf(), 0usize)]);
    while let Some((dir, depth)) = queue.pop_front() {
        if tree.listings.len() >= MAX_DIRS {
            tree.truncated = true;
            break;
        }
        let names = list(&dir);
        if let Ok(names) = &names {
            let mut seen = std::collections::HashSet::new();
            for (name, listed_type) in names {
                if name == b"." || name == b".." || !seen.insert(name.clone()) {
                    continue;
                }
                if tree.entries.len() >= MAX_ENTRIES {
                    tree.truncated = true;
                    break;
                }
                let path = dir.join(OsStr::from_bytes(name));
                let stat = std::fs::symlink_metadata(&path).map_err(|e| errno_name(&e));
                if matches!(&stat, Ok(m) if m.is_dir()) && depth < MAX_DEPTH {
                    queue.push_back((path.clone(), depth + 1));
                }
                tree.entries.push(Entry {
                    path,
                    listed_type: *listed_type,
                    stat,
                });
            }
        }
        tree.listings.push(Listing { path: dir, names });
    }
    tree
}

/// Every name a directory lists, `.` and `..` included, in order.
fn list(dir: &Path) -> Result<Names, String> {
    let mut d = Dir::open(dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY, Mode::empty())
        .map_err(|e| format!("opendir: {e:?}"))?;
    let mut names = Vec::new();
    for entry in d.iter().take(MAX_LISTING) {
        let entry = entry.map_err(|e| format!("readdir: {e:?}"))?;
        names.push((entry.file_name().to_bytes().to_vec(), entry.file_type()));
    }
    Ok(names)
}

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
        name: "read-size",
        expected: "bytes read = size stat gives",
        needs: &[&["read"]],
        writes: false,
        applies: needs_file,
        run: read_size,
    },
    Check {
        name: "read-offsets",
        expected: "a read at an offset gives the file's bytes there",
        needs: &[&["read"]],
        writes: false,
        applies: needs_file,
        run: read_offsets,
    },
    Check {
        name: "read-past-eof",
        expected: "0 bytes at and past the end",
        needs: &[&["read"]],
        writes: false,
        applies: needs_file,
        run: read_past_eof,
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

/// The read checks need a regular file in the tree.
fn needs_file(ctx: &Ctx) -> Option<String> {
    ctx.tree
        .files()
        .is_empty()
        .then(|| "no regular file in the tree to read".into())
}

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

/// Run `attempt` up to three times; the first success, or the last fault.
fn settled(mut attempt: impl FnMut() -> Result<(), String>) -> Result<(), String> {
    let mut last = Ok(());
    for _ in 0..ATTEMPTS {
        last = attempt();
        if last.is_ok() {
            break;
        }
    }
    last
}

/// Each file the tree holds through `check`; a summary, or the faults.
fn over_files(
    ctx: &Ctx,
    what: &str,
    check: impl Fn(&str, &Path) -> Result<(), String>,
) -> CheckResult {
    let files = ctx.tree.files();
    if files.is_empty() {
        return Err("no regular file found to read (the walk found none)".into());
    }
    let faults: Vec<String> = files
        .iter()
        .filter_map(|(path, _)| settled(|| check(&ctx.shown(path), path)).err())
        .collect();
    if !faults.is_empty() {
        return Err(summarize(&faults));
    }
    Ok(format!("{} {what}", plural(files.len(), "file", "files")))
}

fn open_read(p: &str, path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| failed(format!("open {p}"), e))
}

fn size_of(p: &str, path: &Path) -> Result<u64, String> {
    std::fs::symlink_metadata(path)
        .map(|m| m.len())
        .map_err(|e| failed(format!("stat {p}"), e))
}

/// Read from offset 0 until end of file, `max` bytes at most: the bytes, and whether
/// the end was reached.
pub fn read_until_eof(f: &File, max: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut limited = f.take(max + 1);
    limited.read_to_end(&mut out)?;
    let ended = out.len() as u64 <= max;
    out.truncate(max as usize);
    Ok((out, ended))
}

/// One read of `n` bytes at `offset`: what a single pread gives (with `direct_io`,
/// exactly what the handler answered).
fn read_once(f: &File, offset: u64, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    loop {
        match f.read_at(&mut buf, offset) {
            Ok(k) => {
                buf.truncate(k);
                return Ok(buf);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `n` bytes read from `f` at `offset` (fewer at the end).
fn read_at(f: &File, offset: u64, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    let mut got = 0;
    while got < n {
        match f.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

fn read_size(ctx: &Ctx) -> CheckResult {
    over_files(ctx, "read to their size", |p, path| {
        let size = size_of(p, path)?;
        let f = open_read(p, path)?;
        if size > READ_LIMIT {
            // Only the end: the last bytes are there, and nothing after them.
            let tail = read_at(&f, size - 16, 16).map_err(|e| failed(format!("read {p}"), e))?;
            let after = read_at(&f, size, 16).map_err(|e| failed(format!("read {p}"), e))?;
            return match (tail.len(), after.len()) {
                (16, 0) => Ok(()),
                (t, 0) => Err(format!(
                    "{p}: size {size} but only {} bytes read",
                    size - 16 + t as u64
                )),
                (_, a) => Err(format!("{p}: size {size} but {a} more bytes read after it")),
            };
        }
        let max = size + 64 * 1024;
        let (bytes, ended) = read_until_eof(&f, max).map_err(|e| failed(format!("read {p}"), e))?;
        if !ended {
            return Err(format!(
                "{p}: size {size} but reading did not end after {max} bytes (does read ignore its offset?)"
            ));
        }
        if bytes.len() as u64 != size {
            return Err(format!("{p}: size {size} but {} bytes read", bytes.len()));
        }
        Ok(())
    })
}

/// The offsets `read-offsets` tries in a file of `size` bytes.
pub fn probe_offsets(size: u64) -> Vec<u64> {
    let mut offsets = vec![1, size / 3, size / 2, size.saturating_sub(1)];
    offsets.extend([4095, 4096 + 7, 65536 + 1, 131072 + 3]);
    offsets.retain(|o| *o > 0 && *o < size);
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

/// What went wrong with a read at `offset` that gave `got` instead of `whole[offset..]`:
/// `None` when it is right.
pub fn offset_fault(whole: &[u8], offset: usize, len: usize, got: &[u8]) -> Option<String> {
    let end = (offset + len).min(whole.len());
    let want = &whole[offset.min(end)..end];
    if got == want {
        return None;
    }
    if got.len() != want.len() && want.starts_with(got) {
        return Some(format!(
            "read of {len} bytes at offset {offset}: got {} bytes, expected {}",
            got.len(),
            want.len()
        ));
    }
    let found = (!got.is_empty())
        .then(|| whole.windows(got.len()).position(|w| w == got))
        .flatten();
    Some(match found {
        Some(at) => format!("read at offset {offset}: got the bytes of offset {at}"),
        None => format!(
            "read at offset {offset}: got {}, expected {}",
            quoted(got),
            quoted(want)
        ),
    })
}

fn read_offsets(ctx: &Ctx) -> CheckResult {
    over_files(ctx, "agree at every offset", |p, path| {
        let size = size_of(p, path)?;
        if size < 2 {
            return Ok(());
        }
        let f = open_read(p, path)?;
        // The reference: from offset 0, no further than the size says (a read that
        // ignores its offset never reaches the end otherwise).
        let whole = read_at(&f, 0, size.min(READ_LIMIT) as usize)
            .map_err(|e| failed(format!("read {p}"), e))?;
        for offset in probe_offsets(whole.len() as u64) {
            let len = 100;
            let got = read_once(&f, offset, len)
                .map_err(|e| failed(format!("read {p} at offset {offset}"), e))?;
            if let Some(fault) = offset_fault(&whole, offset as usize, len, &got) {
                return Err(format!("{p}: {fault}"));
            }
        }
        Ok(())
    })
}

fn read_past_eof(ctx: &Ctx) -> CheckResult {
    over_files(ctx, "end at their size", |p, path| {
        let size = size_of(p, path)?;
        let f = open_read(p, path)?;
        for (offset, what) in [(size, "(the size)"), (size + 4096, "(past the end)")] {
            let got = read_once(&f, offset, 10)
                .map_err(|e| failed(format!("read {p} at offset {offset}"), e))?;
            if !got.is_empty() {
                return Err(format!(
                    "{p}: read of 10 bytes at offset {offset} {what} gave {} bytes, expected 0 (end of file)",
                    got.len()
                ));
            }
        }
        if size > 0 {
            let got = read_once(&f, size - 1, 10)
                .map_err(|e| failed(format!("read {p} at offset {}", size - 1), e))?;
            if got.len() != 1 {
                return Err(format!(
                    "{p}: read of 10 bytes at offset {} (the last byte) gave {} bytes, expected 1",
                    size - 1,
                    got.len()
                ));
            }
        }
        Ok(())
    })
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

    #[test]
    fn offset_faults() {
        let whole = b"Hello World!\n";
        assert_eq!(offset_fault(whole, 5, 100, b" World!\n"), None);
        assert_eq!(
            offset_fault(whole, 5, 100, b"Hello Wo"),
            Some("read at offset 5: got the bytes of offset 0".into())
        );
        assert_eq!(
            offset_fault(whole, 5, 100, b" Wo"),
            Some("read of 100 bytes at offset 5: got 3 bytes, expected 8".into())
        );
        assert_eq!(
            offset_fault(whole, 5, 2, b"zz"),
            Some("read at offset 5: got \"zz\", expected \" W\"".into())
        );
        assert_eq!(
            offset_fault(whole, 5, 2, b""),
            Some("read of 2 bytes at offset 5: got 0 bytes, expected 2".into())
        );
    }

    #[test]
    fn offsets_within_the_file() {
        assert_eq!(probe_offsets(13), [1, 4, 6, 12]);
        assert!(probe_offsets(1).is_empty());
        let big = probe_offsets(150_000);
        assert!(big.contains(&(65536 + 1)) && big.contains(&(131072 + 3)));
        assert!(big.iter().all(|o| *o < 150_000));
    }
}
