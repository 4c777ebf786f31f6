//! Whiteouts (a removed lower name) and opaque directories (a directory that hides
//! what the lowers hold under its name), in the two forms a layer can keep:
//!
//! - [`WhiteoutForm::Overlay`], over a real directory: overlayfs's own. A whiteout is a
//!   character device 0/0 under the removed name; an opaque directory carries the
//!   xattr `trusted.overlay.opaque` = `y`. The same directories can later be mounted
//!   with `mount -t overlay`.
//! - [`WhiteoutForm::Hidden`], over a handler table: aufs's. A whiteout of `name` is an
//!   empty file `.wh.<name>` beside it; an opaque directory holds an empty file
//!   `.wh..wh..opq`. Any table that can create files keeps them; the union never lists
//!   these names nor looks them up (they answer ENOENT, and creating one EPERM).
//!
//! In both forms, names beginning `.wh..wh.` are the union's own (`private`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::private::is_private_name;
use super::{child, own_context, split, Union, UPPER};
use crate::errno::Errno;
use crate::operations::{OpResult, Operations, RequestContext};
use crate::stat::Stat;

/// How one layer keeps whiteouts and opaque directories (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhiteoutForm {
    Overlay,
    Hidden,
}

/// The prefix of the hidden form's names.
pub(super) const PREFIX: &[u8] = b".wh.";
/// The hidden form's opaque marker.
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// overlayfs's opaque xattr.
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// overlayfs's family of xattrs (its own are never shown nor copied up).
pub(super) const OVERLAY_XATTRS: &[u8] = b"trusted.overlay.";

impl WhiteoutForm {
    /// Overlayfs's form over a real directory, the hidden one otherwise.
    pub fn of(layer: &dyn Operations) -> WhiteoutForm {
        if layer.roots().is_empty() {
            WhiteoutForm::Hidden
        } else {
            WhiteoutForm::Overlay
        }
    }
}

/// The hidden whiteout of `name`.
fn hidden_name(name: &OsStr) -> OsString {
    let mut n = OsString::from(OsStr::from_bytes(PREFIX));
    n.push(name);
    n
}

/// Whether `name` is one of the hidden form's own.
pub(super) fn is_hidden_name(name: &OsStr) -> bool {
    name.as_bytes().starts_with(PREFIX)
}

/// What a name read in a hidden-form listing says: the name whited out, if it is a
/// whiteout; `Some(None)` for the opaque marker or another of the form's names.
pub(super) fn hidden_entry(name: &OsStr) -> Option<Option<OsString>> {
    let b = name.as_bytes();
    let rest = b.strip_prefix(PREFIX)?;
    if name == OPAQUE_MARKER || rest.starts_with(PREFIX) || rest.is_empty() {
        return Some(None);
    }
    Some(Some(OsStr::from_bytes(rest).to_os_string()))
}

/// Whether a stat is overlayfs's whiteout (a character device 0/0).
pub(super) fn is_device_whiteout(st: &Stat) -> bool {
    st.file_type() == libc::S_IFCHR && st.rdev == 0
}

fn exists(layer: &dyn Operations, ctx: &RequestContext, path: &Path) -> OpResult<bool> {
    match layer.getattr(ctx, path, None) {
        Ok(_) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Create an empty file (create + release, or mknod for a table without create).
fn create_empty(layer: &dyn Operations, ctx: &RequestContext, path: &Path) -> OpResult<()> {
    let mode = libc::S_IFREG | 0o600;
    match layer.create(ctx, path, mode, libc::O_WRONLY | libc::O_EXCL) {
        Ok(o) => layer.release(ctx, path, crate::operations::Fh(o.fh), libc::O_WRONLY, true),
        Err(Errno::ENOSYS) => layer.mknod(ctx, path, mode, 0),
        Err(e) => Err(e),
    }
}

impl Union {
    pub(super) fn form(&self, layer: usize) -> WhiteoutForm {
        self.forms[layer]
    }

    /// Whether `stat`, found at a name of `layer`, is a whiteout there.
    pub(super) fn is_whiteout_stat(&self, layer: usize, st: &Stat) -> bool {
        self.form(layer) == WhiteoutForm::Overlay && is_device_whiteout(st)
    }

    /// Whether `layer` holds a hidden-form whiteout of `path` (the name itself absent).
    pub(super) fn has_hidden_whiteout(
        &self,
        ctx: &RequestContext,
        layer: usize,
        path: &Path,
    ) -> OpResult<bool> {
        if self.form(layer) != WhiteoutForm::Hidden {
            return Ok(false);
        }
        let (dir, name) = split(path)?;
        exists(self.layer(layer), ctx, &child(&dir, &hidden_name(&name)))
    }

    /// Whether the directory `path` of `layer` is opaque.
    pub(super) fn is_opaque(
        &self,
        ctx: &RequestContext,
        layer: usize,
        path: &Path,
    ) -> OpResult<bool> {
        let l = self.layer(layer);
        match self.form(layer) {
            WhiteoutForm::Overlay => match l.getxattr(ctx, path, OsStr::new(OPAQUE_XATTR), None) {
                Ok(v) => Ok(v == b"y"),
                Err(Errno::ENODATA | Errno::ENOSYS | Errno::EOPNOTSUPP | Errno::EPERM) => Ok(false),
                Err(e) => Err(e),
            },
            WhiteoutForm::Hidden => exists(l, ctx, &child(path, OsStr::new(OPAQUE_MARKER))),
        }
    }

    /// Mark the upper directory `path` opaque.
    pub(super) fn make_opaque(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let own = own_context(ctx);
        match self.form(UPPER) {
            WhiteoutForm::Overlay => {
                self.upper()
                    .setxattr(&own, path, OsStr::new(OPAQUE_XATTR), b"y", 0, None)
            }
            WhiteoutForm::Hidden => {
                let marker = child(path, OsStr::new(OPAQUE_MARKER));
                match create_empty(self.upper(), &own, &marker) {
                    Err(Errno::EEXIST) => Ok(()),
                    r => r,
                }
            }
        }
    }

    /// Leave a whiteout of `path` in the upper (whose parent directory exists there and
    /// which has no entry of that name).
    pub(super) fn make_whiteout(&self, ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let own = own_context(ctx);
        match self.form(UPPER) {
            WhiteoutForm::Overlay => self.upper().mknod(&own, path, libc::S_IFCHR, 0),
            WhiteoutForm::Hidden => {
                let (dir, name) = split(path)?;
                match create_empty(self.upper(), &own, &child(&dir, &hidden_name(&name))) {
                    Err(Errno::EEXIST) => Ok(()),
                    r => r,
                }
            }
        }
    }

    /// Take away an upper whiteout of `path` before a name is made there. For the
    /// overlay form the whiteout is the name itself; the hidden one sits beside it.
    /// Answers whether there was one.
    pub(super) fn clear_whiteout(&self, ctx: &RequestContext, path: &Path) -> OpResult<bool> {
        let own = own_context(ctx);
        match self.form(UPPER) {
            WhiteoutForm::Overlay => match self.upper().getattr(&own, path, None) {
                Ok(st) if is_device_whiteout(&st) => self.upper().unlink(&own, path).map(|_| true),
                Ok(_) | Err(Errno::ENOENT) => Ok(false),
                Err(e) => Err(e),
            },
            WhiteoutForm::Hidden => {
                let (dir, name) = split(path)?;
                match self.upper().unlink(&own, &child(&dir, &hidden_name(&name))) {
                    Ok(()) => Ok(true),
                    Err(Errno::ENOENT) => Ok(false),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Whether the union keeps `name` for itself (a private or hidden-form name).
    pub(super) fn reserved(&self, name: &OsStr) -> bool {
        is_private_name(name) || (self.reserves_names && is_hidden_name(name))
    }
}

impl Union {
    /// Make a name at upper `path` with `make`, over an upper whiteout of it if there is
    /// one (put back if `make` fails); answers `make`'s value and whether there was one.
    pub(super) fn make_over_whiteout<T>(
        &self,
        ctx: &RequestContext,
        path: &Path,
        make: impl FnOnce() -> OpResult<T>,
    ) -> OpResult<(T, bool)> {
        match self.form(UPPER) {
            WhiteoutForm::Overlay => {
                let was = self.clear_whiteout(ctx, path)?;
                match make() {
                    Ok(v) => Ok((v, was)),
                    Err(e) => {
                        if was {
                            let _ = self.make_whiteout(ctx, path);
                        }
                        Err(e)
                    }
                }
            }
            WhiteoutForm::Hidden => {
                let v = make()?;
                // The new name shadows a whiteout left behind; count it as there.
                let was = self.clear_whiteout(ctx, path).unwrap_or(true);
                Ok((v, was))
            }
        }
    }

    /// Put a whiteout in place of the upper entry `path` (a directory emptied of the
    /// union's marks if `dir`) so that the lower name never shows meanwhile. Overlay
    /// form: the whiteout, made under a private name, is exchanged with the entry,
    /// which is then removed from there (an upper without `RENAME_EXCHANGE`: removed,
    /// then the whiteout made). Hidden form: the whiteout first (the name wins while
    /// both are there), then the entry goes.
    pub(super) fn replace_with_whiteout(
        &self,
        ctx: &RequestContext,
        path: &Path,
        dir: bool,
    ) -> OpResult<()> {
        let own = own_context(ctx);
        let up = self.upper();
        let remove = |p: &Path| {
            if dir {
                up.rmdir(&own, p)
            } else {
                up.unlink(&own, p)
            }
        };
        match self.form(UPPER) {
            WhiteoutForm::Overlay => {
                let temp = self.private_beside(path, "whiteout")?;
                up.mknod(&own, &temp, libc::S_IFCHR, 0)?;
                match up.rename(&own, &temp, path, libc::RENAME_EXCHANGE) {
                    // The whiteout is in place: the old entry, now private, goes.
                    Ok(()) => return remove(&temp).or(Ok(())),
                    Err(_) => up.unlink(&own, &temp)?,
                }
                remove(path)?;
                self.make_whiteout(ctx, path)
            }
            WhiteoutForm::Hidden => {
                self.make_whiteout(ctx, path)?;
                remove(path).inspect_err(|_| {
                    let _ = self.clear_whiteout(ctx, path);
                })
            }
        }
    }
}
