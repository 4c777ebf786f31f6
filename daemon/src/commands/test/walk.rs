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
use nix::unistd::AccessFlags;

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
    /// A regular file we may read, or a directory we may list (access(2)): the checks
    /// leave the others alone, so permissions on real data are not taken for faults.
    pub usable: bool,
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
    /// Regular files the read checks use, in the walk's order.
    pub fn files(&self) -> Vec<(&Path, u64)> {
        self.entries
            .iter()
            .filter_map(|e| match &e.stat {
                Ok(m) if m.is_file() && e.usable => Some((e.path.as_path(), m.len())),
                _ => None,
            })
            .take(MAX_FILES)
            .collect()
    }

    pub fn directories(&self) -> impl Iterator<Item = &Path> {
        self.entries.iter().filter_map(|e| match &e.stat {
            Ok(m) if m.is_dir() && e.usable => Some(e.path.as_path()),
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
                let usable = match &stat {
                    Ok(m) if m.is_file() => may(&path, AccessFlags::R_OK),
                    Ok(m) if m.is_dir() => may(&path, AccessFlags::R_OK | AccessFlags::X_OK),
                    _ => false,
                };
                if matches!(&stat, Ok(m) if m.is_dir()) && usable && depth < MAX_DEPTH {
                    queue.push_back((path.clone(), depth + 1));
                }
                tree.entries.push(Entry {
                    path,
                    listed_type: *listed_type,
                    stat,
                    usable,
                });
            }
        }
        tree.listings.push(Listing { path: dir, names });
    }
    tree
}

/// Whether we may use `path` so (for root, as the kernel decides: a file with no
/// execute bit is still readable).
fn may(path: &Path, how: AccessFlags) -> bool {
    nix::unistd::access(path, how).is_ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test::workdir::WorkDir;

    #[test]
    fn walks_a_real_tree_with_dots_and_types() {
        let work = WorkDir::create().unwrap();
        let root = work.populated_root().unwrap();
        let tree = walk(&root);
        assert!(matches!(&tree.root, Some(Ok(m)) if m.is_dir()));
        assert!(!tree.truncated);
        // The root, dir, dir/sub.
        assert_eq!(tree.listings.len(), 3);
        for l in &tree.listings {
            let names = l.names.as_ref().unwrap();
            assert!(names.iter().any(|(n, _)| n == b"."), "{:?}", l.path);
            assert!(names.iter().any(|(n, _)| n == b".."), "{:?}", l.path);
        }
        let mut files: Vec<String> = tree
            .files()
            .iter()
            .map(|(p, _)| p.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                "big.bin",
                "dir/nested.txt",
                "dir/sub/deep.txt",
                "empty",
                "hello.txt"
            ]
        );
        let link = tree
            .entries
            .iter()
            .find(|e| e.path.ends_with("link"))
            .unwrap();
        assert_eq!(link.listed_type, Some(Type::Symlink));
        assert!(!link.usable, "symlinks are not followed");
        assert_eq!(tree.directories().count(), 2);
    }
}
