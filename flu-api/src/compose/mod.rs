//! `Composite`: backends mounted at subpaths of one tree (`flu.compose`), routed
//! natively. Each operation goes to the backend with the longest mount prefix that owns
//! its path, which sees the path relative to its mount point (`/real/a/b` → `/a/b`).
//! Mount points and the directories above them are directories even when the parent
//! backend does not list them; they cannot be removed or renamed (EBUSY), and names
//! never move or link between backends (EXDEV). Handles are the composite's own, each
//! standing for one backend's handle, so every backend sees the `fh` values it gave out.
//!
//! Routing takes no lock: a branch served natively (a passthrough) never waits on Lua.
//! A Lua branch is a `Scope`, served by its script's filesystem with its own handler
//! table (see `crate::lua::compose`).

mod attrs;
mod dirs;
mod files;
mod lifecycle;
mod locks;
mod names;
pub mod prefix;
pub mod scope;
mod xattrs;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use crate::errno::Errno;
use crate::handle_table::HandleTable;
use crate::operations::{Fh, OpResult, Operations};
use crate::stat::Stat;
use crate::time::Timespec;
pub use scope::{Scope, Target};

/// How many backends one composition may mount (the top byte of inode numbers tells
/// them apart, 0 being the root's).
const MAX_BRANCHES: usize = 255;

/// One backend and where it is mounted.
pub struct Branch {
    /// In written form (`prefix::normalize`).
    prefix: Arc<[u8]>,
    target: Target,
    /// Whether any of its operations runs Lua (which may notify, with paths relative
    /// to the branch): only those calls keep the prefix on the thread.
    runs_lua: bool,
    /// Set in the top byte of the inode numbers it reports (0 for the root backend):
    /// two backends may number different files alike, and the daemon takes equal
    /// numbers for hard links of one file.
    ino_tag: u64,
}

/// An open handle of the composite: which branch's handle it stands for (None: a
/// directory the composite itself makes up, above a mount point).
struct Handle {
    branch: Option<usize>,
    fh: Fh,
}

/// See the module documentation.
pub struct Composite {
    /// Longest prefix first, so the first that owns a path is the longest.
    branches: Vec<Branch>,
    handles: HandleTable<Handle>,
    /// The attributes of made-up directories (the mount's root when no backend is at
    /// `/`, and the directories above mount points no backend has).
    synthetic: Stat,
}

/// Where a path goes.
enum Owner<'a> {
    /// A branch and the path it sees.
    Branch(usize, Cow<'a, Path>),
    /// No branch owns it (there is no backend at `/`).
    Nobody,
}

impl Composite {
    /// A composition of `(prefix, target)`; prefixes are normalized, and one given
    /// twice (in any spelling) is an error.
    pub fn new(mounts: Vec<(Vec<u8>, Target)>) -> Result<Composite, String> {
        let mut branches: Vec<Branch> = Vec::with_capacity(mounts.len());
        for (raw, target) in mounts {
            let prefix = prefix::normalize(&raw)?;
            if branches.iter().any(|b| *b.prefix == *prefix) {
                return Err(format!(
                    "the mount point '{}' is given twice",
                    String::from_utf8_lossy(&prefix)
                ));
            }
            let runs_lua = crate::op::Op::HANDLERS
                .iter()
                .any(|op| target.served_by(*op) == crate::op::ServedBy::Lua);
            branches.push(Branch {
                prefix: Arc::from(prefix),
                target,
                runs_lua,
                ino_tag: 0,
            });
        }
        if branches.is_empty() {
            return Err("a composition needs at least one mount point".into());
        }
        if branches.len() > MAX_BRANCHES {
            return Err(format!(
                "a composition has at most {MAX_BRANCHES} mount points, got {}",
                branches.len()
            ));
        }
        branches.sort_by(|a, b| {
            b.prefix
                .len()
                .cmp(&a.prefix.len())
                .then(a.prefix.cmp(&b.prefix))
        });
        let mut tag = 0u64;
        for b in branches.iter_mut().filter(|b| *b.prefix != *b"/") {
            tag += 1;
            b.ino_tag = tag << 56;
        }
        Ok(Composite {
            branches,
            handles: HandleTable::default(),
            synthetic: synthetic_dir(),
        })
    }

    /// The branch owning `path`, and the path it sees.
    fn owner<'a>(&self, path: &'a Path) -> Owner<'a> {
        let bytes = prefix::bytes(path);
        for (i, b) in self.branches.iter().enumerate() {
            if let Some(rel) = prefix::strip(&b.prefix, bytes) {
                let rel = if rel.len() == bytes.len() {
                    Cow::Borrowed(path)
                } else {
                    Cow::Owned(prefix::path_of(rel))
                };
                return Owner::Branch(i, rel);
            }
        }
        Owner::Nobody
    }

    /// Whether `path` is a mount point (other than `/`) or a directory above one: such
    /// names cannot be removed, renamed over or moved.
    fn is_pinned(&self, path: &Path) -> bool {
        let bytes = prefix::bytes(path);
        self.branches.iter().any(|b| {
            *b.prefix != *b"/"
                && (*b.prefix == *bytes || prefix::is_strict_ancestor(bytes, &b.prefix))
        })
    }

    /// Whether `path` is above a mount point (a directory the composite makes up when
    /// its owner has none).
    fn is_above_mount(&self, path: &Path) -> bool {
        let bytes = prefix::bytes(path);
        self.branches
            .iter()
            .any(|b| prefix::is_strict_ancestor(bytes, &b.prefix))
    }

    /// Run `f` on branch `i`'s backend (in its scope).
    fn call<R>(&self, i: usize, f: impl FnOnce(&dyn Operations) -> OpResult<R>) -> OpResult<R> {
        let branch = &self.branches[i];
        let _inside = branch
            .runs_lua
            .then(|| scope::Inside::enter(&branch.prefix));
        branch.target.call(f)
    }

    /// Run `f` on the backend owning `path`, with the path it sees; `nobody` answers
    /// when no backend owns it.
    fn on_path<R>(
        &self,
        path: &Path,
        nobody: Errno,
        f: impl FnOnce(&dyn Operations, &Path) -> OpResult<R>,
    ) -> OpResult<R> {
        match self.owner(path) {
            Owner::Branch(i, rel) => self.call(i, |ops| f(ops, &rel)),
            Owner::Nobody => Err(nobody),
        }
    }

    /// Run `f` on the backend that gave out handle `fh`, with its handle and the path
    /// it sees (a made-up directory's handle: `synthetic`).
    fn on_handle<R>(
        &self,
        path: &Path,
        fh: Fh,
        synthetic: impl FnOnce() -> OpResult<R>,
        f: impl FnOnce(&dyn Operations, &Path, Fh) -> OpResult<R>,
    ) -> OpResult<R> {
        let handle = self.handles.get(fh.0).ok_or(Errno::EBADF)?;
        let Some(i) = handle.branch else {
            return synthetic();
        };
        let rel = self.relative(i, path);
        self.call(i, |ops| f(ops, &rel, handle.fh))
    }

    /// The path branch `i` sees for `path` (a path no longer below it, as an open
    /// file's old name may be, is passed as it is).
    fn relative<'a>(&self, i: usize, path: &'a Path) -> Cow<'a, Path> {
        let bytes = prefix::bytes(path);
        match prefix::strip(&self.branches[i].prefix, bytes) {
            Some(rel) if rel.len() == bytes.len() => Cow::Borrowed(path),
            Some(rel) => Cow::Owned(prefix::path_of(rel)),
            None => Cow::Borrowed(path),
        }
    }

    /// The branch behind an optional handle (with the branch's handle), else the owner
    /// of `path`; and the path that branch sees.
    fn branch_of<'a>(
        &self,
        path: &'a Path,
        fh: Option<Fh>,
    ) -> Option<(usize, Cow<'a, Path>, Option<Fh>)> {
        if let Some(handle) = fh.and_then(|fh| self.handles.get(fh.0)) {
            if let Some(i) = handle.branch {
                return Some((i, self.relative(i, path), Some(handle.fh)));
            }
        }
        match self.owner(path) {
            Owner::Branch(i, rel) => Some((i, rel, None)),
            Owner::Nobody => None,
        }
    }

    /// `f` on the branch `branch_of` finds; `nobody` answers when there is none.
    fn on_maybe_handle<R>(
        &self,
        path: &Path,
        fh: Option<Fh>,
        nobody: Errno,
        f: impl FnOnce(&dyn Operations, &Path, Option<Fh>) -> OpResult<R>,
    ) -> OpResult<R> {
        match self.branch_of(path, fh) {
            Some((i, rel, fh)) => self.call(i, |ops| f(ops, &rel, fh)),
            None => Err(nobody),
        }
    }

    /// A composite handle for branch `i`'s handle `fh` (None: a made-up directory).
    fn keep(&self, branch: Option<usize>, fh: u64) -> u64 {
        self.handles.insert(Handle { branch, fh: Fh(fh) })
    }

    /// `st` as branch `i` reported it, its inode number told apart from the other
    /// backends' (a backend reporting none, 0, still reports none).
    fn tagged(&self, i: usize, mut st: Stat) -> Stat {
        if st.ino != 0 {
            st.ino ^= self.branches[i].ino_tag;
        }
        st
    }

    /// The attributes of a made-up directory.
    fn synthetic_stat(&self) -> Stat {
        self.synthetic
    }
}

/// A directory owned by the daemon's user, 0755, timed now.
fn synthetic_dir() -> Stat {
    let now = Timespec::now();
    Stat {
        mode: libc::S_IFDIR | 0o755,
        nlink: 2,
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        blksize: 4096,
        atime: now,
        mtime: now,
        ctime: now,
        ..Stat::default()
    }
}

#[cfg(test)]
mod tests;
