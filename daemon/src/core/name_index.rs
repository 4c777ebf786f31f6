//! The node tree's name table: `(parent, name)` → node id, without a copy of the name.
//!
//! The names live once, in the nodes (`nodes.rs`). This index keeps, per name, only a
//! 64-bit keyed hash of `(parent, name)` and the node id (16 bytes, no allocation of
//! its own); the caller confirms a candidate by asking whether that node has the name.
//! Two names with the same hash (a pair in 2^64, with a key chosen at random per
//! table, so no one can aim for it) cannot share a slot: the later one is kept whole
//! in a side list, searched whenever the slot does not confirm.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// The hashes are already keyed SipHash values: the slot map uses them as they are.
#[derive(Default)]
struct AsIs(u64);

impl Hasher for AsIs {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; anything else is folded in, still correct.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// See the module documentation. `S` hashes `(parent, name)`; tests give one that
/// makes every name collide.
#[derive(Debug)]
pub struct NameIndex<S = RandomState> {
    hasher: S,
    /// Hash of `(parent, name)` → node id.
    slots: HashMap<u64, u64, BuildHasherDefault<AsIs>>,
    /// `(parent, name, id)` for the names whose hash was another's when they came.
    collided: Vec<(u64, Box<OsStr>, u64)>,
}

impl Default for NameIndex {
    fn default() -> Self {
        NameIndex::with_hasher(RandomState::new())
    }
}

impl<S: BuildHasher> NameIndex<S> {
    pub fn with_hasher(hasher: S) -> Self {
        NameIndex {
            hasher,
            slots: HashMap::default(),
            collided: Vec::new(),
        }
    }

    fn hash(&self, parent: u64, name: &OsStr) -> u64 {
        self.hasher.hash_one((parent, name.as_encoded_bytes()))
    }

    /// The node named `name` in `parent`; `named(id)` says whether node `id` has that
    /// name (it confirms the candidate the hash found).
    pub fn get(&self, parent: u64, name: &OsStr, named: impl Fn(u64) -> bool) -> Option<u64> {
        if let Some(&id) = self.slots.get(&self.hash(parent, name)) {
            if named(id) {
                return Some(id);
            }
        }
        self.collided
            .iter()
            .find(|(p, n, _)| *p == parent && **n == *name)
            .map(|&(_, _, id)| id)
    }

    /// Index `name` in `parent` as node `id`'s; the name must not be indexed already.
    pub fn insert(&mut self, parent: u64, name: &OsStr, id: u64) {
        let hash = self.hash(parent, name);
        if let std::collections::hash_map::Entry::Vacant(slot) = self.slots.entry(hash) {
            slot.insert(id);
        } else {
            self.collided.push((parent, name.into(), id));
        }
    }

    /// Drop `name` in `parent` if it is indexed as node `id`'s; whether it was.
    pub fn remove(&mut self, parent: u64, name: &OsStr, id: u64) -> bool {
        let pos = self
            .collided
            .iter()
            .position(|(p, n, i)| *p == parent && **n == *name && *i == id);
        if let Some(pos) = pos {
            self.collided.swap_remove(pos);
            return true;
        }
        // Not in the side list, so if it is indexed at all it is the slot's.
        let hash = self.hash(parent, name);
        if self.slots.get(&hash) == Some(&id) {
            self.slots.remove(&hash);
            return true;
        }
        false
    }

    /// How many names are indexed (tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.len() + self.collided.len()
    }

    /// How many names are in the side list (tests).
    #[cfg(test)]
    pub fn collided(&self) -> usize {
        self.collided.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Every `(parent, name)` hashes to the same value.
    #[derive(Default)]
    struct Constant;

    impl Hasher for Constant {
        fn finish(&self) -> u64 {
            42
        }
        fn write(&mut self, _: &[u8]) {}
    }

    type Colliding = NameIndex<BuildHasherDefault<Constant>>;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn names_are_found_by_parent_and_name() {
        let mut ix = NameIndex::default();
        ix.insert(1, os("a"), 10);
        ix.insert(2, os("a"), 20);
        // What the node table confirms: node 10 is 1/a, node 20 is 2/a.
        fn has(p: u64, n: &'static str) -> impl Fn(u64) -> bool {
            move |id| id / 10 == p && n == "a"
        }
        assert_eq!(ix.get(1, os("a"), has(1, "a")), Some(10));
        assert_eq!(ix.get(2, os("a"), has(2, "a")), Some(20));
        assert_eq!(ix.get(1, os("b"), has(1, "b")), None);
        assert!(!ix.remove(1, os("a"), 20), "another node's name stays");
        assert!(ix.remove(1, os("a"), 10));
        assert_eq!(ix.get(1, os("a"), has(1, "a")), None);
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn colliding_names_are_kept_whole_and_found() {
        let mut ix = Colliding::with_hasher(BuildHasherDefault::default());
        // Node id = 100 * parent + the name's letter; a node has only that name.
        let names: Vec<(u64, &str, u64)> =
            vec![(1, "a", 101), (1, "b", 102), (2, "a", 201), (2, "c", 203)];
        let id_of = |p: u64, n: &str| 100 * p + u64::from(n.as_bytes()[0] - b'a' + 1);
        for &(p, n, id) in &names {
            ix.insert(p, os(n), id);
        }
        assert_eq!(ix.collided(), 3, "one slot, three in the side list");
        let live: HashSet<u64> = names.iter().map(|n| n.2).collect();
        for &(p, n, id) in &names {
            let want = id_of(p, n);
            assert_eq!(
                ix.get(p, os(n), |c| c == want && live.contains(&c)),
                Some(id)
            );
        }
        assert_eq!(ix.get(1, os("c"), |c| c == id_of(1, "c")), None);
        // Freeing the slot's name leaves the others findable, and the slot reusable.
        assert!(ix.remove(1, os("a"), 101));
        assert_eq!(ix.get(1, os("a"), |c| c == 101), None);
        assert_eq!(ix.get(2, os("c"), |c| c == 203), Some(203));
        ix.insert(3, os("d"), 304);
        assert_eq!(ix.get(3, os("d"), |c| c == 304), Some(304));
        for &(p, n, id) in &names[1..] {
            assert!(ix.remove(p, os(n), id));
        }
        assert!(ix.remove(3, os("d"), 304));
        assert_eq!((ix.len(), ix.collided()), (0, 0));
    }
}
