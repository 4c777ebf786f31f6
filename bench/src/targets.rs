//! The filesystems under test, each mounted fresh over its own backing directory on
//! tmpfs for every repetition.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cleanup;
use crate::workloads::Id;

#[derive(Clone, Debug)]
pub enum Kind {
    /// The backing tmpfs directory itself, no FUSE.
    Native,
    /// `flu mount -f SCRIPT MNT -- BACKING`; the workloads run in `MNT/subdir` when
    /// given (a composition's passthrough branch).
    Flu {
        script: PathBuf,
        subdir: Option<&'static str>,
        /// Options of this target's own (`io_uring`), before the run's.
        own_options: &'static str,
    },
    /// `python3 SCRIPT BACKING MNT [OPTS]` (mfusepy, foreground).
    Mfusepy { python: String, script: PathBuf },
    /// Another FUSE server started in the foreground: `program` with `args`, where
    /// `Arg::Backing`, `Arg::Mnt` and `Arg::Options` stand for this run's values.
    Peer { program: PathBuf, args: Vec<Arg> },
}

/// An argument of a peer's command line.
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Backing,
    Mnt,
    /// `source=BACKING` (passthrough_ll's way of naming its directory).
    SourceOption,
    /// `-o OPTS` with the run's mount options, `extra` first (nothing when both are
    /// empty).
    Options {
        extra: String,
    },
}

#[derive(Clone, Debug)]
pub struct Target {
    /// Short name used in tables and file names.
    pub name: String,
    /// One line saying what it is, for the report.
    pub what: String,
    pub kind: Kind,
    /// Mount options every FUSE target gets in this run (`--options`), comma-separated.
    pub options: String,
    /// Keeps its files in its own memory: no backing directory, so untimed preparation
    /// goes through the mount.
    pub in_memory: bool,
    /// Workloads this target does not run, and why (reported as skipped, not failed).
    pub skips: Vec<(Id, &'static str)>,
}

/// A target ready for workloads: `dir` is where they run.
pub struct Mounted {
    pub dir: PathBuf,
    /// The backing directory (equal to `dir` for the native target).
    pub backing: PathBuf,
    /// Where untimed preparation writes: the backing directory, or the mount itself for
    /// an in-memory target.
    pub prep: PathBuf,
    pub mountpoint: Option<PathBuf>,
    child: Option<Child>,
    log: PathBuf,
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

impl Target {
    /// Why this target does not run `id`, if it does not.
    pub fn skip_reason(&self, id: Id) -> Option<&'static str> {
        self.skips
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, why)| *why)
    }

    /// Fresh backing dir and mount under `work/<name>/`.
    pub fn mount(&self, work: &Path, flu: &Path, rep: usize) -> Result<Mounted, String> {
        let base = work.join(&self.name);
        let backing = base.join("backing");
        let mnt = base.join("mnt");
        let log = work.join("logs").join(format!("{}-{rep}.log", self.name));
        if backing.exists() {
            std::fs::remove_dir_all(&backing).map_err(|e| format!("clearing backing: {e}"))?;
        }
        std::fs::create_dir_all(&backing).map_err(|e| format!("backing dir: {e}"))?;
        let mut cmd = match &self.kind {
            Kind::Native => {
                return Ok(Mounted {
                    dir: backing.clone(),
                    prep: backing.clone(),
                    backing,
                    mountpoint: None,
                    child: None,
                    log,
                })
            }
            Kind::Flu {
                script,
                own_options,
                ..
            } => {
                let mut c = Command::new(flu);
                c.arg("mount").arg("-f").arg(script).arg(&mnt);
                let all: Vec<&str> = [*own_options, self.options.as_str()]
                    .into_iter()
                    .filter(|o| !o.is_empty())
                    .collect();
                if !all.is_empty() {
                    c.arg("-o").arg(all.join(","));
                }
                if !self.in_memory {
                    c.arg("--").arg(&backing);
                }
                c
            }
            Kind::Mfusepy { python, script } => {
                let mut c = Command::new(python);
                c.arg(script).arg(&backing).arg(&mnt);
                if !self.options.is_empty() {
                    c.arg(&self.options);
                }
                c
            }
            Kind::Peer { program, args } => {
                let mut c = Command::new(program);
                for a in args {
                    match a {
                        Arg::Text(t) => {
                            c.arg(t);
                        }
                        Arg::Backing => {
                            c.arg(&backing);
                        }
                        Arg::Mnt => {
                            c.arg(&mnt);
                        }
                        Arg::SourceOption => {
                            let mut o = std::ffi::OsString::from("source=");
                            o.push(&backing);
                            c.arg(o);
                        }
                        Arg::Options { extra } => {
                            let all: Vec<&str> = [extra.as_str(), self.options.as_str()]
                                .into_iter()
                                .filter(|o| !o.is_empty())
                                .collect();
                            if !all.is_empty() {
                                c.arg("-o").arg(all.join(","));
                            }
                        }
                    }
                }
                c
            }
        };
        std::fs::create_dir_all(&mnt).map_err(|e| format!("mountpoint: {e}"))?;
        let logf = File::create(&log).map_err(|e| format!("log file: {e}"))?;
        let errf = logf.try_clone().map_err(|e| e.to_string())?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(logf)
            .stderr(errf)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.name))?;
        cleanup::register(&mnt, Some(child.id() as i32));
        let start = Instant::now();
        loop {
            if cleanup::is_mounted(&mnt) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                cleanup::unregister(&mnt);
                return Err(format!(
                    "{} exited ({status}) before mounting: {}",
                    self.name,
                    log_tail(&log)
                ));
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                cleanup::unregister(&mnt);
                return Err(format!("{} did not mount within 30 s", self.name));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The kernel answers INIT before the daemon's first reply; make sure the mount
        // serves before timing anything.
        std::fs::metadata(&mnt)
            .map_err(|e| format!("{}: stat of the mount root: {e}", self.name))?;
        let dir = match &self.kind {
            Kind::Flu {
                subdir: Some(sub), ..
            } => mnt.join(sub),
            _ => mnt.clone(),
        };
        let prep = if self.in_memory {
            dir.clone()
        } else {
            backing.clone()
        };
        Ok(Mounted {
            dir,
            prep,
            backing,
            mountpoint: Some(mnt),
            child: Some(child),
            log,
        })
    }
}

impl Mounted {
    /// The serving process (none for the native directory).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Unmount, wait for the daemon, remove the backing data. Returns a note when the
    /// daemon had to be killed.
    pub fn unmount(mut self) -> Option<String> {
        let mut note = None;
        if let Some(mnt) = self.mountpoint.take() {
            let mut ok = false;
            for _ in 0..50 {
                if !cleanup::is_mounted(&mnt) || cleanup::fusermount(&mnt, false) {
                    ok = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if !ok {
                cleanup::fusermount(&mnt, true);
                note = Some(format!("{} was busy; detached lazily", mnt.display()));
            }
            if let Some(child) = self.child.take() {
                cleanup::reap(child.id() as i32, Duration::from_secs(10));
            }
            cleanup::unregister(&mnt);
        }
        let _ = std::fs::remove_dir_all(&self.backing);
        let _ = &self.log;
        note
    }
}
