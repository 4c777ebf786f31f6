//! `flu.union` (examples/unionfs.lua) against the kernel's overlayfs: the same trees,
//! the same operations on a flu mount and on `mount -t overlay`, then what a user sees
//! (a walk of the tree: types, modes, contents, link targets; each operation's errno)
//! and what the upper directories hold (copies, 0/0 character-device whiteouts,
//! `trusted.overlay.opaque` directories) compared. Last, the flu union's own upper and
//! lower are mounted with overlayfs and must show the same tree.

mod common;
mod union_harness;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use union_harness::*;

#[test]
fn copy_up_on_write_chmod_and_truncate() {
    let Some(p) = Pair::new("union-copyup") else {
        return;
    };
    p.same("mounting");
    p.both("read a lower file", |m| {
        errno(fs::read(m.join("d/f")).map(drop))
    })
    .unwrap();
    p.same("reading (nothing copied up)");
    p.both("append to a lower file", |m| {
        errno(append(&m.join("d/f"), b"more\n"))
    })
    .unwrap();
    p.both("write a deep lower file", |m| {
        errno(write_at_start(&m.join("d/sub/deep/h"), b"H"))
    })
    .unwrap();
    p.both("chmod a lower file", |m| {
        errno(fs::set_permissions(
            m.join("top"),
            fs::Permissions::from_mode(0o600),
        ))
    })
    .unwrap();
    p.both("truncate a lower file", |m| {
        errno(truncate(&m.join("e/x/y"), 0))
    })
    .unwrap();
    p.both("chmod a lower directory", |m| {
        errno(fs::set_permissions(
            m.join("empty"),
            fs::Permissions::from_mode(0o700),
        ))
    })
    .unwrap();
    p.both("write a read-only file (root may)", |m| {
        errno(append(&m.join("ro"), b"!"))
    })
    .unwrap();
    p.both("chmod a file of another owner", |m| {
        errno(fs::set_permissions(
            m.join("d/sub/g"),
            fs::Permissions::from_mode(0o604),
        ))
    })
    .unwrap();
    p.same("copy-ups");
    // What the comparison covers, said once more on flu's upper.
    let up = &p.flu.upper;
    assert_eq!(
        xattr(&up.join("top"), b"user.tag").as_deref(),
        Some(&b"v"[..])
    );
    let g = fs::metadata(up.join("d/sub/g")).unwrap();
    assert_eq!((g.uid(), g.gid()), (1234, 5678));
    let sub = fs::metadata(up.join("d/sub")).unwrap();
    assert_eq!((sub.uid(), sub.gid()), (4321, 8765), "a parent copied up");
    assert_eq!(
        fs::read(p.flu.lowers[0].join("d/f")).unwrap(),
        b"lower f\n",
        "lower untouched"
    );
}

#[test]
fn unlink_rmdir_and_recreating_leave_whiteouts_and_opaque_dirs() {
    let Some(p) = Pair::new("union-whiteout") else {
        return;
    };
    p.both("unlink a lower file", |m| {
        errno(fs::remove_file(m.join("d/f")))
    })
    .unwrap();
    p.both("unlink the upper's own file", |m| {
        errno(fs::remove_file(m.join("d/mine")))
    })
    .unwrap();
    p.both("unlink a lower symlink", |m| {
        errno(fs::remove_file(m.join("link")))
    })
    .unwrap();
    let _ = p.both("rmdir a full merged dir", |m| {
        errno(fs::remove_dir(m.join("d")))
    });
    let _ = p.both("rmdir a full lower dir", |m| {
        errno(fs::remove_dir(m.join("e")))
    });
    let _ = p.both("unlink a directory", |m| {
        errno(fs::remove_file(m.join("e")))
    });
    let _ = p.both("rmdir a file", |m| errno(fs::remove_dir(m.join("top"))));
    let _ = p.both("unlink a missing name", |m| {
        errno(fs::remove_file(m.join("d/f")))
    });
    p.same("unlinks");
    p.both("rmdir an empty lower dir", |m| {
        errno(fs::remove_dir(m.join("empty")))
    })
    .unwrap();
    p.both("rm -r a lower tree", |m| {
        errno(fs::remove_dir_all(m.join("e")))
    })
    .unwrap();
    p.same("rmdirs");
    p.both("mkdir over a whiteout", |m| {
        errno(fs::create_dir(m.join("e")))
    })
    .unwrap();
    p.both("a file in it", |m| {
        errno(create_new(&m.join("e/new"), b"n"))
    })
    .unwrap();
    p.both("a file over a whiteout", |m| {
        errno(create_new(&m.join("d/f"), b"again"))
    })
    .unwrap();
    p.both("a symlink over a whiteout", |m| {
        errno(symlink("top", m.join("link")))
    })
    .unwrap();
    p.both("mkdir in a merged dir", |m| {
        errno(fs::create_dir(m.join("d/newdir")))
    })
    .unwrap();
    let _ = p.both("mkdir an existing name", |m| {
        errno(fs::create_dir(m.join("d/sub")))
    });
    let r = p.both("mknod a 0/0 device (a whiteout by hand)", |m| {
        mknod(&m.join("d/dev"), libc::S_IFCHR | 0o600, 0)
    });
    assert_eq!(r, Err(libc::EPERM));
    p.both("mknod a fifo", |m| {
        mknod(&m.join("d/fifo"), libc::S_IFIFO | 0o640, 0)
    })
    .unwrap();
    p.same("recreating");
}

#[test]
fn merged_readdir_hides_whiteouts() {
    let Some(p) = Pair::new("union-readdir") else {
        return;
    };
    p.both("unlink", |m| errno(fs::remove_file(m.join("d/sub/g"))))
        .unwrap();
    p.both("create", |m| errno(create_new(&m.join("d/sub/n"), b"")))
        .unwrap();
    let listing = |m: &Path, d: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(m.join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    for d in ["", "d", "d/sub", "up"] {
        assert_eq!(
            listing(&p.flu.mnt, d),
            listing(&p.ovl.mnt, d),
            "listing of /{d}"
        );
    }
    assert_eq!(listing(&p.flu.mnt, "d"), ["f", "mine", "sub"]);
    assert_eq!(listing(&p.flu.mnt, "d/sub"), ["deep", "n"]);
    // `.` and `..` are there, as ls -a shows them.
    let out = common::sh(&p.flu.mnt, "ls -a d | head -2");
    assert_eq!(out, ".\n..\n");
}

#[test]
fn rename_within_the_union() {
    let Some(p) = Pair::new("union-rename") else {
        return;
    };
    p.both("rename a lower file", |m| {
        errno(fs::rename(m.join("top"), m.join("d/top2")))
    })
    .unwrap();
    p.both("rename an upper file", |m| {
        errno(fs::rename(m.join("d/mine"), m.join("mine")))
    })
    .unwrap();
    p.both("rename over a lower file", |m| {
        errno(fs::rename(m.join("mine"), m.join("d/f")))
    })
    .unwrap();
    p.both("rename a lower symlink", |m| {
        errno(fs::rename(m.join("link"), m.join("up/link")))
    })
    .unwrap();
    p.same("file renames");
    let r = p.both("rename a lower dir", |m| {
        errno(fs::rename(m.join("e"), m.join("e2")))
    });
    assert_eq!(r, Err(libc::EXDEV));
    let r = p.both("rename a merged dir", |m| {
        errno(fs::rename(m.join("d"), m.join("d2")))
    });
    assert_eq!(r, Err(libc::EXDEV));
    p.both("rename an upper-only dir into a merged one", |m| {
        errno(fs::rename(m.join("up"), m.join("d/up")))
    })
    .unwrap();
    p.both("mkdir", |m| errno(fs::create_dir(m.join("fresh"))))
        .unwrap();
    p.both("rename a new dir over an empty lower dir", |m| {
        errno(fs::rename(m.join("fresh"), m.join("empty")))
    })
    .unwrap();
    p.same("dir renames");
    // mv falls back to copying a lower directory, on both.
    common::sh(&p.flu.mnt, "mv e e2");
    common::sh(&p.ovl.mnt, "mv e e2");
    p.same("mv of a lower directory");
}

#[test]
fn rename_noreplace_and_exchange() {
    let Some(p) = Pair::new("union-exchange") else {
        return;
    };
    let cases: [(&str, &str, &str, u32); 7] = [
        (
            "noreplace onto a lower file",
            "d/mine",
            "top",
            libc::RENAME_NOREPLACE,
        ),
        (
            "noreplace onto a whiteout",
            "d/mine",
            "gone",
            libc::RENAME_NOREPLACE,
        ),
        (
            "exchange a lower and an upper file",
            "top",
            "gone",
            libc::RENAME_EXCHANGE,
        ),
        (
            "exchange two lower files",
            "d/f",
            "ro",
            libc::RENAME_EXCHANGE,
        ),
        (
            "exchange with a lower directory",
            "top",
            "e",
            libc::RENAME_EXCHANGE,
        ),
        (
            "exchange with a missing name",
            "top",
            "nothing",
            libc::RENAME_EXCHANGE,
        ),
        (
            "exchange an upper dir and a file",
            "up",
            "d/f",
            libc::RENAME_EXCHANGE,
        ),
    ];
    p.both("make a whiteout", |m| {
        errno(fs::remove_file(m.join("link")))
    })
    .unwrap();
    p.both("rename over it", |m| {
        errno(fs::rename(m.join("d/sub/g"), m.join("gone")))
    })
    .unwrap();
    p.both("and remove that", |m| {
        errno(fs::remove_file(m.join("gone")))
    })
    .unwrap();
    let mut answers = Vec::new();
    for (what, a, b, flags) in cases {
        answers.push(p.both(what, |m| rename2(&m.join(a), &m.join(b), flags)));
        p.same(what);
    }
    let (eexist, exdev, enoent) = (Err(libc::EEXIST), Err(libc::EXDEV), Err(libc::ENOENT));
    let expected = [eexist, Ok(()), Ok(()), Ok(()), exdev, enoent, Ok(())];
    assert_eq!(answers, expected);
}

#[test]
fn xattrs_copy_up_and_overlayfs_names_are_escaped() {
    let Some(p) = Pair::new("union-xattr") else {
        return;
    };
    p.both("set a user xattr on a lower file", |m| {
        set_xattr(&m.join("d/sub/g"), "user.new", b"1")
    })
    .unwrap();
    p.both("remove a lower file's xattr", |m| {
        remove_xattr(&m.join("top"), "user.tag")
    })
    .unwrap();
    p.both("rm -r a lower tree", |m| {
        errno(fs::remove_dir_all(m.join("e")))
    })
    .unwrap();
    p.both("mkdir it again (opaque)", |m| {
        errno(fs::create_dir(m.join("e")))
    })
    .unwrap();
    p.same("xattr changes");
    for (what, name) in [
        ("the opaque mark", "trusted.overlay.opaque"),
        ("a user xattr", "user.new"),
        ("a missing one", "user.none"),
    ] {
        let a = get_xattr(&p.flu.mnt.join("e"), name);
        assert_eq!(
            a,
            get_xattr(&p.ovl.mnt.join("e"), name),
            "getxattr of {what}"
        );
    }
    p.both("set a trusted.overlay name", |m| {
        set_xattr(&m.join("e"), "trusted.overlay.mine", b"v")
    })
    .unwrap();
    for m in [&p.flu, &p.ovl] {
        assert_eq!(
            get_xattr(&m.mnt.join("e"), "trusted.overlay.mine"),
            Ok(b"v".to_vec())
        );
        let stored = get_xattr(&m.upper.join("e"), "trusted.overlay.overlay.mine");
        assert_eq!(
            stored,
            Ok(b"v".to_vec()),
            "escaped in {}",
            m.upper.display()
        );
    }
    for f in ["e", "d/sub/g", "top", "d"] {
        let (a, b) = (
            list_xattrs(&p.flu.mnt.join(f)),
            list_xattrs(&p.ovl.mnt.join(f)),
        );
        assert_eq!(a, b, "listxattr of {f}");
    }
}

#[test]
fn concurrent_writers_of_one_lower_file_make_one_copy() {
    let Some(p) = Pair::new("union-concurrent") else {
        return;
    };
    let (f, g) = (p.flu.mnt.join("d/sub/deep/h"), p.flu.mnt.join("e/x/y"));
    std::thread::scope(|s| {
        for t in 0..8u8 {
            let (f, g) = (&f, &g);
            s.spawn(move || {
                append(f, &[b'a' + t]).unwrap();
                fs::set_permissions(g, fs::Permissions::from_mode(0o600 + u32::from(t))).unwrap();
            });
        }
    });
    let mut data = fs::read(&f).unwrap();
    assert_eq!(&data[..3], b"hhh", "the lower data copied once, first");
    data[3..].sort();
    assert_eq!(&data[3..], b"abcdefgh", "every append kept");
    let names: Vec<_> = fs::read_dir(p.flu.upper.join("d/sub/deep"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["h"], "one copy, no private name left");
}

#[test]
fn cp_and_tar_into_the_union() {
    let Some(p) = Pair::new("union-cp") else {
        return;
    };
    let src = p.tmp.join("src");
    fs::create_dir_all(src.join("a/b")).unwrap();
    fs::write(src.join("a/b/c"), b"c data").unwrap();
    fs::write(src.join("a/x"), vec![7u8; 300_000]).unwrap();
    symlink("b/c", src.join("a/l")).unwrap();
    fs::set_permissions(src.join("a/x"), fs::Permissions::from_mode(0o751)).unwrap();
    let s = src.display();
    for m in [&p.flu.mnt, &p.ovl.mnt] {
        common::sh(
            m,
            &format!("cp -a {s}/a cp && cp -a {s}/a/. d/ && cp -a {s}/a/. e/x/"),
        );
        common::sh(m, &format!("tar -C {s} -cf - a | tar -xf - -C d/sub"));
        common::sh(m, "tar -cf - d e | (mkdir t && tar -xf - -C t)");
    }
    p.same("cp -a and tar");
}

#[test]
fn writing_a_file_open_below_copies_it_up_and_leaves_the_lower_alone() {
    let Some(p) = Pair::new("union-openbelow") else {
        return;
    };
    for m in [&p.flu.mnt, &p.ovl.mnt] {
        let reader = fs::File::open(m.join("d/f")).unwrap();
        write_at_start(&m.join("d/f"), b"UPPER").unwrap();
        assert_eq!(
            fs::read(m.join("d/f")).unwrap(),
            b"UPPER f\n",
            "in {}",
            m.display()
        );
        drop(reader);
    }
    p.same("writing a file open read-only");
    assert_eq!(fs::read(p.flu.lowers[0].join("d/f")).unwrap(), b"lower f\n");
}

#[test]
fn lowers_stack_with_their_own_whiteouts_and_opaque_dirs() {
    let Some(p) = Pair::with("union-stack", &[seed_middle, seed_lower]) else {
        return;
    };
    p.same("mounting three layers");
    assert!(!p.flu.mnt.join("d/f").exists(), "whited out in the middle");
    assert!(!p.flu.mnt.join("e/x").exists(), "below an opaque directory");
    p.both("unlink a middle file", |m| {
        errno(fs::remove_file(m.join("d/mid")))
    })
    .unwrap();
    p.both("write a middle file", |m| {
        errno(append(&m.join("d/sub/g"), b"+"))
    })
    .unwrap();
    p.both("rm -r a stacked tree", |m| {
        errno(fs::remove_dir_all(m.join("d/sub")))
    })
    .unwrap();
    p.both("create where the middle whited out", |m| {
        errno(create_new(&m.join("d/f"), b"new f"))
    })
    .unwrap();
    let _ = p.both("rename the opaque dir", |m| {
        errno(fs::rename(m.join("e"), m.join("e2")))
    });
    p.same("changes over three layers");
}

/// A small PRNG (xorshift64*): the same sequence for a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[(self.next() % of.len() as u64) as usize]
    }
}

const NAMES: &[&str] = &[
    "d/f",
    "d/mine",
    "d/sub",
    "d/sub/g",
    "d/sub/deep",
    "d/sub/deep/h",
    "e",
    "e/x",
    "e/x/y",
    "empty",
    "top",
    "ro",
    "link",
    "up",
    "up/u",
    "new",
    "d/new",
    "e/x/new",
];

/// An operation on a mount point: its errno on failure.
type UserOp = Box<dyn Fn(&Path) -> Result<(), i32>>;

/// One random operation, as a label and the operation.
fn random_op(rng: &mut Rng) -> (String, UserOp) {
    let a = rng.pick(NAMES).to_string();
    let b = rng.pick(NAMES).to_string();
    let n = rng.next() % 1000;
    match rng.next() % 14 {
        0 => (
            format!("append {a}"),
            Box::new(move |m| errno(append(&m.join(&a), format!("{n}").as_bytes()))),
        ),
        1 => (
            format!("truncate {a} {n}"),
            Box::new(move |m| errno(truncate(&m.join(&a), n))),
        ),
        2 => (
            format!("chmod {a} {:o}", 0o600 + n % 0o177),
            Box::new(move |m| {
                errno(fs::set_permissions(
                    m.join(&a),
                    fs::Permissions::from_mode(0o600 + (n as u32) % 0o177),
                ))
            }),
        ),
        3 => (
            format!("unlink {a}"),
            Box::new(move |m| errno(fs::remove_file(m.join(&a)))),
        ),
        4 => (
            format!("rmdir {a}"),
            Box::new(move |m| errno(fs::remove_dir(m.join(&a)))),
        ),
        5 => (
            format!("mkdir {a}"),
            Box::new(move |m| errno(fs::create_dir(m.join(&a)))),
        ),
        6 => (
            format!("create {a}"),
            Box::new(move |m| errno(create_new(&m.join(&a), b"created"))),
        ),
        7 => (
            format!("rename {a} {b}"),
            Box::new(move |m| errno(fs::rename(m.join(&a), m.join(&b)))),
        ),
        8 => (
            format!("symlink {a}"),
            Box::new(move |m| errno(symlink("target", m.join(&a)))),
        ),
        9 => (
            format!("write {a}"),
            Box::new(move |m| errno(write_at_start(&m.join(&a), b"W"))),
        ),
        11 => (
            format!("exchange {a} {b}"),
            Box::new(move |m| rename2(&m.join(&a), &m.join(&b), libc::RENAME_EXCHANGE)),
        ),
        12 => (
            format!("rename noreplace {a} {b}"),
            Box::new(move |m| rename2(&m.join(&a), &m.join(&b), libc::RENAME_NOREPLACE)),
        ),
        10 => (
            format!("link {a} {b}"),
            Box::new(move |m| errno(fs::hard_link(m.join(&a), m.join(&b)))),
        ),
        _ => (
            format!("read {a}"),
            Box::new(move |m| errno(fs::read(m.join(&a)).map(drop))),
        ),
    }
}

#[test]
fn a_random_sequence_matches_overlayfs_at_every_step() {
    let Some(p) = Pair::new("union-random") else {
        return;
    };
    let mut done = 0;
    for seed in [0x5eed_u64, 0xf1u64 << 40 | 7, 0x9e37_79b9_7f4a_7c15] {
        let mut rng = Rng(seed);
        for step in 0..120 {
            let (label, op) = random_op(&mut rng);
            let what = format!("seed {seed:#x} step {step}: {label}");
            done += p.both(&what, &op).is_ok() as usize;
            p.same(&what);
        }
    }
    // The sequence changes things (not only errors on both sides).
    eprintln!("{done} of 360 random operations succeeded");
    assert!(done >= 60, "only {done} of 360 random operations succeeded");
}

#[test]
fn the_unions_layers_mount_with_overlayfs_afterwards() {
    let Some(mut p) = Pair::new("union-remount") else {
        return;
    };
    p.both("unlink", |m| errno(fs::remove_file(m.join("d/f"))))
        .unwrap();
    p.both("rm -r", |m| errno(fs::remove_dir_all(m.join("d/sub"))))
        .unwrap();
    p.both("mkdir over whiteout", |m| {
        errno(fs::create_dir(m.join("d/sub")))
    })
    .unwrap();
    p.both("copy-up", |m| errno(append(&m.join("top"), b"x")))
        .unwrap();
    p.both("rename", |m| {
        errno(fs::rename(m.join("e/x/y"), m.join("y")))
    })
    .unwrap();
    p.same("the changes");
    let seen = walk(&p.flu.mnt, false);
    if let Some(m) = p.flu_mount.take() {
        m.unmount();
    }
    let (work, mnt) = (p.tmp.join("flu/work"), p.tmp.join("flu/remount"));
    fs::create_dir_all(&work).unwrap();
    fs::create_dir_all(&mnt).unwrap();
    let lowers: Vec<&Path> = p.flu.lowers.iter().map(PathBuf::as_path).collect();
    let Some(_o) = Overlay::mount(&lowers, &p.flu.upper, &work, &mnt) else {
        return;
    };
    assert_eq!(
        walk(&mnt, false),
        seen,
        "overlayfs over flu's layers shows another tree"
    );
}

/// A Lua table as the upper (examples/luafs.lua, in memory, over a real lower): copies
/// and whiteouts land in the table, in the hidden form, and the lower never changes.
#[test]
fn a_lua_table_as_the_upper() {
    let lower = common::TempDir::new("union-lua-lower");
    fs::create_dir(lower.join("d")).unwrap();
    fs::write(lower.join("a"), "lower a\n").unwrap();
    fs::write(lower.join("d/x"), "x\n").unwrap();
    let Some(m) = common::mount_with(
        &common::test_script("union_lua_upper.lua"),
        common::MountOptions::new()
            .arg(lower.path())
            .arg(common::root_dir().join("examples")),
    ) else {
        return;
    };
    // luafs's own tree and the lower's names, merged.
    let root = common::sorted_names(&m.dir);
    for expected in ["README", "a", "d"] {
        assert!(root.contains(&expected.to_string()), "{root:?}");
    }
    assert_eq!(fs::read_to_string(m.path("a")).unwrap(), "lower a\n");
    fs::write(m.path("a"), "changed\n").unwrap();
    assert_eq!(fs::read_to_string(m.path("a")).unwrap(), "changed\n");
    assert_eq!(fs::read_to_string(lower.join("a")).unwrap(), "lower a\n");
    // A removed lower name is whited out in the table, hidden from the union.
    fs::remove_file(m.path("d/x")).unwrap();
    assert!(common::sorted_names(&m.path("d")).is_empty());
    assert!(lower.join("d/x").exists());
    assert_eq!(
        fs::metadata(m.path("d/.wh.x"))
            .err()
            .and_then(|e| e.raw_os_error()),
        Some(libc::ENOENT)
    );
    // Made again where a lower directory was removed: opaque, empty.
    fs::remove_dir(m.path("d")).unwrap();
    fs::create_dir(m.path("d")).unwrap();
    assert!(common::sorted_names(&m.path("d")).is_empty());
    fs::write(m.path("d/y"), "y\n").unwrap();
    assert_eq!(common::sorted_names(&m.path("d")), ["y"]);
    assert_eq!(common::sorted_names(&lower.join("d")), ["x"]);
    m.unmount();
}
