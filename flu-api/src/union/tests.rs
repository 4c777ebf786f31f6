//! Tests of the union over real temporary directories (passthrough layers): lookups
//! through layers, copy-up, whiteouts and opaque directories in both forms, merged
//! listings, rename.

use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use super::{Union, WhiteoutForm};
use crate::errno::Errno;
use crate::operations::*;
use crate::passthrough::{Passthrough, PassthroughOptions};
use crate::test_support::TempDir;

struct Fx {
    upper: TempDir,
    lower: TempDir,
    layers: Vec<Arc<dyn Operations>>,
    u: Union,
}

pub(super) fn ctx() -> RequestContext {
    RequestContext {
        uid: 0,
        gid: 0,
        pid: std::process::id(),
        umask: 0o022,
        unmasked_mode: None,
    }
}

pub(super) fn p(s: &str) -> &Path {
    Path::new(s)
}

impl Fx {
    fn new(form: Option<WhiteoutForm>) -> Fx {
        Fx::with(form, false)
    }

    fn with(form: Option<WhiteoutForm>, kernel_passthrough: bool) -> Fx {
        let upper = TempDir::new("union-up");
        let lower = TempDir::new("union-lo");
        std::fs::create_dir_all(lower.join("d/sub")).unwrap();
        std::fs::write(lower.join("d/f"), b"lower f").unwrap();
        std::fs::write(lower.join("d/sub/g"), b"g").unwrap();
        std::fs::write(lower.join("top"), b"top").unwrap();
        std::fs::set_permissions(lower.join("top"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::fs::create_dir(upper.join("d")).unwrap();
        std::fs::write(upper.join("d/mine"), b"mine").unwrap();
        let opts = PassthroughOptions {
            kernel_passthrough,
            create_as_caller: true,
        };
        let layers: Vec<Arc<dyn Operations>> = vec![
            Arc::new(Passthrough::new(upper.path(), opts).unwrap()),
            Arc::new(Passthrough::new(lower.path(), opts).unwrap()),
        ];
        let u = match form {
            None => Union::new(layers[0].clone(), vec![layers[1].clone()]),
            Some(f) => Union::with_whiteout_form(layers[0].clone(), vec![layers[1].clone()], f),
        };
        Fx {
            upper,
            lower,
            layers,
            u,
        }
    }

    fn names(&self, dir: &str) -> Vec<String> {
        let o = self.u.opendir(&ctx(), p(dir), 0).unwrap();
        let mut names: Vec<String> = self
            .u
            .readdir(&ctx(), p(dir), Fh(o.fh))
            .unwrap()
            .into_iter()
            .map(|e| e.name.to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        self.u.releasedir(&ctx(), p(dir), Fh(o.fh)).unwrap();
        names.sort();
        names
    }

    fn read(&self, path: &str) -> Vec<u8> {
        let o = self.u.open(&ctx(), p(path), libc::O_RDONLY).unwrap();
        let data = self.u.read(&ctx(), p(path), Fh(o.fh), 0, 4096).unwrap();
        self.u.release(&ctx(), p(path), Fh(o.fh), 0, false).unwrap();
        data
    }

    fn write(&self, path: &str, data: &[u8]) {
        let o = self
            .u
            .open(&ctx(), p(path), libc::O_WRONLY | libc::O_TRUNC)
            .unwrap();
        self.u.write(&ctx(), p(path), Fh(o.fh), 0, data).unwrap();
        self.u.release(&ctx(), p(path), Fh(o.fh), 0, true).unwrap();
    }

    fn upper_is_device_whiteout(&self, path: &str) -> bool {
        std::fs::symlink_metadata(self.upper.join(path))
            .map(|m| m.file_type().is_char_device() && m.rdev() == 0)
            .unwrap_or(false)
    }

    fn upper_opaque_xattr(&self, path: &str) -> Option<Vec<u8>> {
        self.layers[0]
            .getxattr(&ctx(), p(path), OsStr::new("trusted.overlay.opaque"), None)
            .ok()
    }
}

#[test]
fn reads_fall_through_and_directories_merge() {
    let fx = Fx::new(None);
    assert_eq!(fx.read("/d/f"), b"lower f");
    assert_eq!(fx.read("/d/mine"), b"mine");
    assert_eq!(fx.names("/d"), ["f", "mine", "sub"]);
    assert_eq!(fx.names("/"), ["d", "top"]);
    let st = fx.u.getattr(&ctx(), p("/d"), None).unwrap();
    assert!(st.is_dir());
    assert_eq!(st.nlink, 1, "a merged directory");
    assert_eq!(fx.u.getattr(&ctx(), p("/nope"), None), Err(Errno::ENOENT));
    assert_eq!(fx.u.getattr(&ctx(), p("/top/x"), None), Err(Errno::ENOTDIR));
    // Reading left the file where it was.
    assert!(!fx.upper.join("d/f").exists());
}

#[test]
fn writing_copies_up_data_mode_and_parents() {
    let fx = Fx::new(None);
    fx.write("/d/sub/g", b"new");
    assert_eq!(fx.read("/d/sub/g"), b"new");
    assert_eq!(std::fs::read(fx.lower.join("d/sub/g")).unwrap(), b"g");
    assert_eq!(std::fs::read(fx.upper.join("d/sub/g")).unwrap(), b"new");
    fx.u.chmod(&ctx(), p("/top"), 0o600, None).unwrap();
    let m = std::fs::metadata(fx.upper.join("top")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o600);
    assert_eq!(std::fs::read(fx.upper.join("top")).unwrap(), b"top");
    let lower_mtime = std::fs::metadata(fx.lower.join("top")).unwrap().mtime();
    assert_eq!(m.mtime(), lower_mtime, "times copied");
    fx.u.truncate(&ctx(), p("/d/f"), 2, None).unwrap();
    assert_eq!(fx.read("/d/f"), b"lo");
    // Copies are made under a private name and renamed: none is left, none shows.
    let left: Vec<_> = std::fs::read_dir(fx.upper.join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".wh."))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::write(fx.upper.join("d/.wh..wh.copy.9"), b"").unwrap();
    assert_eq!(fx.names("/d"), ["f", "mine", "sub"]);
    assert_eq!(
        fx.u.getattr(&ctx(), p("/d/.wh..wh.copy.9"), None),
        Err(Errno::ENOENT)
    );
}

#[test]
fn unlink_and_rmdir_of_lower_names_leave_device_whiteouts() {
    let fx = Fx::new(None);
    fx.u.unlink(&ctx(), p("/d/f")).unwrap();
    assert!(fx.upper_is_device_whiteout("d/f"));
    assert_eq!(fx.u.getattr(&ctx(), p("/d/f"), None), Err(Errno::ENOENT));
    assert_eq!(fx.names("/d"), ["mine", "sub"]);
    assert_eq!(fx.u.rmdir(&ctx(), p("/d/sub")), Err(Errno::ENOTEMPTY));
    fx.u.unlink(&ctx(), p("/d/sub/g")).unwrap();
    fx.u.rmdir(&ctx(), p("/d/sub")).unwrap();
    assert!(fx.upper_is_device_whiteout("d/sub"));
    // A new directory there is opaque: the lower's old contents stay hidden.
    fx.u.mkdir(&ctx(), p("/d/sub"), 0o755).unwrap();
    assert_eq!(fx.upper_opaque_xattr("/d/sub").as_deref(), Some(&b"y"[..]));
    assert!(fx.names("/d/sub").is_empty());
    // A new file over a whiteout.
    let o =
        fx.u.create(&ctx(), p("/d/f"), libc::S_IFREG | 0o644, libc::O_WRONLY)
            .unwrap();
    fx.u.release(&ctx(), p("/d/f"), Fh(o.fh), 0, true).unwrap();
    assert_eq!(fx.read("/d/f"), b"");
    assert_eq!(fx.u.unlink(&ctx(), p("/d")), Err(Errno::EISDIR));
}

#[test]
fn rename_copies_files_up_and_refuses_lower_directories() {
    let fx = Fx::new(None);
    fx.u.rename(&ctx(), p("/top"), p("/d/moved"), 0).unwrap();
    assert!(fx.upper_is_device_whiteout("top"));
    assert_eq!(fx.read("/d/moved"), b"top");
    assert_eq!(
        fx.u.rename(&ctx(), p("/d/sub"), p("/x"), 0),
        Err(Errno::EXDEV)
    );
    assert_eq!(fx.u.rename(&ctx(), p("/d"), p("/x"), 0), Err(Errno::EXDEV));
    // A directory only the upper has moves.
    fx.u.mkdir(&ctx(), p("/new"), 0o755).unwrap();
    fx.u.rename(&ctx(), p("/new"), p("/d/new2"), 0).unwrap();
    assert_eq!(fx.names("/d"), ["f", "mine", "moved", "new2", "sub"]);
    assert_eq!(
        fx.u.rename(&ctx(), p("/d/mine"), p("/d/f"), libc::RENAME_NOREPLACE),
        Err(Errno::EEXIST)
    );
}

#[test]
fn the_hidden_form_keeps_whiteouts_as_files() {
    let fx = Fx::new(Some(WhiteoutForm::Hidden));
    fx.u.unlink(&ctx(), p("/d/f")).unwrap();
    assert!(fx.upper.join("d/.wh.f").is_file());
    assert_eq!(fx.u.getattr(&ctx(), p("/d/f"), None), Err(Errno::ENOENT));
    assert_eq!(fx.names("/d"), ["mine", "sub"]);
    assert_eq!(
        fx.u.getattr(&ctx(), p("/d/.wh.f"), None),
        Err(Errno::ENOENT)
    );
    assert_eq!(fx.u.mkdir(&ctx(), p("/d/.wh.x"), 0o755), Err(Errno::EPERM));
    fx.u.unlink(&ctx(), p("/d/sub/g")).unwrap();
    fx.u.rmdir(&ctx(), p("/d/sub")).unwrap();
    assert!(fx.upper.join("d/.wh.sub").is_file());
    fx.u.mkdir(&ctx(), p("/d/sub"), 0o755).unwrap();
    assert!(!fx.upper.join("d/.wh.sub").exists());
    assert!(fx.upper.join("d/sub/.wh..wh..opq").is_file());
    assert!(fx.names("/d/sub").is_empty());
    // Removing the opaque directory again clears its marker first.
    fx.u.rmdir(&ctx(), p("/d/sub")).unwrap();
    assert!(fx.upper.join("d/.wh.sub").is_file());
    assert_eq!(fx.names("/d"), ["mine"]);
}

#[test]
fn handles_pass_through_to_their_layer() {
    let fx = Fx::new(None);
    let o = fx.u.open(&ctx(), p("/d/f"), libc::O_RDONLY).unwrap();
    assert_eq!(
        fx.u.read(&ctx(), p("/d/f"), Fh(o.fh), 0, 5).unwrap(),
        b"lower"
    );
    // Written meanwhile: the copy is the upper's, the old handle reads the lower.
    fx.write("/d/f", b"upper");
    assert_eq!(
        fx.u.read(&ctx(), p("/d/f"), Fh(o.fh), 0, 5).unwrap(),
        b"lower"
    );
    fx.u.release(&ctx(), p("/d/f"), Fh(o.fh), 0, false).unwrap();
    assert_eq!(
        fx.u.read(&ctx(), p("/d/f"), Fh(o.fh), 0, 5),
        Err(Errno::EBADF)
    );
    assert_eq!(fx.read("/d/f"), b"upper");
}

#[test]
fn only_upper_files_keep_kernel_passthrough() {
    let fx = Fx::with(None, true);
    let c = ctx();
    let ro = fx.u.open(&c, p("/d/f"), libc::O_RDONLY).unwrap();
    assert_eq!(
        ro.backing_fd, None,
        "a lower file may be copied up while open"
    );
    let rw = fx.u.open(&c, p("/d/f"), libc::O_RDWR).unwrap();
    assert!(rw.backing_fd.is_some(), "the upper copy's own");
    fx.u.write(&c, p("/d/f"), Fh(rw.fh), 0, b"UPPER").unwrap();
    assert_eq!(fx.u.read(&c, p("/d/f"), Fh(ro.fh), 0, 5).unwrap(), b"lower");
    for o in [ro, rw] {
        fx.u.release(&c, p("/d/f"), Fh(o.fh), 0, false).unwrap();
    }
    assert_eq!(std::fs::read(fx.lower.join("d/f")).unwrap(), b"lower f");
    assert_eq!(std::fs::read(fx.upper.join("d/f")).unwrap(), b"UPPER f");
}

#[test]
fn the_whiteout_form_follows_the_layer() {
    assert_eq!(
        WhiteoutForm::of(&Unimplemented),
        WhiteoutForm::Hidden,
        "a table"
    );
    let d = TempDir::new("union-form");
    let pt = Passthrough::new(d.path(), PassthroughOptions::default()).unwrap();
    assert_eq!(
        WhiteoutForm::of(&pt),
        WhiteoutForm::Overlay,
        "a real directory"
    );
}

#[test]
fn removing_a_copied_up_name_swaps_a_whiteout_in() {
    let fx = Fx::new(None);
    fx.write("/d/f", b"copied");
    fx.u.unlink(&ctx(), p("/d/f")).unwrap();
    assert!(fx.upper_is_device_whiteout("d/f"));
    fx.u.chmod(&ctx(), p("/d/sub"), 0o700, None).unwrap();
    fx.u.unlink(&ctx(), p("/d/sub/g")).unwrap();
    assert!(fx.upper_is_device_whiteout("d/sub/g"));
    fx.u.rmdir(&ctx(), p("/d/sub")).unwrap();
    assert!(fx.upper_is_device_whiteout("d/sub"));
    let mut left: Vec<_> = std::fs::read_dir(fx.upper.join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["f", "mine", "sub"], "no private name left");
    assert_eq!(fx.names("/d"), ["mine"]);
}
