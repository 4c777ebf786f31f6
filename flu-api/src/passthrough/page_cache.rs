//! Whether the kernel may keep what it cached of a file or directory at open
//! (`keep_cache`), as libfuse's `auto_cache` decides it: the size, mtime and ctime are
//! remembered at each open and compared at the next; unchanged means the cache is
//! still good.
//!
//! For a file this matters when reads and writes go through the daemon (no kernel
//! passthrough; with it the FUSE page cache is not used and the answer is harmless).
//! For a directory it decides whether the kernel's cached listing (FOPEN_CACHE_DIR)
//! survives the open: a change made below the mount, not through it, changes the
//! directory's times, and the next opendir drops the cache.

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
    /// True when the regular file or directory open as `fd` is unchanged since its
    /// previous open.
    pub fn unchanged_since_last_open(&self, fd: RawFd) -> bool {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: fstat writes a stat into the buffer on success.
        if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: fstat succeeded, so the buffer is initialized.
        let st = unsafe { st.assume_init() };
        if !matches!(st.st_mode & libc::S_IFMT, libc::S_IFREG | libc::S_IFDIR) {
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

    #[test]
    fn a_directory_changes_with_its_entries() {
        let dir = std::env::temp_dir().join(format!("flu-pagecache-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let v = PageCacheValidity::default();
        let d = std::fs::File::open(&dir).unwrap();
        assert!(!v.unchanged_since_last_open(d.as_raw_fd()), "first open");
        assert!(v.unchanged_since_last_open(d.as_raw_fd()), "unchanged");
        std::fs::write(dir.join("new"), b"").unwrap();
        assert!(
            !v.unchanged_since_last_open(d.as_raw_fd()),
            "an entry was added"
        );
        assert!(
            v.unchanged_since_last_open(d.as_raw_fd()),
            "unchanged since"
        );
        std::fs::remove_file(dir.join("new")).unwrap();
        assert!(
            !v.unchanged_since_last_open(d.as_raw_fd()),
            "an entry was removed"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
