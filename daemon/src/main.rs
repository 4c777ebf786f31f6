//! flu: run FUSE filesystems written in Lua.

// The modules below are wired into `main` by the mount code; until then parts of them
// are only reached from tests.
#![allow(dead_code)]

mod nodes;

fn main() {}
