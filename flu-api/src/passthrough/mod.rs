//! The native passthrough backend: every [`Operations`](crate::Operations) method
//! implemented over a real directory, with the semantics of the kernel filesystem below.
//!
//! How it stays correct:
//! - Every path is resolved relative to an `O_PATH` fd of the root directory, never as
//!   an absolute backing path: no symlink in any component is followed, `..` never
//!   escapes, and paths longer than `PATH_MAX` work (see `resolve`).
//! - The final object is reached with `*at` calls on (parent fd, name) and
//!   `AT_SYMLINK_NOFOLLOW`, or through an `O_PATH` fd and `/proc/self/fd/N` for calls
//!   that have no `*at` form (xattrs, truncate), as libfuse's passthrough_hp does.
//!   So xattrs and truncate need `/proc` mounted.
//! - Open files and directories live in a handle table (`handles`); handle-based calls
//!   (`getattr`/`truncate`/`chmod`/`chown`/`utimens` with an `fh`, read, write, …) use the
//!   handle's fd, so unlinked-but-open files keep working.
//! - When the daemon runs as root, creating calls (and `access`) run with the caller's
//!   fsuid, fsgid and supplementary groups (`identity`). Unprivileged, nothing is
//!   switched: objects are created as the mounting user.
//! - Creation modes are used exactly as given: the kernel already applied the caller's
//!   umask, and the daemon's own umask is cleared per thread around the call (`umask`).
//! - Writes, truncates and allocations by someone outside a setgid file's group drop
//!   the setgid bit, as a local filesystem does (`setgid`).
//! - `-o noatime`/`nodiratime` hold for the backing files too: once mounted, paths
//!   resolve in a detached clone of the root's mount with those flags (`atime`).
//! - Locks are OFD locks on the handle's fd (`lock`): two opens conflict like two
//!   processes would.
//!
//! Files: `sys` (raw call wrappers), `resolve` (path → parent fd + name), `export`
//! (backing file handles as persistent keys), `handles`
//! (what an open handle holds), `identity` (acting as the caller), `umask` (exact
//! creation modes), and one file per operation trait, each implementing it directly:
//! `attr` (`AttrOps`), `names` (`NameOps`), `file` (`FileOps`), `dir` (`DirOps`),
//! `lock` (`LockOps`), `xattr` (`XattrOps`); `Lifecycle` is here.

mod atime;
mod attr;
mod backing_fs;
mod dir;
mod export;
mod file;
mod handles;
mod identity;
mod lock;
mod names;
mod page_cache;
mod resolve;
mod setgid;
mod sys;
mod umask;
mod xattr;

#[cfg(test)]
mod tests;

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::errno::Errno;
use crate::handle_table::HandleTable;
use crate::op::{Op, ServedBy};
use crate::operations::{Fh, Lifecycle, OpResult};

use handles::Handle;
use identity::Identity;
use page_cache::PageCacheValidity;

/// How a [`Passthrough`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassthroughOptions {
    /// Hand the backing file's fd to the daemon on `open`/`create`
    /// ([`Opened::backing_fd`](crate::Opened::backing_fd)) so it can register a FUSE
    /// kernel passthrough backing file. Default `true`.
    pub kernel_passthrough: bool,
    /// When the process runs as root, create files, directories, nodes and symlinks as
    /// the calling user (per-thread fsuid/fsgid/groups). Ignored when not root.
    /// Default `true`.
    pub create_as_caller: bool,
}

impl Default for PassthroughOptions {
    fn default() -> PassthroughOptions {
        PassthroughOptions {
            kernel_passthrough: true,
            create_as_caller: true,
        }
    }
}

/// A filesystem that mirrors the directory tree under `root`.
pub struct Passthrough {
    /// `O_PATH | O_DIRECTORY` fd of the root: every path is resolved beneath it.
    root: OwnedFd,
    /// Once mounted with `noatime`/`nodiratime`: the root of a detached clone of its
    /// mount tree with those flags, used instead of `root` (`atime`).
    quiet_root: OnceLock<OwnedFd>,
    /// The root as given, made absolute (for the daemon's mountpoint check).
    root_path: PathBuf,
    /// The device of flu's own mount once mounted (0 before): no path may lead into it.
    own_dev: AtomicU64,
    options: PassthroughOptions,
    handles: HandleTable<Handle>,
    identity: Identity,
    page_cache: PageCacheValidity,
    /// Set once `openat2` answered ENOSYS: walk components with `openat` from then on.
    no_openat2: AtomicBool,
    /// Whether the backing handles are an (inode, generation) pair (`export`), learned
    /// at the first use.
    numbered_handles: OnceLock<bool>,
}

impl Passthrough {
    /// Mirror `root` (symlinks in `root` itself are followed once, here).
    pub fn new(root: &Path, options: PassthroughOptions) -> Result<Passthrough, Errno> {
        let root_path = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let root = sys::open_root(root)?;
        Ok(Passthrough {
            root,
            quiet_root: OnceLock::new(),
            root_path,
            own_dev: AtomicU64::new(0),
            options,
            handles: HandleTable::default(),
            identity: Identity::new(options.create_as_caller),
            page_cache: PageCacheValidity::default(),
            no_openat2: AtomicBool::new(false),
            numbered_handles: OnceLock::new(),
        })
    }

    pub fn options(&self) -> &PassthroughOptions {
        &self.options
    }

    /// The open file or directory behind `fh`.
    fn handle(&self, fh: Fh) -> OpResult<Arc<Handle>> {
        self.handles.get(fh.0).ok_or(Errno::EBADF)
    }

    /// fsync and fsyncdir alike.
    fn sync_handle(&self, fh: Fh, datasync: bool) -> OpResult<()> {
        let h = self.handle(fh)?;
        // SAFETY: plain syscalls on an fd the handle keeps open.
        sys::cvt_retry(|| unsafe {
            if datasync {
                libc::fdatasync(h.fd())
            } else {
                libc::fsync(h.fd())
            }
        })
        .map(drop)
    }
}

impl Lifecycle for Passthrough {
    fn served_by(&self, _op: Op) -> ServedBy {
        ServedBy::Native
    }

    fn stable_inode_numbers(&self) -> bool {
        true
    }

    /// Backing file handles find files again (`export`), when this process may open
    /// them (CAP_DAC_READ_SEARCH): otherwise the mount refuses handles up front.
    fn exports_files(&self) -> bool {
        export::may_open_by_handle()
    }

    /// Unmounting: close every handle the kernel did not release.
    fn destroy(&self) {
        self.handles.clear();
    }

    fn truncates_on_open(&self) -> bool {
        true
    }

    fn roots(&self) -> Vec<PathBuf> {
        vec![self.root_path.clone()]
    }

    fn mounted(&self, dev: u64) {
        self.own_dev.store(dev, Ordering::Relaxed);
        let opts = atime::options_of_mount(dev);
        if opts == atime::AtimeOptions::default() {
            return;
        }
        use std::os::fd::AsFd;
        match atime::quiet_clone(self.root.as_fd(), opts) {
            Ok(fd) => {
                let _ = self.quiet_root.set(fd);
            }
            Err(e) => tracing::warn!(
                "passthrough: cannot give {:?} the mount's atime options ({e}): reads \
                 update access times there as its own mount says",
                self.root_path
            ),
        }
    }
}
