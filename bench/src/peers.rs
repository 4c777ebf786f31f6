//! The peers a user could pick instead of flu for a passthrough, each measured in the
//! same run with the same mount options: libfuse's `passthrough_ll` (C, the low-level
//! API; built here with cc from the example source Debian's libfuse3-dev ships),
//! `bindfs` (the Debian package) and mfusepy's loopback (Python, libfuse's high-level
//! API); and, next to examples/luafs.lua, mfusepy's in-memory example. A peer that
//! cannot run here is left out with a note saying why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd_output;
use crate::targets::{Arg, Kind, Target};
use crate::workloads::Id;

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
    match mfusepy_memory(repo, python) {
        Ok(t) => peers.push(t),
        Err(why) => notes.push(format!("mfusepy-memory skipped: {why}")),
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
        in_memory: false,
        skips: Vec::new(),
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
        in_memory: false,
        skips: Vec::new(),
    })
}

/// mfusepy's version and Python's, or why mfusepy cannot be imported.
fn mfusepy_versions(python: &str) -> Result<(String, String), String> {
    let v = cmd_output(Command::new(python).args([
        "-c",
        "import importlib.metadata as m, platform, mfusepy; \
         print(m.version('mfusepy'), platform.python_version())",
    ]))
    .ok_or_else(|| format!("`{python} -c 'import mfusepy'` failed (pip install mfusepy)."))?;
    let mut it = v.split_whitespace();
    Ok((
        it.next().unwrap_or("?").to_string(),
        it.next().unwrap_or("?").to_string(),
    ))
}

fn peer_script(repo: &Path, name: &str) -> Result<PathBuf, String> {
    std::fs::canonicalize(repo.join("bench/peers").join(name))
        .map_err(|e| format!("bench/peers/{name}: {e}"))
}

fn mfusepy(repo: &Path, python: &str) -> Result<Target, String> {
    let script = peer_script(repo, "loopback.py")?;
    let (mv, pv) = mfusepy_versions(python)?;
    Ok(Target {
        name: "mfusepy".into(),
        what: format!(
            "mfusepy {mv} (libfuse 3 high-level API, multithreaded) with the minimal loopback \
             `bench/peers/loopback.py`, Python {pv}"
        ),
        kind: Kind::Mfusepy {
            python: python.to_string(),
            script,
        },
        options: String::new(),
        in_memory: false,
        skips: Vec::new(),
    })
}

/// The in-memory peer of examples/luafs.lua: mfusepy's own in-memory example.
fn mfusepy_memory(repo: &Path, python: &str) -> Result<Target, String> {
    let script = peer_script(repo, "memory.py")?;
    let (mv, pv) = mfusepy_versions(python)?;
    // Its every write copies the whole file (bytes sliced and joined): these would run
    // for minutes, past the workload deadline.
    const WHOLE_FILE: &str = "every write copies the whole file (mfusepy's memory.py joins \
         slices of one bytes object), so writing 256 MiB, the 64 MiB file rand-read prepares, \
         or 5,000 writes into 64 MiB takes minutes (past the workload's deadline)";
    // "Supports only one level of files", says its docstring: one dict of paths.
    const ONE_LEVEL: &str = "it holds one level of files: a listing below the root gives \
         names with a '/' in them, which the kernel refuses (EIO)";
    const NO_RM_R: &str = "its rmdir drops a directory whatever it holds and its listings \
         below the root fail, so `rm -r` would seem to succeed while the files stay";
    Ok(Target {
        name: "mfusepy-memory".into(),
        what: format!(
            "mfusepy {mv}'s in-memory example (`examples/memory.py` of its repository, \
             as `bench/peers/memory.py`, without its logging mixin), Python {pv}; no backing \
             directory"
        ),
        kind: Kind::Mfusepy {
            python: python.to_string(),
            script,
        },
        options: String::new(),
        in_memory: true,
        skips: vec![
            (Id::SeqWrite, WHOLE_FILE),
            (Id::SeqRead, "it reads seq-write's file, which is skipped"),
            (Id::RandRead, WHOLE_FILE),
            (Id::RandWrite, WHOLE_FILE),
            (Id::Readdir, ONE_LEVEL),
            (Id::Find, ONE_LEVEL),
            (Id::Grep, ONE_LEVEL),
            (Id::RmR, NO_RM_R),
        ],
    })
}
