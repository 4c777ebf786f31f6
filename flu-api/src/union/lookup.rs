//! Lookup: a path → the layers that hold it (`Found`), walking component by component
//! as overlayfs does: in each directory the name is looked for in the directory's
//! layers, top to bottom, stopping at a whiteout, at a non-directory, and after an
//! opaque directory; a directory found in several layers is one merged directory.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use super::{split, Union, UPPER};
use crate::errno::Errno;
use crate::operations::{OpResult, RequestContext};
use crate::stat::Stat;

/// Where a path lives in the union.
#[derive(Clone, Debug)]
pub(super) struct Found {
    /// The layers holding it, top first: one for a non-directory, every layer of a
    /// merged directory.
    pub layers: Vec<usize>,
    /// The top layer's stat (a merged directory's `nlink` is 1, as overlayfs says).
    pub stat: Stat,
}

impl Found {
    pub fn top(&self) -> usize {
        self.layers[0]
    }

    pub fn in_upper(&self) -> bool {
        self.top() == UPPER
    }

    /// Some lower holds it too (a lower-only or merged directory, a lower file).
    pub fn has_lower(&self) -> bool {
        self.layers.iter().any(|&l| l != UPPER)
    }
}

impl Union {
    /// Where `path` lives; ENOENT when no layer shows it.
    pub(super) fn resolve(&self, ctx: &RequestContext, path: &Path) -> OpResult<Found> {
        let mut found = self.root(ctx)?;
        let mut cur = PathBuf::from("/");
        for c in path.components() {
            let name = match c {
                Component::Normal(n) => n,
                Component::RootDir | Component::CurDir => continue,
                // The daemon's paths never hold `..`.
                Component::ParentDir | Component::Prefix(_) => return Err(Errno::EINVAL),
            };
            if !found.stat.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            if self.reserved(name) {
                return Err(Errno::ENOENT);
            }
            cur.push(name);
            found = self
                .lookup_in(ctx, &found.layers, &cur)?
                .ok_or(Errno::ENOENT)?;
        }
        Ok(found)
    }

    /// Where the parent of `path` lives (a directory, or ENOTDIR), and the name.
    pub(super) fn resolve_parent(
        &self,
        ctx: &RequestContext,
        path: &Path,
    ) -> OpResult<(Found, PathBuf, std::ffi::OsString)> {
        let (dir, name) = split(path)?;
        let parent = self.resolve(ctx, &dir)?;
        if !parent.stat.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok((parent, dir, name))
    }

    /// Where `path` lives, or `None` when it does not (its parent must).
    pub(super) fn resolve_maybe(
        &self,
        ctx: &RequestContext,
        path: &Path,
    ) -> OpResult<Option<Found>> {
        match self.resolve(ctx, path) {
            Ok(f) => Ok(Some(f)),
            Err(Errno::ENOENT) => {
                let (_, _, name) = self.resolve_parent(ctx, path)?;
                if self.reserved(&name) {
                    return Err(Errno::EPERM);
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn root(&self, ctx: &RequestContext) -> OpResult<Found> {
        let root = Path::new("/");
        let mut layers = Vec::new();
        let mut top = None;
        for i in 0..self.layers.len() {
            let st = self.layer(i).getattr(ctx, root, None)?;
            if !st.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            top.get_or_insert(st);
            layers.push(i);
            if i + 1 < self.layers.len() && self.is_opaque(ctx, i, root)? {
                break;
            }
        }
        let mut stat = top.ok_or(Errno::EIO)?;
        if layers.len() > 1 {
            stat.nlink = 1;
        }
        Ok(Found { layers, stat })
    }

    /// Look `path` up in `parents` (the layers of its parent directory, top first).
    pub(super) fn lookup_in(
        &self,
        ctx: &RequestContext,
        parents: &[usize],
        path: &Path,
    ) -> OpResult<Option<Found>> {
        let mut layers = Vec::new();
        let mut top: Option<Stat> = None;
        for (k, &i) in parents.iter().enumerate() {
            // Opacity and hidden whiteouts only matter with layers left below.
            let more = k + 1 < parents.len();
            match self.layer(i).getattr(ctx, path, None) {
                Ok(st) => {
                    if self.is_whiteout_stat(i, &st) {
                        break;
                    }
                    // A non-directory below a directory does not merge.
                    if top.is_some() && !st.is_dir() {
                        break;
                    }
                    let dir = st.is_dir();
                    top.get_or_insert(st);
                    layers.push(i);
                    if !dir || (more && self.is_opaque(ctx, i, path)?) {
                        break;
                    }
                }
                Err(Errno::ENOENT) => {
                    if more && self.has_hidden_whiteout(ctx, i, path)? {
                        break;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(top.map(|mut stat| {
            if layers.len() > 1 {
                stat.nlink = 1;
            }
            Found { layers, stat }
        }))
    }

    /// Whether a lower shows `name` in directory `parent` (what a removal of the upper
    /// entry would uncover): a whiteout must then take its place.
    pub(super) fn lower_shows(
        &self,
        ctx: &RequestContext,
        parent: &Found,
        dir: &Path,
        name: &OsStr,
    ) -> OpResult<bool> {
        let lowers: Vec<usize> = parent
            .layers
            .iter()
            .copied()
            .filter(|&l| l != UPPER)
            .collect();
        Ok(self.lookup_in(ctx, &lowers, &dir.join(name))?.is_some())
    }
}
