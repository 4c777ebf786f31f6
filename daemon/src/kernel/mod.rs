//! The kernel side: the adapter (`adapter`, a few lines per request), how attributes
//! reach the kernel (`attr`), kernel-passthrough I/O modes (`io_modes`), and
//! notifications to the kernel's caches (`notify`, which asks the core for the node of
//! a path). Everything here knows FUSE; none of it knows Lua.

mod adapter;
mod attr;
mod io_modes;
pub mod notify;
mod replies;

pub use adapter::FuseAdapter;
