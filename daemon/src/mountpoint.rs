//! Checking a mountpoint before mounting, so every failure has one clear sentence.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a directory cannot be mounted on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MountpointError {
    #[error("mountpoint {0} does not exist")]
    Missing(PathBuf),
    #[error("mountpoint {0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("mountpoint {0} is a stale FUSE mount (Transport endpoint is not connected); unmount it first: fusermount3 -u {0}")]
    Stale(PathBuf),
    #[error(
        "mountpoint {0} is already a mount point; unmount it first or choose another directory"
    )]
    AlreadyMounted(PathBuf),
    #[error("cannot use mountpoint {0}: {1}")]
    Other(PathBuf, String),
    #[error("/dev/fuse is missing: load the fuse kernel module (modprobe fuse) or give the container the device")]
    NoFuseDevice,
}

/// Check `dir` and return its absolute path.
pub fn check_mountpoint(dir: &Path) -> Result<PathBuf, MountpointError> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::ENOENT) => MountpointError::Missing(dir.to_path_buf()),
                Some(libc::ENOTCONN) => MountpointError::Stale(dir.to_path_buf()),
                Some(libc::ENOTDIR) => MountpointError::NotADirectory(dir.to_path_buf()),
                _ => MountpointError::Other(dir.to_path_buf(), e.to_string()),
            })
        }
    };
    if !meta.is_dir() {
        return Err(MountpointError::NotADirectory(dir.to_path_buf()));
    }
    let abs = std::fs::canonicalize(dir)
        .map_err(|e| MountpointError::Other(dir.to_path_buf(), e.to_string()))?;
    if is_mount_point(&abs) {
        return Err(MountpointError::AlreadyMounted(dir.to_path_buf()));
    }
    if !Path::new("/dev/fuse").exists() {
        return Err(MountpointError::NoFuseDevice);
    }
    Ok(abs)
}

/// Whether `abs` is listed as a mount point in /proc/self/mountinfo.
pub fn is_mount_point(abs: &Path) -> bool {
    let Ok(info) = std::fs::read("/proc/self/mountinfo") else {
        return false;
    };
    info.split(|b| *b == b'\n').any(|line| {
        line.split(|b| *b == b' ')
            .nth(4)
            .map(unescape_mountinfo)
            .as_deref()
            == Some(abs.as_os_str().as_bytes())
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\'
            && i + 3 < field.len()
            && field[i + 1..i + 4]
                .iter()
                .all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (field[i + 1] - b'0') * 64 + (field[i + 2] - b'0') * 8 + (field[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(field[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_errors() {
        let missing = Path::new("/nonexistent/flu-test");
        assert_eq!(
            check_mountpoint(missing),
            Err(MountpointError::Missing(missing.into()))
        );
        let file = Path::new("/proc/self/status");
        assert_eq!(
            check_mountpoint(file),
            Err(MountpointError::NotADirectory(file.into()))
        );
        assert!(matches!(
            check_mountpoint(Path::new("/proc")),
            Err(MountpointError::AlreadyMounted(_))
        ));
        assert!(is_mount_point(Path::new("/")));
    }

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape_mountinfo(b"/a\\040b"), b"/a b");
        assert_eq!(unescape_mountinfo(b"/plain"), b"/plain");
    }
}
