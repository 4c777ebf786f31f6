//! What a check is and what it runs with: its name (what headers and `--json` use), what
//! it expects, the handlers it needs, whether it writes, and a function that makes real
//! system calls through the mount and says what it got — or the fault, in words that
//! name it ("/hello: size 12 but 13 bytes read").
//!
//! Writing checks only touch what they create, inside a scratch directory made for the
//! run (or, without mkdir, under scratch names in the root): `flu test` never changes
//! a file it did not create, so it is safe on a passthrough of real data.

use std::io;
use std::path::{Path, PathBuf};

use super::walk::Tree;

/// A check's outcome: `Ok(what it saw)` or `Err(the fault)`.
pub type CheckResult = Result<String, String>;

/// Handler requirements: every group must have one of its names defined.
pub type Needs = &'static [&'static [&'static str]];

/// See the module documentation.
#[derive(Clone, Copy)]
pub struct Check {
    pub name: &'static str,
    pub expected: &'static str,
    pub needs: Needs,
    /// Whether it creates files (and so needs a writable scratch place).
    pub writes: bool,
    /// Why the check cannot run on this tree (no regular file to read, say), if so.
    pub applies: fn(&Ctx) -> Option<String>,
    pub run: fn(&Ctx) -> CheckResult,
}

/// For checks that run on any tree.
pub fn always(_: &Ctx) -> Option<String> {
    None
}

pub const CREATE: &[&str] = &["create", "mknod"];
pub const UNLINK: &[&str] = &["unlink"];
pub const WRITE: &[&str] = &["write"];
pub const MKDIR: &[&str] = &["mkdir"];
pub const RMDIR: &[&str] = &["rmdir"];

/// Where writing checks create things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scratch {
    /// A directory made for this run inside the mount.
    Dir(PathBuf),
    /// Names starting with `prefix` in the mount's root (no usable mkdir).
    Prefix { root: PathBuf, prefix: String },
    /// The filesystem refuses changes: the sentence says how it answered.
    ReadOnly(String),
    /// Nothing can be created: why.
    Unavailable(String),
}

/// What every check runs with.
pub struct Ctx {
    /// The mountpoint.
    pub mount: PathBuf,
    /// The handler names the mount serves.
    pub handlers: Vec<String>,
    /// What the bounded walk of the tree found.
    pub tree: Tree,
    pub scratch: Scratch,
}

impl Ctx {
    pub fn has(&self, handler: &str) -> bool {
        self.handlers.iter().any(|h| h == handler)
    }

    /// Whether one of `names` is defined.
    pub fn has_any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.has(n))
    }

    /// A scratch path for `name` (writing checks only run with a writable scratch).
    pub fn scratch(&self, name: &str) -> PathBuf {
        match &self.scratch {
            Scratch::Dir(dir) => dir.join(name),
            Scratch::Prefix { root, prefix } => root.join(format!("{prefix}{name}")),
            Scratch::ReadOnly(_) | Scratch::Unavailable(_) => self.mount.join(name),
        }
    }

    /// `path` as the filesystem sees it: `/hello`.
    pub fn shown(&self, path: &Path) -> String {
        shown(&self.mount, path)
    }
}

/// `path` relative to `mount`, written from the filesystem's root (`/dir/file`),
/// escaped as the project escapes paths in messages.
pub fn shown(mount: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(mount).unwrap_or(path);
    flu_api::log_escape::escape_path(&Path::new("/").join(rel))
}

/// Why a check's needs are not met: `None` when they are.
pub fn missing_handlers(needs: Needs, has: impl Fn(&str) -> bool) -> Option<String> {
    needs
        .iter()
        .find(|group| !group.iter().any(|h| has(h)))
        .map(|group| format!("no {} handler", group.join(" or ")))
}

/// An errno as its name (`ENOENT`), or the error's text when it has none.
pub fn errno_name(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("{:?}", nix::errno::Errno::from_raw(code)),
        None => e.to_string(),
    }
}

/// A failed call as a fault: `what: ENOENT`.
pub fn failed(what: impl std::fmt::Display, e: io::Error) -> String {
    format!("{what}: {}", errno_name(&e))
}

/// `result` must be the error `expected` (an errno, or one of several).
pub fn expect_errno<T>(
    what: impl std::fmt::Display,
    result: io::Result<T>,
    expected: &[i32],
) -> Result<String, String> {
    let names: Vec<String> = expected
        .iter()
        .map(|e| format!("{:?}", nix::errno::Errno::from_raw(*e)))
        .collect();
    match result {
        Ok(_) => Err(format!(
            "{what}: succeeded, expected {}",
            names.join(" or ")
        )),
        Err(e) if e.raw_os_error().is_some_and(|c| expected.contains(&c)) => Ok(errno_name(&e)),
        Err(e) => Err(format!(
            "{what}: {}, expected {}",
            errno_name(&e),
            names.join(" or ")
        )),
    }
}

/// Up to three faults, and how many more there were.
pub fn summarize(faults: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = faults[..faults.len().min(SHOWN)].join("; ");
    if faults.len() > SHOWN {
        text.push_str(&format!("; and {} more", faults.len() - SHOWN));
    }
    text
}

/// `3 files`, `1 file`: `n` with the word for one or for many.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Bytes as a short quoted string for messages.
pub fn quoted(bytes: &[u8]) -> String {
    const MAX: usize = 24;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]).into_owned();
    let more = if bytes.len() > MAX { "…" } else { "" };
    format!("{:?}{more}", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_and_messages() {
        let has = |h: &str| h == "getattr" || h == "mknod";
        assert_eq!(missing_handlers(&[&["getattr"], CREATE], has), None);
        assert_eq!(
            missing_handlers(&[CREATE, UNLINK], has),
            Some("no unlink handler".into())
        );
        assert_eq!(
            missing_handlers(&[&["create", "link"]], |_| false),
            Some("no create or link handler".into())
        );
        assert_eq!(
            shown(Path::new("/tmp/m"), Path::new("/tmp/m/a b/c")),
            "/a b/c"
        );
        assert_eq!(shown(Path::new("/tmp/m"), Path::new("/tmp/m")), "/");
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(errno_name(&enoent), "ENOENT");
        assert_eq!(
            expect_errno("stat /x", Err::<(), _>(enoent), &[libc::ENOENT]),
            Ok("ENOENT".into())
        );
        let r = expect_errno("stat /x", Ok(()), &[libc::ENOTEMPTY, libc::EEXIST]);
        assert_eq!(
            r,
            Err("stat /x: succeeded, expected ENOTEMPTY or EEXIST".into())
        );
        let faults: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(summarize(&faults), "1; 2; 3; and 2 more");
        assert_eq!(quoted(b"hi\n"), "\"hi\\n\"");
        assert_eq!(plural(1, "file", "files"), "1 file");
        assert_eq!(plural(2, "file", "files"), "2 files");
    }
}
