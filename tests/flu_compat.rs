//! What Flu scripts rely on: `fi.flags` sets in both spellings, `fi.fh` holding any Lua
//! value, `flu.get_context()`, mode sets with a numeric value, Flu's `flu.main` ending.
//!
//! Assumptions about the numeric value of a mode set (DESIGN 3.2 leaves the spelling
//! open): `mode.number` gives it, `mode & 511` works, and `pairs(mode)` shows only the
//! flag names.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

struct Compat {
    m: Mounted,
    report: PathBuf,
    _dir: TempDir,
}

fn compat(opts: MountOptions) -> Option<Compat> {
    let dir = TempDir::new("report");
    let report = dir.join("report.txt");
    let m = mount_with(&test_script("compat.lua"), opts.arg(&report))?;
    Some(Compat {
        m,
        report,
        _dir: dir,
    })
}

impl Compat {
    fn lines(&self) -> Vec<String> {
        fs::read_to_string(&self.report)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Report lines starting with `prefix`.
    fn with_prefix(&self, prefix: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }
}

#[test]
fn open_flags_in_both_spellings() {
    let Some(c) = compat(MountOptions::new()) else {
        return;
    };
    let probe = c.m.path("probe");
    drop(OpenOptions::new().write(true).open(&probe).unwrap());
    drop(OpenOptions::new().read(true).open(&probe).unwrap());
    drop(
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&probe)
            .unwrap(),
    );
    assert_eq!(
        c.with_prefix("open /probe"),
        [
            "open /probe fh=0 wronly=true O_WRONLY=true rdonly=false O_RDONLY=false rdwr=false O_RDWR=false",
            "open /probe fh=0 wronly=false O_WRONLY=false rdonly=true O_RDONLY=true rdwr=false O_RDWR=false",
            "open /probe fh=0 wronly=false O_WRONLY=false rdonly=false O_RDONLY=false rdwr=true O_RDWR=true",
        ]
    );
    c.m.unmount();
}

#[test]
fn fi_fh_keeps_a_table_from_open_to_release() {
    let Some(c) = compat(MountOptions::new()) else {
        return;
    };
    let mut f = fs::File::open(c.m.path("token")).unwrap();
    let mut got = String::new();
    f.read_to_string(&mut got).unwrap();
    drop(f);
    assert!(
        got.starts_with("tok-") && got.len() == 8,
        "read gave {got:?}"
    );
    // release is asynchronous: wait for its line
    let mut release = vec![];
    wait_until(std::time::Duration::from_secs(10), || {
        release = c.with_prefix("release /token");
        !release.is_empty()
    });
    assert_eq!(release.len(), 1, "{:?}", c.lines());
    let expected = format!("release /token type=table token={got} reads=");
    assert!(release[0].starts_with(&expected), "{}", release[0]);
    let reads: u32 = release[0][expected.len()..].parse().unwrap();
    assert!(reads >= 1, "the read handler saw the same table");
    c.m.unmount();
}

#[test]
fn get_context_names_the_caller() {
    let opts = if is_root() {
        MountOptions::new().opt("allow_other")
    } else {
        MountOptions::new()
    };
    let Some(c) = compat(opts) else {
        return;
    };
    // as root, act as nobody (65534) to make the ids meaningful
    let (uid, gid) = if is_root() {
        (65534, 65534)
    } else {
        // SAFETY: no preconditions.
        unsafe { (libc::getuid(), libc::getgid()) }
    };
    let target = c.m.path("by_caller");
    let mut cmd = if is_root() {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "touch"]);
        cmd
    } else {
        Command::new("touch")
    };
    let mut child = cmd
        .arg(&target)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let status = wait_child(&mut child, COMMAND_TIMEOUT).expect("touch hung");
    assert!(status.success(), "touch as {uid} failed");
    assert_eq!(
        c.with_prefix("create /by_caller "),
        [format!("create /by_caller uid={uid} gid={gid} pid={pid}")]
    );
    let st = fs::metadata(&target).unwrap();
    assert_eq!((st.uid(), st.gid()), (uid, gid));
    c.m.unmount();
}

#[test]
fn mode_arguments_are_sets_with_a_number() {
    let Some(c) = compat(MountOptions::new()) else {
        return;
    };
    drop(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(c.m.path("c640"))
            .unwrap(),
    );
    fs::DirBuilder::new()
        .mode(0o750)
        .create(c.m.path("d750"))
        .unwrap();
    assert_eq!(
        c.with_prefix("create-mode "),
        [format!(
            "create-mode /c640 dir=false reg=true rusr=true wusr=true xusr=false rgrp=true wgrp=false xgrp=false roth=false woth=false xoth=false number={} band={} pairs=4",
            libc::S_IFREG | 0o640,
            0o640
        )]
    );
    let mkdir = c.with_prefix("mkdir-mode ");
    assert_eq!(mkdir.len(), 1, "{mkdir:?}");
    // the kernel may or may not include S_IFDIR in mkdir's mode: accept both, exactly
    let without = format!(
        "mkdir-mode /d750 dir=false reg=false rusr=true wusr=true xusr=true rgrp=true wgrp=false xgrp=true roth=false woth=false xoth=false number={} band={} pairs=5",
        0o750, 0o750
    );
    let with = format!(
        "mkdir-mode /d750 dir=true reg=false rusr=true wusr=true xusr=true rgrp=true wgrp=false xgrp=true roth=false woth=false xoth=false number={} band={} pairs=6",
        libc::S_IFDIR | 0o750,
        0o750
    );
    assert!(mkdir[0] == without || mkdir[0] == with, "{}", mkdir[0]);
    // the sets handed back as stat modes give the same modes
    assert_eq!(
        fs::metadata(c.m.path("c640")).unwrap().mode(),
        libc::S_IFREG | 0o640
    );
    assert_eq!(
        fs::metadata(c.m.path("d750")).unwrap().mode(),
        libc::S_IFDIR | 0o750
    );
    c.m.unmount();
}

/// A script written for Flu (ends with `flu.main(args, fs)`, no `return`; string modes;
/// numeric times) mounts unchanged with `flu mount`.
#[test]
fn flu_style_script_mounts_unchanged() {
    let Some(m) = mount(&test_script("flu_style_hello.lua")) else {
        return;
    };
    assert_eq!(m.sh("ls"), "file\n");
    assert_eq!(m.sh("cat file"), "flu style\n");
    let st = fs::metadata(m.path("file")).unwrap();
    // Flu's 'file' is reg + rusr wusr rgrp wgrp
    assert_eq!(st.mode(), libc::S_IFREG | 0o660);
    assert_eq!((st.mtime(), st.mtime_nsec()), (1_000_000_000, 0));
    assert_eq!((st.atime(), st.atime_nsec()), (1_000_000_000, 250_000_000));
    let root = fs::metadata(&m.dir).unwrap();
    assert_eq!(root.mode(), libc::S_IFDIR | 0o770);
    m.unmount();
}

/// Scripts of the Flu era use C modules (LuaFileSystem here) and LuaJIT's `bit`: both
/// load under flu (`.ci/run` installs Debian's lua-filesystem).
#[test]
fn c_modules_and_bit_library_load() {
    let lfs_so = format!(
        "/usr/lib/{}-linux-gnu/lua/5.4/lfs.so",
        std::env::consts::ARCH
    );
    if !std::path::Path::new(&lfs_so).exists() {
        assert!(
            !on_ci(),
            "{lfs_so} missing on CI: .ci/run must install lua-filesystem"
        );
        eprintln!("skipped: {lfs_so} not installed (apt-get install lua-filesystem)");
        return;
    }
    let dir = TempDir::new("cmod");
    let script = dir.join("uses_lfs.lua");
    fs::write(
        &script,
        "#!/usr/bin/env flu\nlocal lfs = require 'lfs'\nlocal bit = require 'bit'\n\
         io.write(lfs.attributes('/', 'mode'), ' ', bit.band(6, 3), ' ', unpack({'ok'}))\n",
    )
    .unwrap();
    let run = run_cmd(Command::new(flu_bin()).arg(&script), COMMAND_TIMEOUT);
    assert!(run.ok(), "flu failed: {}", run.stderr);
    assert_eq!(run.stdout, "directory 2 ok");
}

// ---- scripts as people wrote them -------------------------------------------------

/// The handler table in the script's own `fs.lua`: `require 'fs'` finds it (the
/// script's directory wins over flu's built-in module, still `flu.fs`).
#[test]
fn a_scripts_own_fs_module_wins() {
    let Some(m) = mount(&test_script("own_fs/main.lua")) else {
        return;
    };
    assert_eq!(fs::read_to_string(m.path("hello")).unwrap(), "hello\n");
    assert_eq!(m.sh("ls"), "hello\n");
}

/// `fgetattr(path, st, fi)` (three parameters) fills `st`: fstat of an open file, as
/// every create and ftruncate does, works (it failed with "attempt to index a nil value").
#[test]
fn the_old_three_argument_fgetattr_works() {
    let Some(m) = mount(&test_script("old_fgetattr.lua")) else {
        return;
    };
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(m.path("f"))
        .expect("create");
    use std::io::Write;
    f.write_all(b"12345").unwrap();
    assert_eq!(f.metadata().expect("fstat").len(), 5);
    f.set_len(2).expect("ftruncate");
    assert_eq!(f.metadata().expect("fstat").len(), 2);
    assert!(!m.log_text().contains("ERROR"), "{}", m.log_text());
}

/// A misspelled handler mounts (nothing else is wrong) with a warning that names it
/// and the handler it probably meant; on a terminal it shows before `flu mount` returns.
#[test]
fn a_misspelled_handler_is_named_at_mount() {
    let Some(m) = mount(&test_script("misspelled.lua")) else {
        return;
    };
    let log = m.log_text();
    assert!(
        log.contains("'getatr' is no handler flu calls (did you mean 'getattr'?)"),
        "{log}"
    );
    assert!(log.contains("WARN"), "{log}");
}

/// A table with no handler at all: said at mount too.
#[test]
fn a_table_without_handlers_is_named_at_mount() {
    let Some(m) = mount(&test_script("no_handlers.lua")) else {
        return;
    };
    let log = m.log_text();
    assert!(log.contains("defines no handlers"), "{log}");
}

/// `require` of a C module that exists only for another Lua version (Debian ships
/// lua-posix, lua-cjson, lua-socket for 5.1–5.3 only): the error says where it was
/// found and that flu runs Lua 5.4, instead of a bare "module not found".
#[test]
fn a_module_built_for_another_lua_says_so() {
    if !is_root() {
        eprintln!("SKIPPED: placing a module in /usr/local/share/lua/5.3 needs root");
        return;
    }
    struct Placed(PathBuf);
    impl Drop for Placed {
        fn drop(&mut self) {
            let _ = fs::remove_file(&self.0);
        }
    }
    let name = format!("flu_probe_{}", std::process::id());
    let dir = PathBuf::from("/usr/local/share/lua/5.3");
    fs::create_dir_all(&dir).unwrap();
    let module = dir.join(format!("{name}.lua"));
    fs::write(&module, "return {}\n").unwrap();
    let _placed = Placed(module.clone());
    let tmp = TempDir::new("script");
    let script = tmp.join("needs.lua");
    fs::write(&script, format!("require '{name}'\n")).unwrap();
    let run = run_cmd(
        Command::new(flu_bin()).arg("run").arg(&script),
        COMMAND_TIMEOUT,
    );
    assert!(!run.ok());
    assert!(
        run.stderr
            .contains(&format!("found {name} for another Lua version"))
            && run.stderr.contains(&module.display().to_string())
            && run.stderr.contains("flu runs Lua 5.4"),
        "{}",
        run.stderr
    );
}
