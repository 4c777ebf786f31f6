//! `HandleTable<T>`: open handles by number, the one table every layer keeps its open
//! files and directories in (the daemon's kernel handles, the Lua backend's `fi` slots,
//! the passthrough's fds).
//!
//! Numbers start at 1 (Flu scripts read an `fh` of 0 as "not set") and are never reused
//! within a table's life, so a stale number can never name another open file. Values
//! are shared (`Arc`): a lookup takes the read lock only to clone the `Arc`, and the
//! caller works with no lock held; a value removed while in use lives until the last
//! user lets go of it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// See the module documentation.
#[derive(Debug)]
pub struct HandleTable<T> {
    next: AtomicU64,
    open: RwLock<HashMap<u64, Arc<T>>>,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        HandleTable {
            next: AtomicU64::new(1),
            open: RwLock::new(HashMap::new()),
        }
    }
}

impl<T> HandleTable<T> {
    // A panic elsewhere cannot leave the map inconsistent (every update is one call):
    // keep serving.
    fn read(&self) -> RwLockReadGuard<'_, HashMap<u64, Arc<T>>> {
        self.open.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<u64, Arc<T>>> {
        self.open.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Register an open handle; returns its number.
    pub fn insert(&self, value: T) -> u64 {
        let fh = self.next.fetch_add(1, Ordering::Relaxed);
        self.write().insert(fh, Arc::new(value));
        fh
    }

    pub fn get(&self, fh: u64) -> Option<Arc<T>> {
        self.read().get(&fh).cloned()
    }

    pub fn remove(&self, fh: u64) -> Option<Arc<T>> {
        self.write().remove(&fh)
    }

    /// Any open handle whose value satisfies `pred` (a linear scan: for rare paths).
    pub fn find(&self, pred: impl Fn(&T) -> bool) -> Option<Arc<T>> {
        self.read().values().find(|v| pred(v)).cloned()
    }

    /// Call `f` on every open handle (a scan under the read lock: `f` must not use
    /// this table).
    pub fn each(&self, mut f: impl FnMut(&T)) {
        for v in self.read().values() {
            f(v);
        }
    }

    /// Drop every handle (at unmount, for those the kernel never released).
    pub fn clear(&self) {
        self.write().clear();
    }

    /// How many handles are open.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_start_at_one_and_are_never_reused() {
        let t = HandleTable::default();
        let a = t.insert("a");
        let b = t.insert("b");
        assert_eq!((a, b), (1, 2));
        assert_eq!(t.remove(a).as_deref(), Some(&"a"));
        assert_eq!(t.insert("c"), 3);
        assert!(t.get(a).is_none());
        assert_eq!(t.find(|v| *v == "c").as_deref(), Some(&"c"));
        assert_eq!(t.len(), 2);
        t.clear();
        assert!(t.is_empty());
    }

    #[test]
    fn a_removed_value_lives_while_in_use() {
        let t = HandleTable::default();
        let fh = t.insert(String::from("open file"));
        let in_use = t.get(fh).unwrap();
        assert!(t.remove(fh).is_some());
        assert_eq!(*in_use, "open file");
    }
}
