//! The bounded walk of the mounted tree the read-only checks look at: breadth first,
//! at most 4 levels deep, 50 directories listed and 500 names stat'ed, so a huge tree
//! (a passthrough of /usr) stays fast. Listings keep `.`, `..` and duplicates as the
//! filesystem gave them: finding those is what the `readdir` check is for.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::{Dir, Type};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::checks::errno_name;

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
