//! The node tree: the daemon's map between the kernel's node ids and paths.
//!
//! FUSE speaks in node ids; `Operations` speaks in paths. This module owns the translation,
//! as libfuse's high-level `fuse.c` does with its node table:
//!
//! - every node the kernel knows has a lookup count; `lookup` adds one, `forget` removes
//!   `n`, and a node is freed when its count is zero and no child node still refers to it
//!   as parent (so a child's path can always be built);
//! - a node is linked under one or more `(parent, name)` aliases; `rename` re-links a node
//!   in O(1), moving its whole subtree with it;
//! - `unlink` detaches a node but keeps it while the kernel holds lookups, remembering its
//!   last known path so handle-based operations on an unlinked open file still get one;
//! - in `use_ino` mode nodes are keyed by the implementation's `(dev, ino)`, so the names
//!   of one hard-linked file share a node id, and the id is the real inode number when
//!   that number is free;
//! - with exports on (file handles through the mount), a node that leaves the tree while
//!   it still had a name is remembered (`exports::Forgotten`: its generation and path,
//!   then the implementation's key for it), so a handle naming it can bring it back with
//!   the same id and generation (`reattach`). Every node then gets a generation, so an
//!   id given again to another file (an inode number reused) never matches an old handle.
//!
//! A cached node costs what the kernel's cache of a million files makes it cost a
//! million times: a 48-byte `Node` in a dense slab (`id_slab`), its one name, and a
//! 16-byte slot of the name table (`name_index`, which holds no copy of the name).
//! What few nodes need (more names, a last path, an odd key) is in side maps.
//!
//! Thread-safe behind one mutex; no method calls out while holding it.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use flu_api::{Errno, Stat};

use super::exports::{Forgotten, Memory, Record};
use super::id_slab::IdSlab;
use super::name_index::NameIndex;

/// The kernel's id of the mount's root directory (`FUSE_ROOT_ID`).
pub const ROOT_ID: u64 = 1;

/// How many devices nodes name in their own key (`Node::dev`); keys on more devices
/// go to the side maps.
const DEVS: usize = 256;

/// One name under which a node is linked (borrowed: the tree keeps each name once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Alias<'a> {
    parent: u64,
    name: &'a OsStr,
}

/// A node, kept small (48 bytes): what every cached file costs is this, its name and
/// a slot of the name index. What few nodes have lives in the tree's side maps: the
/// names after the first (hard links), the last path of a detached node, a key in
/// `use_ino` mode whose inode number is not the node id.
#[derive(Debug, Default)]
struct Node {
    /// How many lookups the kernel holds (never forgotten for the root).
    lookups: u64,
    /// How many names in the name table have this node as parent.
    children: u64,
    /// The directory of `name`.
    parent: u64,
    /// The preferred name: the most recently looked up (the one `path_of` uses); `None`
    /// when the node lost all its names.
    name: Option<Box<OsStr>>,
    /// The generation the kernel got with the node id (0 without exports).
    generation: u32,
    /// In `use_ino` mode, the file's key when its inode number is the node id (the
    /// usual case): its device, as `Tree::devs[dev - 1]`; 0 for none (or a key in
    /// `Tree::keys`).
    dev: u16,
    /// The file type bits the node was made with, shifted down (`S_IFMT >> 12`).
    kind: u8,
    /// It has more names, in `Tree::links`.
    linked: bool,
}

impl Node {
    fn new(kind: u32, generation: u32) -> Node {
        Node {
            // `S_IFMT` is 0o170000: four bits once shifted, which always fit.
            kind: u8::try_from((kind & libc::S_IFMT) >> 12).unwrap_or(0),
            generation,
            ..Node::default()
        }
    }

    /// The file type bits (`S_IFMT`) it was made with.
    fn kind(&self) -> u32 {
        u32::from(self.kind) << 12
    }

    fn first(&self) -> Option<Alias<'_>> {
        self.name.as_deref().map(|name| Alias {
            parent: self.parent,
            name,
        })
    }
}

#[derive(Debug)]
struct Tree {
    nodes: IdSlab<Node>,
    /// The name table: `(parent, name)` → node.
    names: NameIndex,
    /// The names of a node after its preferred one, most recent first (hard links:
    /// rare, so outside the node).
    links: HashMap<u64, Vec<(u64, Box<OsStr>)>>,
    /// The path a node had when its last name went away, while it lives on.
    last_paths: HashMap<u64, PathBuf>,
    /// The devices of the keys nodes hold themselves (`Node::dev`): few, one per
    /// filesystem below, at most `DEVS`.
    devs: Vec<u64>,
    /// In `use_ino` mode, node → `(dev, ino)` of its file when the node cannot hold it
    /// (its id is not the inode number, or `devs` is full).
    keys: HashMap<u64, (u64, u64)>,
    /// The same keys the other way, `(dev, ino)` → node.
    by_key: HashMap<(u64, u64), u64>,
    next_id: u64,
    /// Nodes that left the tree with a name, when exports are on.
    forgotten: Option<Forgotten>,
    /// Remembered nodes whose key the core has yet to take (`take_freed`).
    freed: Vec<Freed>,
    /// The next generation a node gets (never 0, the root's).
    next_generation: u32,
}

/// What the caller learned of a file a lookup may make a node for (`would_make`).
#[derive(Clone, Copy, Debug, Default)]
pub struct NewFile<'a> {
    /// The implementation's key for it.
    pub key: Option<&'a [u8]>,
    /// The implementation's own generation for it.
    pub generation: Option<u32>,
    /// Whether the request made the file (see `Made::Here`).
    pub made: Made,
}

/// Whether the request registering a name made the file it names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Made {
    /// Created by this request (create, mkdir, mknod, symlink): it has no other name
    /// yet, so a named node holding its key is of an earlier file whose inode number
    /// was reused (removed by a request served in parallel, its node not yet told).
    Here,
    /// Found (lookup, link, a listing): maybe another name of a file already known.
    #[default]
    Before,
}

/// A node that left the tree with a name: the core takes the implementation's key for
/// it while the path still names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freed {
    pub id: u64,
    pub generation: u32,
    pub path: PathBuf,
}

/// The node tree. See the module documentation.
#[derive(Debug)]
pub struct NodeTable {
    tree: Mutex<Tree>,
    use_ino: bool,
}

impl NodeTable {
    /// A tree holding only the root; `use_ino` chooses node ids from `Stat.ino`.
    pub fn new(use_ino: bool) -> NodeTable {
        NodeTable::build(use_ino, None)
    }

    /// [`NodeTable::new`] that also remembers nodes the kernel forgot, for file handles.
    pub fn with_exports(use_ino: bool) -> NodeTable {
        NodeTable::build(use_ino, Some(Forgotten::default()))
    }

    fn build(use_ino: bool, forgotten: Option<Forgotten>) -> NodeTable {
        let mut nodes = IdSlab::default();
        nodes.insert(
            ROOT_ID,
            Node {
                lookups: 1,
                ..Node::default()
            },
        );
        NodeTable {
            tree: Mutex::new(Tree {
                nodes,
                names: NameIndex::default(),
                links: HashMap::new(),
                last_paths: HashMap::new(),
                devs: Vec::new(),
                keys: HashMap::new(),
                by_key: HashMap::new(),
                next_id: ROOT_ID + 1,
                forgotten,
                freed: Vec::new(),
                next_generation: 1,
            }),
            use_ino,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tree> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // breaks memory safety; keep serving rather than poisoning every later request.
        self.tree.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kernel learned `name` in `parent` (lookup, or a create/mkdir/… reply): find or
    /// make its node and count one lookup. `stat` is what the implementation reported
    /// for it. Returns the node id, or `None` when `parent` is unknown.
    pub fn lookup(&self, parent: u64, name: &OsStr, stat: &Stat) -> Option<u64> {
        self.lookup_entry(parent, name, stat, NewFile::default())
            .map(|(id, _)| id)
    }

    /// [`NodeTable::lookup`], also answering the node's generation. `new` is what the
    /// caller learned of the file for a node it may make (see `would_make`): the
    /// implementation's own generation for it, which a new node with the inode number as
    /// id takes; else its key, by which a node made for the same file as a remembered
    /// one takes that one's generation back, so old handles of it still match.
    pub fn lookup_entry(
        &self,
        parent: u64,
        name: &OsStr,
        stat: &Stat,
        new: NewFile<'_>,
    ) -> Option<(u64, u32)> {
        let mut tree = self.lock();
        if !tree.nodes.contains_key(&parent) {
            return None;
        }
        let alias = Alias { parent, name };
        let key = (self.use_ino && stat.ino != 0).then_some((stat.dev, stat.ino));
        if let Some(id) = tree.find(alias) {
            let same_file = match key {
                Some(k) => tree.key_of(id) == Some(k),
                None => true,
            };
            if same_file {
                tree.touch(id, alias);
                return Some((id, tree.generation_of(id)));
            }
            // The name now refers to another file: the old node loses it.
            tree.detach(alias);
        }
        let kind = stat.file_type();
        // Another name of a file the kernel knows (a hard link), unless that node lost
        // all its names or is of another type, or this request made the file: then the
        // inode number was reused by a new file, and the old node (still held by the
        // kernel) must never be taken for it (for a directory the kernel would find the
        // old one's dentry and fail the mkdir with ESTALE).
        let known = key
            .filter(|_| new.made == Made::Before)
            .and_then(|k| tree.owner_of(k))
            .filter(|id| {
                tree.nodes
                    .get(id)
                    .is_some_and(|n| n.name.is_some() && n.kind() == kind)
            });
        if let (Some(k), None) = (key, known) {
            if let Some(old) = tree.owner_of(k) {
                tree.drop_key(old);
            }
        }
        let id = match known {
            Some(id) => id,
            None => {
                let id = tree.new_id(key.map(|(_, ino)| ino));
                let own = new
                    .generation
                    .filter(|_| key.map(|(_, ino)| ino) == Some(id));
                let generation = match own {
                    Some(g) => {
                        if let Some(f) = tree.forgotten.as_mut() {
                            f.remove(id);
                        }
                        g
                    }
                    None => tree.generation_for(id, alias, new.key),
                };
                tree.nodes.insert(id, Node::new(kind, generation));
                if let Some(k) = key {
                    tree.set_key(id, k);
                }
                id
            }
        };
        tree.link(id, alias);
        tree.touch(id, alias);
        Some((id, tree.generation_of(id)))
    }

    /// The generation of node `id` (0 for the root or an unknown node).
    pub fn generation(&self, id: u64) -> u32 {
        self.lock().generation_of(id)
    }

    /// Whether a lookup of a file with `stat` may make a node whose id is its inode
    /// number (then the caller learns a `NewFile` for it), and whether that id is
    /// remembered with a key (then the file's key tells whether it is the same file).
    /// `None` when no such node would be made.
    pub fn would_make(&self, stat: &Stat) -> Option<bool> {
        if !self.use_ino || stat.ino == 0 {
            return None;
        }
        let tree = self.lock();
        if tree.nodes.contains_key(&stat.ino) || tree.owner_of((stat.dev, stat.ino)).is_some() {
            return None;
        }
        Some(
            tree.forgotten
                .as_ref()
                .and_then(|f| f.get(stat.ino))
                .is_some_and(|r| matches!(r.memory, Memory::Key(_))),
        )
    }

    /// What is remembered of node `id` that left the tree (exports on).
    pub fn remembered(&self, id: u64) -> Option<Record> {
        self.lock().forgotten.as_ref()?.get(id).cloned()
    }

    /// The nodes remembered since the last call whose key is still to be taken.
    pub fn take_freed(&self) -> Vec<Freed> {
        std::mem::take(&mut self.lock().freed)
    }

    /// The key the implementation gave for a node `take_freed` listed (`None`: it has
    /// none, so the node is forgotten for good). Ignored when the node came back or was
    /// remembered again meanwhile.
    pub fn remember_key(&self, freed: &Freed, key: Option<Vec<u8>>) {
        let mut tree = self.lock();
        let Some(forgotten) = tree.forgotten.as_mut() else {
            return;
        };
        let pending = forgotten.get(freed.id).is_some_and(|r| {
            r.generation == freed.generation && r.memory == Memory::Pending(freed.path.clone())
        });
        if !pending {
            return;
        }
        match key {
            Some(k) => forgotten.insert(
                freed.id,
                Record {
                    generation: freed.generation,
                    memory: Memory::Key(k.into_boxed_slice()),
                },
            ),
            None => forgotten.remove(freed.id),
        }
    }

    /// Bring back remembered node `id` as `name` in `parent` (a file handle named it):
    /// the same id and generation, one kernel lookup. ESTALE when `parent` is gone or
    /// the name is another node's now (that file got a new node since).
    pub fn reattach(
        &self,
        id: u64,
        parent: u64,
        name: &OsStr,
        stat: &Stat,
        generation: u32,
    ) -> Result<(), Errno> {
        let mut tree = self.lock();
        let alias = Alias { parent, name };
        if tree.nodes.contains_key(&id) {
            // Brought back by another request meanwhile, or looked up again.
            if tree.find(alias) != Some(id) || tree.generation_of(id) != generation {
                return Err(Errno::ESTALE);
            }
            tree.touch(id, alias);
            return Ok(());
        }
        if !tree.nodes.contains_key(&parent) || tree.find(alias).is_some() {
            return Err(Errno::ESTALE);
        }
        let key = (self.use_ino && stat.ino != 0).then_some((stat.dev, stat.ino));
        // Another live node of the same file (a hard link) keeps the key.
        let key = key.filter(|&k| tree.owner_of(k).is_none());
        tree.nodes
            .insert(id, Node::new(stat.file_type(), generation));
        if let Some(k) = key {
            tree.set_key(id, k);
        }
        if let Some(f) = tree.forgotten.as_mut() {
            f.remove(id);
        }
        tree.link(id, alias);
        tree.touch(id, alias);
        Ok(())
    }

    /// One more kernel lookup of live node `id` (a file handle named it): its
    /// generation, or `None` when it is not in the tree.
    pub fn relookup(&self, id: u64) -> Option<u32> {
        let mut tree = self.lock();
        let node = tree.nodes.get_mut(&id)?;
        if id != ROOT_ID {
            node.lookups += 1;
        }
        Some(node.generation)
    }

    /// The directory node `id` is linked in (the root for the root), if it has a name.
    pub fn parent_of(&self, id: u64) -> Option<u64> {
        if id == ROOT_ID {
            return Some(ROOT_ID);
        }
        let tree = self.lock();
        tree.nodes.get(&id)?.first().map(|a| a.parent)
    }

    /// A file born without a name (O_TMPFILE) in directory `dir`: a node the kernel
    /// holds one lookup on, served through its open handle until `attach` names it.
    /// Its path, for the log and for a request that comes without a handle once the
    /// file is closed, is a name in `dir` that nothing has (`.flu-unnamed-ID`): such a
    /// request finds nothing, as a nameless file has nothing to find.
    pub fn unnamed(&self, dir: &Path, stat: &Stat) -> u64 {
        let mut tree = self.lock();
        // In `use_ino` mode the node is known by its inode, as a looked-up one is: a
        // later hard link of the named file finds it.
        let key = (self.use_ino && stat.ino != 0).then_some((stat.dev, stat.ino));
        if let Some(old) = key.and_then(|k| tree.owner_of(k)) {
            // That inode number was reused: the old node keeps its id, not the key.
            tree.drop_key(old);
        }
        let id = tree.new_id(key.map(|(_, ino)| ino));
        let generation = tree.fresh_generation(id);
        tree.nodes.insert(
            id,
            Node {
                lookups: 1,
                ..Node::new(stat.file_type(), generation)
            },
        );
        tree.last_paths
            .insert(id, dir.join(format!(".flu-unnamed-{id}")));
        if let Some(k) = key {
            tree.set_key(id, k);
        }
        id
    }

    /// Node `id` got the name `name` in `parent` by a link (an O_TMPFILE file linked
    /// into the tree): it keeps its id, which the kernel expects, and counts one
    /// lookup. False when `parent` or `id` is unknown or the name is taken.
    pub fn attach(&self, id: u64, parent: u64, name: &OsStr) -> bool {
        let mut tree = self.lock();
        let alias = Alias { parent, name };
        if !tree.nodes.contains_key(&parent)
            || !tree.nodes.contains_key(&id)
            || tree.find(alias).is_some()
        {
            return false;
        }
        tree.link(id, alias);
        tree.touch(id, alias);
        true
    }

    /// The node at `name` in `parent`, if the kernel knows one (no count change).
    pub fn child(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.lock().find(Alias { parent, name })
    }

    /// The node at absolute `path`, walking names from the root, if the kernel knows
    /// every one on the way (`.` is skipped; `..` and relative paths are not resolved).
    pub fn node_of_path(&self, path: &Path) -> Option<u64> {
        let mut components = path.components();
        if components.next() != Some(Component::RootDir) {
            return None;
        }
        let tree = self.lock();
        let mut id = ROOT_ID;
        for c in components {
            match c {
                Component::CurDir => {}
                Component::Normal(name) => id = tree.find(Alias { parent: id, name })?,
                _ => return None,
            }
        }
        Some(id)
    }

    /// The kernel dropped `n` lookups of `id`; frees it when none are left.
    pub fn forget(&self, id: u64, n: u64) {
        if id == ROOT_ID {
            return;
        }
        let mut tree = self.lock();
        if let Some(node) = tree.nodes.get_mut(&id) {
            node.lookups = node.lookups.saturating_sub(n);
            tree.try_free(id);
        }
    }

    /// The absolute path of `id` (`/` for the root), through its preferred alias, or
    /// its last known path when it (or an ancestor) was unlinked. `None` for an unknown
    /// node.
    pub fn path_of(&self, id: u64) -> Option<PathBuf> {
        self.lock().path_of(id)
    }

    /// `path_of(parent)` joined with `name`.
    pub fn child_path(&self, parent: u64, name: &OsStr) -> Option<PathBuf> {
        let mut path = self.path_of(parent)?;
        path.push(name);
        Some(path)
    }

    /// After a successful rename: move the node at `(old_parent, old_name)` (with its
    /// subtree) to `(new_parent, new_name)`, detaching whatever was there.
    pub fn rename(&self, old_parent: u64, old_name: &OsStr, new_parent: u64, new_name: &OsStr) {
        let from = Alias {
            parent: old_parent,
            name: old_name,
        };
        let to = Alias {
            parent: new_parent,
            name: new_name,
        };
        let mut tree = self.lock();
        let moved = tree.find(from);
        let replaced = tree.find(to);
        if from == to || (moved.is_some() && moved == replaced) {
            // Renaming a file onto itself (or onto another of its hard links) changes nothing.
            return;
        }
        // Re-link everything before freeing anything, so no node or parent drops to zero
        // references in between.
        if let Some(id) = replaced {
            tree.unlink_alias(id, to);
        }
        if let Some(id) = moved {
            tree.link(id, to);
            tree.unlink_alias(id, from);
        }
        for id in [replaced, Some(old_parent), Some(new_parent)]
            .into_iter()
            .flatten()
        {
            tree.try_free(id);
        }
    }

    /// After a successful `RENAME_EXCHANGE`: swap the nodes of the two names.
    pub fn exchange(&self, parent_a: u64, name_a: &OsStr, parent_b: u64, name_b: &OsStr) {
        let a = Alias {
            parent: parent_a,
            name: name_a,
        };
        let b = Alias {
            parent: parent_b,
            name: name_b,
        };
        let mut tree = self.lock();
        let node_a = tree.find(a);
        let node_b = tree.find(b);
        if a == b || node_a == node_b {
            return;
        }
        for (alias, node) in [(a, node_a), (b, node_b)] {
            if let Some(id) = node {
                tree.unindex(id, alias);
            }
        }
        if let Some(id) = node_a {
            tree.link(id, b);
            tree.remove_alias(id, a);
        }
        if let Some(id) = node_b {
            tree.link(id, a);
            tree.remove_alias(id, b);
        }
        for id in [node_a, node_b, Some(parent_a), Some(parent_b)]
            .into_iter()
            .flatten()
        {
            tree.try_free(id);
        }
    }

    /// After a successful unlink/rmdir: detach the node at `name` in `parent`. It stays
    /// alive (with its last known path) while the kernel holds lookups.
    pub fn unlink(&self, parent: u64, name: &OsStr) {
        self.lock().detach(Alias { parent, name });
    }

    /// Whether `id` lost all its names (unlinked, or replaced by a rename) but is alive.
    pub fn is_detached(&self, id: u64) -> bool {
        id != ROOT_ID && self.lock().nodes.get(&id).is_some_and(|n| n.name.is_none())
    }

    /// The number of lookups the kernel holds on `id` (tests and debugging).
    pub fn lookups(&self, id: u64) -> Option<u64> {
        self.lock().nodes.get(&id).map(|n| n.lookups)
    }

    /// Whether `id` is alive.
    pub fn contains(&self, id: u64) -> bool {
        self.lock().nodes.contains_key(&id)
    }

    /// How many nodes are alive, the root included.
    pub fn len(&self) -> usize {
        self.lock().nodes.len()
    }

    /// Never: the root is always alive.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl Tree {
    fn generation_of(&self, id: u64) -> u32 {
        self.nodes.get(&id).map_or(0, |n| n.generation)
    }

    /// The key of node `id` (`use_ino` mode).
    fn key_of(&self, id: u64) -> Option<(u64, u64)> {
        let node = self.nodes.get(&id)?;
        if node.dev != 0 {
            return self
                .devs
                .get(usize::from(node.dev) - 1)
                .map(|&dev| (dev, id));
        }
        if self.keys.is_empty() {
            return None;
        }
        self.keys.get(&id).copied()
    }

    /// The node holding `key`: the node numbered by its inode if it holds it itself,
    /// else the one the side maps name.
    fn owner_of(&self, key: (u64, u64)) -> Option<u64> {
        let (dev, ino) = key;
        let holds = self
            .nodes
            .get(&ino)
            .is_some_and(|n| n.dev != 0 && self.devs.get(usize::from(n.dev) - 1) == Some(&dev));
        if holds {
            return Some(ino);
        }
        if self.by_key.is_empty() {
            return None;
        }
        self.by_key.get(&key).copied()
    }

    /// Give node `id` the key `key`, which no node holds: in the node when its inode
    /// number is the id and the device has (or gets) a place in `devs`.
    fn set_key(&mut self, id: u64, key: (u64, u64)) {
        let (dev, ino) = key;
        let place = match self.devs.iter().position(|&d| d == dev) {
            Some(i) => Some(i),
            None if ino == id && self.devs.len() < DEVS => {
                self.devs.push(dev);
                Some(self.devs.len() - 1)
            }
            None => None,
        };
        let own = place
            .filter(|_| ino == id)
            .and_then(|i| u16::try_from(i + 1).ok());
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        match own {
            Some(d) => node.dev = d,
            None => {
                node.dev = 0;
                self.keys.insert(id, key);
                self.by_key.insert(key, id);
            }
        }
    }

    /// Node `id` holds no key any more.
    fn drop_key(&mut self, id: u64) {
        if let Some(node) = self.nodes.get_mut(&id) {
            node.dev = 0;
        }
        if let Some(k) = self.keys.remove(&id) {
            if self.by_key.get(&k) == Some(&id) {
                self.by_key.remove(&k);
            }
        }
    }

    /// The node named by `alias`, through the name index.
    fn find(&self, alias: Alias<'_>) -> Option<u64> {
        self.names
            .get(alias.parent, alias.name, |id| self.has_alias(id, alias))
    }

    /// Whether node `id` has the name `alias`.
    fn has_alias(&self, id: u64, alias: Alias<'_>) -> bool {
        let Some(node) = self.nodes.get(&id) else {
            return false;
        };
        node.first() == Some(alias)
            || (node.linked
                && self.links.get(&id).is_some_and(|l| {
                    l.iter()
                        .any(|(p, n)| *p == alias.parent && **n == *alias.name)
                }))
    }

    /// How many names node `id` has.
    fn alias_count(&self, id: u64) -> usize {
        match self.nodes.get(&id) {
            Some(n) if n.name.is_some() => {
                1 + if n.linked {
                    self.links.get(&id).map_or(0, Vec::len)
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    /// The generation of a new node `id` named `alias`: a remembered node's own when
    /// it is the same file (the same path while its key is being taken, or the same
    /// key), else a fresh one. Either way `id` is no longer remembered.
    fn generation_for(&mut self, id: u64, alias: Alias<'_>, key: Option<&[u8]>) -> u32 {
        let Some(record) = self.forgotten.as_mut().and_then(|f| f.take(id)) else {
            return self.fresh_generation(id);
        };
        let same = match &record.memory {
            Memory::Key(k) => key == Some(&k[..]),
            Memory::Pending(path) => {
                self.path_of(alias.parent)
                    .map(|p| p.join(alias.name))
                    .as_ref()
                    == Some(path)
            }
        };
        if same {
            record.generation
        } else {
            self.fresh_generation(id)
        }
    }

    /// A generation never given before (0 without exports, where ids are not
    /// remembered and handles are refused).
    fn fresh_generation(&mut self, id: u64) -> u32 {
        if self.forgotten.is_none() {
            return 0;
        }
        if let Some(f) = self.forgotten.as_mut() {
            f.remove(id);
        }
        let g = self.next_generation;
        self.next_generation = self.next_generation.checked_add(1).unwrap_or(1);
        g
    }

    /// A fresh node id: the real inode number when asked for and free, else the counter.
    fn new_id(&mut self, wanted: Option<u64>) -> u64 {
        if let Some(ino) = wanted {
            if ino != ROOT_ID && ino != 0 && !self.nodes.contains_key(&ino) {
                return ino;
            }
        }
        loop {
            let id = self.next_id;
            // Wrapping past u64::MAX would take centuries; skip 0 and the root anyway.
            self.next_id = self.next_id.checked_add(1).unwrap_or(ROOT_ID + 1);
            if id > ROOT_ID && !self.nodes.contains_key(&id) {
                return id;
            }
        }
    }

    /// Count a lookup and make `alias` the preferred name.
    fn touch(&mut self, id: u64, alias: Alias<'_>) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        node.lookups += 1;
        if node.first() == Some(alias) || !node.linked {
            return;
        }
        let Some(links) = self.links.get_mut(&id) else {
            return;
        };
        let Some(pos) = links
            .iter()
            .position(|(p, n)| *p == alias.parent && **n == *alias.name)
        else {
            return;
        };
        // [first, l0, …, alias, …] becomes [alias, first, l0, …].
        let (parent, name) = links.remove(pos);
        let old_parent = std::mem::replace(&mut node.parent, parent);
        if let Some(old_name) = node.name.replace(name) {
            links.insert(0, (old_parent, old_name));
        }
    }

    /// Put `id` in the name table under `alias` (which must be free), as its preferred
    /// name.
    fn link(&mut self, id: u64, alias: Alias<'_>) {
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let old_parent = std::mem::replace(&mut node.parent, alias.parent);
        match node.name.replace(alias.name.into()) {
            Some(old_name) => {
                node.linked = true;
                self.links
                    .entry(id)
                    .or_default()
                    .insert(0, (old_parent, old_name));
            }
            None => {
                self.last_paths.remove(&id);
            }
        }
        if let Some(p) = self.nodes.get_mut(&alias.parent) {
            p.children += 1;
        }
        self.names.insert(alias.parent, alias.name, id);
    }

    /// Take `alias` (a name of `id`) out of the name table, not out of the node.
    fn unindex(&mut self, id: u64, alias: Alias<'_>) {
        if self.names.remove(alias.parent, alias.name, id) {
            if let Some(p) = self.nodes.get_mut(&alias.parent) {
                p.children -= 1;
            }
        }
    }

    /// Remove `alias` (which names `id`) from the name table and the node.
    fn unlink_alias(&mut self, id: u64, alias: Alias<'_>) {
        self.unindex(id, alias);
        self.remove_alias(id, alias);
    }

    /// Drop `alias` from the node's names, remembering its path if it was the last one.
    fn remove_alias(&mut self, id: u64, alias: Alias<'_>) {
        if !self.has_alias(id, alias) {
            return;
        }
        if self.alias_count(id) == 1 {
            let path = self.path_of(id);
            if let Some(node) = self.nodes.get_mut(&id) {
                node.name = None;
            }
            if let Some(path) = path {
                self.last_paths.insert(id, path);
            }
            return;
        }
        // More than one name: the node is linked.
        let Some(node) = self.nodes.get_mut(&id) else {
            return;
        };
        let Some(links) = self.links.get_mut(&id) else {
            return;
        };
        if node.first() == Some(alias) {
            // The next most recent name becomes the preferred one.
            let (parent, name) = links.remove(0);
            node.parent = parent;
            node.name = Some(name);
        } else {
            links.retain(|(p, n)| !(*p == alias.parent && **n == *alias.name));
        }
        if links.is_empty() {
            node.linked = false;
            self.links.remove(&id);
        }
    }

    /// Take the node at `alias` out of the name table; free it if nothing holds it.
    fn detach(&mut self, alias: Alias<'_>) {
        if let Some(id) = self.find(alias) {
            self.unlink_alias(id, alias);
            self.try_free(id);
            self.try_free(alias.parent);
        }
    }

    /// Free `id` if the kernel holds no lookup and no child refers to it, then its
    /// parents in turn.
    fn try_free(&mut self, id: u64) {
        let mut pending = vec![id];
        while let Some(id) = pending.pop() {
            if id == ROOT_ID {
                continue;
            }
            let Some(node) = self.nodes.get(&id) else {
                continue;
            };
            if node.lookups > 0 || node.children > 0 {
                continue;
            }
            // Remembered only with a name: an unlinked file's handle is stale.
            let remember = self.forgotten.is_some() && node.name.is_some();
            let path = if remember { self.path_of(id) } else { None };
            self.drop_key(id);
            let Some(node) = self.nodes.remove(&id) else {
                continue;
            };
            if let (Some(path), Some(f)) = (path, self.forgotten.as_mut()) {
                let generation = node.generation;
                f.insert(
                    id,
                    Record {
                        generation,
                        memory: Memory::Pending(path.clone()),
                    },
                );
                self.freed.push(Freed {
                    id,
                    generation,
                    path,
                });
            }
            self.last_paths.remove(&id);
            let links = if node.linked {
                self.links.remove(&id).unwrap_or_default()
            } else {
                Vec::new()
            };
            let first = node.name.map(|name| (node.parent, name));
            for (parent, name) in first.into_iter().chain(links) {
                if self.names.remove(parent, &name, id) {
                    if let Some(p) = self.nodes.get_mut(&parent) {
                        p.children -= 1;
                    }
                    pending.push(parent);
                }
            }
        }
    }

    fn path_of(&self, id: u64) -> Option<PathBuf> {
        let mut names: Vec<&OsStr> = Vec::new();
        let mut cur = id;
        // A rename cycle cannot happen (the kernel forbids moving a directory into its own
        // subtree), but never loop forever on a corrupted tree.
        for _ in 0..=self.nodes.len() {
            if cur == ROOT_ID {
                let mut path = PathBuf::from("/");
                path.extend(names.iter().rev());
                return Some(path);
            }
            let node = self.nodes.get(&cur)?;
            match node.first() {
                Some(alias) => {
                    names.push(alias.name);
                    cur = alias.parent;
                }
                None => {
                    let mut path = self.last_paths.get(&cur)?.clone();
                    path.extend(names.iter().rev());
                    return Some(path);
                }
            }
        }
        None
    }
}

#[cfg(test)]
#[path = "nodes_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "nodes_probe.rs"]
mod probe;
