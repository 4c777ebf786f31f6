//! The kernel side: the fuser adapter (`adapter`, a few lines per request), how
//! attributes reach the kernel (`attr`), and kernel-passthrough I/O modes
//! (`io_modes`). Everything here knows FUSE; none of it knows paths or Lua.

mod adapter;
mod attr;
mod io_modes;
mod replies;

pub use adapter::FuseAdapter;
