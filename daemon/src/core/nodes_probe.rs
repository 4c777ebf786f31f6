//! What the node tree costs per node, measured: an ignored probe, run by hand (it
//! reads the whole process's allocator totals, so it must run alone):
//!
//!     FLU_PROBE_NODES=1000000 cargo test --release -p flu --lib nodes_probe -- --ignored --nocapture
//!
//! It builds the tree the bench's scale workload leaves (`bench/src/scale.rs`: files in
//! directories of 1000, each created once, so each holds one lookup), with exports on
//! as for the native passthrough, in `use_ino` mode (its default) and without, and
//! prints the bytes malloc holds for it per node, chunk overhead included.

use super::*;

/// Bytes malloc holds for the program: in-use chunks of every arena and mmapped ones.
fn malloc_in_use() -> usize {
    // SAFETY: mallinfo2 only reads the allocator's statistics (glibc takes each arena's
    // lock); it has no preconditions.
    let info = unsafe { libc::mallinfo2() };
    info.uordblks + info.hblkhd
}

/// The bench's tree of `n` files, in `use_ino` mode (the native passthrough's: inode
/// numbers unique per file, as tmpfs gives them) or not; bytes held per node.
fn measure(n: usize, use_ino: bool) -> (usize, f64) {
    let stat = |mode: u32, ino: u64| Stat {
        mode,
        dev: 7,
        ino,
        ..Stat::default()
    };
    let mut ino = 1000;
    let mut next = || {
        ino += 1;
        ino
    };
    let before = malloc_in_use();
    let t = NodeTable::with_exports(use_ino);
    for d in 0..n.div_ceil(1000) {
        let dir = stat(libc::S_IFDIR | 0o755, next());
        let Some(dir_id) = t.lookup(ROOT_ID, OsStr::new(&format!("d{d:04}")), &dir) else {
            panic!("the root is known");
        };
        for f in 0..1000.min(n - d * 1000) {
            let file = stat(libc::S_IFREG | 0o644, next());
            t.lookup(dir_id, OsStr::new(&format!("f{f:04}")), &file);
        }
    }
    let held = malloc_in_use() - before;
    (t.len(), held as f64 / t.len() as f64)
}

#[test]
#[ignore = "a measurement, run alone by hand (see the module documentation)"]
fn bytes_per_node() {
    let n: usize = std::env::var("FLU_PROBE_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    for use_ino in [false, true] {
        let (nodes, per_node) = measure(n, use_ino);
        println!("{nodes} nodes, use_ino {use_ino}: {per_node:.1} bytes per node");
    }
}
