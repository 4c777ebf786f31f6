//! Test support shared by the crate's unit tests: a private temporary directory,
//! removed when dropped.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A fresh directory (mkdtemp) removed with everything in it on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// In the system temporary directory.
    pub fn new(tag: &str) -> TempDir {
        TempDir::new_in(&std::env::temp_dir().to_string_lossy(), tag)
    }

    /// Below `base` (e.g. `/dev/shm` for tmpfs).
    pub fn new_in(base: &str, tag: &str) -> TempDir {
        let tmpl = CString::new(format!("{base}/flu-{tag}-XXXXXX")).expect("no NUL in a temp path");
        let mut buf = tmpl.into_bytes_with_nul();
        // SAFETY: buf is a writable NUL-terminated template.
        let p = unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) };
        assert!(
            !p.is_null(),
            "mkdtemp in {base}: {}",
            std::io::Error::last_os_error()
        );
        buf.pop();
        TempDir(PathBuf::from(OsStr::from_bytes(&buf)))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
