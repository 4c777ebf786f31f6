//! The open handle table: `fh` numbers given out by `open`/`create`/`opendir`, each
//! owning the fd of the open file or directory.
//!
//! The hot path (read/write) takes the read lock only to clone an `Arc`, then does its
//! syscall with no lock held; `release` removes the entry, and the fd closes when the
//! last in-flight call drops its `Arc`.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::errno::Errno;
use crate::operations::Fh;

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

pub(super) struct Handles {
    next: AtomicU64,
    map: RwLock<HashMap<u64, Arc<Handle>>>,
}

impl Handles {
    pub fn new() -> Handles {
        Handles {
            // 0 stays free: Flu scripts read an fh of 0 as "not set".
            next: AtomicU64::new(1),
            map: RwLock::new(HashMap::new()),
        }
    }

    pub fn insert(&self, fd: OwnedFd) -> u64 {
        let fh = self.next.fetch_add(1, Ordering::Relaxed);
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(fh, Arc::new(Handle::new(fd)));
        fh
    }

    pub fn get(&self, fh: Fh) -> Result<Arc<Handle>, Errno> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&fh.0)
            .cloned()
            .ok_or(Errno::EBADF)
    }

    pub fn remove(&self, fh: Fh) -> Option<Arc<Handle>> {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&fh.0)
    }

    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}
