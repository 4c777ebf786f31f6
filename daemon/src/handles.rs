//! Handle tables: the file handles the daemon gives the kernel, each standing for one
//! open file or directory and what the daemon keeps about it (the implementation's own
//! handle, the node, a buffered directory listing).
//!
//! The daemon hands out its own numbers rather than the implementation's, because an
//! implementation may answer the same handle (often 0) for every open while the daemon
//! needs per-open state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Open handles of one kind, numbered from 1 and never reused within a mount.
#[derive(Debug)]
pub struct HandleTable<T> {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<T>>>,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        HandleTable {
            next: AtomicU64::new(1),
            open: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> HandleTable<T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<T>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register an open handle; returns the number the kernel will use.
    pub fn insert(&self, value: T) -> u64 {
        let fh = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(fh, Arc::new(value));
        fh
    }

    pub fn get(&self, fh: u64) -> Option<Arc<T>> {
        self.lock().get(&fh).cloned()
    }

    pub fn remove(&self, fh: u64) -> Option<Arc<T>> {
        self.lock().remove(&fh)
    }

    /// Any open handle whose value satisfies `pred` (a linear scan: for rare paths).
    pub fn find(&self, pred: impl Fn(&T) -> bool) -> Option<Arc<T>> {
        self.lock().values().find(|v| pred(v)).cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }
}
