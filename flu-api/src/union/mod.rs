//! `Union`: a native backend that overlays layers as Linux overlayfs does for a user
//! (`flu.union{upper, lower1, …}`): names fall through from `upper` to the first lower
//! that has them, directories present in several layers merge, writes copy the file up
//! to `upper` first, and removing a lower name leaves a whiteout in `upper`.
//!
//! Paths are the same in every layer (no `redirect_dir`: a directory that exists in a
//! lower cannot be renamed, EXDEV, as overlayfs answers by default). Files:
//! `lookup` (a path → the layers that hold it), `whiteout` (the two whiteout and opaque
//! forms, one per layer), `private` (the union's own names: copies under way), `copy_up`,
//! `merge` (merged listings, emptiness), `handles` (the union's handles → a layer's;
//! kernel passthrough for upper files only), and one file per operation trait: `attrs`,
//! `names`, `files`, `dirs`, `xattrs`, `locks`; `Lifecycle` is here.
//!
//! Inode numbers are the layers' own (a file copied up gets the upper's); the union does
//! not claim they are stable (`stable_inode_numbers` is false): layers on different
//! filesystems may repeat them. So a mount shows the daemon's node numbers, and the
//! layers' with `-o use_ino`.

mod attrs;
mod copy_up;
mod dirs;
mod files;
mod handles;
mod locks;
mod lookup;
mod merge;
mod names;
mod private;
mod whiteout;
mod xattrs;

#[cfg(test)]
mod table_upper_tests;
#[cfg(test)]
mod tests;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::handle_table::HandleTable;
use crate::notify::Notifier;
use crate::op::{Op, ServedBy};
use crate::operations::{ConnectionInfo, Lifecycle, OpResult, Operations, RequestContext};

pub use whiteout::WhiteoutForm;

use handles::Handle;

/// The index of the upper layer in [`Union::layers`].
const UPPER: usize = 0;

/// See the module documentation.
pub struct Union {
    /// `upper` first, then the lowers, top to bottom.
    layers: Vec<Arc<dyn Operations>>,
    /// How each layer keeps whiteouts and opaque directories.
    forms: Vec<WhiteoutForm>,
    /// Some layer keeps the hidden form: `.wh.` names are the union's own there.
    reserves_names: bool,
    handles: HandleTable<Handle>,
    /// Held while copying up (see `copy_up`).
    copying: Mutex<()>,
    /// Private names given out (`private`).
    private_names: AtomicU64,
}

impl Union {
    /// Overlay `lowers` (top to bottom) with `upper`. Each layer keeps whiteouts in the
    /// form that suits it: overlayfs's own over a real directory (a backend with
    /// `roots()`), flu's hidden files otherwise (see [`WhiteoutForm`]).
    pub fn new(upper: Arc<dyn Operations>, lowers: Vec<Arc<dyn Operations>>) -> Union {
        let mut layers = vec![upper];
        layers.extend(lowers);
        let forms = layers
            .iter()
            .map(|l| WhiteoutForm::of(l.as_ref()))
            .collect();
        Union::build(layers, forms)
    }

    /// Like [`Union::new`], with every layer keeping whiteouts in `form`.
    pub fn with_whiteout_form(
        upper: Arc<dyn Operations>,
        lowers: Vec<Arc<dyn Operations>>,
        form: WhiteoutForm,
    ) -> Union {
        let mut layers = vec![upper];
        layers.extend(lowers);
        let forms = vec![form; layers.len()];
        Union::build(layers, forms)
    }

    /// `layers` (upper first), `forms` one per layer.
    fn build(layers: Vec<Arc<dyn Operations>>, forms: Vec<WhiteoutForm>) -> Union {
        let reserves_names = forms.contains(&WhiteoutForm::Hidden);
        Union {
            layers,
            forms,
            reserves_names,
            handles: HandleTable::default(),
            copying: Mutex::new(()),
            private_names: AtomicU64::new(0),
        }
    }

    fn upper(&self) -> &dyn Operations {
        self.layers[UPPER].as_ref()
    }

    fn layer(&self, i: usize) -> &dyn Operations {
        self.layers[i].as_ref()
    }
}

/// The context the union acts in for its own work (copy-up, whiteouts), as overlayfs
/// acts with the mounter's credentials: root's ids when the daemon is root (a
/// passthrough layer then creates as root, and the copy gets its owner by chown).
fn own_context(ctx: &RequestContext) -> RequestContext {
    RequestContext {
        uid: 0,
        gid: 0,
        pid: ctx.pid,
        umask: 0,
        unmasked_mode: None,
    }
}

/// `path`'s parent and last name; the root has none (EINVAL: nothing names it).
fn split(path: &Path) -> OpResult<(PathBuf, OsString)> {
    let name = path.file_name().ok_or(Errno::EINVAL)?.to_os_string();
    let parent = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    Ok((parent, name))
}

/// `dir/name`.
fn child(dir: &Path, name: &OsStr) -> PathBuf {
    dir.join(name)
}

impl Lifecycle for Union {
    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        self.layers.iter().try_for_each(|l| l.init(conn))
    }

    fn destroy(&self) {
        self.handles.clear();
        for l in &self.layers {
            l.destroy();
        }
    }

    /// Lua when a layer runs Lua for `op` (a table of Lua handlers): the mount is then
    /// served through the script, which serves that layer.
    fn served_by(&self, op: Op) -> ServedBy {
        if self.layers.iter().any(|l| l.served_by(op) == ServedBy::Lua) {
            ServedBy::Lua
        } else {
            ServedBy::Native
        }
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.layers.iter().flat_map(|l| l.roots()).collect()
    }

    fn mounted(&self, dev: u64) {
        for l in &self.layers {
            l.mounted(dev);
        }
    }

    fn serving(&self, notifier: Arc<dyn Notifier>) {
        for l in &self.layers {
            l.serving(notifier.clone());
        }
    }
}
