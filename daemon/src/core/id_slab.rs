//! `IdSlab<T>`: values by `u64` id (the node tree's nodes), stored densely.
//!
//! A hash map of ids to large values wastes the most where it hurts: its buckets are
//! the values, and right after it doubles (at 7/8 full) nearly half of them are empty —
//! at 1,000,000 nodes, 2^21 buckets of 56 bytes. Here the values sit in a vector (which
//! doubles too, but at full, and grows by `mremap` once large) and the map holds only
//! id → slot (16 bytes a bucket). Freed slots are reused; the vector does not shrink,
//! as the map's buckets never did.

use std::collections::HashMap;

/// See the module documentation.
#[derive(Debug)]
pub struct IdSlab<T> {
    slots: Vec<Option<T>>,
    /// Free slots, reused before the vector grows.
    free: Vec<usize>,
    ids: HashMap<u64, usize>,
}

impl<T> Default for IdSlab<T> {
    fn default() -> Self {
        IdSlab {
            slots: Vec::new(),
            free: Vec::new(),
            ids: HashMap::new(),
        }
    }
}

impl<T> IdSlab<T> {
    pub fn get(&self, id: &u64) -> Option<&T> {
        let &slot = self.ids.get(id)?;
        self.slots.get(slot)?.as_ref()
    }

    pub fn get_mut(&mut self, id: &u64) -> Option<&mut T> {
        let &slot = self.ids.get(id)?;
        self.slots.get_mut(slot)?.as_mut()
    }

    pub fn contains_key(&self, id: &u64) -> bool {
        self.ids.contains_key(id)
    }

    /// Store `value` as `id`'s, replacing (and answering) the one it had.
    pub fn insert(&mut self, id: u64, value: T) -> Option<T> {
        if let Some(&slot) = self.ids.get(&id) {
            if let Some(old) = self.slots.get_mut(slot) {
                return old.replace(value);
            }
        }
        let slot = match self.free.pop().filter(|&s| s < self.slots.len()) {
            Some(slot) => {
                self.slots[slot] = Some(value);
                slot
            }
            None => {
                self.slots.push(Some(value));
                self.slots.len() - 1
            }
        };
        self.ids.insert(id, slot);
        None
    }

    pub fn remove(&mut self, id: &u64) -> Option<T> {
        let slot = self.ids.remove(id)?;
        let value = self.slots.get_mut(slot)?.take();
        self.free.push(slot);
        value
    }

    /// How many ids have a value.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Every id with its value, in no order (tests).
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.ids
            .iter()
            .filter_map(|(&id, &slot)| Some((id, self.slots.get(slot)?.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_by_id_and_slots_reused() {
        let mut s = IdSlab::default();
        assert_eq!(s.insert(10, "a"), None);
        assert_eq!(s.insert(u64::MAX, "b"), None);
        assert_eq!(s.insert(10, "c"), Some("a"), "replaced");
        assert_eq!(
            (s.get(&10), s.get(&u64::MAX), s.get(&11)),
            (Some(&"c"), Some(&"b"), None)
        );
        assert_eq!(s.remove(&10), Some("c"));
        assert_eq!((s.remove(&10), s.get(&10), s.len()), (None, None, 1));
        s.insert(12, "d");
        assert_eq!(s.slots.len(), 2, "the freed slot is reused");
        if let Some(v) = s.get_mut(&12) {
            *v = "e";
        }
        let mut all: Vec<(u64, &str)> = s.iter().map(|(id, v)| (id, *v)).collect();
        all.sort();
        assert_eq!(all, vec![(12, "e"), (u64::MAX, "b")]);
        assert!(s.contains_key(&12) && !s.contains_key(&10));
    }
}
