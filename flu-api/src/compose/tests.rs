//! The router over real directories (native passthroughs), without a kernel: routing
//! by longest prefix, paths relative to mount points, made-up directories, EBUSY on
//! mount points, EXDEV between backends, handles per backend.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use super::{Composite, Target};
use crate::errno::Errno;
use crate::operations::{AttrOps, DirOps, Fh, FileOps, NameOps, Operations, RequestContext};
use crate::passthrough::{Passthrough, PassthroughOptions};
use crate::test_support::TempDir;

fn passthrough(dir: &Path) -> Target {
    let options = PassthroughOptions {
        kernel_passthrough: false,
        create_as_caller: false,
    };
    Target::Backend(Arc::new(Passthrough::new(dir, options).unwrap()) as Arc<dyn Operations>)
}

fn ctx() -> RequestContext {
    RequestContext {
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        ..RequestContext::default()
    }
}

fn names(c: &Composite, path: &str) -> Vec<OsString> {
    let p = Path::new(path);
    let opened = c.opendir(&ctx(), p, libc::O_RDONLY).unwrap();
    let fh = Fh(opened.fh);
    let mut names: Vec<OsString> = c
        .readdir(&ctx(), p, fh)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n != "." && n != "..")
        .collect();
    c.releasedir(&ctx(), p, fh).unwrap();
    names.sort();
    names
}

struct Trees {
    root: TempDir,
    real: TempDir,
    deep: TempDir,
}

fn trees() -> (Trees, Composite) {
    let t = Trees {
        root: TempDir::new("compose-root"),
        real: TempDir::new("compose-real"),
        deep: TempDir::new("compose-deep"),
    };
    std::fs::write(t.root.join("top"), "top\n").unwrap();
    std::fs::write(t.real.join("f"), "real f\n").unwrap();
    std::fs::create_dir(t.real.join("sub")).unwrap();
    std::fs::write(t.deep.join("g"), "deep g\n").unwrap();
    let c = Composite::new(vec![
        (b"/".to_vec(), passthrough(t.root.path())),
        (b"/real/".to_vec(), passthrough(t.real.path())),
        (b"/x/y/deep".to_vec(), passthrough(t.deep.path())),
    ])
    .unwrap();
    (t, c)
}

fn read_all(c: &Composite, path: &str) -> Vec<u8> {
    let p = Path::new(path);
    let o = c.open(&ctx(), p, libc::O_RDONLY).unwrap();
    let data = c.read(&ctx(), p, Fh(o.fh), 0, 4096).unwrap();
    c.release(&ctx(), p, Fh(o.fh), libc::O_RDONLY, false)
        .unwrap();
    data
}

#[test]
fn each_path_goes_to_the_longest_prefix_relative_to_its_mount_point() {
    let (_t, c) = trees();
    assert_eq!(read_all(&c, "/top"), b"top\n");
    assert_eq!(read_all(&c, "/real/f"), b"real f\n");
    assert_eq!(read_all(&c, "/x/y/deep/g"), b"deep g\n");
    assert!(c
        .getattr(&ctx(), Path::new("/real/sub"), None)
        .unwrap()
        .is_dir());
    assert_eq!(
        c.getattr(&ctx(), Path::new("/f"), None),
        Err(Errno::ENOENT),
        "the root backend has no f"
    );
}

#[test]
fn mount_points_and_the_way_to_them_are_listed_directories() {
    let (_t, c) = trees();
    assert_eq!(names(&c, "/"), ["real", "top", "x"]);
    assert_eq!(names(&c, "/x"), ["y"]);
    assert_eq!(names(&c, "/x/y"), ["deep"]);
    assert_eq!(names(&c, "/real"), ["f", "sub"]);
    for dir in ["/x", "/x/y", "/x/y/deep", "/real"] {
        assert!(
            c.getattr(&ctx(), Path::new(dir), None).unwrap().is_dir(),
            "{dir}"
        );
    }
}

#[test]
fn mount_points_cannot_be_removed_or_moved() {
    let (t, c) = trees();
    let ctx = ctx();
    assert_eq!(c.rmdir(&ctx, Path::new("/real")), Err(Errno::EBUSY));
    assert_eq!(c.rmdir(&ctx, Path::new("/x")), Err(Errno::EBUSY));
    assert_eq!(c.unlink(&ctx, Path::new("/x/y/deep")), Err(Errno::EBUSY));
    assert_eq!(
        c.rename(&ctx, Path::new("/real"), Path::new("/moved"), 0),
        Err(Errno::EBUSY)
    );
    assert_eq!(
        c.rename(&ctx, Path::new("/top"), Path::new("/real"), 0),
        Err(Errno::EBUSY)
    );
    assert_eq!(c.mkdir(&ctx, Path::new("/x"), 0o755), Err(Errno::EEXIST));
    assert!(t.real.path().exists());
}

#[test]
fn names_never_move_or_link_between_backends() {
    let (t, c) = trees();
    let ctx = ctx();
    assert_eq!(
        c.rename(&ctx, Path::new("/top"), Path::new("/real/top"), 0),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        c.link(&ctx, Path::new("/real/f"), Path::new("/f2")),
        Err(Errno::EXDEV)
    );
    // Within one backend they do.
    c.rename(&ctx, Path::new("/real/f"), Path::new("/real/sub/f"), 0)
        .unwrap();
    assert!(t.real.join("sub/f").exists());
    c.link(&ctx, Path::new("/real/sub/f"), Path::new("/real/again"))
        .unwrap();
    assert!(t.real.join("again").exists());
}

#[test]
fn creation_lands_in_the_owning_backend() {
    let (t, c) = trees();
    let ctx = ctx();
    let p = Path::new("/real/new");
    let o = c.create(&ctx, p, 0o644, libc::O_WRONLY).unwrap();
    assert_eq!(c.write(&ctx, p, Fh(o.fh), 0, b"hello").unwrap(), 5);
    c.release(&ctx, p, Fh(o.fh), libc::O_WRONLY, true).unwrap();
    assert_eq!(std::fs::read(t.real.join("new")).unwrap(), b"hello");
    c.mkdir(&ctx, Path::new("/x/y/deep/d"), 0o755).unwrap();
    assert!(t.deep.join("d").is_dir());
    // The made-up directories belong to no backend: there is nowhere to write.
    assert_eq!(
        c.mkdir(&ctx, Path::new("/x/y/z"), 0o755),
        Err(Errno::ENOENT),
        "the root backend has no /x/y"
    );
}

#[test]
fn handles_stand_for_their_backends_handles() {
    let (_t, c) = trees();
    let ctx = ctx();
    let a = c.open(&ctx, Path::new("/top"), libc::O_RDONLY).unwrap();
    let b = c.open(&ctx, Path::new("/real/f"), libc::O_RDONLY).unwrap();
    assert_ne!(a.fh, b.fh);
    assert_eq!(
        c.read(&ctx, Path::new("/real/f"), Fh(b.fh), 5, 10).unwrap(),
        b"f\n"
    );
    assert_eq!(
        c.read(&ctx, Path::new("/top"), Fh(a.fh), 0, 10).unwrap(),
        b"top\n"
    );
    c.release(&ctx, Path::new("/top"), Fh(a.fh), 0, false)
        .unwrap();
    assert_eq!(
        c.read(&ctx, Path::new("/top"), Fh(a.fh), 0, 10),
        Err(Errno::EBADF),
        "a released handle is gone"
    );
    c.release(&ctx, Path::new("/real/f"), Fh(b.fh), 0, false)
        .unwrap();
}

#[test]
fn without_a_root_backend_the_root_is_made_up_and_read_only() {
    let real = TempDir::new("compose-only");
    std::fs::write(real.join("f"), "x").unwrap();
    let c = Composite::new(vec![(b"/only".to_vec(), passthrough(real.path()))]).unwrap();
    assert!(c.getattr(&ctx(), Path::new("/"), None).unwrap().is_dir());
    assert_eq!(names(&c, "/"), ["only"]);
    assert_eq!(
        c.getattr(&ctx(), Path::new("/nope"), None),
        Err(Errno::ENOENT)
    );
    assert_eq!(c.mkdir(&ctx(), Path::new("/new"), 0o755), Err(Errno::EROFS));
    assert_eq!(read_all(&c, "/only/f"), b"x");
}

#[test]
fn bad_compositions_are_refused_with_a_reason() {
    let d = TempDir::new("compose-bad");
    let err = |mounts: Vec<(Vec<u8>, Target)>| Composite::new(mounts).err().unwrap();
    assert!(err(vec![]).contains("at least one"));
    assert!(err(vec![(b"rel".to_vec(), passthrough(d.path()))]).contains("absolute"));
    assert!(err(vec![
        (b"/a".to_vec(), passthrough(d.path())),
        (b"/a/".to_vec(), passthrough(d.path())),
    ])
    .contains("twice"));
}

/// What routing costs per call, beside the backend's own work (printed, not asserted:
/// `cargo test --release -p flu-api compose::tests::costs -- --ignored --nocapture`).
#[test]
#[ignore]
fn costs() {
    let (t, c) = trees();
    let direct = Passthrough::new(
        t.real.path(),
        PassthroughOptions {
            kernel_passthrough: false,
            create_as_caller: false,
        },
    )
    .unwrap();
    let n = 200_000u32;
    let ns_per = |f: &mut dyn FnMut()| {
        let start = std::time::Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed().as_nanos() / u128::from(n)
    };
    let ctx = ctx();
    let plain = ns_per(&mut || {
        direct.getattr(&ctx, Path::new("/f"), None).unwrap();
    });
    let routed = ns_per(&mut || {
        c.getattr(&ctx, Path::new("/real/f"), None).unwrap();
    });
    println!("getattr: {plain} ns directly, {routed} ns through the composition");
    let o = direct.open(&ctx, Path::new("/f"), libc::O_RDONLY).unwrap();
    let plain = ns_per(&mut || {
        direct.read(&ctx, Path::new("/f"), Fh(o.fh), 0, 16).unwrap();
    });
    let o = c.open(&ctx, Path::new("/real/f"), libc::O_RDONLY).unwrap();
    let routed = ns_per(&mut || {
        c.read(&ctx, Path::new("/real/f"), Fh(o.fh), 0, 16).unwrap();
    });
    println!("read 16 B: {plain} ns directly, {routed} ns through the composition");
}
