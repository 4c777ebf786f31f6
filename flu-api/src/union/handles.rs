//! The union's open handles: each `Fh` it gives out names a layer and that layer's own
//! handle (and, for a directory, where it lived when opened). What a layer answers at
//! open passes through, `backing_fd` included, so kernel passthrough keeps the data
//! in the kernel.

use super::lookup::Found;
use super::Union;
use crate::errno::Errno;
use crate::operations::{Fh, OpResult, Opened};

use std::sync::Arc;

/// One open file or directory of the union.
pub(super) struct Handle {
    pub layer: usize,
    pub fh: Fh,
    /// A directory's layers when it was opened (its path may be gone since).
    pub dir: Option<Found>,
}

impl Union {
    /// Register what `layer` opened; answers it with the union's own number.
    pub(super) fn hand_out(&self, layer: usize, opened: Opened, dir: Option<Found>) -> Opened {
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
