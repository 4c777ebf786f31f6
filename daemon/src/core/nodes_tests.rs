//! Tests of the node tree.

use super::*;
use std::path::Path;

fn file(ino: u64) -> Stat {
    Stat {
        dev: 7,
        ino,
        mode: libc::S_IFREG | 0o644,
        ..Stat::default()
    }
}

fn dir(ino: u64) -> Stat {
    Stat {
        mode: libc::S_IFDIR | 0o755,
        ..file(ino)
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn path(t: &NodeTable, id: u64) -> Option<PathBuf> {
    t.path_of(id)
}

#[test]
fn root_is_one_and_slash() {
    let t = NodeTable::new(false);
    assert_eq!(path(&t, ROOT_ID).as_deref(), Some(Path::new("/")));
    t.forget(ROOT_ID, 100);
    assert!(t.contains(ROOT_ID));
    assert_eq!(path(&t, 42), None);
}

#[test]
fn lookup_counts_and_forget_frees() {
    let t = NodeTable::new(false);
    let a = t.lookup(ROOT_ID, os("a"), &file(0)).unwrap();
    assert_eq!(a, 2);
    assert_eq!(t.lookup(ROOT_ID, os("a"), &file(0)), Some(a));
    assert_eq!(t.lookups(a), Some(2));
    t.forget(a, 1);
    assert_eq!(t.lookups(a), Some(1));
    assert_eq!(t.child(ROOT_ID, os("a")), Some(a));
    t.forget(a, 1);
    assert!(!t.contains(a));
    assert_eq!(t.child(ROOT_ID, os("a")), None);
    // Ids are not reused: the next node gets a fresh one.
    assert_eq!(t.lookup(ROOT_ID, os("a"), &file(0)), Some(3));
    assert_eq!(t.len(), 2);
}

#[test]
fn unknown_parent_is_refused() {
    let t = NodeTable::new(false);
    assert_eq!(t.lookup(99, os("a"), &file(0)), None);
}

#[test]
fn forgotten_parent_stays_while_children_are_known() {
    let t = NodeTable::new(false);
    let d = t.lookup(ROOT_ID, os("d"), &dir(0)).unwrap();
    let f = t.lookup(d, os("f"), &file(0)).unwrap();
    t.forget(d, 1);
    assert!(t.contains(d));
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/d/f")));
    t.forget(f, 1);
    assert!(!t.contains(f));
    assert!(!t.contains(d), "parent freed with its last child");
    assert_eq!(t.len(), 1);
}

#[test]
fn nested_directory_renames_move_subtrees() {
    let t = NodeTable::new(false);
    let a = t.lookup(ROOT_ID, os("a"), &dir(0)).unwrap();
    let b = t.lookup(a, os("b"), &dir(0)).unwrap();
    let c = t.lookup(b, os("c"), &file(0)).unwrap();
    let x = t.lookup(ROOT_ID, os("x"), &dir(0)).unwrap();
    assert_eq!(path(&t, c).as_deref(), Some(Path::new("/a/b/c")));
    t.rename(a, os("b"), x, os("bb"));
    assert_eq!(path(&t, c).as_deref(), Some(Path::new("/x/bb/c")));
    t.rename(ROOT_ID, os("x"), a, os("y"));
    assert_eq!(path(&t, c).as_deref(), Some(Path::new("/a/y/bb/c")));
    assert_eq!(path(&t, b).as_deref(), Some(Path::new("/a/y/bb")));
    t.rename(ROOT_ID, os("a"), ROOT_ID, os("z"));
    assert_eq!(path(&t, c).as_deref(), Some(Path::new("/z/y/bb/c")));
    assert_eq!(t.child(ROOT_ID, os("a")), None);
    assert_eq!(t.child(ROOT_ID, os("z")), Some(a));
}

#[test]
fn rename_of_an_unknown_name_still_detaches_the_target() {
    let t = NodeTable::new(false);
    let old = t.lookup(ROOT_ID, os("t"), &file(0)).unwrap();
    t.rename(ROOT_ID, os("never-looked-up"), ROOT_ID, os("t"));
    assert_eq!(t.child(ROOT_ID, os("t")), None);
    assert_eq!(path(&t, old).as_deref(), Some(Path::new("/t")));
}

#[test]
fn rename_over_an_existing_node_keeps_it_while_looked_up() {
    let t = NodeTable::new(false);
    let src = t.lookup(ROOT_ID, os("src"), &file(0)).unwrap();
    let dst = t.lookup(ROOT_ID, os("dst"), &file(0)).unwrap();
    t.rename(ROOT_ID, os("src"), ROOT_ID, os("dst"));
    assert_eq!(t.child(ROOT_ID, os("dst")), Some(src));
    assert_eq!(t.child(ROOT_ID, os("src")), None);
    assert!(t.contains(dst));
    // The replaced node keeps its last known path for handle-based operations.
    assert_eq!(path(&t, dst).as_deref(), Some(Path::new("/dst")));
    assert_eq!(path(&t, src).as_deref(), Some(Path::new("/dst")));
    t.forget(dst, 1);
    assert!(!t.contains(dst));
    // A later lookup of the name finds the renamed node, not the old one.
    assert_eq!(t.lookup(ROOT_ID, os("dst"), &file(0)), Some(src));
}

#[test]
fn rename_onto_itself_is_a_no_op() {
    let t = NodeTable::new(false);
    let a = t.lookup(ROOT_ID, os("a"), &file(0)).unwrap();
    t.rename(ROOT_ID, os("a"), ROOT_ID, os("a"));
    assert_eq!(t.child(ROOT_ID, os("a")), Some(a));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/a")));
}

#[test]
fn unlink_keeps_the_last_known_path() {
    let t = NodeTable::new(false);
    let d = t.lookup(ROOT_ID, os("d"), &dir(0)).unwrap();
    let f = t.lookup(d, os("f"), &file(0)).unwrap();
    t.unlink(d, os("f"));
    assert_eq!(t.child(d, os("f")), None);
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/d/f")));
    // Renaming the parent afterwards does not change the remembered path.
    t.rename(ROOT_ID, os("d"), ROOT_ID, os("e"));
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/d/f")));
    // A new file of the same name gets a new node.
    let g = t.lookup(d, os("f"), &file(0)).unwrap();
    assert_ne!(g, f);
    assert_eq!(path(&t, g).as_deref(), Some(Path::new("/e/f")));
    t.forget(f, 1);
    assert!(!t.contains(f));
}

#[test]
fn unlinked_directory_gives_its_children_a_path() {
    let t = NodeTable::new(false);
    let d = t.lookup(ROOT_ID, os("d"), &dir(0)).unwrap();
    let f = t.lookup(d, os("f"), &file(0)).unwrap();
    t.unlink(ROOT_ID, os("d"));
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/d/f")));
    t.forget(d, 1);
    assert!(t.contains(d), "kept for its child");
    t.forget(f, 1);
    assert_eq!(t.len(), 1);
}

#[test]
fn unlink_of_a_forgotten_node_frees_it() {
    let t = NodeTable::new(false);
    let f = t.lookup(ROOT_ID, os("f"), &file(0)).unwrap();
    t.forget(f, 1);
    t.unlink(ROOT_ID, os("f"));
    assert_eq!(t.len(), 1);
}

#[test]
fn default_mode_ignores_the_implementation_ino() {
    let t = NodeTable::new(false);
    let a = t.lookup(ROOT_ID, os("a"), &file(500)).unwrap();
    let b = t.lookup(ROOT_ID, os("b"), &file(500)).unwrap();
    assert_eq!((a, b), (2, 3));
}

#[test]
fn use_ino_shares_one_node_between_hard_links() {
    let t = NodeTable::new(true);
    let a = t.lookup(ROOT_ID, os("a"), &file(500)).unwrap();
    assert_eq!(a, 500);
    let d = t.lookup(ROOT_ID, os("d"), &dir(600)).unwrap();
    let b = t.lookup(d, os("b"), &file(500)).unwrap();
    assert_eq!(b, a);
    assert_eq!(t.lookups(a), Some(2));
    // The most recently looked-up alias is preferred.
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/d/b")));
    t.lookup(ROOT_ID, os("a"), &file(500));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/a")));
    // Unlinking one name leaves the other.
    t.unlink(ROOT_ID, os("a"));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/d/b")));
    t.unlink(d, os("b"));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/d/b")));
    t.forget(a, 3);
    assert!(!t.contains(a));
    // The key is gone with the node: the same ino makes a new node.
    assert_eq!(t.lookup(ROOT_ID, os("c"), &file(500)), Some(500));
}

#[test]
fn use_ino_falls_back_on_collisions() {
    let t = NodeTable::new(true);
    // The root's id and 0 are never used.
    let r = t.lookup(ROOT_ID, os("r"), &file(1)).unwrap();
    assert!(r > 1);
    let z = t.lookup(ROOT_ID, os("z"), &file(0)).unwrap();
    assert!(z > 1 && z != r);
    // Same ino on another device: a different file, a generated id.
    let a = t.lookup(ROOT_ID, os("a"), &file(700)).unwrap();
    let other_dev = Stat {
        dev: 8,
        ..file(700)
    };
    let b = t.lookup(ROOT_ID, os("b"), &other_dev).unwrap();
    assert_eq!(a, 700);
    assert_ne!(b, 700);
    // An ino equal to an already generated id falls back too.
    let c = t.lookup(ROOT_ID, os("c"), &file(r)).unwrap();
    assert_ne!(c, r);
}

#[test]
fn use_ino_replaced_file_gets_a_new_node() {
    let t = NodeTable::new(true);
    let a = t.lookup(ROOT_ID, os("a"), &file(10)).unwrap();
    // The name now refers to another file (changed behind the kernel's back).
    let b = t.lookup(ROOT_ID, os("a"), &file(11)).unwrap();
    assert_ne!(a, b);
    assert_eq!(t.child(ROOT_ID, os("a")), Some(b));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/a")));
}

/// A file a request made whose inode number a named node still holds: the number was
/// reused after a removal served in parallel, whose table update has not come yet (the
/// backing directory was removed, its node still has the name). The made file gets a
/// new node; the kernel would otherwise take the old directory's inode and dentry for
/// the new one (mkdir failed with ESTALE under parallel mkdir/rmdir on ext4). A lookup
/// of the same number is still another name of the known file (a hard link).
#[test]
fn a_made_file_never_takes_a_named_node_of_its_inode_number() {
    let t = NodeTable::new(true);
    let a = t.lookup(ROOT_ID, os("a"), &dir(50)).unwrap();
    let p = t.lookup(ROOT_ID, os("p"), &dir(51)).unwrap();
    let made = NewFile {
        made: Made::Here,
        ..NewFile::default()
    };
    let (b, _) = t.lookup_entry(p, os("b"), &dir(50), made).unwrap();
    assert_ne!(b, a, "a made directory took the old one's node");
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/a")));
    assert_eq!(path(&t, b).as_deref(), Some(Path::new("/p/b")));
    // The removal's update comes: the old node loses its name, the new one stays.
    t.unlink(ROOT_ID, os("a"));
    assert_eq!(t.node_of_path(Path::new("/p/b")), Some(b));
    // The new node holds the number now: a later lookup of it finds the new node.
    assert_eq!(t.lookup(p, os("b"), &dir(50)), Some(b));
    // Files: a made one gets its own node, a looked-up one is another name (a link).
    let f = t.lookup(ROOT_ID, os("f"), &file(60)).unwrap();
    let (g, _) = t.lookup_entry(ROOT_ID, os("g"), &file(60), made).unwrap();
    assert_ne!(g, f);
    let h = t.lookup(ROOT_ID, os("h"), &file(60)).unwrap();
    assert_eq!(h, g, "a hard link of the file that holds the number");
}

/// An inode number reused by a new file while the kernel still holds the old, unlinked
/// file's node: the new file gets its own node, and the old node never gets the new
/// name (an operation on the old file would otherwise act on the new one; seen as EINVAL
/// from truncate when the new file was a symlink).
#[test]
fn use_ino_reused_inode_numbers_get_new_nodes() {
    let t = NodeTable::new(true);
    let f = t.lookup(ROOT_ID, os("f"), &file(40)).unwrap();
    t.unlink(ROOT_ID, os("f"));
    assert!(t.is_detached(f));
    let link = Stat {
        mode: libc::S_IFLNK | 0o777,
        ..file(40)
    };
    let s = t.lookup(ROOT_ID, os("s"), &link).unwrap();
    assert_ne!(s, f, "a detached node is not another name of the new file");
    assert!(t.is_detached(f));
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/f")));
    assert_eq!(path(&t, s).as_deref(), Some(Path::new("/s")));
    // A file of another type with the same number, while the old one still has a name
    // (changed behind the daemon's back): also a new node.
    let g = t.lookup(ROOT_ID, os("g"), &file(41)).unwrap();
    let d = t.lookup(ROOT_ID, os("d"), &dir(41)).unwrap();
    assert_ne!(g, d);
    // The old node keeps working and is freed as usual.
    t.forget(f, 1);
    assert!(!t.contains(f));
    assert_eq!(t.lookup(ROOT_ID, os("s"), &link), Some(s));
}

#[test]
fn exchange_swaps_names_and_subtrees() {
    let t = NodeTable::new(false);
    let a = t.lookup(ROOT_ID, os("a"), &dir(0)).unwrap();
    let b = t.lookup(ROOT_ID, os("b"), &dir(0)).unwrap();
    let fa = t.lookup(a, os("f"), &file(0)).unwrap();
    let fb = t.lookup(b, os("g"), &file(0)).unwrap();
    t.exchange(ROOT_ID, os("a"), ROOT_ID, os("b"));
    assert_eq!(t.child(ROOT_ID, os("a")), Some(b));
    assert_eq!(t.child(ROOT_ID, os("b")), Some(a));
    assert_eq!(path(&t, fa).as_deref(), Some(Path::new("/b/f")));
    assert_eq!(path(&t, fb).as_deref(), Some(Path::new("/a/g")));
    // Across directories, with one side never looked up.
    t.exchange(a, os("f"), b, os("unknown"));
    assert_eq!(path(&t, fa).as_deref(), Some(Path::new("/a/unknown")));
    assert_eq!(t.child(a, os("f")), None);
    t.forget(fa, 1);
    t.forget(fb, 1);
    t.forget(a, 1);
    t.forget(b, 1);
    assert_eq!(t.len(), 1);
}

#[test]
fn concurrent_lookups_and_forgets_balance() {
    let t = std::sync::Arc::new(NodeTable::new(false));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let t = t.clone();
            std::thread::spawn(move || {
                for j in 0..500 {
                    let name = format!("f{}", (i * 7 + j) % 50);
                    if let Some(id) = t.lookup(ROOT_ID, OsStr::new(&name), &file(0)) {
                        t.forget(id, 1);
                    }
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(t.len(), 1);
}

#[test]
fn paths_resolve_to_known_nodes_only() {
    let t = NodeTable::new(false);
    let d = t.lookup(ROOT_ID, os("d"), &dir(0)).unwrap();
    let f = t.lookup(d, os("f"), &file(0)).unwrap();
    assert_eq!(t.node_of_path(Path::new("/")), Some(ROOT_ID));
    assert_eq!(t.node_of_path(Path::new("/d")), Some(d));
    assert_eq!(t.node_of_path(Path::new("/d/./f")), Some(f));
    assert_eq!(t.node_of_path(Path::new("/d/f/")), Some(f));
    assert_eq!(t.node_of_path(Path::new("/d/g")), None, "never looked up");
    assert_eq!(t.node_of_path(Path::new("d/f")), None, "relative");
    assert_eq!(
        t.node_of_path(Path::new("/d/../d/f")),
        None,
        "no .. walking"
    );
    t.unlink(d, os("f"));
    assert_eq!(t.node_of_path(Path::new("/d/f")), None, "unlinked");
}

#[test]
fn a_nameless_file_gets_its_name_by_attach() {
    let t = NodeTable::new(true);
    let d = t.lookup(ROOT_ID, os("d"), &dir(10)).unwrap();
    let id = t.unnamed(Path::new("/d"), &file(42));
    // Known by its inode, unnamed: detached, and its path finds nothing real.
    assert_eq!(id, 42);
    assert!(t.is_detached(id));
    assert_eq!(path(&t, id), Some(PathBuf::from("/d/.flu-unnamed-42")));
    assert_eq!(t.lookups(id), Some(1));
    // Linked: the same node, one more lookup, a real path.
    assert!(t.attach(id, d, os("named")));
    assert!(!t.is_detached(id));
    assert_eq!(path(&t, id), Some(PathBuf::from("/d/named")));
    assert_eq!(t.lookups(id), Some(2));
    // A taken name, or an unknown parent, is refused.
    assert!(!t.attach(id, d, os("named")));
    assert!(!t.attach(id, 999, os("x")));
    // A second hard link, looked up as usual, finds the same node by its inode.
    assert_eq!(t.lookup(d, os("named2"), &file(42)), Some(id));
}

// ---- remembered nodes (file handles) -------------------------------------------------

fn with_key(key: &[u8]) -> NewFile<'_> {
    NewFile {
        key: Some(key),
        generation: None,
        made: Made::Before,
    }
}

#[test]
fn the_live_node_stays_small() {
    // Issue 16's memory budget: what few nodes have is in the tree's side maps.
    assert!(
        std::mem::size_of::<Option<Node>>() <= 48,
        "{}",
        std::mem::size_of::<Node>()
    );
}

#[test]
fn forgotten_nodes_are_remembered_by_path_then_key() {
    let t = NodeTable::with_exports(true);
    let (d, dg) = t
        .lookup_entry(ROOT_ID, os("d"), &dir(10), NewFile::default())
        .unwrap();
    let (f, fg) = t
        .lookup_entry(d, os("f"), &file(11), NewFile::default())
        .unwrap();
    assert_eq!((d, f), (10, 11));
    assert!(dg != 0 && fg != 0 && dg != fg, "{dg} {fg}");
    t.forget(f, 1);
    t.forget(d, 1);
    assert_eq!(t.len(), 1);
    let freed = t.take_freed();
    let paths: Vec<_> = freed.iter().map(|x| (x.id, x.path.clone())).collect();
    assert_eq!(
        paths,
        vec![(f, PathBuf::from("/d/f")), (d, PathBuf::from("/d"))]
    );
    assert_eq!(
        t.remembered(f).map(|r| r.memory),
        Some(Memory::Pending("/d/f".into()))
    );
    t.remember_key(&freed[0], Some(b"key-f".to_vec()));
    t.remember_key(&freed[1], None);
    assert_eq!(
        t.remembered(f),
        Some(Record {
            generation: fg,
            memory: Memory::Key(b"key-f"[..].into())
        })
    );
    assert_eq!(t.remembered(d), None, "no key: forgotten for good");

    // Brought back by a handle: same id and generation, the directory on the way anew.
    let (d2, _) = t
        .lookup_entry(ROOT_ID, os("d"), &dir(10), NewFile::default())
        .unwrap();
    t.reattach(f, d2, os("f"), &file(11), fg).unwrap();
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/d/f")));
    assert_eq!(t.generation(f), fg);
    assert_eq!(t.lookups(f), Some(1));
    assert_eq!(t.remembered(f), None);
}

#[test]
fn a_lookup_of_the_same_file_takes_its_generation_back_another_gets_a_new_one() {
    let t = NodeTable::with_exports(true);
    let (a, ag) = t
        .lookup_entry(ROOT_ID, os("a"), &file(20), NewFile::default())
        .unwrap();
    t.forget(a, 1);
    let freed = t.take_freed();
    // Still pending: the same path is the same file.
    let (a2, ag2) = t
        .lookup_entry(ROOT_ID, os("a"), &file(20), NewFile::default())
        .unwrap();
    assert_eq!((a2, ag2), (a, ag));
    t.remember_key(&freed[0], Some(b"k".to_vec()));
    assert_eq!(
        t.remembered(a),
        None,
        "a key for a node that came back is dropped"
    );
    t.forget(a, 1);
    for x in t.take_freed() {
        t.remember_key(&x, Some(b"k".to_vec()));
    }
    assert_eq!(t.would_make(&file(20)), Some(true));
    let (_, same) = t
        .lookup_entry(ROOT_ID, os("a"), &file(20), with_key(b"k"))
        .unwrap();
    assert_eq!(same, ag);
    t.forget(a, 1);
    for x in t.take_freed() {
        t.remember_key(&x, Some(b"k".to_vec()));
    }
    // Inode 20 reused by another file (another key): a new generation.
    let (b, bg) = t
        .lookup_entry(ROOT_ID, os("b"), &file(20), with_key(b"other"))
        .unwrap();
    assert_eq!(b, a);
    assert_ne!(bg, ag);
}

#[test]
fn unlinked_nodes_are_not_remembered_and_taken_names_refuse_reattach() {
    let t = NodeTable::with_exports(true);
    let a = t.lookup(ROOT_ID, os("a"), &file(30)).unwrap();
    t.unlink(ROOT_ID, os("a"));
    t.forget(a, 1);
    assert!(t.take_freed().is_empty());
    assert_eq!(t.remembered(a), None);
    let b = t.lookup(ROOT_ID, os("b"), &file(31)).unwrap();
    assert_eq!(
        t.reattach(99, ROOT_ID, os("b"), &file(31), 5),
        Err(Errno::ESTALE)
    );
    assert_eq!(
        t.reattach(98, 12345, os("c"), &file(32), 5),
        Err(Errno::ESTALE)
    );
    assert_eq!(t.parent_of(b), Some(ROOT_ID));
    // Without exports nothing is remembered and generations stay 0.
    let plain = NodeTable::new(true);
    let (c, g) = plain
        .lookup_entry(ROOT_ID, os("c"), &file(33), NewFile::default())
        .unwrap();
    assert_eq!(g, 0);
    plain.forget(c, 1);
    assert!(plain.take_freed().is_empty());
}

#[test]
fn forgotten_memory_is_bounded() {
    let mut f = super::super::exports::Forgotten::default();
    let n = 1u64 << 18;
    for id in 0..n + 10 {
        f.insert(
            id,
            Record {
                generation: 1,
                memory: Memory::Key(Box::new([])),
            },
        );
    }
    assert!(f.len() <= n as usize, "{}", f.len());
    assert!(f.get(n + 9).is_some(), "the newest are kept");
    assert!(f.get(0).is_none(), "the oldest go");
}

#[test]
fn a_node_numbered_by_its_inode_takes_the_implementations_generation() {
    let t = NodeTable::with_exports(true);
    let own = NewFile {
        key: None,
        generation: Some(77),
        made: Made::Before,
    };
    assert_eq!(t.would_make(&file(40)), Some(false));
    let (a, g) = t.lookup_entry(ROOT_ID, os("a"), &file(40), own).unwrap();
    assert_eq!((a, g), (40, 77));
    assert_eq!(t.would_make(&file(40)), None, "the node exists");
    // A hard link of it makes no node.
    let (b, g2) = t
        .lookup_entry(ROOT_ID, os("b"), &file(40), NewFile::default())
        .unwrap();
    assert_eq!((b, g2), (40, 77));
}

/// The tree's maps agree: every name of every node is indexed as that node's and no
/// other name is; children counts are the names under each node; the side maps hold
/// only what their nodes need (more names for linked nodes, a last path for nameless
/// ones, keys both ways).
fn assert_consistent(t: &NodeTable) {
    let tree = t.lock();
    let mut names = 0;
    let mut children: HashMap<u64, u64> = HashMap::new();
    for (id, node) in tree.nodes.iter() {
        let mut all: Vec<(u64, &OsStr)> = node
            .first()
            .map(|a| (a.parent, a.name))
            .into_iter()
            .collect();
        assert_eq!(node.linked, tree.links.contains_key(&id), "node {id}");
        if let Some(links) = tree.links.get(&id) {
            assert!(!links.is_empty() && node.name.is_some(), "node {id}");
            all.extend(links.iter().map(|(p, n)| (*p, &**n)));
        }
        for (parent, name) in all {
            assert_eq!(
                tree.find(Alias { parent, name }),
                Some(id),
                "{parent}/{name:?}"
            );
            *children.entry(parent).or_default() += 1;
            names += 1;
        }
        if tree.last_paths.contains_key(&id) {
            assert!(node.name.is_none(), "node {id} has a name and a last path");
        }
    }
    assert_eq!(tree.names.len(), names, "indexed names");
    for (id, node) in tree.nodes.iter() {
        assert_eq!(
            node.children,
            children.get(&id).copied().unwrap_or(0),
            "node {id}"
        );
    }
    for id in tree
        .links
        .keys()
        .chain(tree.last_paths.keys())
        .chain(tree.keys.keys())
    {
        assert!(
            tree.nodes.contains_key(id),
            "side maps hold freed node {id}"
        );
    }
    for (k, id) in &tree.by_key {
        assert_eq!(tree.keys.get(id), Some(k));
    }
    for (id, k) in &tree.keys {
        assert_eq!(tree.by_key.get(k), Some(id));
        assert_eq!(
            tree.nodes.get(id).map(|n| n.dev),
            Some(0),
            "node {id}: two keys"
        );
    }
    for (id, node) in tree.nodes.iter() {
        if let Some(k) = tree.key_of(id) {
            assert_eq!(tree.owner_of(k), Some(id), "node {id}");
        }
        assert!(usize::from(node.dev) <= tree.devs.len());
    }
}

#[test]
fn hard_links_beyond_the_first_name_keep_their_order() {
    let t = NodeTable::new(true);
    let d = t.lookup(ROOT_ID, os("d"), &dir(600)).unwrap();
    let a = t.lookup(ROOT_ID, os("a"), &file(500)).unwrap();
    assert_eq!(t.lookup(d, os("b"), &file(500)), Some(a));
    assert_eq!(t.lookup(ROOT_ID, os("c"), &file(500)), Some(a));
    assert_consistent(&t);
    // Most recent first: c, b, a.
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/c")));
    t.lookup(ROOT_ID, os("a"), &file(500));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/a")));
    // a, c, b: losing the preferred name prefers the next most recent.
    t.unlink(ROOT_ID, os("a"));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/c")));
    assert_consistent(&t);
    // A name after the first moves by rename; the preferred one stays.
    t.rename(d, os("b"), ROOT_ID, os("b2"));
    assert_eq!(
        path(&t, a).as_deref(),
        Some(Path::new("/b2")),
        "renamed: linked first"
    );
    assert_eq!(t.child(d, os("b")), None);
    assert_eq!(t.child(ROOT_ID, os("c")), Some(a));
    assert_consistent(&t);
    // Down to one name: the side map lets the node go.
    t.unlink(ROOT_ID, os("b2"));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/c")));
    assert!(t.lock().links.is_empty());
    assert_consistent(&t);
    t.unlink(ROOT_ID, os("c"));
    assert!(t.is_detached(a));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/c")));
    t.forget(a, 4);
    t.forget(d, 1);
    assert_eq!(t.len(), 1);
    assert_consistent(&t);
    let tree = t.lock();
    assert!(tree.links.is_empty() && tree.last_paths.is_empty() && tree.keys.is_empty());
    assert_eq!(tree.names.len(), 0);
}

#[test]
fn exchanging_hard_links_and_replacing_by_rename_keep_the_maps_whole() {
    let t = NodeTable::new(true);
    let a = t.lookup(ROOT_ID, os("a"), &file(500)).unwrap();
    t.lookup(ROOT_ID, os("b"), &file(500));
    let c = t.lookup(ROOT_ID, os("c"), &file(501)).unwrap();
    // Swap a hard link (not the preferred name) with another file.
    t.exchange(ROOT_ID, os("a"), ROOT_ID, os("c"));
    assert_eq!(t.child(ROOT_ID, os("a")), Some(c));
    assert_eq!(t.child(ROOT_ID, os("c")), Some(a));
    assert_eq!(t.child(ROOT_ID, os("b")), Some(a));
    assert_consistent(&t);
    // Onto another of its own names: nothing changes.
    t.rename(ROOT_ID, os("b"), ROOT_ID, os("c"));
    assert_eq!(t.child(ROOT_ID, os("b")), Some(a));
    // Replacing one name of a linked node leaves it its other.
    t.rename(ROOT_ID, os("a"), ROOT_ID, os("b"));
    assert_eq!(t.child(ROOT_ID, os("b")), Some(c));
    assert_eq!(path(&t, a).as_deref(), Some(Path::new("/c")));
    assert!(!t.is_detached(a));
    assert_consistent(&t);
}

#[test]
fn last_paths_are_kept_only_while_a_nameless_node_lives() {
    let t = NodeTable::new(false);
    let d = t.lookup(ROOT_ID, os("d"), &dir(0)).unwrap();
    let f = t.lookup(d, os("f"), &file(0)).unwrap();
    t.unlink(d, os("f"));
    assert_eq!(t.lock().last_paths.len(), 1);
    assert_eq!(path(&t, f).as_deref(), Some(Path::new("/d/f")));
    assert_consistent(&t);
    t.forget(f, 1);
    assert!(t.lock().last_paths.is_empty());
    // A nameless file's made-up path goes when it gets a name.
    let u = t.unnamed(Path::new("/d"), &file(0));
    assert_eq!(t.lock().last_paths.len(), 1);
    assert!(t.attach(u, d, os("g")));
    assert!(t.lock().last_paths.is_empty());
    assert_eq!(path(&t, u).as_deref(), Some(Path::new("/d/g")));
    assert_consistent(&t);
}

#[test]
fn many_names_stay_consistent_through_renames_and_forgets() {
    let t = NodeTable::with_exports(false);
    let dirs: Vec<u64> = (0..4)
        .map(|i| t.lookup(ROOT_ID, os(&format!("d{i}")), &dir(0)).unwrap())
        .collect();
    for &d in &dirs {
        for j in 0..50 {
            t.lookup(d, os(&format!("f{j}")), &file(0));
        }
    }
    // Each directory's f0 replaces the next one's f1, which lives on nameless.
    let mut replaced = Vec::new();
    for (i, &d) in dirs.iter().enumerate() {
        let next = dirs[(i + 1) % 4];
        replaced.extend(t.child(next, os("f1")));
        t.rename(d, os("f0"), next, os("f1"));
    }
    assert!(replaced.iter().all(|&id| t.is_detached(id)));
    assert_consistent(&t);
    for id in replaced {
        t.forget(id, 1);
    }
    for &d in &dirs {
        for j in 0..50 {
            if let Some(id) = t.child(d, os(&format!("f{j}"))) {
                t.forget(id, 1);
            }
        }
        t.forget(d, 1);
    }
    assert_consistent(&t);
    assert_eq!(t.len(), 1, "all freed");
}

#[test]
fn keys_live_in_the_node_when_its_id_is_the_inode_number() {
    let t = NodeTable::new(true);
    let on = |dev: u64, ino: u64| Stat { dev, ..file(ino) };
    let a = t.lookup(ROOT_ID, os("a"), &file(700)).unwrap();
    assert_eq!(a, 700);
    // The same inode number on another device: a made-up id, its key in the side maps.
    let b = t.lookup(ROOT_ID, os("b"), &on(8, 700)).unwrap();
    assert_ne!(b, 700);
    {
        let tree = t.lock();
        assert_ne!(tree.nodes.get(&a).map(|n| n.dev).unwrap_or(0), 0);
        assert_eq!(tree.keys.get(&b), Some(&(8, 700)));
        assert_eq!(tree.keys.len(), 1);
    }
    // Both are known again as the same files by another name (hard links).
    assert_eq!(t.lookup(ROOT_ID, os("a2"), &file(700)), Some(a));
    assert_eq!(t.lookup(ROOT_ID, os("b2"), &on(8, 700)), Some(b));
    assert_consistent(&t);
    // More devices than nodes name themselves: the side maps take the rest.
    let devs = 100..100 + DEVS as u64 + 10;
    for dev in devs.clone() {
        assert_eq!(
            t.lookup(ROOT_ID, os(&format!("x{dev}")), &on(dev, 5000 + dev)),
            Some(5000 + dev)
        );
    }
    assert_eq!(t.lock().devs.len(), DEVS);
    assert_eq!(t.lock().keys.len(), 1 + 11);
    for dev in devs {
        let link = t.lookup(ROOT_ID, os(&format!("y{dev}")), &on(dev, 5000 + dev));
        assert_eq!(link, Some(5000 + dev), "device {dev}");
    }
    assert_consistent(&t);
    // A freed node's key goes with it: the inode number makes a new node.
    for name in ["a", "a2", "b", "b2"] {
        t.unlink(ROOT_ID, os(name));
    }
    t.forget(a, 2);
    t.forget(b, 2);
    assert!(!t.contains(a) && !t.contains(b));
    assert_eq!(t.lock().keys.len(), 11);
    assert_consistent(&t);
    let c = t.lookup(ROOT_ID, os("c"), &file(700)).unwrap();
    assert_eq!(c, 700);
    assert_eq!(t.lookups(c), Some(1), "a new node");
    assert_consistent(&t);
}
