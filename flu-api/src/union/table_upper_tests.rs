//! The union over an upper with no real directory behind it, as a Lua handler table is:
//! a small in-memory backend (no rename, no xattrs) stands in for the table. The union
//! picks the hidden whiteout form by itself and copies files up in place.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::tests::{ctx, p};
use super::Union;
use crate::errno::Errno;
use crate::operations::*;
use crate::passthrough::{Passthrough, PassthroughOptions};
use crate::stat::Stat;
use crate::test_support::TempDir;
use crate::time::{TimeSet, Timespec};

#[derive(Clone, Default)]
struct Node {
    stat: Stat,
    data: Vec<u8>,
}

/// Files in a map by path; handles name paths.
#[derive(Default)]
struct Memory {
    nodes: Mutex<BTreeMap<PathBuf, Node>>,
    open: Mutex<HashMap<u64, PathBuf>>,
    next: AtomicU64,
}

impl Memory {
    fn new() -> Memory {
        let m = Memory::default();
        m.put(Path::new("/"), libc::S_IFDIR | 0o755);
        m
    }

    fn put(&self, path: &Path, mode: u32) {
        let stat = Stat {
            mode,
            nlink: 1,
            ..Stat::default()
        };
        let node = Node { stat, data: vec![] };
        self.nodes.lock().unwrap().insert(path.to_path_buf(), node);
    }

    fn make(&self, path: &Path, mode: u32) -> OpResult<()> {
        let mut nodes = self.nodes.lock().unwrap();
        let parent = path.parent().ok_or(Errno::EEXIST)?;
        match nodes.get(parent) {
            Some(p) if p.stat.is_dir() => {}
            Some(_) => return Err(Errno::ENOTDIR),
            None => return Err(Errno::ENOENT),
        }
        if nodes.contains_key(path) {
            return Err(Errno::EEXIST);
        }
        let stat = Stat {
            mode,
            nlink: 1,
            ..Stat::default()
        };
        nodes.insert(path.to_path_buf(), Node { stat, data: vec![] });
        Ok(())
    }

    fn with<T>(&self, path: &Path, f: impl FnOnce(&mut Node) -> T) -> OpResult<T> {
        self.nodes
            .lock()
            .unwrap()
            .get_mut(path)
            .map(f)
            .ok_or(Errno::ENOENT)
    }

    fn handle(&self, path: &Path) -> Opened {
        let fh = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.open.lock().unwrap().insert(fh, path.to_path_buf());
        Opened {
            fh,
            ..Opened::default()
        }
    }

    fn path_of(&self, fh: Fh) -> OpResult<PathBuf> {
        self.open
            .lock()
            .unwrap()
            .get(&fh.0)
            .cloned()
            .ok_or(Errno::EBADF)
    }

    fn children(&self, dir: &Path) -> Vec<(PathBuf, u32)> {
        let nodes = self.nodes.lock().unwrap();
        nodes
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, n)| (p.clone(), n.stat.file_type()))
            .collect()
    }
}

impl Lifecycle for Memory {}
impl LockOps for Memory {}
impl XattrOps for Memory {}

impl AttrOps for Memory {
    fn getattr(&self, _: &RequestContext, path: &Path, _: Option<Fh>) -> OpResult<Stat> {
        self.with(path, |n| n.stat)
    }
    fn chmod(&self, _: &RequestContext, path: &Path, mode: u32, _: Option<Fh>) -> OpResult<()> {
        self.with(path, |n| n.stat.mode = n.stat.file_type() | mode)
    }
    fn chown(
        &self,
        _: &RequestContext,
        path: &Path,
        uid: Option<u32>,
        gid: Option<u32>,
        _: Option<Fh>,
    ) -> OpResult<()> {
        self.with(path, |n| {
            n.stat.uid = uid.unwrap_or(n.stat.uid);
            n.stat.gid = gid.unwrap_or(n.stat.gid);
        })
    }
    fn truncate(&self, _: &RequestContext, path: &Path, size: u64, _: Option<Fh>) -> OpResult<()> {
        self.with(path, |n| {
            n.data.resize(size as usize, 0);
            n.stat.size = size;
        })
    }
    fn utimens(
        &self,
        _: &RequestContext,
        path: &Path,
        atime: TimeSet,
        mtime: TimeSet,
        _: Option<Fh>,
    ) -> OpResult<()> {
        let at = |t: TimeSet, old: Timespec| match t {
            TimeSet::At(t) => t,
            TimeSet::Now => Timespec::now(),
            TimeSet::Omit => old,
        };
        self.with(path, |n| {
            n.stat.atime = at(atime, n.stat.atime);
            n.stat.mtime = at(mtime, n.stat.mtime);
        })
    }
}

impl NameOps for Memory {
    fn mknod(&self, _: &RequestContext, path: &Path, mode: u32, _: u64) -> OpResult<()> {
        self.make(path, mode)
    }
    fn mkdir(&self, _: &RequestContext, path: &Path, mode: u32) -> OpResult<()> {
        self.make(path, libc::S_IFDIR | mode)
    }
    fn unlink(&self, _: &RequestContext, path: &Path) -> OpResult<()> {
        if self
            .getattr(&RequestContext::default(), path, None)?
            .is_dir()
        {
            return Err(Errno::EISDIR);
        }
        self.nodes.lock().unwrap().remove(path);
        Ok(())
    }
    fn rmdir(&self, _: &RequestContext, path: &Path) -> OpResult<()> {
        if !self
            .getattr(&RequestContext::default(), path, None)?
            .is_dir()
        {
            return Err(Errno::ENOTDIR);
        }
        if !self.children(path).is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.nodes.lock().unwrap().remove(path);
        Ok(())
    }
}

impl FileOps for Memory {
    fn open(&self, _: &RequestContext, path: &Path, _: i32) -> OpResult<Opened> {
        self.with(path, |_| ())?;
        Ok(self.handle(path))
    }
    fn create(&self, _: &RequestContext, path: &Path, mode: u32, _: i32) -> OpResult<Opened> {
        self.make(path, mode)?;
        Ok(self.handle(path))
    }
    fn read(&self, _: &RequestContext, _: &Path, fh: Fh, off: u64, size: u32) -> OpResult<Vec<u8>> {
        let path = self.path_of(fh)?;
        self.with(&path, |n| {
            let start = (off as usize).min(n.data.len());
            let end = (start + size as usize).min(n.data.len());
            n.data[start..end].to_vec()
        })
    }
    fn write(&self, _: &RequestContext, _: &Path, fh: Fh, off: u64, data: &[u8]) -> OpResult<u32> {
        let path = self.path_of(fh)?;
        self.with(&path, |n| {
            let end = off as usize + data.len();
            if n.data.len() < end {
                n.data.resize(end, 0);
            }
            n.data[off as usize..end].copy_from_slice(data);
            n.stat.size = n.data.len() as u64;
            data.len() as u32
        })
    }
    fn release(&self, _: &RequestContext, _: &Path, fh: Fh, _: i32, _: bool) -> OpResult<()> {
        self.open.lock().unwrap().remove(&fh.0);
        Ok(())
    }
}

impl DirOps for Memory {
    fn readdir(&self, _: &RequestContext, path: &Path, _: Fh) -> OpResult<Vec<DirEntry>> {
        Ok(self
            .children(path)
            .into_iter()
            .filter_map(|(p, kind)| {
                let name = p.file_name()?.to_os_string();
                Some(DirEntry {
                    name,
                    stat: None,
                    kind: Some(kind),
                })
            })
            .collect())
    }
}

fn names(u: &Union, dir: &str) -> Vec<String> {
    let o = u.opendir(&ctx(), p(dir), 0).unwrap();
    let mut v: Vec<String> = u
        .readdir(&ctx(), p(dir), Fh(o.fh))
        .unwrap()
        .into_iter()
        .map(|e| e.name.to_string_lossy().into_owned())
        .collect();
    u.releasedir(&ctx(), p(dir), Fh(o.fh)).unwrap();
    v.sort();
    v
}

#[test]
fn an_upper_without_a_directory_keeps_hidden_whiteouts_and_copies_in_place() {
    let lower = TempDir::new("union-table-lo");
    std::fs::create_dir_all(lower.join("d/sub")).unwrap();
    std::fs::write(lower.join("d/f"), b"lower f").unwrap();
    // Whatever umask another test of this process set meanwhile.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(lower.join("d/f"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(lower.join("d/sub/g"), b"g").unwrap();
    let upper = Arc::new(Memory::new());
    let lo = Passthrough::new(lower.path(), PassthroughOptions::default()).unwrap();
    let u = Union::new(upper.clone(), vec![Arc::new(lo)]);
    let c = ctx();

    // Copy-up without rename: in place, with its data and mode.
    let o = u.open(&c, p("/d/f"), libc::O_WRONLY).unwrap();
    u.write(&c, p("/d/f"), Fh(o.fh), 0, b"UPPER").unwrap();
    u.release(&c, p("/d/f"), Fh(o.fh), 0, true).unwrap();
    let copy = upper.with(p("/d/f"), |n| n.clone()).unwrap();
    assert_eq!(copy.data, b"UPPER f");
    assert_eq!(copy.stat.mode & 0o777, 0o644);
    assert!(upper
        .children(p("/d"))
        .iter()
        .all(|(q, _)| q.as_path() == p("/d/f")));

    // Whiteouts and the opaque marker are files of the table, never shown.
    u.unlink(&c, p("/d/f")).unwrap();
    assert!(upper.with(p("/d/.wh.f"), |_| ()).is_ok());
    assert!(upper.with(p("/d/f"), |_| ()).is_err());
    u.unlink(&c, p("/d/sub/g")).unwrap();
    u.rmdir(&c, p("/d/sub")).unwrap();
    u.mkdir(&c, p("/d/sub"), 0o755).unwrap();
    assert!(upper.with(p("/d/sub/.wh..wh..opq"), |_| ()).is_ok());
    assert_eq!(names(&u, "/d"), ["sub"]);
    assert!(names(&u, "/d/sub").is_empty());
    assert_eq!(u.getattr(&c, p("/d/.wh.f"), None), Err(Errno::ENOENT));
    assert_eq!(std::fs::read(lower.join("d/f")).unwrap(), b"lower f");
}
