//! Directories: the first readdir of an open directory takes a snapshot of the
//! listing, readdir/readdirplus answer from it so offsets are stable (a reader back at
//! offset 0 gets a fresh snapshot), releasedir drops it. A name removed through the
//! mount after the snapshot keeps the inode number it had (`note_gone`), as a local
//! filesystem's listing would show it. The core fills the kernel's directory replies
//! itself, through the small `DirReply`/`DirPlusReply` interfaces the adapter
//! implements.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::{Arc, Mutex};

use flu_api::{DirEntry, Errno, Fh, Op, OpResult, RequestContext, Stat};

use super::{show_name, At, DirChunk, Entry, FsCore, Listing, OpenDir, OpenReply, UNKNOWN_INO};

/// A plain readdir reply being filled.
pub trait DirReply {
    /// Add one entry (`kind`: the `S_IFMT` bits); true when the reply is full and the
    /// entry was not added.
    fn add(&mut self, ino: u64, offset: u64, kind: u32, name: &OsStr) -> bool;
}

/// What a readdirplus entry tells the kernel.
#[derive(Clone, Copy, Debug)]
pub enum PlusEntry {
    /// A name the kernel now knows (one lookup counted).
    Known(Entry),
    /// A name it does not instantiate (`.`, `..`, entries whose attributes could not
    /// be had): only its inode number and type.
    Bare { ino: u64, kind: u32 },
}

/// A readdirplus reply being filled.
pub trait DirPlusReply {
    /// Add one entry; true when the reply is full and the entry was not added.
    fn add(&mut self, offset: u64, name: &OsStr, entry: PlusEntry) -> bool;
}

impl FsCore {
    /// The implementation's listing with `.` and `..` first when it left them out.
    fn list(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<Arc<Vec<DirEntry>>> {
        let listed = self.ops.readdir(ctx, path, fh)?;
        let has = |n: &str| listed.iter().any(|e| e.name == n);
        let mut entries = Vec::with_capacity(listed.len() + 2);
        for dot in [".", ".."] {
            if !has(dot) {
                entries.push(DirEntry {
                    name: OsString::from(dot),
                    stat: None,
                    kind: Some(libc::S_IFDIR),
                });
            }
        }
        entries.extend(listed);
        Ok(Arc::new(entries))
    }

    /// Open a directory; its listing is taken by the first readdir.
    pub fn opendir(&self, ctx: &RequestContext, nodeid: u64, flags: i32) -> OpResult<OpenReply> {
        let args = || format!("flags={flags:#o}");
        self.on(Op::Opendir, At::Node(nodeid), args, |path| {
            let o = self.ops.opendir(ctx, path, flags)?;
            let fh = self.dirs.insert(OpenDir {
                nodeid,
                fh: Fh(o.fh),
                listing: Mutex::new(Listing {
                    entries: None,
                    gone: Arc::default(),
                }),
            });
            Ok(OpenReply {
                fh,
                direct_io: false,
                keep_cache: o.keep_cache,
                nonseekable: o.nonseekable,
                backing_fd: None,
                no_flush: false,
                cache_dir: o.cache_dir,
            })
        })
    }

    /// The listing from `offset` (0 at the start, else the offset of the last entry
    /// the kernel got): taken now if no readdir took it yet or this one starts over,
    /// so offsets within one pass stay stable.
    pub fn readdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
    ) -> OpResult<DirChunk> {
        let args = || format!("fh={fh} offset={offset}");
        self.on(Op::Readdir, At::Node(nodeid), args, |path| {
            let dir = self.dirs.get(fh).ok_or(Errno::EBADF)?;
            // A poisoned lock only means another reader panicked; the listing is whole.
            let mut listing = dir.listing.lock().unwrap_or_else(|e| e.into_inner());
            let entries = match listing.entries.take() {
                Some(kept) if offset != 0 => kept,
                _ => {
                    listing.gone = Arc::default();
                    self.list(ctx, path, dir.fh)
                }
            };
            listing.entries = Some(entries.clone());
            let entries = entries?;
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(entries.len());
            Ok(DirChunk {
                entries,
                start,
                gone: listing.gone.clone(),
                fh: dir.fh,
                path: Some(path.to_path_buf()),
            })
        })
    }

    /// Answer a readdir at `offset` into `reply`, as many entries as fit.
    pub fn fill_readdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        reply: &mut impl DirReply,
    ) -> OpResult<()> {
        let chunk = self.readdir(ctx, nodeid, fh, offset)?;
        for (i, entry) in chunk.entries.iter().enumerate().skip(chunk.start) {
            let ino = self.dirent_ino(nodeid, &chunk, entry);
            let kind = self.dirent_type(ctx, nodeid, entry);
            if reply.add(ino, i as u64 + 1, kind, &entry.name) {
                break;
            }
        }
        Ok(())
    }

    /// Answer a readdirplus at `offset` into `reply`: entries the kernel will know get a
    /// lookup, undone when the reply had no room for them.
    pub fn fill_readdirplus(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
        reply: &mut impl DirPlusReply,
    ) -> OpResult<()> {
        let chunk = self.readdir(ctx, nodeid, fh, offset)?;
        for (i, entry) in chunk.entries.iter().enumerate().skip(chunk.start) {
            let offset = i as u64 + 1;
            let full = match self.readdirplus_entry(ctx, nodeid, &chunk, entry) {
                Some(known) => {
                    let full = reply.add(offset, &entry.name, PlusEntry::Known(known));
                    if full {
                        // The kernel never saw this entry: undo its lookup.
                        self.forget(known.nodeid, 1);
                    }
                    full
                }
                None => {
                    // `.` and `..` still need a non-zero inode number, or readdir(3)
                    // hides them; the kernel never links those two names. A name
                    // removed since the snapshot keeps its number.
                    let dots = entry.name == "." || entry.name == "..";
                    let ino = if dots {
                        self.dirent_ino(nodeid, &chunk, entry).max(1)
                    } else {
                        chunk.gone.get(&entry.name).copied().unwrap_or(0)
                    };
                    let kind = self.dirent_type(ctx, nodeid, entry);
                    reply.add(offset, &entry.name, PlusEntry::Bare { ino, kind })
                }
            };
            if full {
                break;
            }
        }
        Ok(())
    }

    /// The inode number a plain readdir reports for `entry` of directory `dir`, listed
    /// in `chunk`: the node the name leads to, else the one it led to before it was
    /// removed, else the implementation's (in `use_ino` mode).
    pub fn dirent_ino(&self, dir: u64, chunk: &DirChunk, entry: &DirEntry) -> u64 {
        if entry.name == "." {
            return dir;
        }
        if let Some(id) = self.nodes.child(dir, &entry.name) {
            return id;
        }
        if let Some(&id) = chunk.gone.get(&entry.name) {
            return id;
        }
        match entry.stat {
            Some(st) if self.config.use_ino && st.ino != 0 => st.ino,
            _ => UNKNOWN_INO,
        }
    }

    /// The file type bits (`S_IFDIR`, …) a plain readdir reports for `entry`. Without a
    /// stat or a type from the listing this asks getattr: fuser cannot send
    /// `DT_UNKNOWN`, and a wrong type would mislead tools that trust it (find would not
    /// descend).
    pub fn dirent_type(&self, ctx: &RequestContext, dir: u64, entry: &DirEntry) -> u32 {
        if let Some(kind) = entry.file_type() {
            return kind;
        }
        if entry.name == "." || entry.name == ".." {
            return libc::S_IFDIR;
        }
        let at = At::Child(dir, &entry.name);
        self.on(
            Op::Getattr,
            at,
            || "(readdir type)".into(),
            |path| self.ops.getattr(ctx, path, None),
        )
        .map(|st| st.file_type())
        .unwrap_or(libc::S_IFREG)
    }

    /// For readdirplus: the entry the kernel will learn for `entry` (one lookup counted;
    /// call `forget(nodeid, 1)` if it does not reach the kernel), or `None` for `.`, `..`
    /// and names whose attributes cannot be had.
    /// The entry's attributes come from the listing, else from `stat_entry` on the open
    /// directory `chunk.fh`, else from getattr of its path.
    pub fn readdirplus_entry(
        &self,
        ctx: &RequestContext,
        dir: u64,
        chunk: &DirChunk,
        entry: &DirEntry,
    ) -> Option<Entry> {
        if entry.name == "." || entry.name == ".." {
            return None;
        }
        let stat = match entry.stat {
            Some(st) => st,
            None => self.entry_stat(ctx, dir, chunk, entry)?,
        };
        let known = self.new_file(&stat, || self.nodes.child_path(dir, &entry.name));
        let (nodeid, generation) =
            self.nodes
                .lookup_entry(dir, &entry.name, &stat, known.new_file())?;
        Some(Entry {
            nodeid,
            generation,
            stat,
        })
    }

    /// The stat of a listed entry that came without one; `None` if it cannot be had. The
    /// listing's path was resolved by this request: each entry reuses it rather than
    /// walking the node table again.
    fn entry_stat(
        &self,
        ctx: &RequestContext,
        dir: u64,
        chunk: &DirChunk,
        entry: &DirEntry,
    ) -> Option<Stat> {
        let Some(dir_path) = &chunk.path else {
            let at = At::Child(dir, &entry.name);
            return self.entry_getattr(ctx, at);
        };
        let args = || format!("fh={} {} (readdirplus)", chunk.fh.0, show_name(&entry.name));
        let cheap = self.on(Op::StatEntry, At::Path(dir_path), args, |path| {
            self.ops
                .stat_entry(ctx, path, chunk.fh, &entry.name)
                .transpose()
        });
        match cheap {
            Ok(Some(st)) => Some(st),
            Ok(None) => self.entry_getattr(ctx, At::Path(&dir_path.join(&entry.name))),
            Err(_) => None,
        }
    }

    /// getattr of a listed entry for readdirplus.
    fn entry_getattr(&self, ctx: &RequestContext, at: At) -> Option<Stat> {
        self.on(
            Op::Getattr,
            at,
            || "(readdirplus)".into(),
            |path| self.ops.getattr(ctx, path, None),
        )
        .ok()
    }

    /// `name` (node `id`) left directory `dir` through the mount (unlink, rmdir, rename):
    /// the listings open on `dir` remember its number for the entry they still hold.
    pub(super) fn note_gone(&self, dir: u64, name: &OsStr, id: u64) {
        self.dirs.each(|d| {
            if d.nodeid == dir {
                let mut listing = d.listing.lock().unwrap_or_else(|e| e.into_inner());
                Arc::make_mut(&mut listing.gone).insert(name.to_owned(), id);
            }
        });
    }

    pub fn releasedir(&self, ctx: &RequestContext, nodeid: u64, fh: u64) -> OpResult<()> {
        // The handle is the daemon's to drop whatever happens to the path.
        let dir = self.dirs.remove(fh);
        let args = || format!("fh={fh}");
        self.on(Op::Releasedir, At::Node(nodeid), args, |path| {
            let dir = dir.ok_or(Errno::EBADF)?;
            self.ops.releasedir(ctx, path, dir.fh)
        })
    }

    pub fn fsyncdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        datasync: bool,
    ) -> OpResult<()> {
        let args = || format!("fh={fh} datasync={datasync}");
        self.on(Op::Fsyncdir, At::Node(nodeid), args, |path| {
            let dir = self.dirs.get(fh).ok_or(Errno::EBADF)?;
            self.ops.fsyncdir(ctx, path, dir.fh, datasync)
        })
    }
}
