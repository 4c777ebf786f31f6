//! Whether the kernel may keep a file's cached pages at open (`keep_cache`), as
//! libfuse's `auto_cache` decides it: the file's size, mtime and ctime are remembered at
//! each open and compared at the next; unchanged means the cache is still good.
//!
//! This matters when reads and writes go through the daemon (no kernel passthrough);
//! with kernel passthrough the FUSE page cache is not used and the answer is harmless.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::Mutex;

/// What a cached page's validity depends on.
type Version = (i64, i64, i64, i64, i64);

/// How many files are remembered before the table starts over (bounding memory).
const REMEMBERED: usize = 8_192;

#[derive(Default)]
pub struct PageCacheValidity {
    seen: Mutex<HashMap<(u64, u64), Version>>,
}

impl PageCacheValidity {
    /// True when the file open as `fd` is unchanged since its previous open.
    pub fn unchanged_since_last_open(&self, fd: RawFd) -> bool {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes a stat into the buffer on success.
        if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: fstat succeeded, so the buffer is initialized.
        let st = unsafe { st.assume_init() };
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return false;
        }
        let version = (
            st.st_size,
            st.st_mtime,
            st.st_mtime_nsec,
            st.st_ctime,
            st.st_ctime_nsec,
        );
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert((st.st_dev, st.st_ino), version) == Some(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn unchanged_files_keep_their_cache() {
        let path = std::env::temp_dir().join(format!("flu-pagecache-{}", std::process::id()));
        std::fs::write(&path, b"one").unwrap();
        let v = PageCacheValidity::default();
        let f = std::fs::File::open(&path).unwrap();
        assert!(
            !v.unchanged_since_last_open(f.as_raw_fd()),
            "first open: nothing cached yet"
        );
        assert!(
            v.unchanged_since_last_open(f.as_raw_fd()),
            "same file, unchanged"
        );
        let mut w = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        w.write_all(b" two").unwrap();
        assert!(!v.unchanged_since_last_open(f.as_raw_fd()), "changed since");
        let _ = std::fs::remove_file(&path);
    }
}
