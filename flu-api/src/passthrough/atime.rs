//! `-o noatime` and `-o nodiratime` down to the backing files. The kernel never updates
//! access times of flu's own mount under these options, but reads of the backing file
//! (the daemon's, and the kernel's own with FUSE passthrough, which opens the backing
//! file on the path of the daemon's fd) update the backing file's atime on the mount
//! it lies on. So once mounted, the passthrough resolves everything from a detached
//! clone of the root's mount tree carrying the same atime flags (`open_tree` +
//! `mount_setattr`, Linux 5.12, `CAP_SYS_ADMIN`); without them the backing mount's own
//! atime rule applies, and a warning says so.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use crate::errno::Errno;

use super::sys::{cvt, owned};

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_NOATIME: u64 = 0x10;
/// The atime mode bits (relatime, noatime, strictatime), cleared to set one of them.
const MOUNT_ATTR_ATIME_MASK: u64 = 0x70;
const MOUNT_ATTR_NODIRATIME: u64 = 0x80;

/// `struct mount_attr` (size 32, `MOUNT_ATTR_SIZE_VER0`).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// The atime options of a mount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct AtimeOptions {
    pub noatime: bool,
    pub nodiratime: bool,
}

/// The atime options of the mount whose device is `dev`, from `/proc/self/mountinfo`.
pub(super) fn options_of_mount(dev: u64) -> AtimeOptions {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return AtimeOptions::default();
    };
    let wanted = format!("{}:{}", libc::major(dev), libc::minor(dev));
    parse_mountinfo(&info, &wanted)
}

fn parse_mountinfo(info: &str, dev: &str) -> AtimeOptions {
    info.lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| f.get(2) == Some(&dev))
        .and_then(|f| f.get(5).map(|o| o.to_string()))
        .map(|opts| AtimeOptions {
            noatime: opts.split(',').any(|o| o == "noatime"),
            nodiratime: opts.split(',').any(|o| o == "nodiratime"),
        })
        .unwrap_or_default()
}

/// A detached clone of the mount tree at `root` (submounts included) with `opts`, and
/// its root as an `O_PATH` fd.
pub(super) fn quiet_clone(root: BorrowedFd<'_>, opts: AtimeOptions) -> Result<OwnedFd, Errno> {
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | libc::AT_EMPTY_PATH as libc::c_uint
        | libc::AT_RECURSIVE as libc::c_uint;
    // SAFETY: an empty, NUL-terminated path with AT_EMPTY_PATH names `root` itself,
    // which the caller keeps open; the result is checked and owned right away.
    let fd = owned(cvt(unsafe {
        libc::syscall(libc::SYS_open_tree, root.as_raw_fd(), c"".as_ptr(), flags)
    })? as libc::c_int)?;
    let mut attr = MountAttr {
        attr_set: 0,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    if opts.noatime {
        attr.attr_set |= MOUNT_ATTR_NOATIME;
        attr.attr_clr |= MOUNT_ATTR_ATIME_MASK;
    }
    if opts.nodiratime {
        attr.attr_set |= MOUNT_ATTR_NODIRATIME;
    }
    // SAFETY: `attr` is a live `struct mount_attr` of the size passed; `fd` is open.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atime_options_come_from_the_mounts_own_line() {
        let info = "22 27 0:21 / /proc rw,noatime - proc proc rw\n\
                    99 27 0:57 / /tmp/m rw,nosuid,nodev,noatime,nodiratime shared:1 - fuse flu:x rw\n\
                    100 27 0:58 / /tmp/n rw,nosuid,nodev,relatime - fuse flu:y rw\n";
        assert_eq!(
            parse_mountinfo(info, "0:57"),
            AtimeOptions {
                noatime: true,
                nodiratime: true
            }
        );
        assert_eq!(parse_mountinfo(info, "0:58"), AtimeOptions::default());
        assert_eq!(parse_mountinfo(info, "0:59"), AtimeOptions::default());
    }
}
