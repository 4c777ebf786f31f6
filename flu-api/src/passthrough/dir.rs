//! Open directories: opendir, readdir (names and `d_type`s only), stat_entry (one
//! entry's stat, for readdirplus), releasedir, fsyncdir.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::errno::Errno;
use crate::operations::{DirEntry, Fh, Opened};
use crate::stat::Stat;

use super::sys::{cvt, cvt_retry, fstatat, openat};
use super::Passthrough;

/// getdents64 buffer: enough for a few hundred entries per call.
const DENTS_BUF: usize = 32 * 1024;

/// Offset of `d_name` in `struct linux_dirent64` (ino u64, off i64, reclen u16, type u8).
const NAME_OFFSET: usize = 19;

/// Offset of `d_type` in `struct linux_dirent64`.
const TYPE_OFFSET: usize = 18;

/// The file type bits for a `d_type`; `None` for `DT_UNKNOWN` (and anything unexpected),
/// which leaves the type to a stat.
fn kind_of(d_type: u8) -> Option<u32> {
    Some(match d_type {
        libc::DT_REG => libc::S_IFREG,
        libc::DT_DIR => libc::S_IFDIR,
        libc::DT_LNK => libc::S_IFLNK,
        libc::DT_CHR => libc::S_IFCHR,
        libc::DT_BLK => libc::S_IFBLK,
        libc::DT_FIFO => libc::S_IFIFO,
        libc::DT_SOCK => libc::S_IFSOCK,
        _ => return None,
    })
}

impl Passthrough {
    pub(super) fn do_opendir(&self, path: &Path) -> Result<Opened, Errno> {
        let r = self.resolve(path)?;
        let fd = openat(
            r.fd(),
            r.name(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )?;
        Ok(Opened {
            fh: self.handles.insert(fd),
            ..Opened::default()
        })
    }

    /// The whole listing from the start, without `.` and `..` (the daemon adds them):
    /// names and types from `getdents64`, no stats (most listings are never asked for
    /// attributes; `do_stat_entry` gets them one by one when the kernel does ask).
    pub(super) fn do_readdir(&self, fh: Fh) -> Result<Vec<DirEntry>, Errno> {
        let h = self.handles.get(fh)?;
        let _pos = h.lock_position();
        cvt(unsafe { libc::lseek(h.fd(), 0, libc::SEEK_SET) })?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; DENTS_BUF];
        loop {
            let n = cvt_retry(|| unsafe {
                libc::syscall(libc::SYS_getdents64, h.fd(), buf.as_mut_ptr(), buf.len())
            })? as usize;
            if n == 0 {
                return Ok(out);
            }
            let mut pos = 0;
            while pos + NAME_OFFSET <= n {
                let rec = &buf[pos..n];
                let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
                if reclen < NAME_OFFSET || reclen > rec.len() {
                    return Err(Errno::EIO);
                }
                let name = CStr::from_bytes_until_nul(&rec[NAME_OFFSET..reclen])
                    .map_err(|_| Errno::EIO)?;
                pos += reclen;
                if matches!(name.to_bytes(), b"." | b"..") {
                    continue;
                }
                out.push(DirEntry {
                    name: OsString::from_vec(name.to_bytes().to_vec()),
                    stat: None,
                    kind: kind_of(rec[TYPE_OFFSET]),
                });
            }
        }
    }

    /// The stat of entry `name` of the open directory `fh`: `fstatat` on its fd, so it
    /// needs no path walk and still works after the directory moved.
    pub(super) fn do_stat_entry(&self, fh: Fh, name: &OsStr) -> Result<Stat, Errno> {
        let h = self.handles.get(fh)?;
        let bytes = name.as_bytes();
        // One name inside the directory: `..` of the root would leave the tree.
        if matches!(bytes, b"" | b"." | b"..") || bytes.contains(&b'/') {
            return Err(Errno::EINVAL);
        }
        let name = CString::new(bytes).map_err(|_| Errno::EINVAL)?;
        Ok(Stat::from(&fstatat(
            h.fd(),
            &name,
            libc::AT_SYMLINK_NOFOLLOW,
        )?))
    }

    pub(super) fn do_releasedir(&self, fh: Fh) -> Result<(), Errno> {
        self.handles.remove(fh).map(drop).ok_or(Errno::EBADF)
    }
}
