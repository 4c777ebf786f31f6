//! File handles of the filesystem below, as the passthrough's persistent keys
//! (`NameOps::export_key`/`export_path`): a file is found again by its backing handle,
//! whatever its name has become, and its path is read back from `/proc/self/fd`.
//!
//! A backing handle opens the file, but for a file whose name is no longer in the
//! backing dentry cache the kernel gives a disconnected dentry, whose
//! `/proc/self/fd` name says nothing. So a key also holds the handle of the directory
//! the file was in (directories always open connected): the file is then looked for by
//! inode number in that directory, as the kernel's own `exportfs` reconnects a
//! connectable handle. Every path found is checked to lead back to the very file.
//!
//! A key is `mount id (4)`, then the file's handle and, but for the root, its
//! directory's, each `type (4) | length (1) | bytes`. Only files on the root's own
//! filesystem get one: a handle opens only against the filesystem it came from.
//!
//! Where the backing handle is ext4's (`FILEID_INO32_GEN`: the inode number and the
//! generation, 32 bits each, where generation 0 asks for no check), the inode number
//! alone opens the file again, so the daemon needs no memory: the node's id is the
//! inode number and its generation the backing one (`handle_generation`), and a
//! handle made before a remount finds its file (`number_path`); the kernel compares
//! the generations.

use std::ffi::{CStr, OsStr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};

use crate::errno::Errno;

use super::sys::{cvt, cvt_retry, fstat, openat, owned, proc_fd_path};
use super::Passthrough;

/// `MAX_HANDLE_SZ` of the kernel.
const MAX_HANDLE: usize = 128;

/// `struct file_handle` with room for the largest handle.
#[repr(C)]
struct FileHandle {
    handle_bytes: u32,
    handle_type: i32,
    f_handle: [u8; MAX_HANDLE],
}

impl FileHandle {
    fn empty() -> FileHandle {
        FileHandle {
            handle_bytes: MAX_HANDLE as u32,
            handle_type: 0,
            f_handle: [0; MAX_HANDLE],
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.f_handle[..(self.handle_bytes as usize).min(MAX_HANDLE)]
    }

    /// Append `type | length | bytes` to `key`.
    fn encode(&self, key: &mut Vec<u8>) {
        let bytes = self.bytes();
        key.extend_from_slice(&self.handle_type.to_ne_bytes());
        key.push(bytes.len() as u8);
        key.extend_from_slice(bytes);
    }

    /// Read one handle from the front of `key`; the rest is returned.
    fn decode(key: &[u8]) -> Option<(FileHandle, &[u8])> {
        let kind = key.get(..4)?;
        let len = usize::from(*key.get(4)?);
        if len > MAX_HANDLE {
            return None;
        }
        let bytes = key.get(5..5 + len)?;
        let mut h = FileHandle::empty();
        h.handle_type = i32::from_ne_bytes([kind[0], kind[1], kind[2], kind[3]]);
        h.handle_bytes = len as u32;
        h.f_handle[..len].copy_from_slice(bytes);
        Some((h, &key[5 + len..]))
    }
}

/// `name_to_handle_at(dir, name, 0)`: the handle and the mount id, never following a
/// final symlink.
fn name_to_handle(dir: RawFd, name: &CStr) -> Result<(FileHandle, i32), Errno> {
    name_to_handle_flags(dir, name, 0)
}

fn name_to_handle_flags(
    dir: RawFd,
    name: &CStr,
    flags: libc::c_int,
) -> Result<(FileHandle, i32), Errno> {
    let mut h = FileHandle::empty();
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `h` is a file_handle whose handle_bytes says how much room f_handle has;
    // `name` is NUL-terminated and `mount_id` a valid out-pointer, all live for the call.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            dir,
            name.as_ptr(),
            &mut h as *mut FileHandle,
            &mut mount_id as *mut libc::c_int,
            flags,
        )
    })?;
    Ok((h, mount_id))
}

/// `open_by_handle_at(mount, h, flags)`; a handle that opens nothing is stale.
fn open_by_handle(
    mount: &OwnedFd,
    h: &mut FileHandle,
    flags: libc::c_int,
) -> Result<OwnedFd, Errno> {
    // SAFETY: `h` is a file_handle whose handle_bytes matches its bytes; `mount` is
    // open for the call.
    let fd = cvt_retry(|| unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            mount.as_raw_fd(),
            h as *mut FileHandle,
            flags | libc::O_CLOEXEC,
        )
    })
    .map_err(|e| match e.code() {
        // Without CAP_DAC_READ_SEARCH: say so rather than "stale".
        libc::EPERM => Errno::EPERM,
        _ => Errno::ESTALE,
    })?;
    owned(fd as libc::c_int)
}

/// `FILEID_INO32_GEN`, the handle type of ext2/3/4 (and xfs with 32-bit inodes).
const FILEID_INO32_GEN: i32 = 1;

/// The (inode number, generation) of an ext4-style handle.
fn numbered(h: &FileHandle) -> Option<(u32, u32)> {
    let b = h.bytes();
    if h.handle_type != FILEID_INO32_GEN || b.len() != 8 {
        return None;
    }
    let word = |i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Some((word(0), word(4)))
}

impl Passthrough {
    /// The root as an open directory (open_by_handle_at wants a real open file of the
    /// filesystem, not an O_PATH one) and where it is, to tell found paths against.
    fn handle_root(&self) -> Result<(OwnedFd, PathBuf), Errno> {
        let root = openat(
            self.root_fd().as_raw_fd(),
            c".",
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        )?;
        let base = read_link(&proc_fd_path(root.as_raw_fd()))?;
        Ok((root, base))
    }

    /// Whether the backing filesystem's handles are ext4-style (checked on the root:
    /// type, length, and the inode number in the first word).
    fn numbered_handles(&self) -> bool {
        *self.numbered_handles.get_or_init(|| {
            let root = self.root_fd().as_raw_fd();
            match (name_to_handle(root, c"."), fstat(root)) {
                (Ok((h, _)), Ok(st)) => {
                    numbered(&h).is_some_and(|(ino, _)| u64::from(ino) == st.st_ino)
                }
                _ => false,
            }
        })
    }

    /// The backing generation of the file at `path`, for ext4-style handles.
    pub(super) fn handle_generation(&self, path: &Path) -> Result<u32, Errno> {
        if !self.numbered_handles() {
            return Err(Errno::EOPNOTSUPP);
        }
        let r = self.resolve(path)?;
        let (h, _) = name_to_handle(r.fd(), r.name())?;
        numbered(&h).map(|(_, gen)| gen).ok_or(Errno::EOPNOTSUPP)
    }

    /// The path and backing generation of inode `ino`, for ext4-style handles.
    pub(super) fn number_path(&self, ino: u64) -> Result<(PathBuf, u32), Errno> {
        let ino32 = u32::try_from(ino).map_err(|_| Errno::ESTALE)?;
        if !self.numbered_handles() {
            return Err(Errno::ESTALE);
        }
        let mut h = FileHandle::empty();
        h.handle_type = FILEID_INO32_GEN;
        h.handle_bytes = 8;
        h.f_handle[..4].copy_from_slice(&ino32.to_ne_bytes());
        // Generation 0: any generation; the kernel compares the one answered.
        let (root, base) = self.handle_root()?;
        let target = open_by_handle(&root, &mut h, libc::O_PATH | libc::O_NOFOLLOW)?;
        let st = fstat(target.as_raw_fd())?;
        if st.st_nlink == 0 || st.st_ino != ino {
            return Err(Errno::ESTALE);
        }
        let (found, _) = name_to_handle_flags(target.as_raw_fd(), c"", libc::AT_EMPTY_PATH)?;
        let (_, generation) = numbered(&found).ok_or(Errno::ESTALE)?;
        let full = read_link(&proc_fd_path(target.as_raw_fd()))?;
        let path = self.checked(&base, &full, (st.st_dev, st.st_ino))?;
        Ok((path, generation))
    }

    /// The mount id of the root's filesystem, as `name_to_handle_at` reports it.
    fn root_mount_id(&self) -> Result<i32, Errno> {
        Ok(name_to_handle(self.root_fd().as_raw_fd(), c".")?.1)
    }

    /// The key of the object at `path` (see the module documentation).
    pub(super) fn handle_key(&self, path: &Path) -> Result<Vec<u8>, Errno> {
        let r = self.resolve(path)?;
        let (file, mount_id) = name_to_handle(r.fd(), r.name())?;
        if mount_id != self.root_mount_id()? {
            // A file of another filesystem mounted under the root.
            return Err(Errno::EOPNOTSUPP);
        }
        let mut key = Vec::with_capacity(4 + 2 * 13);
        key.extend_from_slice(&mount_id.to_ne_bytes());
        file.encode(&mut key);
        if path.parent().is_some() {
            let (dir, _) = name_to_handle(r.fd(), c".")?;
            dir.encode(&mut key);
        }
        Ok(key)
    }

    /// The path, from the root, of the file `key` names; ESTALE when it is gone, has no
    /// name, or its name is not under the root.
    pub(super) fn key_path(&self, key: &[u8]) -> Result<PathBuf, Errno> {
        let mount = key.get(..4).ok_or(Errno::ESTALE)?;
        if mount != self.root_mount_id()?.to_ne_bytes() {
            return Err(Errno::ESTALE);
        }
        let (mut file, rest) = FileHandle::decode(&key[4..]).ok_or(Errno::ESTALE)?;
        let dir = FileHandle::decode(rest).map(|(h, _)| h);
        let (root, base) = self.handle_root()?;
        let target = open_by_handle(&root, &mut file, libc::O_PATH | libc::O_NOFOLLOW)?;
        let st = fstat(target.as_raw_fd())?;
        if st.st_nlink == 0 {
            return Err(Errno::ESTALE);
        }
        let id = (st.st_dev, st.st_ino);
        // A name in the backing dentry cache shows in /proc.
        if let Ok(path) = self.checked(&base, &read_link(&proc_fd_path(target.as_raw_fd()))?, id) {
            return Ok(path);
        }
        // Else the file is looked for in the directory it was in.
        let mut dir = dir.ok_or(Errno::ESTALE)?;
        let dir = open_by_handle(&root, &mut dir, libc::O_PATH | libc::O_DIRECTORY)?;
        let dir_path = read_link(&proc_fd_path(dir.as_raw_fd()))?;
        let listing = std::fs::read_dir(Path::new(OsStr::from_bytes(
            proc_fd_path(dir.as_raw_fd()).as_bytes(),
        )))
        .map_err(|_| Errno::ESTALE)?;
        for entry in listing.flatten() {
            if entry.ino() != st.st_ino {
                continue;
            }
            if let Ok(path) = self.checked(&base, &dir_path.join(entry.file_name()), id) {
                return Ok(path);
            }
        }
        Err(Errno::ESTALE)
    }

    /// `full` (a backing path) as a path from the root, if it is under the root (at
    /// `base`) and leads to the file `id`.
    fn checked(&self, base: &Path, full: &Path, id: (u64, u64)) -> Result<PathBuf, Errno> {
        let rel = full.strip_prefix(base).map_err(|_| Errno::ESTALE)?;
        let path = Path::new("/").join(rel);
        // `/proc` shows names, not proof: the name must still reach this very file.
        let again = self.open_final(&path, 0).map_err(|_| Errno::ESTALE)?;
        let st = fstat(again.as_raw_fd())?;
        if (st.st_dev, st.st_ino) != id {
            return Err(Errno::ESTALE);
        }
        Ok(path)
    }
}

/// CAP_DAC_READ_SEARCH's bit in the capability sets of /proc/self/status.
const CAP_DAC_READ_SEARCH: u32 = 2;

/// Whether this process may open files by handle (CAP_DAC_READ_SEARCH, as root has):
/// without it no key finds a file again.
pub(super) fn may_open_by_handle() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_DAC_READ_SEARCH) != 0)
}

/// The target of a `/proc/self/fd` link.
fn read_link(link: &CStr) -> Result<PathBuf, Errno> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: `buf` is writable for `buf.len()` bytes and readlink writes at most that;
    // `link` is NUL-terminated.
    let n =
        cvt(unsafe { libc::readlink(link.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })? as usize;
    if n >= buf.len() {
        // Longer than PATH_MAX: the kernel cut it; such a name cannot be trusted.
        return Err(Errno::ESTALE);
    }
    buf.truncate(n);
    Ok(PathBuf::from(OsStr::from_bytes(&buf)))
}
