//! flu: run FUSE filesystems written in Lua.

fn main() {}
