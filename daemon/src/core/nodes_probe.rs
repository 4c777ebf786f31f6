//! What the node tree costs per node, measured: an ignored probe, run by hand (it
//! reads the whole process's allocator totals, so it must run alone):
//!
//!     FLU_PROBE_NODES=1000000 cargo test --release -p flu --lib nodes_probe -- --ignored --nocapture
//!
//! It builds the tree the bench's scale workload leaves (`bench/src/scale.rs`: files in
//! directories of 1000, each created once, so each holds one lookup), with exports on
//! as for the native passthrough, and prints the bytes malloc holds for it per node,
//! chunk overhead included.

use super::*;

/// Bytes malloc holds for the program: in-use chunks of every arena and mmapped ones.
fn malloc_in_use() -> usize {
    // SAFETY: mallinfo2 only reads the allocator's statistics (glibc takes each arena's
    // lock); it has no preconditions.
    let info = unsafe { libc::mallinfo2() };
    info.uordblks + info.hblkhd
}

#[test]
#[ignore = "a measurement, run alone by hand (see the module documentation)"]
fn bytes_per_node() {
    let n: usize = std::env::var("FLU_PROBE_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let file = Stat {
        mode: libc::S_IFREG | 0o644,
        ..Stat::default()
    };
    let dir = Stat {
        mode: libc::S_IFDIR | 0o755,
        ..Stat::default()
    };
    let before = malloc_in_use();
    let t = NodeTable::with_exports(false);
    for d in 0..n.div_ceil(1000) {
        let Some(dir_id) = t.lookup(ROOT_ID, OsStr::new(&format!("d{d:04}")), &dir) else {
            panic!("the root is known");
        };
        for f in 0..1000.min(n - d * 1000) {
            t.lookup(dir_id, OsStr::new(&format!("f{f:04}")), &file);
        }
    }
    let after = malloc_in_use();
    let nodes = t.len();
    println!(
        "{nodes} nodes: {} bytes held, {:.1} per node",
        after - before,
        (after - before) as f64 / nodes as f64
    );
}
