//! examples/luafs.lua driven with real programs (cp, mv, rm, ln, find, ls, touch,
//! truncate, dd, df, getfattr/setfattr) and syscalls.

mod common;

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::*;

const README: &str = "This directory lives in a Lua table inside the flu daemon.\n";

fn luafs() -> Option<Mounted> {
    mount(&example("luafs.lua"))
}

/// Bytes whose value depends on the position and a seed, so misplaced data shows.
fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32 * 7 + seed as u32 * 13 + (i as u32 >> 9)) as u8)
        .collect()
}

/// Every entry below `root`: relative path -> None for a directory, Some(contents) for a
/// file.
fn snapshot(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                out.insert(rel, Some(fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn nlink(p: &Path) -> u64 {
    fs::metadata(p).unwrap().nlink()
}

#[test]
fn initial_tree_echo_cat_and_append() {
    let Some(m) = luafs() else { return };
    assert_eq!(m.sh("ls"), "README\ndocs\n");
    assert_eq!(m.sh("cat README"), README);
    assert_eq!(m.sh("cat docs/hello.txt"), "Hello from luafs!\n");

    m.sh("echo hello > f");
    assert_eq!(m.sh("cat f"), "hello\n");
    m.sh("echo more >> f");
    assert_eq!(fs::read_to_string(m.path("f")).unwrap(), "hello\nmore\n");
    assert_eq!(fs::metadata(m.path("f")).unwrap().len(), 11);
    // `>` truncates an existing file
    m.sh("echo x > f");
    assert_eq!(fs::read_to_string(m.path("f")).unwrap(), "x\n");
    m.unmount();
}

#[test]
fn mkdir_p_cp_r_and_rm_r() {
    let Some(m) = luafs() else { return };
    // a source tree on the real disk
    let src = m.scratch.join("src");
    fs::create_dir_all(src.join("a/b/c")).unwrap();
    fs::create_dir_all(src.join("empty")).unwrap();
    fs::write(src.join("a/b/c/deep.txt"), "deep\n").unwrap();
    fs::write(src.join("a/one.txt"), "one\n").unwrap();
    fs::write(src.join("blob.bin"), pattern(3, 300_000)).unwrap();
    fs::write(src.join("zero-length"), "").unwrap();

    m.sh("mkdir -p x/y/z");
    assert!(fs::metadata(m.path("x/y/z")).unwrap().is_dir());

    m.sh(&format!("cp -r {} copy", src.display()));
    let expected = snapshot(&src);
    assert_eq!(expected.len(), 8);
    assert_eq!(snapshot(&m.path("copy")), expected);

    // and back out again
    let back = m.scratch.join("back");
    m.sh(&format!("cp -r copy {}", back.display()));
    assert_eq!(snapshot(&back), expected);

    m.sh("rm -r copy x");
    assert_errno(
        fs::metadata(m.path("copy")),
        libc::ENOENT,
        "copy after rm -r",
    );
    assert_eq!(m.sh("ls -A"), "README\ndocs\n");
    m.unmount();
}

#[test]
fn mv_files_and_non_empty_directories() {
    let Some(m) = luafs() else { return };
    m.sh("mkdir -p t/a/b/c && echo deep > t/a/b/c/f && echo one > t/x && echo two > t/y");
    let ino_a = fs::metadata(m.path("t/a")).unwrap().ino();
    let ino_f = fs::metadata(m.path("t/a/b/c/f")).unwrap().ino();

    // a non-empty directory
    m.sh("mv t/a t/z");
    assert_eq!(m.sh("cat t/z/b/c/f"), "deep\n");
    assert_errno(fs::metadata(m.path("t/a")), libc::ENOENT, "old name");
    assert_eq!(fs::metadata(m.path("t/z")).unwrap().ino(), ino_a);
    assert_eq!(fs::metadata(m.path("t/z/b/c/f")).unwrap().ino(), ino_f);

    // a file over an existing file
    m.sh("mv t/x t/y");
    assert_eq!(m.sh("cat t/y"), "one\n");
    assert_errno(fs::metadata(m.path("t/x")), libc::ENOENT, "t/x after mv");

    // into another directory, and a tree into a new parent
    m.sh("mv t/y t/z/b/ && mkdir t/w && mv t/z t/w/");
    assert_eq!(m.sh("cat t/w/z/b/y"), "one\n");
    assert_eq!(m.sh("cat t/w/z/b/c/f"), "deep\n");
    assert_eq!(m.sh("ls t"), "w\n");

    // a directory over a non-empty one, and into itself
    m.sh("mkdir -p t/full/sub");
    assert_errno(
        fs::rename(m.path("t/w"), m.path("t/full")),
        libc::ENOTEMPTY,
        "rename over a non-empty directory",
    );
    assert_errno(
        fs::rename(m.path("t/w"), m.path("t/w/z/inside")),
        libc::EINVAL,
        "rename into itself",
    );
    // a directory over an empty one is fine
    m.sh("mkdir t/empty && mv -T t/w t/empty");
    assert_eq!(m.sh("cat t/empty/z/b/c/f"), "deep\n");
    m.unmount();
}

#[test]
fn rmdir_unlink_and_their_errors() {
    let Some(m) = luafs() else { return };
    m.sh("mkdir d && echo x > d/f");
    assert_errno(fs::remove_dir(m.path("d")), libc::ENOTEMPTY, "rmdir d");
    assert_errno(fs::remove_file(m.path("d")), libc::EISDIR, "unlink d");
    assert_errno(fs::remove_dir(m.path("d/f")), libc::ENOTDIR, "rmdir d/f");
    assert_errno(fs::remove_file(m.path("nope")), libc::ENOENT, "unlink nope");
    assert_errno(fs::create_dir(m.path("d")), libc::EEXIST, "mkdir d again");
    assert_errno(fs::metadata(m.path("d/f/g")), libc::ENOTDIR, "stat d/f/g");
    fs::remove_file(m.path("d/f")).unwrap();
    fs::remove_dir(m.path("d")).unwrap();
    assert_eq!(m.sh("ls"), "README\ndocs\n");
    m.unmount();
}

#[test]
fn symlinks_and_readlink() {
    let Some(m) = luafs() else { return };
    m.sh("echo target > real && ln -s real link && ln -s /nonexistent/abs dangling");
    assert_eq!(m.sh("readlink link"), "real\n");
    assert_eq!(m.sh("cat link"), "target\n");
    assert_eq!(m.sh("readlink dangling"), "/nonexistent/abs\n");
    assert_eq!(fs::read_link(m.path("link")).unwrap(), Path::new("real"));
    let lst = fs::symlink_metadata(m.path("link")).unwrap();
    assert!(lst.file_type().is_symlink());
    assert_eq!(lst.len(), 4);
    assert_errno(
        fs::metadata(m.path("dangling")),
        libc::ENOENT,
        "follow dangling",
    );
    // a link into a directory
    m.sh("mkdir -p dir/sub && echo in > dir/sub/f && ln -s dir/sub s");
    assert_eq!(m.sh("cat s/f"), "in\n");
    // readlink of a regular file is EINVAL
    assert_errno(fs::read_link(m.path("real")), libc::EINVAL, "readlink real");
    m.unmount();
}

#[test]
fn hard_links_share_contents() {
    let Some(m) = luafs() else { return };
    m.sh("echo one > f && ln f g");
    assert_eq!(m.sh("cat g"), "one\n");
    assert_eq!(m.sh("stat -c %h g"), "2\n");
    // (appending through one name and reading through the other right away is not
    // tested: the kernel may cache the other name's size for the attribute timeout)
    m.sh("rm f");
    assert_eq!(m.sh("cat g"), "one\n");
    assert_errno(fs::metadata(m.path("f")), libc::ENOENT, "f after rm");
    assert_errno(
        fs::hard_link(m.path("docs"), m.path("docs2")),
        libc::EPERM,
        "hard link to a directory",
    );
    m.unmount();
}

#[test]
fn touch_d_sets_exact_nanosecond_times() {
    let Some(m) = luafs() else { return };
    m.sh("touch -d '2001-02-03 04:05:06.123456789' f");
    let st = fs::metadata(m.path("f")).unwrap();
    assert_eq!((st.mtime(), st.mtime_nsec()), (981173106, 123456789));
    assert_eq!((st.atime(), st.atime_nsec()), (981173106, 123456789));
    assert_eq!(st.len(), 0);

    // -m changes the modification time only
    m.sh("touch -m -d '2010-01-01 00:00:00.5' f");
    let st = fs::metadata(m.path("f")).unwrap();
    assert_eq!((st.mtime(), st.mtime_nsec()), (1262304000, 500_000_000));
    assert_eq!((st.atime(), st.atime_nsec()), (981173106, 123456789));
    assert_eq!(
        m.sh("stat -c %y f"),
        "2010-01-01 00:00:00.500000000 +0000\n"
    );

    // on a directory too
    m.sh("mkdir d && touch -d '1999-12-31 23:59:59.000000001' d");
    let st = fs::metadata(m.path("d")).unwrap();
    assert_eq!((st.mtime(), st.mtime_nsec()), (946684799, 1));
    m.unmount();
}

#[test]
fn chmod_and_chown() {
    let Some(m) = luafs() else { return };
    m.sh("echo x > f && chmod 640 f && mkdir d && chmod 1750 d");
    assert_eq!(
        fs::metadata(m.path("f")).unwrap().mode(),
        libc::S_IFREG | 0o640
    );
    assert_eq!(
        fs::metadata(m.path("d")).unwrap().mode(),
        libc::S_IFDIR | 0o1750
    );
    fs::set_permissions(m.path("f"), fs::Permissions::from_mode(0o4755)).unwrap();
    assert_eq!(m.sh("stat -c %a f"), "4755\n");
    if is_root() {
        m.sh("chown 123:456 f && chown :789 d");
        assert_eq!(m.sh("stat -c %u:%g f"), "123:456\n");
        // chown with only a group keeps the owner
        assert_eq!(m.sh("stat -c %u:%g d"), "0:789\n");
    }
    m.unmount();
}

#[test]
fn truncate_grows_with_zeros_and_shrinks() {
    let Some(m) = luafs() else { return };
    fs::write(m.path("f"), "abcdef").unwrap();
    m.sh("truncate -s 3 f");
    assert_eq!(fs::read(m.path("f")).unwrap(), b"abc");
    m.sh("truncate -s 10 f");
    assert_eq!(fs::read(m.path("f")).unwrap(), b"abc\0\0\0\0\0\0\0");
    m.sh("truncate -s 0 f");
    assert_eq!(fs::metadata(m.path("f")).unwrap().len(), 0);

    // ftruncate on an open file
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(m.path("f"))
        .unwrap();
    f.write_all_at(b"0123456789", 0).unwrap();
    f.set_len(4).unwrap();
    assert_eq!(f.metadata().unwrap().len(), 4);
    drop(f);
    assert_eq!(fs::read(m.path("f")).unwrap(), b"0123");
    assert_errno(
        OpenOptions::new().write(true).open(m.path("docs")),
        libc::EISDIR,
        "open a directory for writing",
    );
    m.unmount();
}

#[test]
fn dd_seek_leaves_a_gap_of_zeros() {
    let Some(m) = luafs() else { return };
    let block = m.scratch.join("block");
    fs::write(&block, vec![b'x'; 4096]).unwrap();
    let b = block.display();
    m.sh(&format!(
        "dd if={b} of=sparse bs=4096 seek=3 count=1 status=none"
    ));
    let data = fs::read(m.path("sparse")).unwrap();
    assert_eq!(data.len(), 4 * 4096);
    assert!(data[..3 * 4096].iter().all(|&c| c == 0), "gap is not zeros");
    assert!(data[3 * 4096..].iter().all(|&c| c == b'x'));

    // overwrite in the middle without truncating
    m.sh(&format!(
        "dd if={b} of=sparse bs=1024 seek=1 count=1 conv=notrunc status=none"
    ));
    let data = fs::read(m.path("sparse")).unwrap();
    assert_eq!(data.len(), 4 * 4096);
    assert!(data[..1024].iter().all(|&c| c == 0));
    assert!(data[1024..2048].iter().all(|&c| c == b'x'));
    assert!(data[2048..3 * 4096].iter().all(|&c| c == 0));

    // a write far past the end
    let f = OpenOptions::new()
        .write(true)
        .open(m.path("sparse"))
        .unwrap();
    f.write_all_at(b"tail!", 1 << 20).unwrap();
    drop(f);
    let data = fs::read(m.path("sparse")).unwrap();
    assert_eq!(data.len(), (1 << 20) + 5);
    assert!(data[4 * 4096..1 << 20].iter().all(|&c| c == 0));
    assert_eq!(&data[1 << 20..], b"tail!");
    m.unmount();
}

/// Random writes, truncates and reads against a model (a byte vector), with offsets
/// and lengths that straddle luafs's 64 KiB pieces, sparse gaps and cuts inside a
/// piece; every few steps the file is reopened (dropping the kernel's page cache) and
/// read whole.
#[test]
fn random_writes_truncates_and_reads_match_a_model() {
    let Some(m) = luafs() else { return };
    let path = m.path("model");
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap()
    };
    let mut f = open();
    let mut model: Vec<u8> = Vec::new();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    const SPAN: u64 = 5 * 65536;
    for step in 0..400u32 {
        match next(10) {
            0..=5 => {
                let off = next(SPAN) as usize;
                let len = 1 + next(3 * 65536) as usize;
                let data = pattern(step as u8, len);
                f.write_all_at(&data, off as u64).unwrap();
                if model.len() < off + len {
                    model.resize(off + len, 0);
                }
                model[off..off + len].copy_from_slice(&data);
            }
            6 | 7 => {
                let len = next(SPAN) as usize;
                f.set_len(len as u64).unwrap();
                model.resize(len, 0);
            }
            _ => {
                let off = next(SPAN + 4096) as usize;
                let len = 1 + next(2 * 65536) as usize;
                let mut buf = vec![0xeeu8; len];
                let mut got = 0;
                while got < len {
                    let n = f.read_at(&mut buf[got..], (off + got) as u64).unwrap();
                    if n == 0 {
                        break;
                    }
                    got += n;
                }
                let want = &model[off.min(model.len())..(off + len).min(model.len())];
                assert_eq!(got, want.len(), "step {step}: read of {len} at {off}");
                assert!(
                    buf[..got] == *want,
                    "step {step}: bytes read at {off} differ"
                );
            }
        }
        assert_eq!(
            f.metadata().unwrap().len(),
            model.len() as u64,
            "step {step}"
        );
        if step % 25 == 24 {
            drop(f);
            assert!(
                fs::read(&path).unwrap() == model,
                "step {step}: whole file differs"
            );
            f = open();
        }
    }
    drop(f);
    assert!(
        fs::read(&path).unwrap() == model,
        "the file differs at the end"
    );
    m.unmount();
}

/// luafs lets the kernel keep its listings (`fi.cache_readdir`, `fi.keep_cache`): each
/// listing after a change made through the mount still shows the change.
#[test]
fn cached_listings_follow_every_change() {
    let Some(m) = luafs() else { return };
    let names = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(m.path(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    fs::create_dir(m.path("d")).unwrap();
    assert!(names("d").is_empty());
    assert!(names("d").is_empty()); // twice: the second from the kernel's cache
    fs::write(m.path("d/a"), "1").unwrap();
    assert_eq!(names("d"), ["a"]);
    fs::rename(m.path("d/a"), m.path("d/b")).unwrap();
    assert_eq!(names("d"), ["b"]);
    fs::rename(m.path("README"), m.path("d/README")).unwrap();
    assert_eq!(names("d"), ["README", "b"]);
    assert_eq!(names(""), ["d", "docs"]);
    fs::create_dir(m.path("d/sub")).unwrap();
    fs::remove_file(m.path("d/b")).unwrap();
    assert_eq!(names("d"), ["README", "sub"]);
    fs::remove_dir(m.path("d/sub")).unwrap();
    fs::hard_link(m.path("d/README"), m.path("d/again")).unwrap();
    assert_eq!(names("d"), ["README", "again"]);
    m.unmount();
}

#[test]
fn xattrs_with_setfattr_and_getfattr() {
    let Some(m) = luafs() else { return };
    m.sh("echo x > f && setfattr -n user.color -v blue f && setfattr -n user.size -v 42 f");
    assert_eq!(
        m.sh("getfattr -d f"),
        "# file: f\nuser.color=\"blue\"\nuser.size=\"42\"\n\n"
    );
    assert_eq!(m.sh("getfattr --only-values -n user.color f"), "blue");
    let r = m.sh_run("getfattr -n user.missing f");
    assert!(!r.ok());
    assert!(r.stderr.contains("No such attribute"), "{}", r.stderr);

    m.sh("setfattr -x user.color f");
    assert_eq!(m.sh("getfattr -d f"), "# file: f\nuser.size=\"42\"\n\n");
    let r = m.sh_run("setfattr -x user.color f");
    assert!(!r.ok(), "removing a missing attribute must fail");

    // attributes belong to the file, not to its name
    m.sh("mv f g");
    assert_eq!(m.sh("getfattr --only-values -n user.size g"), "42");
    // and directories have them too
    m.sh("mkdir d && setfattr -n user.d -v dir d");
    assert_eq!(m.sh("getfattr --only-values -n user.d d"), "dir");
    m.unmount();
}

#[test]
fn find_lists_everything_and_directory_nlink_is_right() {
    let Some(m) = luafs() else { return };
    m.sh("mkdir -p t/a/b/c t/a/d t/e && touch t/a/f1 t/a/b/f2 t/e/f3");
    assert_eq!(
        m.sh("find t | sort"),
        "t\nt/a\nt/a/b\nt/a/b/c\nt/a/b/f2\nt/a/d\nt/a/f1\nt/e\nt/e/f3\n"
    );
    assert_eq!(m.sh("find t -type f | wc -l").trim(), "3");
    assert_eq!(m.sh("find . -name f2"), "./t/a/b/f2\n");

    assert_eq!(nlink(&m.dir), 4, "root: 2 + docs + t");
    assert_eq!(nlink(&m.path("t")), 4);
    assert_eq!(nlink(&m.path("t/a")), 4);
    assert_eq!(nlink(&m.path("t/a/b")), 3);
    assert_eq!(nlink(&m.path("t/a/b/c")), 2);
    assert_eq!(nlink(&m.path("t/e")), 2);
    assert_eq!(m.sh("stat -c %h t/a/f1"), "1\n");

    m.sh("rmdir t/a/d && mv t/e t/a/b/");
    assert_eq!(nlink(&m.path("t")), 3);
    assert_eq!(nlink(&m.path("t/a")), 3);
    assert_eq!(nlink(&m.path("t/a/b")), 4);
    assert_eq!(
        m.sh("find t -type d | sort"),
        "t\nt/a\nt/a/b\nt/a/b/c\nt/a/b/e\n"
    );
    m.unmount();
}

#[test]
fn df_and_statfs() {
    let Some(m) = luafs() else { return };
    let out = m.sh(&format!("df -P {}", m.dir.display()));
    let line = out.lines().nth(1).expect("df output");
    assert!(line.ends_with(&m.dir.display().to_string()), "{out}");
    assert_eq!(m.sh("stat -f -c '%S %b %l' ."), "4096 1048576 255\n");

    let free = |m: &Mounted| -> u64 { m.sh("stat -f -c %f .").trim().parse().unwrap() };
    let before = free(&m);
    fs::write(m.path("big"), vec![7u8; 1 << 20]).unwrap();
    assert_eq!(before - free(&m), 256, "1 MiB = 256 blocks of 4 KiB");
    fs::remove_file(m.path("big")).unwrap();
    assert_eq!(free(&m), before);
    m.unmount();
}

/// Gaps are not stored: a sparse file's blocks and df's usage count what was written,
/// and a truncate that cuts pieces off gives their room back.
#[test]
fn sparse_files_take_only_what_was_written() {
    let Some(m) = luafs() else { return };
    let free = |m: &Mounted| -> u64 { m.sh("stat -f -c %f .").trim().parse().unwrap() };
    let before = free(&m);
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(m.path("sparse"))
        .unwrap();
    f.set_len(64 << 20).unwrap();
    f.write_all_at(&[1u8; 4096], 32 << 20).unwrap();
    drop(f);
    let md = fs::metadata(m.path("sparse")).unwrap();
    assert_eq!(md.len(), 64 << 20);
    assert_eq!(md.blocks(), 8, "4 KiB written = 8 blocks of 512 bytes");
    assert_eq!(before - free(&m), 1, "one 4 KiB block in use");
    assert_eq!(m.sh("du -k sparse"), "4\tsparse\n");
    fs::OpenOptions::new()
        .write(true)
        .open(m.path("sparse"))
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    assert_eq!(fs::metadata(m.path("sparse")).unwrap().blocks(), 0);
    assert_eq!(free(&m), before);
    m.unmount();
}

#[test]
fn ls_la_lists_2000_entries_exactly_once() {
    let Some(m) = luafs() else { return };
    fs::create_dir(m.path("many")).unwrap();
    for i in 0..2000 {
        fs::write(m.path(format!("many/f{i:04}")), format!("{i}\n")).unwrap();
    }
    let out = m.sh("ls -la many");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in out.lines().skip(1) {
        let name = line.split_whitespace().last().unwrap().to_string();
        *counts.entry(name).or_default() += 1;
    }
    assert_eq!(counts.len(), 2002, "distinct names in ls -la");
    assert!(counts.values().all(|&c| c == 1), "some entry listed twice");
    for i in 0..2000 {
        assert!(counts.contains_key(&format!("f{i:04}")), "f{i:04} missing");
    }
    assert_eq!(counts.get("."), Some(&1));
    assert_eq!(counts.get(".."), Some(&1));
    // readdir(3) agrees, and each file holds what was written
    let names: Vec<_> = fs::read_dir(m.path("many"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2000);
    assert_eq!(m.sh("cat many/f1234"), "1234\n");
    m.sh("rm -r many");
    assert_eq!(m.sh("ls"), "README\ndocs\n");
    m.unmount();
}

#[test]
fn four_threads_read_and_write_different_files() {
    let Some(m) = luafs() else { return };
    const CHUNK: usize = 16 * 1024;
    const CHUNKS: usize = 32;
    // files the readers check over and over
    for r in 0..2u8 {
        fs::write(m.path(format!("r{r}")), pattern(100 + r, CHUNK * CHUNKS)).unwrap();
    }
    std::thread::scope(|s| {
        for w in 0..2u8 {
            let path = m.path(format!("w{w}"));
            s.spawn(move || {
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)
                    .unwrap();
                let data = pattern(w, CHUNK * CHUNKS);
                for c in 0..CHUNKS {
                    let off = c * CHUNK;
                    f.write_all_at(&data[off..off + CHUNK], off as u64).unwrap();
                    let mut back = vec![0u8; CHUNK];
                    f.read_exact_at(&mut back, off as u64).unwrap();
                    assert_eq!(back, &data[off..off + CHUNK], "writer {w} chunk {c}");
                }
            });
        }
        for r in 0..2u8 {
            let path = m.path(format!("r{r}"));
            s.spawn(move || {
                let expected = pattern(100 + r, CHUNK * CHUNKS);
                for round in 0..8 {
                    let got = fs::read(&path).unwrap();
                    assert!(got == expected, "reader {r} round {round}: contents differ");
                }
            });
        }
    });
    for w in 0..2u8 {
        assert_eq!(
            fs::read(m.path(format!("w{w}"))).unwrap(),
            pattern(w, CHUNK * CHUNKS)
        );
    }
    m.unmount();
}

#[test]
fn unlinked_open_file_keeps_working() {
    let Some(m) = luafs() else { return };
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(m.path("ghost"))
        .unwrap();
    f.write_all(b"boo").unwrap();
    fs::remove_file(m.path("ghost")).unwrap();
    assert_errno(fs::metadata(m.path("ghost")), libc::ENOENT, "unlinked name");
    f.write_all_at(b"!", 3).unwrap();
    let mut buf = [0u8; 4];
    f.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"boo!");
    assert_eq!(f.metadata().unwrap().len(), 4);
    drop(f);
    assert_eq!(m.sh("ls"), "README\ndocs\n");
    m.unmount();
}

/// Files and directories are created with the caller's uid/gid (flu.get_context()).
#[test]
fn new_files_belong_to_the_caller() {
    if !is_root() {
        eprintln!("SKIPPED part: needs root to act as another user");
        return;
    }
    let Some(m) = mount_with(
        &example("luafs.lua"),
        MountOptions::new().opt("allow_other"),
    ) else {
        return;
    };
    m.sh("mkdir shared && chmod 1777 shared && echo root > byroot");
    assert_eq!(m.sh("stat -c %u:%g byroot"), "0:0\n");
    let r = run_cmd(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .args([
                "sh",
                "-c",
                "echo hi > shared/file && mkdir shared/dir && ln -s file shared/link",
            ])
            .current_dir(&m.dir),
        COMMAND_TIMEOUT,
    );
    assert!(r.ok(), "as uid 65534: {}", r.stderr);
    assert_eq!(
        m.sh("stat -c '%u:%g %n' shared/file shared/dir"),
        "65534:65534 shared/file\n65534:65534 shared/dir\n"
    );
    let lst = fs::symlink_metadata(m.path("shared/link")).unwrap();
    assert_eq!((lst.uid(), lst.gid()), (65534, 65534));
    assert_eq!(fs::read_to_string(m.path("shared/file")).unwrap(), "hi\n");
    m.unmount();
}

#[test]
fn create_mode_is_kept() {
    let Some(m) = luafs() else { return };
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(m.path("m640"))
        .unwrap();
    drop(f);
    assert_eq!(
        fs::metadata(m.path("m640")).unwrap().mode(),
        libc::S_IFREG | 0o640
    );
    let mut f = File::create(m.path("plain")).unwrap();
    f.write_all(b"p").unwrap();
    drop(f);
    assert_eq!(
        fs::metadata(m.path("plain")).unwrap().mode(),
        libc::S_IFREG | 0o644
    );
    m.sh("mkdir -m 750 d750");
    assert_eq!(
        fs::metadata(m.path("d750")).unwrap().mode(),
        libc::S_IFDIR | 0o750
    );
    assert_errno(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(m.path("m640")),
        libc::EEXIST,
        "O_EXCL on an existing file",
    );
    m.unmount();
}
