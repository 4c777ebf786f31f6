//! Merged listings: a directory's entries across its layers (the upper's names, then
//! each lower's not seen yet and not whited out above), with whiteouts and the hidden
//! form's names left out; whether a merged directory is empty; and clearing the
//! whiteouts an upper directory holds before it is removed.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::lookup::Found;
use super::private::is_private_name;
use super::whiteout::{hidden_entry, is_device_whiteout, WhiteoutForm};
use super::{own_context, Union, UPPER};
use crate::errno::Errno;
use crate::operations::{DirEntry, Fh, OpResult, RequestContext};

fn is_dot(name: &OsStr) -> bool {
    name == "." || name == ".."
}

impl Union {
    /// The whole listing of layer `layer`'s directory `path` (through `fh` when the
    /// directory is open there already).
    fn list_layer(
        &self,
        ctx: &RequestContext,
        layer: usize,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<DirEntry>> {
        let l = self.layer(layer);
        if let Some(fh) = fh {
            return l.readdir(ctx, path, fh);
        }
        let o = l.opendir(ctx, path, libc::O_RDONLY)?;
        let r = l.readdir(ctx, path, Fh(o.fh));
        let _ = l.releasedir(ctx, path, Fh(o.fh));
        r
    }

    /// Whether entry `e` of layer `layer`'s directory `path` is an overlayfs whiteout
    /// (a character device 0/0; a listing without a type or stat is asked).
    fn entry_is_whiteout(
        &self,
        ctx: &RequestContext,
        layer: usize,
        path: &Path,
        e: &DirEntry,
    ) -> bool {
        if self.form(layer) != WhiteoutForm::Overlay {
            return false;
        }
        if let Some(st) = &e.stat {
            return is_device_whiteout(st);
        }
        match e.kind {
            Some(libc::S_IFCHR) | None => self
                .layer(layer)
                .getattr(ctx, &path.join(&e.name), None)
                .is_ok_and(|st| is_device_whiteout(&st)),
            Some(_) => false,
        }
    }

    /// The merged listing of directory `path`; `open` is the top layer's handle of it.
    pub(super) fn merged(
        &self,
        ctx: &RequestContext,
        path: &Path,
        found: &Found,
        open: Option<Fh>,
    ) -> OpResult<Vec<DirEntry>> {
        let mut seen: HashSet<OsString> = HashSet::new();
        let mut out = Vec::new();
        for (k, &layer) in found.layers.iter().enumerate() {
            let fh = if k == 0 { open } else { None };
            let mut hidden_here = Vec::new();
            for e in self.list_layer(ctx, layer, path, fh)? {
                if is_dot(&e.name) {
                    if seen.insert(e.name.clone()) {
                        out.push(e);
                    }
                    continue;
                }
                if is_private_name(&e.name) {
                    continue;
                }
                if self.form(layer) == WhiteoutForm::Hidden {
                    if let Some(w) = hidden_entry(&e.name) {
                        hidden_here.extend(w);
                        continue;
                    }
                }
                if seen.contains(&e.name) {
                    continue;
                }
                seen.insert(e.name.clone());
                if !self.entry_is_whiteout(ctx, layer, path, &e) {
                    out.push(e);
                }
            }
            seen.extend(hidden_here);
        }
        Ok(out)
    }

    /// ENOTEMPTY unless the merged directory `path` shows no entry.
    pub(super) fn check_empty(
        &self,
        ctx: &RequestContext,
        path: &Path,
        found: &Found,
    ) -> OpResult<()> {
        let entries = self.merged(ctx, path, found, None)?;
        if entries.iter().any(|e| !is_dot(&e.name)) {
            return Err(Errno::ENOTEMPTY);
        }
        Ok(())
    }

    /// Remove the whiteouts (and the hidden opaque marker) the upper directory `path`
    /// holds, so that it can be removed or replaced; the union showed it empty.
    pub(super) fn clear_upper_dir(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let own = own_context(ctx);
        for e in self.list_layer(&own, UPPER, path, None)? {
            if is_dot(&e.name) {
                continue;
            }
            let hidden =
                self.form(UPPER) == WhiteoutForm::Hidden && hidden_entry(&e.name).is_some();
            let own_name = hidden || is_private_name(&e.name);
            if own_name || self.entry_is_whiteout(&own, UPPER, path, &e) {
                self.upper().unlink(&own, &path.join(&e.name))?;
            } else {
                return Err(Errno::ENOTEMPTY);
            }
        }
        Ok(())
    }
}
