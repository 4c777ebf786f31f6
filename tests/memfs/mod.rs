//! `MemFs`: a small in-memory filesystem implementing the operation traits, for tests
//! of the daemon's path layer (`core_paths.rs`) and FUSE adapter (`adapter_mounts.rs`).
//! Open handles are inode numbers, so unlinked open files keep working through their
//! handle, as a real filesystem's would.

// Each test crate uses a part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::path::{Component, Path};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use flu_api::{
    AttrOps, DirEntry, DirOps, Errno, Fh, FileOps, Lifecycle, LockOps, NameOps, OpResult, Opened,
    RequestContext, Stat, StatFs, TimeSet, Timespec, XattrOps,
};

#[derive(Debug)]
struct Inode {
    stat: Stat,
    data: Vec<u8>,
    target: Vec<u8>,
    children: BTreeMap<OsString, u64>,
    xattrs: BTreeMap<OsString, Vec<u8>>,
}

#[derive(Debug)]
struct State {
    inodes: HashMap<u64, Inode>,
    next_ino: u64,
}

/// Counts of calls, for tests that check what the adapter asked.
#[derive(Debug, Default)]
pub struct Calls {
    pub readdir: AtomicUsize,
    pub create: AtomicUsize,
    pub mknod: AtomicUsize,
    pub getattr: AtomicUsize,
    pub stat_entry: AtomicUsize,
}

/// What readdir tells about each entry besides its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    Stat,
    Kind,
    Name,
}

#[derive(Debug)]
pub struct MemFs {
    state: Mutex<State>,
    /// Answer ENOSYS to create (to test the mknod + open fallback).
    no_create: bool,
    /// What readdir entries carry (`Stat`: readdirplus without getattr calls).
    listed: Listed,
    /// Answer `stat_entry` (else leave it to getattr).
    stat_entry: bool,
    /// Offer this file as the backing file of every regular file opened (kernel
    /// passthrough).
    backing: Option<std::fs::File>,
    pub calls: Calls,
}

const ROOT_INO: u64 = 1000;

fn now() -> Timespec {
    Timespec::now()
}

impl MemFs {
    pub fn new() -> MemFs {
        let mut inodes = HashMap::new();
        inodes.insert(ROOT_INO, Inode::new(ROOT_INO, libc::S_IFDIR | 0o755));
        MemFs {
            state: Mutex::new(State {
                inodes,
                next_ino: ROOT_INO + 1,
            }),
            no_create: false,
            listed: Listed::Stat,
            stat_entry: false,
            backing: None,
            calls: Calls::default(),
        }
    }

    /// Answer ENOSYS to create, like a script without a create handler.
    pub fn without_create(mut self) -> MemFs {
        self.no_create = true;
        self
    }

    /// Give readdir entries without attributes.
    pub fn without_readdir_stats(mut self) -> MemFs {
        self.listed = Listed::Name;
        self
    }

    /// Give readdir entries with their type only (as `d_type`).
    pub fn with_readdir_kinds(mut self) -> MemFs {
        self.listed = Listed::Kind;
        self
    }

    /// Answer `stat_entry` for entries of listed directories.
    pub fn with_stat_entry(mut self) -> MemFs {
        self.stat_entry = true;
        self
    }

    /// Offer `file` as backing file for kernel passthrough on every open.
    pub fn with_backing(mut self, file: std::fs::File) -> MemFs {
        self.backing = Some(file);
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inode {
    fn new(ino: u64, mode: u32) -> Inode {
        let t = now();
        Inode {
            stat: Stat {
                dev: 77,
                ino,
                mode,
                nlink: if mode & libc::S_IFMT == libc::S_IFDIR {
                    2
                } else {
                    1
                },
                blksize: 4096,
                atime: t,
                mtime: t,
                ctime: t,
                ..Stat::default()
            },
            data: Vec::new(),
            target: Vec::new(),
            children: BTreeMap::new(),
            xattrs: BTreeMap::new(),
        }
    }

    fn is_dir(&self) -> bool {
        self.stat.is_dir()
    }
}

impl State {
    fn resolve(&self, path: &Path) -> OpResult<u64> {
        let mut ino = ROOT_INO;
        for c in path.components() {
            match c {
                Component::RootDir => {}
                Component::Normal(name) => {
                    let node = self.inodes.get(&ino).ok_or(Errno::ENOENT)?;
                    if !node.is_dir() {
                        return Err(Errno::ENOTDIR);
                    }
                    ino = *node.children.get(name).ok_or(Errno::ENOENT)?;
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(ino)
    }

    fn split<'p>(&self, path: &'p Path) -> OpResult<(u64, &'p OsStr)> {
        let name = path.file_name().ok_or(Errno::EINVAL)?;
        let parent = self.resolve(path.parent().ok_or(Errno::EINVAL)?)?;
        if !self.inodes.get(&parent).ok_or(Errno::ENOENT)?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok((parent, name))
    }

    fn node(&mut self, ino: u64) -> OpResult<&mut Inode> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    fn make(&mut self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<u64> {
        let (parent, name) = self.split(path)?;
        if self.inodes[&parent].children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        let mut inode = Inode::new(ino, mode);
        inode.stat.uid = ctx.uid;
        inode.stat.gid = ctx.gid;
        self.inodes.insert(ino, inode);
        let p = self.node(parent)?;
        p.children.insert(name.to_owned(), ino);
        if mode & libc::S_IFMT == libc::S_IFDIR {
            p.stat.nlink += 1;
        }
        Ok(ino)
    }

    fn target_of(&self, path: &Path, fh: Option<Fh>) -> OpResult<u64> {
        match fh {
            Some(Fh(ino)) if self.inodes.contains_key(&ino) => Ok(ino),
            _ => self.resolve(path),
        }
    }
}

impl AttrOps for MemFs {
    fn getattr(&self, _ctx: &RequestContext, path: &Path, fh: Option<Fh>) -> OpResult<Stat> {
        self.calls.getattr.fetch_add(1, Ordering::Relaxed);
        let st = self.state();
        let ino = st.target_of(path, fh)?;
        Ok(st.inodes[&ino].stat)
    }

    fn chmod(&self, _ctx: &RequestContext, path: &Path, mode: u32, fh: Option<Fh>) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.target_of(path, fh)?;
        let node = st.node(ino)?;
        node.stat.mode = (node.stat.mode & libc::S_IFMT) | (mode & 0o7777);
        Ok(())
    }

    fn chown(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.target_of(path, fh)?;
        let node = st.node(ino)?;
        node.stat.uid = uid.unwrap_or(node.stat.uid);
        node.stat.gid = gid.unwrap_or(node.stat.gid);
        Ok(())
    }

    fn truncate(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        size: u64,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.target_of(path, fh)?;
        let node = st.node(ino)?;
        node.data.resize(size as usize, 0);
        node.stat.size = size;
        Ok(())
    }

    fn utimens(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.target_of(path, fh)?;
        let node = st.node(ino)?;
        for (slot, set) in [(&mut node.stat.atime, atime), (&mut node.stat.mtime, mtime)] {
            match set {
                TimeSet::Omit => {}
                TimeSet::Now => *slot = now(),
                TimeSet::At(t) => *slot = t,
            }
        }
        Ok(())
    }

    fn statfs(&self, _ctx: &RequestContext, _path: &Path) -> OpResult<StatFs> {
        Ok(StatFs {
            bsize: 4096,
            frsize: 0,
            blocks: 1000,
            bfree: 500,
            bavail: 400,
            files: 100,
            ffree: 50,
            favail: 50,
            ..StatFs::default()
        })
    }
}

impl NameOps for MemFs {
    fn readlink(&self, _ctx: &RequestContext, path: &Path) -> OpResult<Vec<u8>> {
        let st = self.state();
        let node = &st.inodes[&st.resolve(path)?];
        if node.stat.file_type() != libc::S_IFLNK {
            return Err(Errno::EINVAL);
        }
        Ok(node.target.clone())
    }

    fn mknod(&self, ctx: &RequestContext, path: &Path, mode: u32, rdev: u64) -> OpResult<()> {
        self.calls.mknod.fetch_add(1, Ordering::Relaxed);
        let mut st = self.state();
        let ino = st.make(ctx, path, mode)?;
        st.node(ino)?.stat.rdev = rdev;
        Ok(())
    }

    fn mkdir(&self, ctx: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        self.state()
            .make(ctx, path, libc::S_IFDIR | (mode & 0o7777))
            .map(|_| ())
    }

    fn unlink(&self, _ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let mut st = self.state();
        let (parent, name) = st.split(path)?;
        let ino = st.resolve(path)?;
        if st.inodes[&ino].is_dir() {
            return Err(Errno::EISDIR);
        }
        st.node(parent)?.children.remove(name);
        let node = st.node(ino)?;
        node.stat.nlink = node.stat.nlink.saturating_sub(1);
        Ok(())
    }

    fn rmdir(&self, _ctx: &RequestContext, path: &Path) -> OpResult<()> {
        let mut st = self.state();
        let (parent, name) = st.split(path)?;
        let ino = st.resolve(path)?;
        let node = &st.inodes[&ino];
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if !node.children.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let p = st.node(parent)?;
        p.children.remove(name);
        p.stat.nlink -= 1;
        Ok(())
    }

    fn symlink(&self, ctx: &RequestContext, target: &Path, path: &Path) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.make(ctx, path, libc::S_IFLNK | 0o777)?;
        let node = st.node(ino)?;
        node.target = target.as_os_str().as_encoded_bytes().to_vec();
        node.stat.size = node.target.len() as u64;
        Ok(())
    }

    fn rename(&self, _ctx: &RequestContext, from: &Path, to: &Path, flags: u32) -> OpResult<()> {
        let mut st = self.state();
        let (fp, fname) = st.split(from)?;
        let (tp, tname) = st.split(to)?;
        let ino = st.resolve(from)?;
        let existing = st.inodes[&tp].children.get(tname).copied();
        if flags & libc::RENAME_EXCHANGE != 0 {
            let other = existing.ok_or(Errno::ENOENT)?;
            st.node(fp)?.children.insert(fname.to_owned(), other);
            st.node(tp)?.children.insert(tname.to_owned(), ino);
            return Ok(());
        }
        if let Some(old) = existing {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if st.inodes[&old].is_dir() && !st.inodes[&old].children.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
        }
        st.node(fp)?.children.remove(fname);
        st.node(tp)?.children.insert(tname.to_owned(), ino);
        Ok(())
    }

    fn link(&self, _ctx: &RequestContext, from: &Path, to: &Path) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.resolve(from)?;
        let (tp, tname) = st.split(to)?;
        if st.inodes[&tp].children.contains_key(tname) {
            return Err(Errno::EEXIST);
        }
        st.node(tp)?.children.insert(tname.to_owned(), ino);
        st.node(ino)?.stat.nlink += 1;
        Ok(())
    }
}

impl FileOps for MemFs {
    fn open(&self, _ctx: &RequestContext, path: &Path, _flags: i32) -> OpResult<Opened> {
        let st = self.state();
        let fh = st.resolve(path)?;
        let regular = st.inodes[&fh].stat.file_type() == libc::S_IFREG;
        Ok(Opened {
            fh,
            backing_fd: self
                .backing
                .as_ref()
                .filter(|_| regular)
                .map(std::os::fd::AsRawFd::as_raw_fd),
            ..Opened::default()
        })
    }

    fn create(
        &self,
        ctx: &RequestContext,
        path: &Path,
        mode: u32,
        _flags: i32,
    ) -> OpResult<Opened> {
        self.calls.create.fetch_add(1, Ordering::Relaxed);
        if self.no_create {
            return Err(Errno::ENOSYS);
        }
        let fh = self.state().make(ctx, path, mode)?;
        Ok(Opened {
            fh,
            ..Opened::default()
        })
    }

    fn read(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: u64,
        size: u32,
    ) -> OpResult<Vec<u8>> {
        let st = self.state();
        let node = st.inodes.get(&fh.0).ok_or(Errno::EBADF)?;
        let start = (offset as usize).min(node.data.len());
        let end = start.saturating_add(size as usize).min(node.data.len());
        Ok(node.data[start..end].to_vec())
    }

    fn write(
        &self,
        _ctx: &RequestContext,
        _path: &Path,
        fh: Fh,
        offset: u64,
        data: &[u8],
    ) -> OpResult<u32> {
        let mut st = self.state();
        let node = st.inodes.get_mut(&fh.0).ok_or(Errno::EBADF)?;
        let end = offset as usize + data.len();
        if node.data.len() < end {
            node.data.resize(end, 0);
        }
        node.data[offset as usize..end].copy_from_slice(data);
        node.stat.size = node.data.len() as u64;
        node.stat.mtime = now();
        Ok(data.len() as u32)
    }

    fn flush(&self, _ctx: &RequestContext, _path: &Path, _fh: Fh, _owner: u64) -> OpResult<()> {
        Ok(())
    }

    fn fsync(&self, _ctx: &RequestContext, _path: &Path, _fh: Fh, _datasync: bool) -> OpResult<()> {
        Ok(())
    }
}

impl DirOps for MemFs {
    fn readdir(&self, _ctx: &RequestContext, path: &Path, _fh: Fh) -> OpResult<Vec<DirEntry>> {
        self.calls.readdir.fetch_add(1, Ordering::Relaxed);
        let st = self.state();
        let node = &st.inodes[&st.resolve(path)?];
        if !node.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(node
            .children
            .iter()
            .map(|(name, ino)| {
                let stat = st.inodes[ino].stat;
                DirEntry {
                    name: name.clone(),
                    stat: (self.listed == Listed::Stat).then_some(stat),
                    kind: (self.listed == Listed::Kind).then(|| stat.file_type()),
                }
            })
            .collect())
    }

    fn stat_entry(
        &self,
        _ctx: &RequestContext,
        dir: &Path,
        _fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        if !self.stat_entry {
            return None;
        }
        self.calls.stat_entry.fetch_add(1, Ordering::Relaxed);
        let st = self.state();
        Some(st.resolve(dir).and_then(|d| {
            let ino = st.inodes[&d].children.get(name).ok_or(Errno::ENOENT)?;
            Ok(st.inodes[ino].stat)
        }))
    }
}

impl XattrOps for MemFs {
    fn setxattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        value: &[u8],
        flags: i32,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.target_of(path, fh)?;
        let x = &mut st.node(ino)?.xattrs;
        let exists = x.contains_key(name);
        if flags & libc::XATTR_CREATE != 0 && exists {
            return Err(Errno::EEXIST);
        }
        if flags & libc::XATTR_REPLACE != 0 && !exists {
            return Err(Errno::ENODATA);
        }
        x.insert(name.to_owned(), value.to_vec());
        Ok(())
    }

    fn getxattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<Vec<u8>> {
        let st = self.state();
        let node = &st.inodes[&st.target_of(path, fh)?];
        node.xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn listxattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        fh: Option<Fh>,
    ) -> OpResult<Vec<OsString>> {
        let st = self.state();
        let node = &st.inodes[&st.target_of(path, fh)?];
        Ok(node.xattrs.keys().cloned().collect())
    }

    fn removexattr(
        &self,
        _ctx: &RequestContext,
        path: &Path,
        name: &OsStr,
        fh: Option<Fh>,
    ) -> OpResult<()> {
        let mut st = self.state();
        let ino = st.target_of(path, fh)?;
        st.node(ino)?
            .xattrs
            .remove(name)
            .map(|_| ())
            .ok_or(Errno::ENODATA)
    }
}

impl Lifecycle for MemFs {}
impl LockOps for MemFs {}
