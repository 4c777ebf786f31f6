//! Tests of the passthrough backend on real temporary directories: each op's answer is
//! compared with the same syscall done directly on the directory.

mod attr;
mod dir;
mod file;
mod identity;
mod lock;
mod names;
mod perf;
mod resolve;
mod xattr;

use std::path::{Path, PathBuf};

use crate::errno::Errno;
use crate::operations::*;

use super::{Passthrough, PassthroughOptions};

pub(super) use crate::test_support::TempDir;

/// A passthrough over a fresh directory.
pub(super) struct Fx {
    pub dir: TempDir,
    pub fs: Passthrough,
}

impl Fx {
    /// On /tmp (the disk filesystem).
    pub fn new() -> Fx {
        Fx::in_base("/tmp", PassthroughOptions::default())
    }

    /// On /dev/shm (tmpfs: user xattrs, predictable sparse handling).
    pub fn shm() -> Fx {
        Fx::in_base("/dev/shm", PassthroughOptions::default())
    }

    pub fn in_base(base: &str, opts: PassthroughOptions) -> Fx {
        let dir = TempDir::new_in(base, "pt");
        let fs = Passthrough::new(dir.path(), opts).unwrap();
        Fx { dir, fs }
    }

    /// The backing path of a mount path.
    pub fn real(&self, p: &str) -> PathBuf {
        self.dir.path().join(p.trim_start_matches('/'))
    }

    pub fn write_real(&self, p: &str, data: &[u8]) {
        std::fs::write(self.real(p), data).unwrap();
    }

    pub fn open(&self, p: &str, flags: i32) -> Fh {
        Fh(self.fs.open(&ctx(), Path::new(p), flags).unwrap().fh)
    }

    pub fn create(&self, p: &str, flags: i32) -> Fh {
        let o = self
            .fs
            .create(&ctx(), Path::new(p), libc::S_IFREG | 0o644, flags)
            .unwrap();
        Fh(o.fh)
    }
}

/// A request from root, umask 022.
pub(super) fn ctx() -> RequestContext {
    RequestContext {
        uid: 0,
        gid: 0,
        pid: std::process::id(),
        umask: 0o022,
        unmasked_mode: None,
    }
}

pub(super) fn p(s: &str) -> &Path {
    Path::new(s)
}

/// lstat a backing path directly.
pub(super) fn lstat(path: &Path) -> Result<libc::stat, Errno> {
    nix::sys::stat::lstat(path).map_err(|e| Errno(e as i32))
}

pub(super) fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
