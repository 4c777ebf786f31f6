//! The workloads. Each measures one thing in `dir` and returns its wall time and how
//! many operations (or bytes) it did; untimed preparation happens before the clock
//! starts. Workloads run in this order and may use what earlier ones left behind
//! (seq-read reads seq-write's file, stat/readdir/rename/unlink use create's files).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const MIB: usize = 1 << 20;

/// Sizes; `--quick` scales them down for a smoke run.
#[derive(Clone, Debug)]
pub struct Sizes {
    pub seq_mib: usize,
    pub rand_file_mib: usize,
    pub rand_reads: usize,
    pub rand_writes: usize,
    pub files: usize,
    pub readdir_passes: usize,
    pub dirs: usize,
    /// What the untar/find/grep/rm tree is (for the report).
    pub tree_name: String,
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            seq_mib: 256,
            rand_file_mib: 64,
            rand_reads: 20_000,
            rand_writes: 5_000,
            files: 2_000,
            readdir_passes: 10,
            dirs: 1_000,
            tree_name: String::new(),
        }
    }

    pub fn quick() -> Sizes {
        Sizes {
            seq_mib: 32,
            rand_file_mib: 16,
            rand_reads: 2_000,
            rand_writes: 500,
            files: 200,
            readdir_passes: 2,
            dirs: 100,
            tree_name: String::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Report MB/s (10^6 bytes per second).
    Bytes,
    /// Report operations per second.
    Ops,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id {
    SeqWrite,
    SeqRead,
    RandRead,
    RandWrite,
    Create,
    Stat,
    SmallRead,
    Readdir,
    Rename,
    Unlink,
    Mkdir,
    Rmdir,
    Untar,
    Find,
    Grep,
    RmR,
}

pub const ALL: [Id; 16] = [
    Id::SeqWrite,
    Id::SeqRead,
    Id::RandRead,
    Id::RandWrite,
    Id::Create,
    Id::Stat,
    Id::SmallRead,
    Id::Readdir,
    Id::Rename,
    Id::Unlink,
    Id::Mkdir,
    Id::Rmdir,
    Id::Untar,
    Id::Find,
    Id::Grep,
    Id::RmR,
];

impl Id {
    pub fn key(self) -> &'static str {
        match self {
            Id::SeqWrite => "seq-write",
            Id::SeqRead => "seq-read",
            Id::RandRead => "rand-read",
            Id::RandWrite => "rand-write",
            Id::Create => "create",
            Id::Stat => "stat",
            Id::SmallRead => "small-read",
            Id::Readdir => "readdir",
            Id::Rename => "rename",
            Id::Unlink => "unlink",
            Id::Mkdir => "mkdir",
            Id::Rmdir => "rmdir",
            Id::Untar => "untar",
            Id::Find => "find",
            Id::Grep => "grep-r",
            Id::RmR => "rm-r",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Id::SeqWrite | Id::SeqRead => Unit::Bytes,
            _ => Unit::Ops,
        }
    }

    pub fn describe(self, s: &Sizes, tree_entries: usize) -> String {
        match self {
            Id::SeqWrite => format!("write {} MiB in 1 MiB blocks (open…close)", s.seq_mib),
            Id::SeqRead => format!(
                "read it back in 1 MiB blocks, fresh open after dropping the page cache ({} MiB)",
                s.seq_mib
            ),
            Id::RandRead => format!(
                "{} preads of 4 KiB at random aligned offsets of a {} MiB file",
                s.rand_reads, s.rand_file_mib
            ),
            Id::RandWrite => format!(
                "{} pwrites of 4 KiB at random aligned offsets of a {} MiB file, each followed by fdatasync",
                s.rand_writes, s.rand_file_mib
            ),
            Id::Create => format!("create+close {} empty files", s.files),
            Id::Stat => format!("stat each of the {} files", s.files),
            Id::SmallRead => format!(
                "open, read and close each of {} files of 4 KiB (fresh names, page cache dropped)",
                s.files
            ),
            Id::Readdir => format!(
                "list the {}-file directory {} times (ops = entries)",
                s.files, s.readdir_passes
            ),
            Id::Rename => format!("rename each of the {} files", s.files),
            Id::Unlink => format!("unlink each of the {} files", s.files),
            Id::Mkdir => format!("mkdir {} directories", s.dirs),
            Id::Rmdir => format!("rmdir the {} directories", s.dirs),
            Id::Untar => format!("tar -xf of {} ({tree_entries} entries)", s.tree_name),
            Id::Find => format!("find -ls over the tree ({tree_entries} entries)"),
            Id::Grep => format!(
                "grep -r a word that is in no file over the tree ({tree_entries} entries)"
            ),
            Id::RmR => format!("rm -r the tree ({tree_entries} entries)"),
        }
    }
}

/// One measurement.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub secs: f64,
    /// Operations, or bytes for `Unit::Bytes`.
    pub amount: f64,
}

pub struct Ctx<'a> {
    pub sizes: &'a Sizes,
    /// Where the workloads run (the mount, or the native directory).
    pub dir: &'a Path,
    /// Where untimed preparation writes: the backing directory (so it need not go
    /// through FUSE), or the mount itself for an in-memory target.
    pub prep: &'a Path,
    /// An in-memory target: `prep` is the mount itself.
    pub in_memory: bool,
    pub tarball: &'a Path,
    pub tree_entries: usize,
    pub drop_caches: bool,
}

fn err(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

/// Evict clean page-cache pages (so FUSE reads go to the daemon); tmpfs data stays.
pub fn drop_page_cache() -> bool {
    std::fs::write("/proc/sys/vm/drop_caches", "1\n").is_ok()
}

/// Evict the kernel's cached names and inodes as well: what preparation made through
/// an in-memory target's mount is then looked up afresh, as a backing directory's
/// names would be.
fn drop_names_and_pages() -> bool {
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

fn timed(f: impl FnOnce() -> Result<f64, String>) -> Result<Sample, String> {
    let t = Instant::now();
    let amount = f()?;
    Ok(Sample {
        secs: t.elapsed().as_secs_f64(),
        amount,
    })
}

fn run_quiet(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// xorshift64*: the same offsets for every target.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn files(dir: &Path, prefix: &str, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| dir.join(format!("{prefix}{i:05}")))
        .collect()
}

pub fn run(id: Id, c: &Ctx) -> Result<Sample, String> {
    let s = c.sizes;
    let big = c.dir.join("big");
    let meta = c.dir.join("meta");
    let tree = c.dir.join("tree");
    match id {
        Id::SeqWrite => {
            let block = vec![0x5au8; MIB];
            timed(|| {
                let mut f = File::create(&big).map_err(|e| err("create", &big, e))?;
                for _ in 0..s.seq_mib {
                    f.write_all(&block).map_err(|e| err("write", &big, e))?;
                }
                drop(f);
                Ok((s.seq_mib * MIB) as f64)
            })
        }
        Id::SeqRead => {
            if c.drop_caches {
                drop_page_cache();
            }
            let mut block = vec![0u8; MIB];
            let sample = timed(|| {
                let mut f = File::open(&big).map_err(|e| err("open", &big, e))?;
                let mut total = 0usize;
                loop {
                    let n = f.read(&mut block).map_err(|e| err("read", &big, e))?;
                    if n == 0 {
                        break;
                    }
                    total += n;
                }
                Ok(total as f64)
            })?;
            let _ = std::fs::remove_file(&big);
            if sample.amount as usize != s.seq_mib * MIB {
                return Err(format!(
                    "read {} bytes, wrote {}",
                    sample.amount,
                    s.seq_mib * MIB
                ));
            }
            Ok(sample)
        }
        Id::RandRead => {
            // Prepared in the backing directory: the file only has to exist.
            let prep = c.prep.join("rand");
            {
                let mut f = File::create(&prep).map_err(|e| err("create", &prep, e))?;
                let mut block = vec![0u8; MIB];
                for i in 0..s.rand_file_mib {
                    block.fill(i as u8);
                    f.write_all(&block).map_err(|e| err("write", &prep, e))?;
                }
            }
            if c.drop_caches {
                drop_page_cache();
            }
            let path = c.dir.join("rand");
            let pages = (s.rand_file_mib * MIB / 4096) as u64;
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let offsets: Vec<u64> = (0..s.rand_reads)
                .map(|_| (rng.next() % pages) * 4096)
                .collect();
            let mut buf = vec![0u8; 4096];
            let sample = timed(|| {
                let f = File::open(&path).map_err(|e| err("open", &path, e))?;
                for &off in &offsets {
                    let n = f
                        .read_at(&mut buf, off)
                        .map_err(|e| err("pread", &path, e))?;
                    if n != 4096 || buf[0] != (off / MIB as u64) as u8 {
                        return Err(format!("pread at {off}: {n} bytes, wrong data"));
                    }
                }
                Ok(offsets.len() as f64)
            })?;
            let _ = std::fs::remove_file(&prep);
            Ok(sample)
        }
        Id::RandWrite => {
            let path = c.dir.join("randw");
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| err("create", &path, e))?;
            f.set_len((s.rand_file_mib * MIB) as u64)
                .map_err(|e| err("truncate", &path, e))?;
            let pages = (s.rand_file_mib * MIB / 4096) as u64;
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            let offsets: Vec<u64> = (0..s.rand_writes)
                .map(|_| (rng.next() % pages) * 4096)
                .collect();
            let block = vec![0xa5u8; 4096];
            let sample = timed(|| {
                for &off in &offsets {
                    f.write_all_at(&block, off)
                        .map_err(|e| err("pwrite", &path, e))?;
                    f.sync_data().map_err(|e| err("fdatasync", &path, e))?;
                }
                Ok(offsets.len() as f64)
            })?;
            drop(f);
            let _ = std::fs::remove_file(&path);
            Ok(sample)
        }
        Id::SmallRead => {
            // Written in the backing directory under names the mount never saw, so no
            // cached attributes are stale; read through the mount. (An in-memory target
            // is written through its mount, whose names are then dropped.)
            let prep = c.prep.join("small");
            std::fs::create_dir(&prep).map_err(|e| err("mkdir", &prep, e))?;
            let content = vec![0x42u8; 4096];
            for p in files(&prep, "s", s.files) {
                std::fs::write(&p, &content).map_err(|e| err("write", &p, e))?;
            }
            if c.drop_caches {
                if c.in_memory {
                    drop_names_and_pages();
                } else {
                    drop_page_cache();
                }
            }
            let names = files(&c.dir.join("small"), "s", s.files);
            let mut buf = Vec::with_capacity(8192);
            let sample = timed(|| {
                for p in &names {
                    buf.clear();
                    File::open(p)
                        .and_then(|mut f| f.read_to_end(&mut buf))
                        .map_err(|e| err("read", p, e))?;
                    if buf.len() != 4096 {
                        return Err(format!("{}: read {} bytes", p.display(), buf.len()));
                    }
                }
                Ok(names.len() as f64)
            })?;
            let _ = std::fs::remove_dir_all(&prep);
            Ok(sample)
        }
        Id::Create => {
            std::fs::create_dir(&meta).map_err(|e| err("mkdir", &meta, e))?;
            let names = files(&meta, "f", s.files);
            timed(|| {
                for p in &names {
                    OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o644)
                        .open(p)
                        .map_err(|e| err("create", p, e))?;
                }
                Ok(names.len() as f64)
            })
        }
        Id::Stat => {
            let names = files(&meta, "f", s.files);
            timed(|| {
                for p in &names {
                    std::fs::symlink_metadata(p).map_err(|e| err("stat", p, e))?;
                }
                Ok(names.len() as f64)
            })
        }
        Id::Readdir => timed(|| {
            let mut total = 0usize;
            for _ in 0..s.readdir_passes {
                let mut n = 0;
                for e in std::fs::read_dir(&meta).map_err(|e| err("opendir", &meta, e))? {
                    e.map_err(|e| err("readdir", &meta, e))?;
                    n += 1;
                }
                if n != s.files {
                    return Err(format!("listed {n} entries, expected {}", s.files));
                }
                total += n;
            }
            Ok(total as f64)
        }),
        Id::Rename => {
            let from = files(&meta, "f", s.files);
            let to = files(&meta, "g", s.files);
            timed(|| {
                for (a, b) in from.iter().zip(&to) {
                    std::fs::rename(a, b).map_err(|e| err("rename", a, e))?;
                }
                Ok(from.len() as f64)
            })
        }
        Id::Unlink => {
            let names = files(&meta, "g", s.files);
            let sample = timed(|| {
                for p in &names {
                    std::fs::remove_file(p).map_err(|e| err("unlink", p, e))?;
                }
                Ok(names.len() as f64)
            })?;
            std::fs::remove_dir(&meta).map_err(|e| err("rmdir", &meta, e))?;
            Ok(sample)
        }
        Id::Mkdir => {
            std::fs::create_dir(&meta).map_err(|e| err("mkdir", &meta, e))?;
            let names = files(&meta, "d", s.dirs);
            timed(|| {
                for p in &names {
                    std::fs::create_dir(p).map_err(|e| err("mkdir", p, e))?;
                }
                Ok(names.len() as f64)
            })
        }
        Id::Rmdir => {
            let names = files(&meta, "d", s.dirs);
            let sample = timed(|| {
                for p in &names {
                    std::fs::remove_dir(p).map_err(|e| err("rmdir", p, e))?;
                }
                Ok(names.len() as f64)
            })?;
            std::fs::remove_dir(&meta).map_err(|e| err("rmdir", &meta, e))?;
            Ok(sample)
        }
        Id::Untar => {
            std::fs::create_dir(&tree).map_err(|e| err("mkdir", &tree, e))?;
            timed(|| {
                run_quiet(
                    Command::new("tar")
                        .arg("-xf")
                        .arg(c.tarball)
                        .arg("-C")
                        .arg(&tree),
                )?;
                Ok(c.tree_entries as f64)
            })
        }
        Id::Find => timed(|| {
            run_quiet(Command::new("find").arg(&tree).arg("-ls"))?;
            Ok(c.tree_entries as f64)
        }),
        Id::Grep => timed(|| {
            // grep exits 1 when nothing matches: that is the expected outcome.
            let status = Command::new("grep")
                .args(["-r", "-q", "flu-bench-no-such-word-3b7e"])
                .arg(&tree)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("grep: {e}"))?;
            if status.code() != Some(1) {
                return Err(format!("grep -r: {status}"));
            }
            Ok(c.tree_entries as f64)
        }),
        Id::RmR => {
            let sample = timed(|| {
                run_quiet(Command::new("rm").arg("-r").arg(&tree))?;
                Ok(c.tree_entries as f64)
            })?;
            if tree.exists() {
                return Err("rm -r left the tree behind".into());
            }
            Ok(sample)
        }
    }
}

/// Remove whatever a failed workload left, so the next ones start clean.
pub fn reset(dir: &Path) {
    for name in ["big", "rand", "randw", "small", "meta", "tree"] {
        let p = dir.join(name);
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// How long one measurement may take before the watchdog aborts the mount.
pub const DEADLINE: Duration = Duration::from_secs(180);
