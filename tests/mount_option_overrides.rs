//! `-o uid=,gid=,umask=` (every reply shows that owner, group and permissions, as in
//! libfuse's high-level API) and `-o max_read=` (the kernel sends no larger read), on
//! real mounts, each against a mount without the option as control.

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;

use common::*;

fn probe() -> std::path::PathBuf {
    test_script("attr_probe.lua")
}

/// (uid, gid, mode) of `path`.
fn owner_and_mode(path: &std::path::Path) -> (u32, u32, u32) {
    let st = fs::symlink_metadata(path).unwrap();
    (st.uid(), st.gid(), st.mode())
}

#[test]
fn uid_gid_and_umask_override_what_the_script_says() {
    let Some(plain) = mount(&probe()) else {
        return;
    };
    assert_eq!(
        owner_and_mode(&plain.dir),
        (4242, 4343, libc::S_IFDIR | 0o4750)
    );
    assert_eq!(
        owner_and_mode(&plain.path("big")),
        (4242, 4343, libc::S_IFREG | 0o4644)
    );
    drop(plain);

    let opts = MountOptions::new().opt("uid=1234,gid=5678,umask=027");
    let Some(m) = mount_with(&probe(), opts) else {
        return;
    };
    // getattr of the root, lookup + getattr of a file, and the listing's entries
    // (readdirplus) all show the override; the file type stays, setuid goes.
    assert_eq!(owner_and_mode(&m.dir), (1234, 5678, libc::S_IFDIR | 0o750));
    assert_eq!(
        owner_and_mode(&m.path("big")),
        (1234, 5678, libc::S_IFREG | 0o750)
    );
    let listing = m.sh("ls -ln | sed 1d | awk '{print $1, $3, $4, $9}'");
    assert_eq!(
        listing,
        "-rwxr-x--- 1234 5678 big\n-rwxr-x--- 1234 5678 largest_read\n"
    );
    // Content is the script's, untouched.
    assert_eq!(fs::read(m.path("largest_read")).unwrap().len(), 16);
}

#[test]
fn umask_alone_keeps_the_owner() {
    let Some(m) = mount_with(&probe(), MountOptions::new().opt("umask=0222")) else {
        return;
    };
    assert_eq!(owner_and_mode(&m.dir), (4242, 4343, libc::S_IFDIR | 0o555));
}

/// The largest read `/big` saw after reading it whole in 1 MiB chunks.
fn largest_read(m: &Mounted) -> usize {
    let mut f = fs::File::open(m.path("big")).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 4 << 20);
    let text = fs::read_to_string(m.path("largest_read")).unwrap();
    text.trim().parse().unwrap()
}

#[test]
fn max_read_caps_the_reads_the_kernel_sends() {
    // direct_io: each read(2) goes to the daemon as it is, so only max_read limits it.
    let Some(plain) = mount_with(&probe(), MountOptions::new().opt("direct_io")) else {
        return;
    };
    let uncapped = largest_read(&plain);
    assert!(
        uncapped > 16384,
        "without max_read, reads of {uncapped} bytes"
    );
    drop(plain);

    let Some(m) = mount_with(&probe(), MountOptions::new().opt("direct_io,max_read=16k")) else {
        return;
    };
    let capped = largest_read(&m);
    assert!(
        capped > 0 && capped <= 16384,
        "with max_read=16k, reads of {capped} bytes"
    );
    assert!(
        fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.contains(m.dir.to_str().unwrap()) && l.contains("max_read=16384")),
        "the kernel took the option"
    );
}

#[test]
fn bad_values_are_refused_with_the_option_named() {
    let dir = TempDir::new("badopt");
    for (opt, needle) in [
        ("umask=999", "umask="),
        ("uid=no-such-user-here", "uid="),
        ("max_read=lots", "max_read="),
    ] {
        let r = run_cmd(
            std::process::Command::new(flu_bin())
                .arg("mount")
                .arg(probe())
                .arg(dir.path())
                .args(["-o", opt]),
            COMMAND_TIMEOUT,
        );
        assert!(!r.ok(), "{opt} accepted");
        assert!(r.stderr.contains(needle), "{opt}: {}", r.stderr);
        assert!(!is_mounted(dir.path()));
    }
}
