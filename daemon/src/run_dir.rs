//! The run directory: where a mount keeps the files that belong to it while it lives —
//! its fallback log (`logging`) and its control socket (`control`). One place chooses
//! the directory and names a mount's files, so that the daemon and the commands that
//! talk to it (`flu stats`) agree without being told.
//!
//! The directory is the first of `$XDG_RUNTIME_DIR/flu`, `/run/flu` (root),
//! `/run/user/UID/flu`, `/tmp/flu-UID`. The daemon creates it with mode 0700 and refuses
//! one that is not a private directory of its user: files in it are trusted (a socket
//! there is taken to be the mount's own).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the run directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("cannot create run directory {}: {source}", .dir.display())]
    Create {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use run directory {}: {source}", .dir.display())]
    Inspect {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("run directory {} is not a private directory of yours", .dir.display())]
    NotPrivate { dir: PathBuf },
}

/// The run directory of user `uid` (not created: see `private_dir`).
pub fn base_dir(uid: u32) -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        if Path::new(&xdg).is_dir() {
            return Path::new(&xdg).join("flu");
        }
    }
    if uid == 0 {
        return PathBuf::from("/run/flu");
    }
    let user_run = PathBuf::from(format!("/run/user/{uid}"));
    if user_run.is_dir() {
        return user_run.join("flu");
    }
    std::env::temp_dir().join(format!("flu-{uid}"))
}

/// The run directory of the effective user, created (mode 0700) if need be; an error
/// when it is not a directory of ours that nobody else may write to.
pub fn private_dir() -> Result<PathBuf, RunDirError> {
    let uid = nix::unistd::geteuid().as_raw();
    let dir = base_dir(uid);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|source| RunDirError::Create {
            dir: dir.clone(),
            source,
        })?;
    // symlink_metadata: a symlink planted at the directory's name is refused, not
    // followed.
    let meta = std::fs::symlink_metadata(&dir).map_err(|source| RunDirError::Inspect {
        dir: dir.clone(),
        source,
    })?;
    let foreign = meta.uid() != uid || meta.permissions().mode() & 0o022 != 0;
    if !meta.is_dir() || foreign {
        return Err(RunDirError::NotPrivate { dir });
    }
    Ok(dir)
}

/// The mount's file with `suffix` (`.log`, `.sock`) in the private run directory.
pub fn private_file(mountpoint: &Path, suffix: &str) -> Result<PathBuf, RunDirError> {
    Ok(private_dir()?.join(file_name(mountpoint, suffix)))
}

/// The file name for `mountpoint`: `/mnt/my dir` → `mnt-my%20dir` + `suffix`. `/`
/// becomes `-`, bytes other than letters, digits, `.`, `_` and `-` are written `%XX`.
pub fn file_name(mountpoint: &Path, suffix: &str) -> String {
    let bytes = mountpoint.as_os_str().as_bytes();
    let trimmed = bytes.strip_prefix(b"/").unwrap_or(bytes);
    let mut name = String::new();
    for &b in trimmed {
        match b {
            b'/' => name.push('-'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') => {
                name.push(b as char)
            }
            b => name.push_str(&format!("%{b:02X}")),
        }
    }
    if name.is_empty() {
        name.push('-');
    }
    name.push_str(suffix);
    name
}

/// A short stand-in for `file_name` where a name must stay short (a socket's whole path
/// must fit in 108 bytes): `h-` and the 64-bit FNV-1a hash of the mountpoint, in hex.
pub fn hashed_file_name(mountpoint: &Path, suffix: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in mountpoint.as_os_str().as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("h-{hash:016x}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(file_name(Path::new("/mnt/x"), ".log"), "mnt-x.log");
        assert_eq!(file_name(Path::new("/a b/c\nd"), ".log"), "a%20b-c%0Ad.log");
        assert_eq!(file_name(Path::new("/"), ".sock"), "-.sock");
    }

    #[test]
    fn hashed_names_are_short_and_distinct() {
        let a = hashed_file_name(Path::new("/mnt/a"), ".sock");
        let b = hashed_file_name(Path::new("/mnt/b"), ".sock");
        assert_ne!(a, b);
        assert_eq!(a.len(), "h-".len() + 16 + ".sock".len());
        assert_eq!(a, hashed_file_name(Path::new("/mnt/a"), ".sock"));
    }
}
