//! Directories: opendir takes a snapshot of the listing, readdir/readdirplus answer
//! from it so offsets are stable, releasedir drops it.

use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, Mutex};

use flu_api::{DirEntry, Errno, Fh, Op, OpResult, RequestContext, Stat};

use super::{p, show, DirChunk, Entry, FsCore, Listing, OpenDir, UNKNOWN_INO};

impl FsCore {
    // ---- directories ----

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

    /// Open a directory and take a snapshot of its listing, so offsets stay stable.
    pub fn opendir(&self, ctx: &RequestContext, nodeid: u64, flags: i32) -> OpResult<u64> {
        let path = self.path(nodeid);
        self.run(
            Op::Opendir,
            || format!("{} flags={flags:#o}", show(&path, nodeid)),
            || {
                let path = p(&path)?;
                let fh = Fh(self.ops.opendir(ctx, path, flags)?.fh);
                let entries = self.list(ctx, path, fh);
                Ok(self.dirs.insert(OpenDir {
                    nodeid,
                    fh,
                    listing: Mutex::new(Listing {
                        entries,
                        served: false,
                    }),
                }))
            },
        )
    }

    /// The buffered listing from `offset` (0 at the start, else the offset of the last
    /// entry the kernel got).
    pub fn readdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        offset: u64,
    ) -> OpResult<DirChunk> {
        let path = self.path(nodeid);
        self.run(
            Op::Readdir,
            || format!("{} fh={fh} offset={offset}", show(&path, nodeid)),
            || {
                let dir = self.dirs.get(fh).ok_or(Errno::EBADF)?;
                // A poisoned lock only means another reader panicked; the listing is whole.
                let served = dir.listing.lock().map(|l| l.served).unwrap_or(true);
                if offset == 0 && served {
                    let fresh = self.list(ctx, p(&path)?, dir.fh);
                    dir.listing
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entries = fresh;
                }
                let mut listing = dir.listing.lock().unwrap_or_else(|e| e.into_inner());
                listing.served = true;
                let entries = listing.entries.clone()?;
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(entries.len());
                Ok(DirChunk {
                    entries,
                    start,
                    fh: dir.fh,
                    path: path.clone().ok(),
                })
            },
        )
    }

    /// The inode number a plain readdir reports for `entry` of directory `dir`.
    pub fn dirent_ino(&self, dir: u64, entry: &DirEntry) -> u64 {
        if entry.name == "." {
            return dir;
        }
        if let Some(id) = self.nodes.child(dir, &entry.name) {
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
        self.child_path(dir, &entry.name)
            .and_then(|path| {
                self.run(
                    Op::Getattr,
                    || format!("{path:?} (readdir type)"),
                    || self.ops.getattr(ctx, &path, None),
                )
            })
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
        let nodeid = self.nodes.lookup(dir, &entry.name, &stat)?;
        Some(Entry { nodeid, stat })
    }

    /// The stat of a listed entry that came without one; `None` if it cannot be had.
    fn entry_stat(
        &self,
        ctx: &RequestContext,
        dir: u64,
        chunk: &DirChunk,
        entry: &DirEntry,
    ) -> Option<Stat> {
        if let Some(dir_path) = &chunk.path {
            let cheap = self.run(
                Op::StatEntry,
                || {
                    format!(
                        "{dir_path:?} fh={} {:?} (readdirplus)",
                        chunk.fh.0, entry.name
                    )
                },
                || {
                    self.ops
                        .stat_entry(ctx, dir_path, chunk.fh, &entry.name)
                        .transpose()
                },
            );
            match cheap {
                Ok(Some(st)) => return Some(st),
                Ok(None) => {}
                Err(_) => return None,
            }
        }
        let path = self.child_path(dir, &entry.name).ok()?;
        self.run(
            Op::Getattr,
            || format!("{path:?} (readdirplus)"),
            || self.ops.getattr(ctx, &path, None),
        )
        .ok()
    }

    pub fn releasedir(&self, ctx: &RequestContext, nodeid: u64, fh: u64) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Releasedir,
            || format!("{} fh={fh}", show(&path, nodeid)),
            || {
                let dir = self.dirs.remove(fh).ok_or(Errno::EBADF)?;
                let path = self.path(dir.nodeid)?;
                self.ops.releasedir(ctx, &path, dir.fh)
            },
        )
    }

    pub fn fsyncdir(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        fh: u64,
        datasync: bool,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Fsyncdir,
            || format!("{} fh={fh} datasync={datasync}", show(&path, nodeid)),
            || {
                let dir = self.dirs.get(fh).ok_or(Errno::EBADF)?;
                self.ops.fsyncdir(ctx, p(&path)?, dir.fh, datasync)
            },
        )
    }
}
