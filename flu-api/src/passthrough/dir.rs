//! Open directories: opendir, readdir (every entry with its stat, for readdirplus),
//! releasedir, fsyncdir.

use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStringExt;
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

    /// The whole listing from the start, without `.` and `..` (the daemon adds them).
    /// An entry that vanished between getdents and its fstatat comes without a stat.
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
                let stat = fstatat(h.fd(), name, libc::AT_SYMLINK_NOFOLLOW)
                    .ok()
                    .map(|st| Stat::from(&st));
                out.push(DirEntry {
                    name: OsString::from_vec(name.to_bytes().to_vec()),
                    stat,
                });
            }
        }
    }

    pub(super) fn do_releasedir(&self, fh: Fh) -> Result<(), Errno> {
        self.handles.remove(fh).map(drop).ok_or(Errno::EBADF)
    }
}
