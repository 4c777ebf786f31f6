//! Directories through a composition: the owner's listing, with the mount points
//! below it added when the owner does not list them, and made-up directories (the way
//! to a mount point no backend has) listing just those.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::{prefix, Composite, Owner};
use crate::errno::Errno;
use crate::operations::{DirEntry, DirOps, Fh, OpResult, Opened, RequestContext};
use crate::stat::Stat;

impl Composite {
    /// The names under which mount points appear in directory `dir`.
    fn mount_names(&self, dir: &Path) -> Vec<OsString> {
        let bytes = prefix::bytes(dir);
        let mut names: Vec<OsString> = Vec::new();
        for b in &self.branches {
            if let Some(name) = prefix::child_toward(bytes, &b.prefix) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_os_string());
                }
            }
        }
        names
    }

    /// Whether `name` in `dir` is a mount point or above one (its attributes are not
    /// the owner's to give).
    fn leads_to_mount(&self, dir: &Path, name: &OsStr) -> bool {
        self.mount_names(dir).iter().any(|n| n == name)
    }
}

impl DirOps for Composite {
    fn opendir(&self, ctx: &RequestContext, path: &Path, flags: i32) -> OpResult<Opened> {
        let opened = match self.owner(path) {
            Owner::Branch(i, rel) => self
                .call(i, |ops| ops.opendir(ctx, &rel, flags))
                .map(|o| (Some(i), o)),
            Owner::Nobody => Err(Errno::ENOENT),
        };
        match opened {
            Ok((i, o)) => Ok(Opened {
                fh: self.keep(i, o.fh),
                ..o
            }),
            Err(_) if self.is_above_mount(path) || path == Path::new("/") => Ok(Opened {
                fh: self.keep(None, 0),
                ..Opened::default()
            }),
            Err(e) => Err(e),
        }
    }

    fn readdir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<Vec<DirEntry>> {
        let made_up = || -> OpResult<Vec<DirEntry>> {
            Ok(vec![
                DirEntry {
                    kind: Some(libc::S_IFDIR),
                    ..DirEntry::named(".")
                },
                DirEntry {
                    kind: Some(libc::S_IFDIR),
                    ..DirEntry::named("..")
                },
            ])
        };
        let handle = self.handles.get(fh.0).ok_or(Errno::EBADF)?;
        let mut entries = match handle.branch {
            None => made_up()?,
            Some(i) => {
                let rel = self.relative(i, path);
                let mut entries = self.call(i, |ops| ops.readdir(ctx, &rel, handle.fh))?;
                for e in &mut entries {
                    e.stat = e.stat.map(|st| self.tagged(i, st));
                }
                entries
            }
        };
        for name in self.mount_names(path) {
            match entries.iter_mut().find(|e| e.name == name) {
                // The owner's entry names what the mount hides: its attributes are
                // the mounted backend's, looked up when asked.
                Some(e) => {
                    e.stat = None;
                    e.kind = Some(libc::S_IFDIR);
                }
                None => entries.push(DirEntry {
                    kind: Some(libc::S_IFDIR),
                    ..DirEntry::named(name)
                }),
            }
        }
        Ok(entries)
    }

    fn stat_entry(
        &self,
        ctx: &RequestContext,
        dir: &Path,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        if self.leads_to_mount(dir, name) {
            return None;
        }
        let handle = self.handles.get(fh.0)?;
        let i = handle.branch?;
        let rel = self.relative(i, dir);
        let mut answer = None;
        let _ = self.call(i, |ops| {
            answer = ops.stat_entry(ctx, &rel, handle.fh, name);
            Ok(())
        });
        answer.map(|r| r.map(|st| self.tagged(i, st)))
    }

    fn releasedir(&self, ctx: &RequestContext, path: &Path, fh: Fh) -> OpResult<()> {
        let result = self.on_handle(
            path,
            fh,
            || Ok(()),
            |ops, rel, fh| ops.releasedir(ctx, rel, fh),
        );
        self.handles.remove(fh.0);
        result
    }

    fn fsyncdir(&self, ctx: &RequestContext, path: &Path, fh: Fh, datasync: bool) -> OpResult<()> {
        self.on_handle(
            path,
            fh,
            || Ok(()),
            |ops, rel, fh| ops.fsyncdir(ctx, rel, fh, datasync),
        )
    }
}
