//! Open directories: opendir, readdir (names and `d_type`s only), stat_entry (one
//! entry's stat, for readdirplus), releasedir, fsyncdir.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use crate::errno::Errno;
use crate::operations::{DirEntry, DirOps, Fh, OpResult, Opened, RequestContext};
use crate::stat::Stat;

use super::backing_fs::listing_follows_times;
use super::handles::Handle;
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

impl DirOps for Passthrough {
    fn opendir(&self, _ctx: &RequestContext, path: &Path, _flags: i32) -> OpResult<Opened> {
        let r = self.resolve(path)?;
        let fd = openat(
            r.fd(),
            r.name(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            0,
        )?;
        // The kernel may list from its cache while the directory's times say nothing
        // changed: checked here against the directory itself at every open (a change
        // made below the mount drops the cache), and by the kernel against the mtime
        // it has when a reader starts over.
        let cache_dir = listing_follows_times(fd.as_raw_fd());
        let keep_cache = cache_dir && self.page_cache.unchanged_since_last_open(fd.as_raw_fd());
        Ok(Opened {
            fh: self.handles.insert(Handle::new(fd)),
            keep_cache,
            cache_dir,
            ..Opened::default()
        })
    }

    /// The whole listing from the start, without `.` and `..` (the daemon adds them):
    /// names and types from `getdents64`, no stats (most listings are never asked for
    /// attributes; `stat_entry` gets them one by one when the kernel does ask).
    fn readdir(&self, _ctx: &RequestContext, _path: &Path, fh: Fh) -> OpResult<Vec<DirEntry>> {
        let h = self.handle(fh)?;
        let _pos = h.lock_position();
        // SAFETY: `h` holds the handle, so its fd stays open; lseek takes only integers.
        cvt(unsafe { libc::lseek(h.fd(), 0, libc::SEEK_SET) })?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; DENTS_BUF];
        loop {
            // SAFETY: `buf` is a live, writable buffer of `buf.len()` bytes, the most the
            // kernel writes; `h` keeps the directory fd open.
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
    fn stat_entry(
        &self,
        _ctx: &RequestContext,
        _dir: &Path,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        Some(self.stat_in_dir(fh, name))
    }

    fn releasedir(&self, _ctx: &RequestContext, _path: &Path, fh: Fh) -> OpResult<()> {
        self.handles.remove(fh.0).map(drop).ok_or(Errno::EBADF)
    }

    fn fsyncdir(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        datasync: bool,
    ) -> OpResult<()> {
        self.sync_handle(fh, datasync)
    }
}

impl Passthrough {
    fn stat_in_dir(&self, fh: Fh, name: &OsStr) -> OpResult<Stat> {
        let h = self.handle(fh)?;
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
}
