//! File handles: node ids die with the kernel's FORGET, so flu cannot answer
//! `open_by_handle_at` for an inode the kernel has evicted. Rather than hand out handles
//! that go stale (ESTALE after `echo 2 > /proc/sys/vm/drop_caches`), the daemon tells
//! the kernel it has no export support (FUSE_NO_EXPORT_SUPPORT, Linux 6.9): through the
//! mount `name_to_handle_at` answers EOPNOTSUPP at once, while the directory below hands
//! out handles as usual.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::*;

/// `name_to_handle_at(AT_FDCWD, path, …, 0)`: Ok with the handle's size, or the errno.
fn name_to_handle(path: &Path) -> Result<u32, i32> {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // struct file_handle { u32 handle_bytes; i32 handle_type; u8 f_handle[128]; }
    let mut buf = [0u8; 8 + 128];
    buf[..4].copy_from_slice(&128u32.to_ne_bytes());
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `c` is a NUL-terminated path, `buf` is a file_handle with room for the
    // 128 bytes its handle_bytes announces, `mount_id` is a valid out-pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            libc::AT_FDCWD,
            c.as_ptr(),
            buf.as_mut_ptr(),
            &mut mount_id as *mut libc::c_int,
            0,
        )
    };
    if rc == 0 {
        Ok(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]))
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// Whether this kernel knows FUSE_NO_EXPORT_SUPPORT (Linux 6.9 and later).
fn kernel_refuses_handles() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-']);
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (6, 9)
}

#[test]
fn handles_are_refused_up_front_not_handed_out_stale() {
    if !kernel_refuses_handles() {
        eprintln!("skipped: this kernel has no FUSE_NO_EXPORT_SUPPORT (Linux < 6.9)");
        return;
    }
    let backing = TempDir::new("handles");
    std::fs::write(backing.join("f"), "data\n").unwrap();
    // The directory below gives handles: the difference is the mount's.
    assert!(name_to_handle(&backing.join("f")).is_ok());
    for script in ["native_passthrough.lua", "lua_passthrough_overridden.lua"] {
        let Some(m) = mount_with(
            &test_script(script),
            MountOptions::new().arg(backing.path()),
        ) else {
            return;
        };
        assert_eq!(m.sh("cat f"), "data\n");
        assert_eq!(
            name_to_handle(&m.path("f")),
            Err(libc::EOPNOTSUPP),
            "{script}: a handle was handed out"
        );
        assert_eq!(
            name_to_handle(&m.dir),
            Err(libc::EOPNOTSUPP),
            "{script}: root"
        );
        m.unmount();
    }
}
