//! Randomized data integrity through the passthrough: random operations on a few open
//! files (pwrite at random offsets, also past EOF; pread checked against the model;
//! ftruncate up and down; fallocate, also punching holes; copy_file_range between
//! files; writes and reads through a shared mapping; fsync; close and reopen), checked
//! against an in-memory model (one `Vec<u8>` per file). Afterwards every backing file
//! must equal its model.
//!
//! Fixed seeds plus one random seed per backend; a failure names the seed, and
//! `FLU_DATA_SEED=N` replays seed N as the "random" one.

mod common;
mod posix;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use posix::*;

const FILES: usize = 4;
/// Files stay below this size so the model and full checks stay cheap.
const MAX_SIZE: u64 = 3 << 20;
const OPS_PER_SEED: usize = 6_000;
const FIXED_SEEDS: [u64; 3] = [1, 0x5eed_cafe, 20_240_601];
const PAGE: u64 = 4096;

struct File {
    path: PathBuf,
    fd: i64,
    model: Vec<u8>,
}

struct Run {
    seed: u64,
    rng: Rng,
    files: Vec<File>,
    /// The last operations, for the failure message.
    recent: VecDeque<String>,
    op: usize,
}

impl Run {
    fn new(seed: u64, dir: &Path) -> Run {
        let files = (0..FILES)
            .map(|i| {
                let path = dir.join(format!("file{i}"));
                let fd = open(&path, libc::O_CREAT | libc::O_EXCL | libc::O_RDWR, 0o644)
                    .unwrap_or_else(|e| panic!("create {}: {}", path.display(), errno_name(e)));
                File {
                    path,
                    fd,
                    model: Vec::new(),
                }
            })
            .collect();
        Run {
            seed,
            rng: Rng::new(seed),
            files,
            recent: VecDeque::new(),
            op: 0,
        }
    }

    fn log(&mut self, what: String) {
        if self.recent.len() == 12 {
            self.recent.pop_front();
        }
        self.recent.push_back(what);
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        let mut msg = format!(
            "seed {} (replay with FLU_DATA_SEED={}), operation {}: {what}\nlast operations:\n",
            self.seed, self.seed, self.op
        );
        for r in &self.recent {
            let _ = writeln!(msg, "  {r}");
        }
        panic!("{msg}");
    }

    fn check<T: PartialEq + std::fmt::Debug>(&self, what: &str, got: T, want: T) {
        if got != want {
            self.fail(&format!("{what}: got {got:?}, want {want:?}"));
        }
    }

    /// Compare `got` with `model[off..off+len]` (clipped to the model), naming the
    /// first differing byte.
    fn check_bytes(&self, what: &str, file: usize, off: u64, got: &[u8], len: usize) {
        let model = &self.files[file].model;
        let start = (off as usize).min(model.len());
        let end = (off as usize + len).min(model.len());
        let want = &model[start..end];
        if got != want {
            let first = got
                .iter()
                .zip(want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(want.len()));
            self.fail(&format!(
                "{what}: file{file} at {off}+{len}: got {} bytes, want {}; first difference \
                 at byte {} (file offset {}): got {:?}, want {:?}",
                got.len(),
                want.len(),
                first,
                off as usize + first,
                got.get(first),
                want.get(first)
            ));
        }
    }

    fn sys<T>(&self, what: &str, r: Result<T, i32>) -> T {
        r.unwrap_or_else(|e| self.fail(&format!("{what}: {}", errno_name(e))))
    }

    fn pick_file(&mut self) -> usize {
        self.rng.below(FILES as u64) as usize
    }

    /// An offset in the file or a little past its end, and a length, staying under
    /// MAX_SIZE.
    fn range(&mut self, file: usize, max_len: u64) -> (u64, u64) {
        let size = self.files[file].model.len() as u64;
        let off = match self.rng.below(10) {
            0 => size,                                   // append
            1 => size + self.rng.below(3 * PAGE * 16),   // past EOF
            2 => self.rng.below(size / PAGE + 1) * PAGE, // page aligned
            _ => self.rng.below(size + 1),
        }
        .min(MAX_SIZE - 1);
        let len = (1 + self.rng.below(max_len)).min(MAX_SIZE - off);
        (off, len)
    }

    fn step(&mut self) {
        let f = self.pick_file();
        match self.rng.below(100) {
            0..=29 => self.pwrite(f),
            30..=54 => self.pread(f),
            55..=62 => self.truncate(f),
            63..=70 => self.fallocate(f),
            71..=78 => self.copy_range(f),
            79..=86 => self.mmap(f),
            87..=89 => {
                self.log(format!("fsync file{f}"));
                self.sys("fsync", fsync(self.files[f].fd));
            }
            90..=93 => self.reopen(f),
            _ => self.verify(f),
        }
    }

    fn pwrite(&mut self, f: usize) {
        let big = self.rng.chance(5);
        let (off, len) = self.range(f, if big { 1_500_000 } else { 70_000 });
        let mut data = vec![0u8; len as usize];
        self.rng.fill(&mut data);
        self.log(format!("pwrite file{f} {off}+{len}"));
        let n = self.sys("pwrite", pwrite_full(self.files[f].fd, &data, off as i64));
        self.check("pwrite count", n as u64, len);
        let m = &mut self.files[f].model;
        if m.len() < (off + len) as usize {
            m.resize((off + len) as usize, 0);
        }
        m[off as usize..(off + len) as usize].copy_from_slice(&data);
    }

    fn pread(&mut self, f: usize) {
        let (off, len) = self.range(f, 100_000);
        self.log(format!("pread file{f} {off}+{len}"));
        let got = self.sys(
            "pread",
            pread_full(self.files[f].fd, len as usize, off as i64),
        );
        self.check_bytes("pread", f, off, &got, len as usize);
    }

    fn truncate(&mut self, f: usize) {
        let size = self.files[f].model.len() as u64;
        let new = match self.rng.below(4) {
            0 => 0,
            1 => self.rng.below(size + 1),
            2 => size + self.rng.below(200_000),
            _ => self.rng.below(MAX_SIZE),
        }
        .min(MAX_SIZE);
        self.log(format!("ftruncate file{f} {size} -> {new}"));
        self.sys("ftruncate", ftruncate(self.files[f].fd, new as i64));
        self.files[f].model.resize(new as usize, 0);
    }

    fn fallocate(&mut self, f: usize) {
        let (off, len) = self.range(f, 200_000);
        let keep = libc::FALLOC_FL_KEEP_SIZE;
        let (mode, name) = match self.rng.below(3) {
            0 => (0, "allocate"),
            1 => (keep, "allocate KEEP_SIZE"),
            _ => (libc::FALLOC_FL_PUNCH_HOLE | keep, "PUNCH_HOLE"),
        };
        self.log(format!("fallocate {name} file{f} {off}+{len}"));
        self.sys(
            "fallocate",
            fallocate(self.files[f].fd, mode, off as i64, len as i64),
        );
        let m = &mut self.files[f].model;
        let end = (off + len) as usize;
        if mode == 0 && m.len() < end {
            m.resize(end, 0);
        } else if mode & libc::FALLOC_FL_PUNCH_HOLE != 0 && (off as usize) < m.len() {
            let end = end.min(m.len());
            m[off as usize..end].fill(0);
        }
    }

    fn copy_range(&mut self, src: usize) {
        let dst = (src + 1 + self.rng.below(FILES as u64 - 1) as usize) % FILES;
        let src_size = self.files[src].model.len() as u64;
        let off_in = if self.rng.chance(10) {
            src_size + self.rng.below(1000)
        } else {
            self.rng.below(src_size + 1)
        };
        let (off_out, len) = self.range(dst, 300_000);
        self.log(format!(
            "copy_file_range file{src}@{off_in} -> file{dst}@{off_out} len {len}"
        ));
        let want = len.min(src_size.saturating_sub(off_in));
        let mut done = 0u64;
        while done < want {
            let n = self.sys(
                "copy_file_range",
                copy_file_range(
                    self.files[src].fd,
                    (off_in + done) as i64,
                    self.files[dst].fd,
                    (off_out + done) as i64,
                    (len - done) as usize,
                ),
            ) as u64;
            if n == 0 {
                break;
            }
            done += n;
        }
        self.check("copy_file_range total", done, want);
        if done > 0 {
            let chunk = self.files[src].model[off_in as usize..(off_in + done) as usize].to_vec();
            let m = &mut self.files[dst].model;
            let end = (off_out + done) as usize;
            if m.len() < end {
                m.resize(end, 0);
            }
            m[off_out as usize..end].copy_from_slice(&chunk);
        }
    }

    /// Map a page-aligned window inside the file, write a random range through it,
    /// check the window through the mapping and through read(2).
    fn mmap(&mut self, f: usize) {
        let size = self.files[f].model.len() as u64;
        if size < PAGE {
            return self.pwrite(f);
        }
        let pages = size / PAGE;
        let first = self.rng.below(pages);
        let count = 1 + self.rng.below((pages - first).min(64));
        let (moff, mlen) = (first * PAGE, count * PAGE);
        let wlen = 1 + self.rng.below(mlen);
        let wstart = self.rng.below(mlen - wlen + 1);
        let mut data = vec![0u8; wlen as usize];
        self.rng.fill(&mut data);
        self.log(format!(
            "mmap file{f} {moff}+{mlen}, write {}+{wlen}",
            moff + wstart
        ));
        let mut map = self.sys(
            "mmap",
            Map::new(self.files[f].fd, moff as i64, mlen as usize),
        );
        // Check what the mapping shows before writing (whole pages of the model).
        let shown = map.bytes()[..mlen.min(size - moff) as usize].to_vec();
        self.check_bytes("mmap read", f, moff, &shown, shown.len());
        map.bytes_mut()[wstart as usize..(wstart + wlen) as usize].copy_from_slice(&data);
        let start = (moff + wstart) as usize;
        self.files[f].model[start..start + wlen as usize].copy_from_slice(&data);
        if self.rng.chance(50) {
            self.sys("msync", map.msync());
        }
        drop(map);
        let got = self.sys(
            "pread after mmap write",
            pread_full(self.files[f].fd, mlen as usize, moff as i64),
        );
        self.check_bytes("read(2) after mmap write", f, moff, &got, mlen as usize);
    }

    fn reopen(&mut self, f: usize) {
        self.log(format!("close and reopen file{f}"));
        self.sys("close", close(self.files[f].fd));
        let flags = libc::O_RDWR;
        self.files[f].fd = self.sys("reopen", open(&self.files[f].path, flags, 0));
    }

    fn verify(&mut self, f: usize) {
        self.log(format!("verify file{f}"));
        let st = self.sys("fstat", fstat(self.files[f].fd));
        self.check(
            "fstat size",
            st.st_size as u64,
            self.files[f].model.len() as u64,
        );
        let len = self.files[f].model.len();
        let got = self.sys("pread all", pread_full(self.files[f].fd, len + 10, 0));
        self.check_bytes("whole file", f, 0, &got, len + 10);
    }
}

/// Run `seed` in a fresh subdirectory of the mount; afterwards compare the backing files
/// with the model.
fn run_seed(m: &common::Mounted, backing: &Path, seed: u64) {
    let sub = format!("seed-{seed}");
    mkdir(&m.path(&sub), 0o755).unwrap();
    let mut run = Run::new(seed, &m.path(&sub));
    for i in 0..OPS_PER_SEED {
        run.op = i;
        run.step();
    }
    for f in 0..FILES {
        run.verify(f);
        run.sys("close", close(run.files[f].fd));
    }
    for f in 0..FILES {
        let backing_file = backing.join(&sub).join(format!("file{f}"));
        let got = std::fs::read(&backing_file).unwrap();
        run.check_bytes(
            "backing file after close",
            f,
            0,
            &got,
            got.len().max(run.files[f].model.len()),
        );
    }
}

fn integrity(script: &str) {
    let backing = ShmDir::new("integrity");
    let Some(m) = mount_passthrough(script, backing.path()) else {
        return;
    };
    let random = std::env::var("FLU_DATA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(random_seed);
    let mut seeds = FIXED_SEEDS.to_vec();
    seeds.push(random);
    eprintln!("{script}: seeds {seeds:?} (the last one is random; replay: FLU_DATA_SEED=N)");
    for seed in seeds {
        {
            let _g = using_mounts();
            run_seed(&m, backing.path(), seed);
        }
        assert!(m.daemon_alive(), "the daemon died (seed {seed})");
    }
    unmount(m);
}

/// Threads writing and reading disjoint regions of one shared file at once (each with
/// its own fd and its own model of its region), then the whole file checked.
fn parallel_regions(script: &str) {
    const THREADS: u64 = 4;
    const REGION: u64 = 256 << 10;
    const OPS: usize = 1_500;
    let backing = ShmDir::new("regions");
    let Some(m) = mount_passthrough(script, backing.path()) else {
        return;
    };
    let seed = std::env::var("FLU_DATA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(random_seed);
    eprintln!("{script}: parallel regions, seed {seed} (replay: FLU_DATA_SEED={seed})");
    let path = m.path("shared");
    let models: Vec<Vec<u8>> = {
        let _g = using_mounts();
        let fd = open(&path, libc::O_CREAT | libc::O_RDWR, 0o644).unwrap();
        ftruncate(fd, (THREADS * REGION) as i64).unwrap();
        close(fd).unwrap();
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut rng = Rng::new(seed ^ (t + 1).wrapping_mul(0x9e37_79b9));
                    let base = t * REGION;
                    let mut model = vec![0u8; REGION as usize];
                    let fd = open(&path, libc::O_RDWR, 0).unwrap();
                    for op in 0..OPS {
                        let off = rng.below(REGION);
                        let len = 1 + rng.below((REGION - off).min(20_000));
                        if rng.chance(50) {
                            let mut data = vec![0u8; len as usize];
                            rng.fill(&mut data);
                            let n = pwrite_full(fd, &data, (base + off) as i64)
                                .unwrap_or_else(|e| panic!("seed {seed} thread {t} op {op}: pwrite: {}", errno_name(e)));
                            assert_eq!(n as u64, len, "seed {seed} thread {t} op {op}");
                            model[off as usize..(off + len) as usize].copy_from_slice(&data);
                        } else {
                            let got = pread_full(fd, len as usize, (base + off) as i64)
                                .unwrap_or_else(|e| panic!("seed {seed} thread {t} op {op}: pread: {}", errno_name(e)));
                            assert!(
                                got == model[off as usize..(off + len) as usize],
                                "seed {seed} thread {t} op {op}: pread {}+{len} differs from the model",
                                base + off
                            );
                        }
                    }
                    close(fd).unwrap();
                    model
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    };
    let whole: Vec<u8> = models.concat();
    let through_mount = {
        let _g = using_mounts();
        std::fs::read(&path).unwrap()
    };
    assert!(
        through_mount == whole,
        "seed {seed}: the file through the mount differs"
    );
    let in_backing = std::fs::read(backing.path().join("shared")).unwrap();
    assert!(in_backing == whole, "seed {seed}: the backing file differs");
    assert!(m.daemon_alive());
    unmount(m);
}

#[test]
fn native_passthrough_parallel_regions_of_one_file() {
    parallel_regions(NATIVE);
}

#[test]
fn lua_overridden_passthrough_parallel_regions_of_one_file() {
    parallel_regions(LUA);
}

#[test]
fn native_passthrough_keeps_data_intact() {
    integrity(NATIVE);
}

#[test]
fn lua_overridden_passthrough_keeps_data_intact() {
    integrity(LUA);
}
