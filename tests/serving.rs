//! The serving loop's watch for the next request (`-o spin=USEC`): a mount serves the
//! same with the watch off, short or long, sequential and parallel clients alike; and a
//! daemon left idle stops watching (its CPU time stays nearly flat), so the watch costs
//! CPU only while requests come. The backing directories are under the test temp dir
//! (ext4 here), which hands a removed directory's inode number out again at once: the
//! parallel clients also check that a mkdir never takes the node of a directory another
//! client just removed (it failed with ESTALE before `Made`).

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

/// A native passthrough over a fresh backing directory with `-o spin=<spin>`.
fn passthrough(backing: &TempDir, spin: &str) -> Option<Mounted> {
    let o = MountOptions::new()
        .opt(&format!("spin={spin}"))
        .arg(backing.path());
    mount_with(&test_script("native_passthrough.lua"), o)
}

/// Namespace operations in a row, as one sequential client makes them; checked below.
fn names_in_a_row(dir: &Path, n: usize) {
    let ok = |what: &str, p: &Path, r: std::io::Result<()>| {
        r.unwrap_or_else(|e| panic!("{what} {}: {e}", p.display()))
    };
    ok("mkdir", dir, fs::create_dir(dir));
    for i in 0..n {
        let (f, g, d) = (
            dir.join(format!("f{i}")),
            dir.join(format!("g{i}")),
            dir.join(format!("d{i}")),
        );
        ok("write", &f, fs::write(&f, format!("{i}")));
        ok("rename", &f, fs::rename(&f, &g));
        ok("mkdir", &d, fs::create_dir(&d));
    }
    for i in (0..n).step_by(2) {
        let (g, d) = (dir.join(format!("g{i}")), dir.join(format!("d{i}")));
        ok("unlink", &g, fs::remove_file(&g));
        ok("rmdir", &d, fs::remove_dir(&d));
    }
}

/// What `names_in_a_row(dir, n)` leaves, in the backing directory.
fn assert_left(backing: &Path, n: usize) {
    let mut want: Vec<String> = (1..n)
        .step_by(2)
        .flat_map(|i| [format!("d{i}"), format!("g{i}")])
        .collect();
    want.sort();
    assert_eq!(sorted_names(backing), want);
    for i in (1..n).step_by(2) {
        let text = fs::read_to_string(backing.join(format!("g{i}"))).unwrap();
        assert_eq!(text, i.to_string());
    }
}

#[test]
fn mounts_serve_alike_with_the_watch_off_short_or_long() {
    for spin in ["0", "1", "30", "5000"] {
        let backing = TempDir::new("spin");
        let Some(m) = passthrough(&backing, spin) else {
            return;
        };
        names_in_a_row(&m.path("seq"), 40);
        assert_left(&backing.join("seq"), 40);
        // Parallel clients: every thread may be the one watching when a request comes.
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let dir = m.path(format!("par{w}"));
                std::thread::spawn(move || names_in_a_row(&dir, 30))
            })
            .collect();
        for w in workers {
            w.join().expect("a parallel client failed");
        }
        for w in 0..4 {
            assert_left(&backing.join(format!("par{w}")), 30);
        }
        assert!(
            !m.log_text().contains("ERROR"),
            "spin={spin}: {}",
            m.log_text()
        );
    }
}

/// CPU time (user + system) of process `pid` so far.
fn cpu_time(pid: i32) -> Duration {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces, in parentheses).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// The watch ends when no request comes: an idle daemon, even with a long watch, takes
/// nearly no CPU over a second (a watch that never ended would take the whole second).
#[test]
fn an_idle_daemon_stops_watching() {
    let backing = TempDir::new("spin-idle");
    let Some(m) = passthrough(&backing, "20000") else {
        return;
    };
    let pid = m.pid.expect("the daemon's pid");
    names_in_a_row(&m.path("busy"), 50);
    // Past the 20 ms watch after the last answer.
    std::thread::sleep(Duration::from_millis(100));
    let (cpu0, t0) = (cpu_time(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(1));
    let (used, elapsed) = (cpu_time(pid) - cpu0, t0.elapsed());
    assert!(
        used < elapsed / 5,
        "an idle daemon took {used:?} of CPU in {elapsed:?}"
    );
    assert_left(&backing.join("busy"), 50);
}
