//! `XattrOps` for the union: reads answer from the top layer (or the handle's), changes
//! copy up first. overlayfs's own names (`trusted.overlay.*`: the opaque mark) are
//! never shown; a name of that family set through the union is stored escaped, as
//! overlayfs stores it (`trusted.overlay.x` as `trusted.overlay.overlay.x`), so it
//! reads back, lists, and means the same to a later `mount -t overlay`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::whiteout::OVERLAY_XATTRS;
use super::{Union, UPPER};
use crate::operations::{Fh, OpResult, RequestContext, XattrOps};

/// How overlayfs stores a `trusted.overlay.*` name of a user's.
pub(super) const ESCAPED_XATTRS: &[u8] = b"trusted.overlay.overlay.";

/// The name as stored in a layer.
fn escape(name: &OsStr) -> OsString {
    match name.as_bytes().strip_prefix(OVERLAY_XATTRS) {
        Some(rest) => OsStr::from_bytes(&[ESCAPED_XATTRS, rest].concat()).to_os_string(),
        None => name.to_os_string(),
    }
}

/// The name a user sees for one stored in a layer; `None` for overlayfs's own.
fn unescape(stored: &OsStr) -> Option<OsString> {
    let b = stored.as_bytes();
    if let Some(rest) = b.strip_prefix(ESCAPED_XATTRS) {
        return Some(OsStr::from_bytes(&[OVERLAY_XATTRS, rest].concat()).to_os_string());
    }
    (!b.starts_with(OVERLAY_XATTRS)).then(|| stored.to_os_string())
}

impl Union {
    /// The layer to read from and the handle there, if any.
    fn reading(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<(usize, Option<Fh>)> {
        match self.handle_of(fh) {
            Some(h) => Ok((h.layer, Some(h.fh))),
            None => Ok((self.resolve(ctx, path)?.top(), None)),
        }
    }

    /// Where a change goes: the upper, through the handle if it is an upper one.
    fn writing(&self, ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Option<Fh>> {
        match self.handle_of(fh) {
            Some(h) if h.layer == UPPER => Ok(Some(h.fh)),
            _ => self.copy_up(ctx, path).map(|_| None),
        }
    }
}

impl XattrOps for Union {
    fn setxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let fh = self.writing(ctx, path, fh)?;
        self.upper()
            .setxattr(ctx, path, &escape(name), value, flags, fh)
    }

    fn getxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        let (layer, fh) = self.reading(ctx, path, fh)?;
        self.layer(layer).getxattr(ctx, path, &escape(name), fh)
    }

    fn listxattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<OsString>> {
        let (layer, fh) = self.reading(ctx, path, fh)?;
        let names = self.layer(layer).listxattr(ctx, path, fh)?;
        Ok(names.iter().filter_map(|n| unescape(n)).collect())
    }

    fn removexattr(
        &self,
        ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let fh = self.writing(ctx, path, fh)?;
        self.upper().removexattr(ctx, path, &escape(name), fh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlayfs_names_are_escaped_and_its_own_hidden() {
        let n = |s: &str| OsString::from(s);
        assert_eq!(escape(&n("user.a")), n("user.a"));
        assert_eq!(
            escape(&n("trusted.overlay.x")),
            n("trusted.overlay.overlay.x")
        );
        assert_eq!(
            unescape(&n("trusted.overlay.overlay.x")),
            Some(n("trusted.overlay.x"))
        );
        assert_eq!(unescape(&n("trusted.overlay.opaque")), None);
        assert_eq!(
            unescape(&n("security.selinux")),
            Some(n("security.selinux"))
        );
    }
}
