//! File handles through the mount (`name_to_handle_at` / `open_by_handle_at`).
//!
//! The native passthrough finds files again by the backing filesystem's own handles,
//! so the daemon negotiates FUSE_EXPORT_SUPPORT and handles keep working after the
//! inodes left the kernel's cache (`echo 2 > /proc/sys/vm/drop_caches`), after a
//! rename, and go stale (ESTALE) once the file is unlinked, as on the directory below;
//! on ext4, whose handles are the inode number and generation, also after a remount.
//! A script with Lua handlers in the way cannot find files by key: there the daemon
//! refuses handles up front (FUSE_NO_EXPORT_SUPPORT, Linux 6.9), so `name_to_handle_at`
//! answers EOPNOTSUPP rather than handing out handles that would go stale.

mod common;

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use common::*;

/// A `struct file_handle { u32 handle_bytes; i32 handle_type; u8 f_handle[128]; }`.
struct Handle([u8; 8 + 128]);

/// `name_to_handle_at(AT_FDCWD, path, …, 0)`: the handle, or the errno.
fn name_to_handle(path: &Path) -> Result<Handle, i32> {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    let mut h = Handle([0u8; 8 + 128]);
    h.0[..4].copy_from_slice(&128u32.to_ne_bytes());
    let mut mount_id: libc::c_int = 0;
    // SAFETY: `c` is a NUL-terminated path, `h` is a file_handle with room for the
    // 128 bytes its handle_bytes announces, `mount_id` is a valid out-pointer.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_name_to_handle_at,
            libc::AT_FDCWD,
            c.as_ptr(),
            h.0.as_mut_ptr(),
            &mut mount_id as *mut libc::c_int,
            0,
        )
    };
    if rc == 0 {
        Ok(h)
    } else {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// `open_by_handle_at(fd of dir, handle, flags)`: the open file, or the errno.
fn open_by_handle(dir: &Path, h: &Handle, flags: libc::c_int) -> Result<OwnedFd, i32> {
    let mount = File::open(dir).unwrap();
    let mut h = Handle(h.0);
    // SAFETY: `mount` is an open fd for the call, `h` a file_handle as
    // name_to_handle_at filled it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            mount.as_raw_fd(),
            h.0.as_mut_ptr(),
            flags | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    // SAFETY: the kernel just returned this fd and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// The content of the file open as `fd`.
fn read_fd(fd: OwnedFd) -> String {
    let mut s = String::new();
    File::from(fd).read_to_string(&mut s).unwrap();
    s
}

/// The content of `name` in the directory open as `dir`.
fn read_in(dir: &OwnedFd, name: &str) -> String {
    let c = CString::new(name).unwrap();
    // SAFETY: `dir` is open and `c` NUL-terminated for the call.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    assert!(
        fd >= 0,
        "openat {name}: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a fresh fd nothing else owns.
    read_fd(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Drop clean dentries and inodes (the kernel forgets the mount's nodes it holds no
/// reference to).
fn drop_caches() {
    std::fs::write("/proc/sys/vm/drop_caches", "2\n").expect("write drop_caches (needs root)");
}

/// Drop caches until the daemon holds only `nodes` nodes (the kernel's FORGETs are
/// asynchronous); false if it never does.
fn evict_until(m: &Mounted, nodes: u64) -> bool {
    wait_until(Duration::from_secs(10), || {
        drop_caches();
        stat_number(&stats_of(&m.dir), "nodes") <= nodes
    })
}

/// Whether this kernel knows FUSE_NO_EXPORT_SUPPORT (Linux 6.9 and later).
fn kernel_refuses_handles() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-']);
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (6, 9)
}

/// The native passthrough over a fresh directory with `f` and `d/g`.
fn native_mount(backing: &TempDir) -> Option<Mounted> {
    std::fs::write(backing.join("f"), "data\n").unwrap();
    std::fs::create_dir(backing.join("d")).unwrap();
    std::fs::write(backing.join("d/g"), "deep\n").unwrap();
    mount_with(
        &test_script("native_passthrough.lua"),
        MountOptions::new().arg(backing.path()),
    )
}

/// drop_caches empties the backing filesystem's caches too, which decides what a remount
/// can find (see the remount test): the tests that drop caches take turns.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn needs_root() -> bool {
    if is_root() {
        return true;
    }
    if on_ci() {
        panic!("open_by_handle_at needs CAP_DAC_READ_SEARCH: run the tests as root");
    }
    eprintln!("skipped: open_by_handle_at and drop_caches need root");
    false
}

#[test]
fn handles_survive_cache_eviction() {
    if !needs_root() {
        return;
    }
    let _turn = one_at_a_time();
    let backing = TempDir::new("handles-evict");
    let Some(m) = native_mount(&backing) else {
        return;
    };
    let file = name_to_handle(&m.path("f")).expect("a handle for a file");
    let dir = name_to_handle(&m.path("d")).expect("a handle for a directory");
    let deep = name_to_handle(&m.path("d/g")).expect("a handle for a file in a directory");
    assert!(
        evict_until(&m, 1),
        "the kernel kept its nodes after drop_caches"
    );

    // Each handle finds its file again, though the daemon's tree had none of them.
    let fd = open_by_handle(&m.dir, &deep, libc::O_RDONLY).expect("d/g by handle");
    assert_eq!(read_fd(fd), "deep\n");
    assert!(evict_until(&m, 1));
    let fd = open_by_handle(&m.dir, &file, libc::O_RDONLY).expect("f by handle");
    assert_eq!(read_fd(fd), "data\n");
    let fd = open_by_handle(&m.dir, &dir, libc::O_RDONLY | libc::O_DIRECTORY).expect("d by handle");
    assert_eq!(read_in(&fd, "g"), "deep\n");
    drop(fd);

    // Looked up again by name (a lookup, then a listing with attributes) before the
    // handle is used: the node comes back with its old generation, which the kernel
    // checks against the handle's.
    assert!(evict_until(&m, 1));
    assert_eq!(m.sh("cat f"), "data\n");
    let fd = open_by_handle(&m.dir, &file, libc::O_RDONLY).expect("f by handle, looked up");
    assert_eq!(read_fd(fd), "data\n");
    assert!(evict_until(&m, 1));
    assert!(m.sh("ls -l d").contains(" g\n"));
    let fd = open_by_handle(&m.dir, &deep, libc::O_RDONLY).expect("d/g by handle, listed");
    assert_eq!(read_fd(fd), "deep\n");

    // The inode the handle opened is the one the name shows.
    let by_name = std::fs::metadata(m.path("f")).unwrap();
    let fd = open_by_handle(&m.dir, &file, libc::O_RDONLY).unwrap();
    let by_handle = File::from(fd).metadata().unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(by_handle.ino(), by_name.ino());
    m.unmount();
}

#[test]
fn handles_follow_renames_and_go_stale_on_unlink() {
    if !needs_root() {
        return;
    }
    let _turn = one_at_a_time();
    let backing = TempDir::new("handles-names");
    let Some(m) = native_mount(&backing) else {
        return;
    };
    let file = name_to_handle(&m.path("f")).unwrap();
    let deep = name_to_handle(&m.path("d/g")).unwrap();
    // Renamed while the kernel knows it, then evicted.
    m.sh("mv f f2");
    assert!(evict_until(&m, 1));
    let fd = open_by_handle(&m.dir, &file, libc::O_RDONLY).expect("renamed f by handle");
    assert_eq!(read_fd(fd), "data\n");
    // Renamed (into another directory) after the daemon forgot it: the backing handle
    // still finds it.
    assert!(evict_until(&m, 1));
    m.sh("mkdir e && mv d/g e/g2");
    assert!(evict_until(&m, 1));
    let fd = open_by_handle(&m.dir, &deep, libc::O_RDONLY).expect("moved d/g by handle");
    assert_eq!(read_fd(fd), "deep\n");

    // Hard-linked, then the name the handle was made from removed: the file lives on
    // under its other name, and so does the handle.
    m.sh("ln f2 h && rm f2");
    assert!(evict_until(&m, 1));
    let fd = open_by_handle(&m.dir, &file, libc::O_RDONLY).expect("hard-linked f by handle");
    assert_eq!(read_fd(fd), "data\n");
    m.sh("ln h f2 && rm h");

    // Unlinked: stale, whether the daemon still knew the node or had forgotten it.
    m.sh("rm f2");
    assert!(evict_until(&m, 1));
    assert_eq!(
        open_by_handle(&m.dir, &file, libc::O_RDONLY).err(),
        Some(libc::ESTALE)
    );
    assert!(evict_until(&m, 1));
    m.sh("rm e/g2");
    assert_eq!(
        open_by_handle(&m.dir, &deep, libc::O_RDONLY).err(),
        Some(libc::ESTALE)
    );
    // A new file in the old one's place (maybe its inode number too) is not it.
    m.sh("echo new > f3; echo new > e/g3");
    assert_eq!(
        open_by_handle(&m.dir, &file, libc::O_RDONLY).err(),
        Some(libc::ESTALE)
    );
    m.unmount();

    // The same sequence on the directory below answers the same.
    let plain = TempDir::new("handles-plain");
    std::fs::write(plain.join("f"), "data\n").unwrap();
    let h = name_to_handle(&plain.join("f")).unwrap();
    sh(plain.path(), "mv f f2");
    drop_caches();
    assert_eq!(
        read_fd(open_by_handle(plain.path(), &h, libc::O_RDONLY).unwrap()),
        "data\n"
    );
    sh(plain.path(), "rm f2");
    drop_caches();
    assert_eq!(
        open_by_handle(plain.path(), &h, libc::O_RDONLY).err(),
        Some(libc::ESTALE)
    );
}

/// Whether handles on the filesystem of `dir` are ext4's (inode number, generation).
fn numbered_handles(dir: &Path) -> bool {
    let h = name_to_handle(dir).unwrap();
    let bytes = u32::from_ne_bytes([h.0[0], h.0[1], h.0[2], h.0[3]]);
    let kind = i32::from_ne_bytes([h.0[4], h.0[5], h.0[6], h.0[7]]);
    (kind, bytes) == (1, 8)
}

#[test]
fn handles_survive_a_remount_where_the_backing_handle_is_a_number() {
    if !needs_root() {
        return;
    }
    let _turn = one_at_a_time();
    let backing = TempDir::new("handles-remount");
    if !numbered_handles(backing.path()) {
        eprintln!("skipped: the temporary directory's filesystem has no ext4-style handles");
        return;
    }
    let Some(m) = native_mount(&backing) else {
        return;
    };
    std::fs::write(backing.join("gone"), "x\n").unwrap();
    let file = name_to_handle(&m.path("f")).unwrap();
    let dir = name_to_handle(&m.path("d")).unwrap();
    let deep = name_to_handle(&m.path("d/g")).unwrap();
    let gone = name_to_handle(&m.path("gone")).unwrap();
    m.unmount();
    // While unmounted, one file goes and another (maybe with its inode number) comes.
    std::fs::remove_file(backing.join("gone")).unwrap();
    std::fs::write(backing.join("new"), "new\n").unwrap();

    let Some(m) = mount_with(
        &test_script("native_passthrough.lua"),
        MountOptions::new().arg(backing.path()),
    ) else {
        return;
    };
    // A new daemon remembers nothing: the inode numbers find the files.
    let fd = open_by_handle(&m.dir, &file, libc::O_RDONLY).expect("f by handle after remount");
    assert_eq!(read_fd(fd), "data\n");
    let fd = open_by_handle(&m.dir, &deep, libc::O_RDONLY).expect("d/g after remount");
    assert_eq!(read_fd(fd), "deep\n");
    assert!(evict_until(&m, 1));
    let fd = open_by_handle(&m.dir, &dir, libc::O_RDONLY | libc::O_DIRECTORY)
        .expect("d by handle after remount and eviction");
    assert_eq!(read_in(&fd, "g"), "deep\n");
    drop(fd);
    assert_eq!(
        open_by_handle(&m.dir, &gone, libc::O_RDONLY).err(),
        Some(libc::ESTALE),
        "a file removed while unmounted"
    );
    m.unmount();
}

#[test]
fn lua_handlers_refuse_handles_up_front() {
    if !kernel_refuses_handles() {
        eprintln!("skipped: this kernel has no FUSE_NO_EXPORT_SUPPORT (Linux < 6.9)");
        return;
    }
    let backing = TempDir::new("handles");
    std::fs::write(backing.join("f"), "data\n").unwrap();
    // The directory below gives handles: the difference is the mount's.
    assert!(name_to_handle(&backing.join("f")).is_ok());
    let Some(m) = mount_with(
        &test_script("lua_passthrough_overridden.lua"),
        MountOptions::new().arg(backing.path()),
    ) else {
        return;
    };
    assert_eq!(m.sh("cat f"), "data\n");
    assert_eq!(name_to_handle(&m.path("f")).err(), Some(libc::EOPNOTSUPP));
    assert_eq!(name_to_handle(&m.dir).err(), Some(libc::EOPNOTSUPP), "root");
    m.unmount();
}
