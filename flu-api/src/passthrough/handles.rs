//! What the passthrough keeps per open file or directory: its fd, in the crate's
//! [`HandleTable`](crate::HandleTable).
//!
//! The hot path (read/write) takes the table's read lock only to clone an `Arc`, then
//! does its syscall with no lock held; `release` removes the entry, and the fd closes
//! when the last in-flight call drops its `Arc`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard};

/// One open file or directory.
pub(super) struct Handle {
    fd: OwnedFd,
    /// Serializes directory reads, which move the fd's shared position.
    dir_pos: Mutex<()>,
}

impl Handle {
    pub fn new(fd: OwnedFd) -> Handle {
        Handle {
            fd,
            dir_pos: Mutex::new(()),
        }
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn lock_position(&self) -> MutexGuard<'_, ()> {
        self.dir_pos.lock().unwrap_or_else(|e| e.into_inner())
    }
}
