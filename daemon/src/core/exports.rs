//! File handles through the mount (FUSE_EXPORT_SUPPORT): what the daemon remembers of
//! nodes the kernel forgot, and the lookups by which the kernel asks for them again.
//!
//! A kernel file handle holds a node id and its generation. When the inode is no longer
//! in the kernel's cache, `open_by_handle_at` sends LOOKUP with the node id as the
//! directory and the name `.` (and `..` for its parent, to connect a directory); the
//! answer must be that node id and generation, or the handle is stale.
//!
//! So, with a backend that can find files by a key (`NameOps::export_key`, the native
//! passthrough's backing file handles), a node leaving the tree with a name is
//! remembered (`Forgotten`, bounded): first by its path, then by the key the core takes
//! for it right after (`settle`), while the path still names the file. A LOOKUP of `.`
//! for a remembered node finds its path again through the key and links the node back
//! there with its old id and generation. An unlinked node is not remembered: its handle
//! is stale, as on the filesystem below.
//!
//! Where the implementation's own handle of a file is its inode number and generation
//! (`NameOps::export_generation`: ext4's), a node made with the inode number as its id
//! takes that generation, so the kernel's handle carries the backing one: a node nothing
//! is remembered of (after a remount) is found by its number (`export_by_number`), and
//! the kernel compares the generations.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use flu_api::{Errno, OpResult, RequestContext};

use super::nodes::{NewFile, ROOT_ID};
use super::{Entry, FsCore, Made};

/// What [`FsCore::new_file`] learned; lent to `NodeTable::lookup_entry` as a `NewFile`.
#[derive(Debug, Default)]
pub(super) struct Known {
    key: Option<Vec<u8>>,
    generation: Option<u32>,
}

impl Known {
    pub(super) fn new_file(&self) -> NewFile<'_> {
        NewFile {
            key: self.key.as_deref(),
            generation: self.generation,
            made: Made::Before,
        }
    }
}

/// How many forgotten nodes are remembered at least; at most twice as many.
const REMEMBERED: usize = 1 << 17;

/// What is remembered of a node: its path until the key is taken, then the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Memory {
    Pending(PathBuf),
    Key(Box<[u8]>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub generation: u32,
    pub memory: Memory,
}

/// Node id → record, for the most recently forgotten nodes: two maps, the older one
/// dropped whole when the newer fills (so memory stays bounded without an order list).
#[derive(Debug, Default)]
pub struct Forgotten {
    young: HashMap<u64, Record>,
    old: HashMap<u64, Record>,
}

impl Forgotten {
    pub fn insert(&mut self, id: u64, record: Record) {
        self.old.remove(&id);
        self.young.insert(id, record);
        if self.young.len() >= REMEMBERED {
            self.old = std::mem::take(&mut self.young);
        }
    }

    pub fn get(&self, id: u64) -> Option<&Record> {
        self.young.get(&id).or_else(|| self.old.get(&id))
    }

    pub fn take(&mut self, id: u64) -> Option<Record> {
        let young = self.young.remove(&id);
        let old = self.old.remove(&id);
        young.or(old)
    }

    pub fn remove(&mut self, id: u64) {
        self.take(id);
    }

    /// How many nodes are remembered.
    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FsCore {
    /// What a lookup of the file with `stat` at `path` needs to know of it, if it may
    /// make a node (see `NodeTable::lookup_entry`): its own generation where the
    /// implementation has one, else its key when the node's id is remembered with one.
    /// `path` is asked for only then.
    pub(super) fn new_file(
        &self,
        stat: &flu_api::Stat,
        path: impl FnOnce() -> Option<PathBuf>,
    ) -> Known {
        let mut known = Known::default();
        if !self.exports {
            return known;
        }
        let Some(remembered) = self.nodes.would_make(stat) else {
            return known;
        };
        let Some(path) = path() else {
            return known;
        };
        match self.ops.export_generation(&path) {
            Ok(g) => known.generation = Some(g),
            Err(_) if remembered => known.key = self.ops.export_key(&path).ok(),
            Err(_) => {}
        }
        known
    }

    /// Take the implementation's key for every node remembered since the last call,
    /// while its path still names it.
    pub(super) fn settle(&self) {
        if !self.exports {
            return;
        }
        for freed in self.nodes.take_freed() {
            let key = self.ops.export_key(&freed.path).ok();
            self.nodes.remember_key(&freed, key);
        }
    }

    /// LOOKUP of `.` (the node itself) or `..` (its parent) in node `id`: the kernel
    /// resolving a file handle. ESTALE when the node cannot be had again.
    pub(super) fn lookup_by_handle(
        &self,
        ctx: &RequestContext,
        id: u64,
        name: &OsStr,
    ) -> OpResult<Entry> {
        let target = if name == ".." {
            self.nodes.parent_of(id).ok_or(Errno::ESTALE)?
        } else {
            id
        };
        if self.nodes.is_detached(target) {
            // Unlinked (or replaced) and not open: stale, as on the filesystem below.
            return Err(Errno::ESTALE);
        }
        if let Some(path) = self.nodes.path_of(target) {
            let stat = self.ops.getattr(ctx, &path, None)?;
            let generation = self.nodes.relookup(target).ok_or(Errno::ESTALE)?;
            return Ok(Entry {
                nodeid: target,
                generation,
                stat,
            });
        }
        if name == ".." {
            return Err(Errno::ESTALE);
        }
        let Some(record) = self.nodes.remembered(id) else {
            // Nothing remembered (a handle from before a remount, or one forgotten
            // long ago): the inode number may find the file, where the
            // implementation's handles are numbers; the kernel checks the generation.
            let (path, generation) = self.ops.export_by_number(id)?;
            return self.reattach(ctx, id, generation, &path);
        };
        let path = match &record.memory {
            Memory::Pending(path) => path.clone(),
            Memory::Key(key) => self.ops.export_path(key)?,
        };
        self.reattach(ctx, id, record.generation, &path)
    }

    /// Link remembered node `id` back at `path`, making the directories on the way
    /// known (each held by one lookup of ours until the node is their child).
    fn reattach(
        &self,
        ctx: &RequestContext,
        id: u64,
        generation: u32,
        path: &Path,
    ) -> OpResult<Entry> {
        let names: Vec<&OsStr> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect();
        let Some((last, dirs)) = names.split_last() else {
            return Err(Errno::ESTALE);
        };
        let mut held = Vec::new();
        let mut parent = ROOT_ID;
        let mut at = PathBuf::from("/");
        let mut walked = Ok(());
        for dir in dirs {
            at.push(dir);
            parent = match self.nodes.child(parent, dir) {
                Some(child) => child,
                None => match self.register(ctx, parent, dir, &at, None, Made::Before) {
                    Ok(entry) => {
                        held.push(entry.nodeid);
                        entry.nodeid
                    }
                    Err(e) => {
                        walked = Err(e);
                        break;
                    }
                },
            };
        }
        let res = walked.and_then(|()| {
            let stat = self.ops.getattr(ctx, path, None)?;
            self.nodes.reattach(id, parent, last, &stat, generation)?;
            Ok(Entry {
                nodeid: id,
                generation,
                stat,
            })
        });
        for dir in held {
            self.nodes.forget(dir, 1);
        }
        self.settle();
        res
    }
}
