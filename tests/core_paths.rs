//! Tests of the daemon's path layer (`flu::core::FsCore`) over the in-memory
//! filesystem of `memfs/`, without a kernel.

mod memfs;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use flu::core::nodes::ROOT_ID;
use flu::core::{DirChunk, FsCore, SetAttr, XattrReply, UNKNOWN_INO};
use flu::AdapterConfig;
use flu_api::{Errno, RequestContext, TimeSet};
use memfs::MemFs;

fn ctx() -> RequestContext {
    RequestContext {
        uid: 1000,
        gid: 100,
        pid: 1,
        umask: 0o022,
        unmasked_mode: None,
    }
}

fn core_with(fs: MemFs, config: AdapterConfig) -> (Arc<MemFs>, FsCore) {
    let fs = Arc::new(fs);
    let core = FsCore::new(fs.clone(), config);
    (fs, core)
}

fn core() -> (Arc<MemFs>, FsCore) {
    core_with(MemFs::new(), AdapterConfig::default())
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn names(chunk: &DirChunk) -> Vec<String> {
    chunk.entries[chunk.start..]
        .iter()
        .map(|e| e.name.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn lookup_missing_is_enoent_and_creates_no_node() {
    let (_, c) = core();
    assert_eq!(c.lookup(&ctx(), ROOT_ID, os("nope")), Err(Errno::ENOENT));
    assert_eq!(c.nodes().len(), 1);
}

#[test]
fn mkdir_create_write_read_through_nodes() {
    let (_, c) = core();
    let d = c.mkdir(&ctx(), ROOT_ID, os("d"), 0o755).unwrap();
    assert!(d.stat.is_dir());
    assert_eq!(d.stat.uid, 1000);
    let (f, open) = c
        .create(&ctx(), d.nodeid, os("f"), 0o644, libc::O_RDWR)
        .unwrap();
    assert_eq!(f.stat.mode, libc::S_IFREG | 0o644);
    assert_eq!(
        c.write(&ctx(), f.nodeid, open.fh, 0, b"hello world")
            .unwrap(),
        11
    );
    assert_eq!(
        c.read(&ctx(), f.nodeid, open.fh, 6, 100).unwrap(),
        b"world".to_vec()
    );
    // Lookup finds the same node and counts it.
    let again = c.lookup(&ctx(), d.nodeid, os("f")).unwrap();
    assert_eq!(again.nodeid, f.nodeid);
    assert_eq!(again.stat.size, 11);
    assert_eq!(c.nodes().lookups(f.nodeid), Some(2));
    c.release(&ctx(), f.nodeid, open.fh, libc::O_RDWR, false)
        .unwrap();
    assert_eq!(c.open_handles(), (0, 0));
    assert_eq!(
        c.read(&ctx(), f.nodeid, open.fh, 0, 1),
        Err(Errno::EBADF),
        "a released handle is gone"
    );
}

#[test]
fn create_falls_back_to_mknod_and_open_once() {
    let fs = MemFs::new().without_create();
    let (fs, c) = core_with(fs, AdapterConfig::default());
    for name in ["a", "b", "c"] {
        let (e, open) = c
            .create(
                &ctx(),
                ROOT_ID,
                os(name),
                0o600,
                libc::O_CREAT | libc::O_WRONLY,
            )
            .unwrap();
        assert_eq!(e.stat.mode, libc::S_IFREG | 0o600);
        c.write(&ctx(), e.nodeid, open.fh, 0, b"x").unwrap();
    }
    assert_eq!(fs.calls.create.load(Ordering::Relaxed), 1, "asked once");
    assert_eq!(fs.calls.mknod.load(Ordering::Relaxed), 3);
}

#[test]
fn setattr_splits_into_calls_and_answers_new_attributes() {
    let (_, c) = core();
    let (f, open) = c
        .create(&ctx(), ROOT_ID, os("f"), 0o644, libc::O_RDWR)
        .unwrap();
    c.write(&ctx(), f.nodeid, open.fh, 0, b"0123456789")
        .unwrap();
    let t = flu_api::Timespec::new(1_000_000, 5);
    let st = c
        .setattr(
            &ctx(),
            f.nodeid,
            SetAttr {
                mode: Some(0o600),
                uid: Some(5),
                size: Some(4),
                mtime: Some(TimeSet::At(t)),
                fh: Some(open.fh),
                ..SetAttr::default()
            },
        )
        .unwrap();
    assert_eq!(st.mode, libc::S_IFREG | 0o600);
    assert_eq!((st.uid, st.gid), (5, 100), "gid left alone");
    assert_eq!(st.size, 4);
    assert_eq!(st.mtime, t);
    assert_ne!(st.atime, t, "atime omitted");
    // A setattr asking nothing just answers getattr.
    assert_eq!(c.setattr(&ctx(), f.nodeid, SetAttr::default()).unwrap(), st);
}

#[test]
fn unlinked_open_file_stays_readable_through_its_handle() {
    let (_, c) = core();
    let (f, open) = c
        .create(&ctx(), ROOT_ID, os("gone"), 0o644, libc::O_RDWR)
        .unwrap();
    c.write(&ctx(), f.nodeid, open.fh, 0, b"still here")
        .unwrap();
    c.unlink(&ctx(), ROOT_ID, os("gone")).unwrap();
    assert_eq!(c.lookup(&ctx(), ROOT_ID, os("gone")), Err(Errno::ENOENT));
    assert_eq!(
        c.read(&ctx(), f.nodeid, open.fh, 0, 64).unwrap(),
        b"still here".to_vec()
    );
    let st = c.getattr(&ctx(), f.nodeid, Some(open.fh)).unwrap();
    assert_eq!((st.size, st.nlink), (10, 0));
    // fstat arrives without a handle: the open handle of the nameless node is used.
    assert_eq!(c.getattr(&ctx(), f.nodeid, None).unwrap(), st);
    c.release(&ctx(), f.nodeid, open.fh, 0, false).unwrap();
    c.forget(f.nodeid, 1);
    assert_eq!(c.nodes().len(), 1);
}

#[test]
fn rename_directory_then_reach_inside() {
    let (_, c) = core();
    let d = c.mkdir(&ctx(), ROOT_ID, os("d"), 0o755).unwrap();
    let (f, open) = c.create(&ctx(), d.nodeid, os("f"), 0o644, 0).unwrap();
    c.write(&ctx(), f.nodeid, open.fh, 0, b"data").unwrap();
    c.rename(&ctx(), ROOT_ID, os("d"), ROOT_ID, os("e"), 0)
        .unwrap();
    assert_eq!(c.nodes().path_of(f.nodeid).unwrap(), PathBuf::from("/e/f"));
    assert_eq!(c.getattr(&ctx(), f.nodeid, None).unwrap().size, 4);
    assert_eq!(c.lookup(&ctx(), ROOT_ID, os("d")), Err(Errno::ENOENT));
}

#[test]
fn rename_noreplace_and_exchange() {
    let (_, c) = core();
    let a = c.mkdir(&ctx(), ROOT_ID, os("a"), 0o755).unwrap();
    let b = c
        .mknod(&ctx(), ROOT_ID, os("b"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    assert_eq!(
        c.rename(
            &ctx(),
            ROOT_ID,
            os("a"),
            ROOT_ID,
            os("b"),
            libc::RENAME_NOREPLACE
        ),
        Err(Errno::EEXIST)
    );
    c.rename(
        &ctx(),
        ROOT_ID,
        os("a"),
        ROOT_ID,
        os("b"),
        libc::RENAME_EXCHANGE,
    )
    .unwrap();
    assert!(c.getattr(&ctx(), a.nodeid, None).unwrap().is_dir());
    assert_eq!(c.nodes().path_of(a.nodeid).unwrap(), PathBuf::from("/b"));
    assert_eq!(c.nodes().path_of(b.nodeid).unwrap(), PathBuf::from("/a"));
    assert!(!c.lookup(&ctx(), ROOT_ID, os("a")).unwrap().stat.is_dir());
}

#[test]
fn readdir_snapshot_offsets_are_stable() {
    let (fs, c) = core();
    for i in 0..5 {
        c.mknod(
            &ctx(),
            ROOT_ID,
            os(&format!("f{i}")),
            libc::S_IFREG | 0o644,
            0,
        )
        .unwrap();
    }
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    let first = c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    assert_eq!(names(&first), [".", "..", "f0", "f1", "f2", "f3", "f4"]);
    // The directory changes between two readdir calls: the snapshot does not.
    c.unlink(&ctx(), ROOT_ID, os("f0")).unwrap();
    c.mknod(&ctx(), ROOT_ID, os("a-new"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    let rest = c.readdir(&ctx(), ROOT_ID, fh, 4).unwrap();
    assert_eq!(names(&rest), ["f2", "f3", "f4"]);
    assert!(names(&c.readdir(&ctx(), ROOT_ID, fh, 7).unwrap()).is_empty());
    assert!(names(&c.readdir(&ctx(), ROOT_ID, fh, 99).unwrap()).is_empty());
    assert_eq!(fs.calls.readdir.load(Ordering::Relaxed), 1, "listed once");
    // rewinddir: offset 0 again takes a fresh snapshot.
    let again = c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    assert_eq!(names(&again)[2], "a-new");
    c.releasedir(&ctx(), ROOT_ID, fh).unwrap();
    assert_eq!(c.readdir(&ctx(), ROOT_ID, fh, 0).err(), Some(Errno::EBADF));
    assert_eq!(c.open_handles(), (0, 0));
}

/// opendir lists nothing: a listing the kernel answers from its cache (FOPEN_CACHE_DIR)
/// sends no readdir, and the first readdir takes the listing whatever its offset (the
/// kernel resumes past what its cache held).
#[test]
fn the_first_readdir_takes_the_listing_not_opendir() {
    let (fs, c) = core();
    for name in ["a", "b", "c"] {
        c.mknod(&ctx(), ROOT_ID, os(name), libc::S_IFREG | 0o644, 0)
            .unwrap();
    }
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    c.releasedir(&ctx(), ROOT_ID, fh).unwrap();
    assert_eq!(
        fs.calls.readdir.load(Ordering::Relaxed),
        0,
        "opendir listed"
    );
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    c.mknod(&ctx(), ROOT_ID, os("d"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    let rest = c.readdir(&ctx(), ROOT_ID, fh, 3).unwrap();
    assert_eq!(names(&rest), ["b", "c", "d"], "listed at the first readdir");
    assert_eq!(fs.calls.readdir.load(Ordering::Relaxed), 1);
    assert_eq!(names(&c.readdir(&ctx(), ROOT_ID, fh, 5).unwrap()), ["d"]);
    assert_eq!(fs.calls.readdir.load(Ordering::Relaxed), 1, "one snapshot");
    c.releasedir(&ctx(), ROOT_ID, fh).unwrap();
}

#[test]
fn readdir_errors_reach_readdir_not_opendir() {
    let (_, c) = core();
    let (f, _) = c.create(&ctx(), ROOT_ID, os("file"), 0o644, 0).unwrap();
    let fh = c.opendir(&ctx(), f.nodeid, 0).unwrap().fh;
    assert_eq!(
        c.readdir(&ctx(), f.nodeid, fh, 0).err(),
        Some(Errno::ENOTDIR)
    );
}

#[test]
fn readdirplus_entries_count_lookups_and_use_listing_stats() {
    let (fs, c) = core();
    c.mknod(&ctx(), ROOT_ID, os("x"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    let chunk = c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    let before = fs.calls.getattr.load(Ordering::Relaxed);
    let found: Vec<_> = chunk.entries[chunk.start..]
        .iter()
        .map(|e| c.readdirplus_entry(&ctx(), ROOT_ID, &chunk, e))
        .collect();
    assert_eq!(found[0], None, ". is not looked up");
    assert_eq!(found[1], None, ".. is not looked up");
    let x = found[2].unwrap();
    assert_eq!(c.nodes().lookups(x.nodeid), Some(2), "mknod + readdirplus");
    assert_eq!(
        fs.calls.getattr.load(Ordering::Relaxed),
        before,
        "no getattr"
    );
    assert_eq!(c.dirent_ino(ROOT_ID, &chunk, &chunk.entries[2]), x.nodeid);
    assert_eq!(c.dirent_ino(ROOT_ID, &chunk, &chunk.entries[0]), ROOT_ID);
}

#[test]
fn readdirplus_without_listing_stats_asks_getattr() {
    let fs = MemFs::new().without_readdir_stats();
    let (fs, c) = core_with(fs, AdapterConfig::default());
    let d = c.mkdir(&ctx(), ROOT_ID, os("d"), 0o700).unwrap();
    c.forget(d.nodeid, 1);
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    let chunk = c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    assert_eq!(
        c.dirent_ino(ROOT_ID, &chunk, &chunk.entries[2]),
        UNKNOWN_INO
    );
    // Plain readdir learns the type through getattr (fuser cannot send DT_UNKNOWN).
    assert_eq!(
        c.dirent_type(&ctx(), ROOT_ID, &chunk.entries[2]),
        libc::S_IFDIR
    );
    assert_eq!(
        c.dirent_type(&ctx(), ROOT_ID, &chunk.entries[0]),
        libc::S_IFDIR
    );
    let before = fs.calls.getattr.load(Ordering::Relaxed);
    let e = c
        .readdirplus_entry(&ctx(), ROOT_ID, &chunk, &chunk.entries[2])
        .unwrap();
    assert!(e.stat.is_dir());
    assert_eq!(fs.calls.getattr.load(Ordering::Relaxed), before + 1);
}

#[test]
fn readdir_types_from_listed_kinds_without_getattr() {
    let fs = MemFs::new().with_readdir_kinds();
    let (fs, c) = core_with(fs, AdapterConfig::default());
    for (name, mode) in [
        ("d", libc::S_IFDIR | 0o755),
        ("f", libc::S_IFREG | 0o644),
        ("p", libc::S_IFIFO | 0o600),
    ] {
        let e = if mode & libc::S_IFMT == libc::S_IFDIR {
            c.mkdir(&ctx(), ROOT_ID, os(name), mode).unwrap()
        } else {
            c.mknod(&ctx(), ROOT_ID, os(name), mode, 0).unwrap()
        };
        c.forget(e.nodeid, 1);
    }
    c.symlink(&ctx(), ROOT_ID, os("l"), Path::new("f")).unwrap();
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    let chunk = c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    let before = fs.calls.getattr.load(Ordering::Relaxed);
    let types: Vec<_> = chunk.entries[chunk.start..]
        .iter()
        .map(|e| {
            (
                e.name.to_string_lossy().into_owned(),
                c.dirent_type(&ctx(), ROOT_ID, e),
            )
        })
        .collect();
    let want = [
        (".", libc::S_IFDIR),
        ("..", libc::S_IFDIR),
        ("d", libc::S_IFDIR),
        ("f", libc::S_IFREG),
        ("l", libc::S_IFLNK),
        ("p", libc::S_IFIFO),
    ];
    let want: Vec<_> = want.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    assert_eq!(types, want);
    assert_eq!(
        fs.calls.getattr.load(Ordering::Relaxed),
        before,
        "no getattr for a plain readdir when the listing has types"
    );
}

#[test]
fn readdirplus_stats_entries_through_stat_entry() {
    let fs = MemFs::new().with_readdir_kinds().with_stat_entry();
    let (fs, c) = core_with(fs, AdapterConfig::default());
    let d = c.mkdir(&ctx(), ROOT_ID, os("d"), 0o700).unwrap();
    let (f, _) = c.create(&ctx(), d.nodeid, os("f"), 0o640, 0).unwrap();
    c.forget(f.nodeid, 1);
    let fh = c.opendir(&ctx(), d.nodeid, 0).unwrap().fh;
    let chunk = c.readdir(&ctx(), d.nodeid, fh, 0).unwrap();
    assert_eq!(names(&chunk), [".", "..", "f"]);
    let getattrs = fs.calls.getattr.load(Ordering::Relaxed);
    let found: Vec<_> = chunk.entries[chunk.start..]
        .iter()
        .map(|e| c.readdirplus_entry(&ctx(), d.nodeid, &chunk, e))
        .collect();
    assert_eq!(
        found[..2],
        [None, None],
        "dots are neither stated nor looked up"
    );
    let e = found[2].unwrap();
    assert_eq!(e.stat.mode, libc::S_IFREG | 0o640);
    assert_eq!(
        c.nodes().lookups(e.nodeid),
        Some(1),
        "one lookup for the kernel"
    );
    assert_eq!(fs.calls.stat_entry.load(Ordering::Relaxed), 1);
    assert_eq!(
        fs.calls.getattr.load(Ordering::Relaxed),
        getattrs,
        "no getattr"
    );
    // A name that vanished since the listing: no entry, and no getattr either.
    c.unlink(&ctx(), d.nodeid, os("f")).unwrap();
    assert_eq!(
        c.readdirplus_entry(&ctx(), d.nodeid, &chunk, &chunk.entries[2]),
        None
    );
    assert_eq!(fs.calls.stat_entry.load(Ordering::Relaxed), 2);
    assert_eq!(fs.calls.getattr.load(Ordering::Relaxed), getattrs);
}

#[test]
fn xattr_size_probe_protocol() {
    let (_, c) = core();
    let (f, _) = c.create(&ctx(), ROOT_ID, os("f"), 0o644, 0).unwrap();
    let n = f.nodeid;
    c.setxattr(&ctx(), n, os("user.one"), b"value", 0).unwrap();
    c.setxattr(&ctx(), n, os("user.two"), b"", 0).unwrap();
    assert_eq!(
        c.setxattr(&ctx(), n, os("user.one"), b"v", libc::XATTR_CREATE),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        c.getxattr(&ctx(), n, os("user.one"), 0),
        Ok(XattrReply::Size(5))
    );
    assert_eq!(c.getxattr(&ctx(), n, os("user.one"), 4), Err(Errno::ERANGE));
    assert_eq!(
        c.getxattr(&ctx(), n, os("user.one"), 5),
        Ok(XattrReply::Data(b"value".to_vec()))
    );
    assert_eq!(
        c.getxattr(&ctx(), n, os("user.nope"), 0),
        Err(Errno::ENODATA)
    );
    let list = b"user.one\0user.two\0".to_vec();
    assert_eq!(
        c.listxattr(&ctx(), n, 0),
        Ok(XattrReply::Size(list.len() as u32))
    );
    assert_eq!(c.listxattr(&ctx(), n, 3), Err(Errno::ERANGE));
    assert_eq!(c.listxattr(&ctx(), n, 100), Ok(XattrReply::Data(list)));
    c.removexattr(&ctx(), n, os("user.one")).unwrap();
    assert_eq!(
        c.listxattr(&ctx(), n, 100),
        Ok(XattrReply::Data(b"user.two\0".to_vec()))
    );
}

/// xattr requests carry no handle: for a node unlinked while open, the daemon uses the
/// open handle, so the answers describe that file and not the one that took its name.
#[test]
fn xattrs_of_an_unlinked_open_file_go_through_its_handle() {
    let (_, c) = core();
    let (f, open) = c.create(&ctx(), ROOT_ID, os("f"), 0o644, 0).unwrap();
    let n = f.nodeid;
    c.setxattr(&ctx(), n, os("user.old"), b"1", 0).unwrap();
    c.unlink(&ctx(), ROOT_ID, os("f")).unwrap();
    let (g, _) = c.create(&ctx(), ROOT_ID, os("f"), 0o644, 0).unwrap();
    assert_ne!(g.nodeid, n);
    c.setxattr(&ctx(), n, os("user.k"), b"v", 0).unwrap();
    assert_eq!(
        c.listxattr(&ctx(), n, 100),
        Ok(XattrReply::Data(b"user.k\0user.old\0".to_vec()))
    );
    assert_eq!(
        c.getxattr(&ctx(), n, os("user.old"), 10),
        Ok(XattrReply::Data(b"1".to_vec()))
    );
    c.removexattr(&ctx(), n, os("user.old")).unwrap();
    assert_eq!(
        c.listxattr(&ctx(), g.nodeid, 100),
        Ok(XattrReply::Data(Vec::new())),
        "the new file at the name is untouched"
    );
    c.release(&ctx(), n, open.fh, 0, false).unwrap();
}

/// A listing taken before an unlink (or a rename away) still holds the name: it keeps
/// the inode number it had; a fresh snapshot (rewinddir) forgets it.
#[test]
fn removed_names_keep_their_inode_number_in_an_open_listing() {
    let (_, c) = core();
    let a = c
        .mknod(&ctx(), ROOT_ID, os("a"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    let b = c
        .mknod(&ctx(), ROOT_ID, os("b"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    let fh = c.opendir(&ctx(), ROOT_ID, 0).unwrap().fh;
    c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    c.unlink(&ctx(), ROOT_ID, os("a")).unwrap();
    c.rename(&ctx(), ROOT_ID, os("b"), ROOT_ID, os("c"), 0)
        .unwrap();
    let chunk = c.readdir(&ctx(), ROOT_ID, fh, 2).unwrap();
    assert_eq!(names(&chunk), ["a", "b"]);
    assert_eq!(c.dirent_ino(ROOT_ID, &chunk, &chunk.entries[2]), a.nodeid);
    assert_eq!(c.dirent_ino(ROOT_ID, &chunk, &chunk.entries[3]), b.nodeid);
    let fresh = c.readdir(&ctx(), ROOT_ID, fh, 0).unwrap();
    assert_eq!(names(&fresh), [".", "..", "c"]);
    assert!(fresh.gone.is_empty());
    c.releasedir(&ctx(), ROOT_ID, fh).unwrap();
}

#[test]
fn symlink_link_readlink_and_use_ino_aliases() {
    let config = AdapterConfig {
        use_ino: true,
        ..AdapterConfig::default()
    };
    let (_, c) = core_with(MemFs::new(), config);
    let l = c
        .symlink(&ctx(), ROOT_ID, os("l"), Path::new("target/path"))
        .unwrap();
    assert_eq!(
        c.readlink(&ctx(), l.nodeid).unwrap(),
        b"target/path".to_vec()
    );
    let (f, _) = c.create(&ctx(), ROOT_ID, os("f"), 0o644, 0).unwrap();
    assert_eq!(f.nodeid, f.stat.ino, "use_ino: the real inode number");
    let h = c.link(&ctx(), f.nodeid, ROOT_ID, os("h")).unwrap();
    assert_eq!(h.nodeid, f.nodeid, "hard links share a node");
    assert_eq!(h.stat.nlink, 2);
}

#[test]
fn statfs_defaults_frsize_and_missing_handlers_answer_enosys() {
    let (_, c) = core();
    let st = c.statfs(&ctx(), ROOT_ID).unwrap();
    assert_eq!((st.bsize, st.frsize, st.blocks), (4096, 4096, 1000));
    assert_eq!(c.access(&ctx(), ROOT_ID, libc::R_OK), Err(Errno::ENOSYS));
    let (f, open) = c.create(&ctx(), ROOT_ID, os("f"), 0o644, 0).unwrap();
    assert_eq!(
        c.lseek(&ctx(), f.nodeid, open.fh, 0, libc::SEEK_DATA),
        Err(Errno::ENOSYS)
    );
    assert_eq!(
        c.fallocate(&ctx(), f.nodeid, open.fh, 0, 0, 10),
        Err(Errno::ENOSYS)
    );
    assert_eq!(c.lseek(&ctx(), f.nodeid, 999, 0, 0), Err(Errno::EBADF));
}

#[test]
fn forced_open_flags_from_config() {
    let config = AdapterConfig {
        direct_io: true,
        kernel_cache: true,
        ..AdapterConfig::default()
    };
    let (_, c) = core_with(MemFs::new(), config);
    c.mknod(&ctx(), ROOT_ID, os("f"), libc::S_IFREG | 0o644, 0)
        .unwrap();
    let f = c.lookup(&ctx(), ROOT_ID, os("f")).unwrap();
    let open = c.open(&ctx(), f.nodeid, libc::O_RDONLY).unwrap();
    assert!(open.direct_io && open.keep_cache && !open.nonseekable);
}
