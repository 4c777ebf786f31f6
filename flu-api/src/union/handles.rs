//! The union's open handles: each `Fh` it gives out names a layer and that layer's own
//! handle (and, for a directory, where it lived when opened). What a layer answers at
//! open passes through, with one exception: `backing_fd` (kernel passthrough) only for
//! files of the upper.
//!
//! Why not for a lower file: the kernel keeps one backing file per inode while any
//! passthrough open of it lasts (and refuses other opens of it), and the daemon shares
//! that backing among the node's opens. A lower file open read-only with its own
//! backing, then copied up and opened for writing, is the same node: the write would
//! land in the lower file, or the open fail. So reads of lower files come through the
//! union (and the page cache); once a file is in the upper, its data stays in the
//! kernel.

use std::sync::Arc;

use super::lookup::Found;
use super::{Union, UPPER};
use crate::errno::Errno;
use crate::operations::{Fh, OpResult, Opened};

/// One open file or directory of the union.
pub(super) struct Handle {
    pub layer: usize,
    pub fh: Fh,
    /// A directory's layers when it was opened (its path may be gone since).
    pub dir: Option<Found>,
}

impl Union {
    /// Register what `layer` opened; answers it with the union's own number.
    pub(super) fn hand_out(&self, layer: usize, mut opened: Opened, dir: Option<Found>) -> Opened {
        if layer != UPPER {
            opened.backing_fd = None;
        }
        // A merged listing comes from every layer, not from the one opened.
        opened.cache_dir = false;
        let fh = self.handles.insert(Handle {
            layer,
            fh: Fh(opened.fh),
            dir,
        });
        Opened { fh, ..opened }
    }

    pub(super) fn handle(&self, fh: Fh) -> OpResult<Arc<Handle>> {
        self.handles.get(fh.0).ok_or(Errno::EBADF)
    }

    /// The handle behind an optional `fh`, when it is the union's.
    pub(super) fn handle_of(&self, fh: Option<Fh>) -> Option<Arc<Handle>> {
        fh.and_then(|fh| self.handles.get(fh.0))
    }
}
