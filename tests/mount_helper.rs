//! flu as mount(8)'s helper: `mount -t fuse.flu SCRIPT DIR` and an fstab line of type
//! `fuse.flu` (from an alternative fstab, `mount -T FILE`), through a real
//! `/sbin/mount.fuse.flu` symlink to the flu under test. Needs root (mount(8) runs the
//! helper only for root here); the symlink is installed only if absent and removed
//! afterwards.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::*;

const HELPER: &str = "/sbin/mount.fuse.flu";

/// Both tests use the one helper path: one at a time.
static HELPER_LOCK: Mutex<()> = Mutex::new(());

/// `/sbin/mount.fuse.flu` → the flu under test, removed on drop if we made it.
struct HelperLink {
    installed: bool,
}

impl HelperLink {
    /// None: skip (not root, or another mount.fuse.flu is installed outside CI).
    fn install() -> Option<HelperLink> {
        if !is_root() {
            eprintln!("SKIPPED: mount(8) helpers are tested as root");
            return None;
        }
        match fs::read_link(HELPER) {
            Ok(target) if target == flu_bin() => return Some(HelperLink { installed: false }),
            Ok(_) | Err(_) if Path::new(HELPER).exists() => {
                let why = format!("{HELPER} exists and is not the flu under test");
                if on_ci() {
                    panic!("{why}");
                }
                eprintln!("SKIPPED: {why}");
                return None;
            }
            _ => {}
        }
        std::os::unix::fs::symlink(flu_bin(), HELPER)
            .unwrap_or_else(|e| panic!("cannot create {HELPER}: {e}"));
        Some(HelperLink { installed: true })
    }
}

impl Drop for HelperLink {
    fn drop(&mut self) {
        if self.installed {
            let _ = fs::remove_file(HELPER);
        }
    }
}

/// A mount made by mount(8): unmounted with umount(8) on drop (bounded), then forced.
struct HelperMount {
    dir: PathBuf,
}

impl Drop for HelperMount {
    fn drop(&mut self) {
        if is_mounted(&self.dir) {
            let _ = run_cmd(Command::new("umount").arg(&self.dir), EXIT_TIMEOUT);
        }
        force_unmount(&self.dir);
    }
}

/// Source and type of the mount on `dir`, from /proc/self/mountinfo.
fn source_and_type(dir: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let dash = f.iter().position(|x| *x == "-")?;
            let (mp, fstype, source) = (f.get(4)?, f.get(dash + 1)?, f.get(dash + 2)?);
            (Path::new(mp) == dir).then(|| (source.to_string(), fstype.to_string()))
        })
        .collect()
}

fn mount_failed(what: &str, r: &Run) -> ! {
    panic!(
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        r.status, r.stdout, r.stderr
    )
}

#[test]
fn mount_t_fuse_flu_mounts_and_umount_unmounts() {
    let _one = HELPER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(_link) = HelperLink::install() else {
        return;
    };
    let tmp = TempDir::new("helper");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let script = example("hellofs.lua");
    let log = tmp.join("flu.log");
    let opts = format!(
        "ro,noauto,nofail,_netdev,x-systemd.automount,log_file={}",
        log.display()
    );
    let r = run_cmd(
        Command::new("mount")
            .args(["-t", "fuse.flu"])
            .arg(&script)
            .arg(&dir)
            .args(["-o", &opts]),
        MOUNT_TIMEOUT,
    );
    let m = HelperMount { dir: dir.clone() };
    if !r.ok() {
        mount_failed("mount -t fuse.flu", &r);
    }
    assert_eq!(
        fs::read_to_string(dir.join("hello")).unwrap(),
        "Hello World!\n"
    );
    // The mount shows as the fstab line would name it, so mount -a and systemd know it.
    assert_eq!(
        source_and_type(&dir),
        [(script.display().to_string(), "fuse.flu".to_string())]
    );
    assert!(log.exists(), "log_file= became --log-file");
    let r = run_cmd(Command::new("umount").arg(&dir), EXIT_TIMEOUT);
    assert!(r.ok(), "umount: {}", r.stderr);
    assert!(wait_until(Duration::from_secs(5), || !is_mounted(&dir)));
    drop(m);
}

#[test]
fn an_fstab_line_mounts_with_script_arguments_and_mount_a_keeps_one_mount() {
    let _one = HELPER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(_link) = HelperLink::install() else {
        return;
    };
    let tmp = TempDir::new("fstab");
    let (dir, src) = (tmp.join("mnt"), tmp.join("src"));
    fs::create_dir(&dir).unwrap();
    fs::create_dir(&src).unwrap();
    fs::write(src.join("data.txt"), "from the source directory\n").unwrap();
    let fstab = tmp.join("fstab");
    fs::write(
        &fstab,
        format!(
            "# an alternative fstab for this test\n{} {} fuse.flu defaults,allow_other,nofail,script_arg={} 0 0\n",
            example("passthrough.lua").display(),
            dir.display(),
            src.display()
        ),
    )
    .unwrap();
    let r = run_cmd(
        Command::new("mount").arg("-T").arg(&fstab).arg(&dir),
        MOUNT_TIMEOUT,
    );
    let m = HelperMount { dir: dir.clone() };
    if !r.ok() {
        mount_failed("mount -T FSTAB DIR", &r);
    }
    assert_eq!(
        fs::read_to_string(dir.join("data.txt")).unwrap(),
        "from the source directory\n",
        "script_arg= reached the script as its argument"
    );
    // mount -a sees the line as mounted already: no second mount on top.
    let r = run_cmd(
        Command::new("mount").arg("-a").arg("-T").arg(&fstab),
        MOUNT_TIMEOUT,
    );
    assert!(r.ok(), "mount -a: {}", r.stderr);
    assert_eq!(
        source_and_type(&dir).len(),
        1,
        "{:?}",
        source_and_type(&dir)
    );
    let r = run_cmd(Command::new("umount").arg(&dir), EXIT_TIMEOUT);
    assert!(r.ok(), "umount: {}", r.stderr);
    assert!(wait_until(Duration::from_secs(5), || !is_mounted(&dir)));
    drop(m);
}

#[test]
fn a_bad_option_fails_the_mount_and_says_why() {
    let _one = HELPER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let Some(_link) = HelperLink::install() else {
        return;
    };
    let tmp = TempDir::new("helperbad");
    let dir = tmp.join("mnt");
    fs::create_dir(&dir).unwrap();
    let r = run_cmd(
        Command::new("mount")
            .args(["-t", "fuse.flu", "-o", "no_such_option"])
            .arg(example("hellofs.lua"))
            .arg(&dir),
        MOUNT_TIMEOUT,
    );
    let _m = HelperMount { dir: dir.clone() };
    assert!(!r.ok());
    assert!(r.stderr.contains("no_such_option"), "{}", r.stderr);
    assert!(!is_mounted(&dir));
}
