//! The peers a user could pick instead of flu for a passthrough, each measured in the
//! same run with the same mount options: libfuse's `passthrough_ll` (C, the low-level
//! API; built here with cc from the example source Debian's libfuse3-dev ships),
//! `bindfs` (the Debian package) and mfusepy's loopback (Python, libfuse's high-level
//! API). A peer that cannot run here is left out with a note saying why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd_output;
use crate::targets::{Arg, Kind, Target};

/// Where Debian's libfuse3-dev puts the example sources.
const LIBFUSE_EXAMPLES: &str = "/usr/share/doc/libfuse3-dev/examples";

pub fn all(
    repo: &Path,
    python: &str,
    work: &Path,
    notes: &mut Vec<String>,
) -> Result<Vec<Target>, String> {
    let mut peers = Vec::new();
    match passthrough_ll(work) {
        Ok(t) => peers.push(t),
        Err(why) => notes.push(format!("passthrough_ll skipped: {why}")),
    }
    match bindfs() {
        Ok(t) => peers.push(t),
        Err(why) => notes.push(format!("bindfs skipped: {why}")),
    }
    match mfusepy(repo, python) {
        Ok(t) => peers.push(t),
        Err(why) => notes.push(format!("mfusepy skipped: {why}")),
    }
    Ok(peers)
}

fn passthrough_ll(work: &Path) -> Result<Target, String> {
    let source = Path::new(LIBFUSE_EXAMPLES).join("passthrough_ll.c");
    if !source.exists() {
        return Err(format!(
            "{} is missing (apt-get install libfuse3-dev)",
            source.display()
        ));
    }
    let flags = cmd_output(Command::new("pkg-config").args(["--cflags", "--libs", "fuse3"]))
        .ok_or(
            "pkg-config --cflags --libs fuse3 failed (apt-get install pkg-config libfuse3-dev)",
        )?;
    let version = cmd_output(Command::new("pkg-config").args(["--modversion", "fuse3"]))
        .unwrap_or_else(|| "?".into());
    // Not work/passthrough_ll: that is where the target's mount and backing go.
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let binary: PathBuf = bin.join("passthrough_ll");
    let built = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .args(flags.split_whitespace())
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "cc {} failed: {}",
            source.display(),
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    Ok(Target {
        name: "passthrough_ll".into(),
        what: format!(
            "libfuse {version}'s example/passthrough_ll.c (C, low-level API, multithreaded; built with cc -O2 from {LIBFUSE_EXAMPLES})"
        ),
        kind: Kind::Peer {
            program: binary,
            args: vec![
                Arg::Text("-f".into()),
                Arg::Options {
                    extra: String::new(),
                },
                Arg::Text("-o".into()),
                Arg::SourceOption,
                Arg::Mnt,
            ],
        },
        options: String::new(),
    })
}

fn bindfs() -> Result<Target, String> {
    let version = cmd_output(Command::new("bindfs").arg("--version"))
        .ok_or("bindfs is not installed (apt-get install bindfs)")?;
    Ok(Target {
        name: "bindfs".into(),
        what: format!(
            "{} (C, libfuse's high-level API, multithreaded)",
            version.lines().next().unwrap_or("bindfs")
        ),
        kind: Kind::Peer {
            program: PathBuf::from("bindfs"),
            args: vec![
                Arg::Text("-f".into()),
                Arg::Options {
                    extra: String::new(),
                },
                Arg::Backing,
                Arg::Mnt,
            ],
        },
        options: String::new(),
    })
}

fn mfusepy(repo: &Path, python: &str) -> Result<Target, String> {
    let loopback = std::fs::canonicalize(repo.join("bench/peers/loopback.py"))
        .map_err(|e| format!("bench/peers/loopback.py: {e}"))?;
    let v = cmd_output(Command::new(python).args([
        "-c",
        "import importlib.metadata as m, platform, mfusepy; \
         print(m.version('mfusepy'), platform.python_version())",
    ]))
    .ok_or_else(|| format!("`{python} -c 'import mfusepy'` failed (pip install mfusepy)."))?;
    let mut it = v.split_whitespace();
    let (mv, pv) = (it.next().unwrap_or("?"), it.next().unwrap_or("?"));
    Ok(Target {
        name: "mfusepy".into(),
        what: format!(
            "mfusepy {mv} (libfuse 3 high-level API, multithreaded) with the minimal loopback \
             `bench/peers/loopback.py`, Python {pv}"
        ),
        kind: Kind::Mfusepy {
            python: python.to_string(),
            loopback,
        },
        options: String::new(),
    })
}
