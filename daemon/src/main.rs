//! flu: run FUSE filesystems written in Lua.

// The modules below are wired into `main` by the mount code; until then parts of them
// are only reached from tests.
#![allow(dead_code)]

mod adapter_config;
mod attr;
mod fs_core;
mod fuse;
mod handles;
mod nodes;
mod oplog;
mod passthrough;
#[cfg(test)]
mod testing;

fn main() {}
