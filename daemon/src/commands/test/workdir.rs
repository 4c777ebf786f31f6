//! The private temporary directory of one `flu test` run: the mountpoint (`mnt`), the
//! daemon's output (`daemon.log`), the setup commands' output (`setup.log`) and, when the script's arguments ask for `{tmpdir}`,
//! a small populated tree (`root`). Removed on drop — never while something is still
//! mounted below it (that would reach into the filesystem under test).

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{symlink, DirBuilderExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::mountpoint::is_mount_point;

/// The size of the fixture's larger file: several pages and more than one FUSE read.
pub const BIG_FILE_SIZE: usize = 150_000;

/// See the module documentation.
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    /// A fresh directory (mode 0700) under the system's temporary directory.
    pub fn create() -> io::Result<WorkDir> {
        let base = fs::canonicalize(std::env::temp_dir())?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut last = None;
        for attempt in 0..16u32 {
            let path = base.join(format!(
                "flu-test.{}.{:x}",
                std::process::id(),
                nanos.wrapping_add(attempt)
            ));
            match DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => {
                    let dir = WorkDir { path };
                    DirBuilder::new().mode(0o755).create(dir.mountpoint())?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary directory name")))
    }

    pub fn mountpoint(&self) -> PathBuf {
        self.path.join("mnt")
    }

    pub fn daemon_log(&self) -> PathBuf {
        self.path.join("daemon.log")
    }

    /// What the header's setup commands printed.
    pub fn setup_log(&self) -> PathBuf {
        self.path.join("setup.log")
    }

    /// The `{tmpdir}` tree: created (and filled) on the first call.
    pub fn populated_root(&self) -> io::Result<PathBuf> {
        let root = self.path.join("root");
        if !root.exists() {
            populate(&root)?;
        }
        Ok(root)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let mnt = self.mountpoint();
        if is_mount_point(&mnt) {
            eprintln!(
                "flu test: leaving {:?} in place: {:?} is still mounted",
                self.path, mnt
            );
            return;
        }
        if let Err(e) = fs::remove_dir_all(&self.path) {
            eprintln!("flu test: could not remove {:?}: {e}", self.path);
        }
    }
}

/// The bytes of the fixture's big file: a pseudo-random stream (xorshift), so a read
/// at a wrong offset never matches by chance.
pub fn big_file_bytes() -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..BIG_FILE_SIZE)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

/// A small tree: files of a few sizes (one empty, one of many pages), nested
/// directories, a symlink.
fn populate(root: &Path) -> io::Result<()> {
    DirBuilder::new().mode(0o755).create(root)?;
    fs::write(root.join("hello.txt"), "Hello from flu test!\n")?;
    fs::write(root.join("empty"), "")?;
    fs::write(root.join("big.bin"), big_file_bytes())?;
    DirBuilder::new()
        .mode(0o755)
        .recursive(true)
        .create(root.join("dir/sub"))?;
    fs::write(root.join("dir/nested.txt"), "nested\n")?;
    fs::write(root.join("dir/sub/deep.txt"), "deep down\n")?;
    symlink("hello.txt", root.join("link"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_populated_and_removed() {
        let dir = WorkDir::create().unwrap();
        let path = dir.path.clone();
        assert!(dir.mountpoint().is_dir());
        let root = dir.populated_root().unwrap();
        assert_eq!(fs::read(root.join("big.bin")).unwrap().len(), BIG_FILE_SIZE);
        assert_eq!(
            fs::read_link(root.join("link")).unwrap(),
            Path::new("hello.txt")
        );
        assert_eq!(dir.populated_root().unwrap(), root, "filled once");
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn big_file_has_no_short_period() {
        let b = big_file_bytes();
        for at in [0, 4096, 100_000] {
            for shift in 1..5000 {
                assert_ne!(
                    b[at..at + 64],
                    b[at + shift..at + shift + 64],
                    "repeats after {shift}"
                );
            }
        }
    }
}
