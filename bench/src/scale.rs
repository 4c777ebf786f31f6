//! `--scale N`: how each target copes with many files. N empty files in N/1000
//! directories are created through the mount, then `find` walks them twice — once
//! warm, once after `echo 2 > /proc/sys/vm/drop_caches` (the kernel forgets its
//! dentries and inodes, so every name is looked up again). Reported per target: time
//! per create (and the rate at the start against the rate at the end, which shows
//! whether creating slows down as the tree grows), both finds, and the daemon's
//! resident memory per cached node (RSS after the creates minus RSS after mounting,
//! divided by N).

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::targets::{Kind, Target};

/// Files per directory.
const PER_DIR: usize = 1000;

/// One target's numbers.
struct Row {
    name: String,
    create_us: f64,
    first_rate: f64,
    last_rate: f64,
    find_warm_s: f64,
    find_cold_s: f64,
    rss_per_node: Option<f64>,
    error: Option<String>,
}

/// The daemon's resident set in bytes (`VmRSS` of /proc/PID/status).
fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn find_count(dir: &Path) -> Result<(f64, usize), String> {
    let start = Instant::now();
    let out = Command::new("find")
        .arg(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("find: {e}"))?;
    if !out.status.success() {
        return Err(format!("find: {}", out.status));
    }
    let n = out.stdout.iter().filter(|&&b| b == b'\n').count();
    Ok((start.elapsed().as_secs_f64(), n))
}

fn measure(t: &Target, work: &Path, flu: &Path, n: usize) -> Row {
    let mut row = Row {
        name: t.name.clone(),
        create_us: 0.0,
        first_rate: 0.0,
        last_rate: 0.0,
        find_warm_s: 0.0,
        find_cold_s: 0.0,
        rss_per_node: None,
        error: None,
    };
    let m = match t.mount(work, flu, 0) {
        Ok(m) => m,
        Err(e) => {
            row.error = Some(e);
            return row;
        }
    };
    let pid = m.pid();
    let rss_before = pid.and_then(rss_of);
    let dirs = n.div_ceil(PER_DIR);
    let result = (|| -> Result<(), String> {
        let start = Instant::now();
        let mut lap = Instant::now();
        for d in 0..dirs {
            let dir = m.dir.join(format!("d{d:04}"));
            std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
            for f in 0..PER_DIR.min(n - d * PER_DIR) {
                let p = dir.join(format!("f{f:04}"));
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&p)
                    .map_err(|e| format!("create {}: {e}", p.display()))?;
            }
            // Files per second over the first and the last directory.
            let rate = PER_DIR as f64 / lap.elapsed().as_secs_f64();
            if d == 0 {
                row.first_rate = rate;
            }
            row.last_rate = rate;
            lap = Instant::now();
        }
        row.create_us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
        if let (Some(before), Some(after)) = (rss_before, pid.and_then(rss_of)) {
            row.rss_per_node = Some(after.saturating_sub(before) as f64 / n as f64);
        }
        let (warm, seen) = find_count(&m.dir)?;
        if seen < n {
            return Err(format!("find listed {seen} names, {n} were created"));
        }
        row.find_warm_s = warm;
        let _ = std::fs::write("/proc/sys/vm/drop_caches", "2\n");
        row.find_cold_s = find_count(&m.dir)?.0;
        Ok(())
    })();
    if let Err(e) = result {
        row.error = Some(e);
    }
    let _ = m.unmount();
    row
}

/// Measure every FUSE target (and the native directory) with `n` files; the report.
pub fn run(targets: &[Target], work: &Path, flu: &Path, n: usize) -> String {
    let mut out = format!(
        "## Scale: {n} empty files in {} directories\n\n\
         | target | µs per create | creates/s, first 1000 → last 1000 | find | find after drop_caches | daemon RSS per node |\n\
         |---|---|---|---|---|---|\n",
        n.div_ceil(PER_DIR)
    );
    for t in targets {
        eprintln!("flu-bench: scale {}", t.name);
        let r = measure(t, work, flu, n);
        if let Some(e) = &r.error {
            let _ = writeln!(out, "| {} | failed: {e} | | | | |", r.name);
            continue;
        }
        let rss = match (&t.kind, r.rss_per_node) {
            (Kind::Native, _) => "—".to_string(),
            (_, Some(b)) => format!("{b:.0} B"),
            (_, None) => "?".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.0} → {:.0} ({:.2}x) | {:.2} s | {:.2} s | {rss} |",
            r.name,
            r.create_us,
            r.first_rate,
            r.last_rate,
            r.first_rate / r.last_rate.max(1.0),
            r.find_warm_s,
            r.find_cold_s,
        );
    }
    out
}
