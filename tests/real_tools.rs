//! Real programs over the native passthrough (`flu.passthrough(root)`, Rust, no Lua on
//! any operation): git, tar, rsync, cp -a, cc + make, find and du, each run inside a
//! mount whose backing directory is another temporary directory, with the results
//! compared against the source and against the backing directory. The same scenarios
//! run once more as root with `-o allow_other,default_permissions`, where files created
//! by another user must belong to that user in the backing directory.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::*;

/// A passthrough mount of a fresh backing directory.
struct Pt {
    m: Mounted,
    backing: TempDir,
}

impl Pt {
    fn mount(opts: &[&str]) -> Option<Pt> {
        let backing = TempDir::new("backing");
        let mut o = MountOptions::new().arg(backing.path());
        for opt in opts {
            o = o.opt(opt);
        }
        let m = mount_with(&test_script("native_passthrough.lua"), o)?;
        Some(Pt { m, backing })
    }

    fn backing(&self, p: impl AsRef<Path>) -> PathBuf {
        self.backing.join(p)
    }
}

/// `'…'`-quoted for sh.
fn q(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// `%n %F %a %.9Y %s` for every entry below `dir`, sorted, relative names.
fn stat_listing(dir: &Path) -> String {
    sh(
        dir,
        "find . -mindepth 1 -print0 | sort -z | xargs -0 stat -c '%n %F %a %.9Y %s'",
    )
}

/// `%P %y %s %m` for every entry below `dir`, sorted (what `find` sees).
fn find_listing(dir: &Path) -> String {
    sh(dir, "find . -mindepth 1 -printf '%P %y %s %m %l\\n' | sort")
}

fn assert_same_tree(a: &Path, b: &Path) {
    let r = sh_run(
        Path::new("/"),
        &format!("diff -r --no-dereference {} {}", q(a), q(b)),
    );
    assert!(
        r.ok(),
        "diff -r {} {} found differences:\n{}{}",
        a.display(),
        b.display(),
        r.stdout,
        r.stderr
    );
}

// ---- the scenarios, each on a mounted passthrough --------------------------------------

/// A small repository with a few commits, a branch, a tag, a subdirectory.
fn make_repo(dir: &Path) {
    sh(
        dir,
        "set -e
         G='git -c user.name=t -c user.email=t@t -c init.defaultBranch=main'
         $G init -q repo && cd repo
         echo one > a.txt; mkdir -p sub/deep; echo deep > sub/deep/d.txt
         $G add . && $G commit -qm first
         seq 1 2000 > numbers; printf '#!/bin/sh\\necho hi\\n' > run.sh; chmod 755 run.sh
         $G add . && $G commit -qm second
         $G checkout -qb topic; echo topic >> a.txt; $G commit -qam third
         $G checkout -q main; $G tag v1; git rm -q numbers; $G commit -qm fourth",
    );
}

fn scenario_git(pt: &Pt) {
    let src = TempDir::new("gitsrc");
    make_repo(src.path());
    let repo = src.join("repo");
    pt.m.sh(&format!("git clone -q {} clone", q(&repo)));
    let clone = pt.m.path("clone");
    let status = sh(&clone, "git status --porcelain --untracked-files=all");
    assert_eq!(status, "", "a fresh clone must be clean");
    assert_eq!(
        sh(&clone, "git log --format=%s main")
            .lines()
            .collect::<Vec<_>>(),
        ["fourth", "second", "first"]
    );
    assert_eq!(
        sh(&clone, "git rev-parse origin/topic"),
        sh(&repo, "git rev-parse topic")
    );
    assert_eq!(
        sh(&clone, "stat -c %a run.sh").trim(),
        "755",
        "the executable bit survives checkout"
    );
    // Work in the clone: a commit, a branch switch (unlink + create of many files).
    sh(
        &clone,
        "set -e; G='git -c user.name=t -c user.email=t@t'
         echo more > new.txt; $G add new.txt; $G commit -qm fifth
         $G checkout -q origin/topic; test -f numbers; $G checkout -q main; test ! -e numbers",
    );
    sh(&clone, "git gc -q --aggressive --prune=now");
    sh(&clone, "git fsck --full --strict --no-progress");
    assert_eq!(sh(&clone, "git status --porcelain"), "");
    assert!(
        pt.backing("clone/.git/objects/pack")
            .read_dir()
            .unwrap()
            .count()
            >= 2,
        "git gc wrote its pack into the backing directory"
    );
    // The backing directory is a valid repository too.
    sh(
        &pt.backing("clone"),
        "git fsck --no-progress && git status --porcelain",
    );
    assert_same_tree(&clone, &pt.backing("clone"));
}

fn scenario_tar(pt: &Pt) {
    let source = root_dir().join("flu-api").join("src");
    let tarball = pt.m.scratch.join("src.tar");
    sh(
        &root_dir().join("flu-api"),
        &format!("tar --format=posix -cf {} src", q(&tarball)),
    );
    pt.m.sh(&format!("mkdir untar && tar -C untar -xf {}", q(&tarball)));
    assert_same_tree(&source, &pt.m.path("untar/src"));
    assert_same_tree(&source, &pt.backing("untar/src"));
    // tar's own check: contents, sizes, modes and mtimes match the archive (a POSIX
    // archive keeps nanoseconds).
    sh(&pt.m.path("untar"), &format!("tar -df {}", q(&tarball)));
    assert_eq!(
        stat_listing(&source),
        stat_listing(&pt.m.path("untar/src")),
        "tar x restores modes and mtimes"
    );
}

/// A tree with assorted modes, times, a symlink, a hard link, an empty file and dir,
/// and a name with spaces.
fn make_tree(dir: &Path) {
    sh(
        dir,
        "set -e
         mkdir -p t/a/b t/empty t/private
         seq 1 50000 > t/a/big; echo small > t/a/b/small; : > t/zero
         printf 'x' > 't/with space'; echo secret > t/private/key
         ln -s a/big t/link; ln t/a/b/small t/hard
         chmod 600 t/private/key; chmod 700 t/private; chmod 444 t/zero
         chmod 751 t/a/b; chmod 640 t/a/big; chmod 4755 't/with space'
         touch -h -d '2001-02-03 04:05:06.123456789' t/link
         touch -d '2001-02-03 04:05:06.123456789' t/a/big t/zero
         touch -d '1999-12-31 23:59:59.5' t/a/b/small 't/with space' t/private/key
         touch -d '2010-01-01 00:00:00' t/a/b t/empty t/private t/a t",
    );
}

fn scenario_rsync(pt: &Pt) {
    let src = TempDir::new("rsyncsrc");
    make_tree(src.path());
    let out = TempDir::new("rsyncout");
    let into = pt.m.path("r");
    sh(
        Path::new("/"),
        &format!("rsync -aH {}/ {}/", q(&src.join("t")), q(&into)),
    );
    sh(
        Path::new("/"),
        &format!("rsync -aH {}/ {}/", q(&into), q(&out.join("t"))),
    );
    assert_same_tree(&src.join("t"), &into);
    assert_same_tree(&src.join("t"), &out.join("t"));
    assert_eq!(stat_listing(&src.join("t")), stat_listing(&into));
    assert_eq!(stat_listing(&src.join("t")), stat_listing(&out.join("t")));
    // -H kept the hard link inside the mount.
    let a = fs::metadata(pt.backing("r/hard")).unwrap();
    let b = fs::metadata(pt.backing("r/a/b/small")).unwrap();
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
    // A second run finds nothing to transfer (with -o use_ino the hard link is seen as
    // one: without it each name has its own inode number, as in libfuse).
    let again = sh(
        Path::new("/"),
        &format!("rsync -aHi {}/ {}/", q(&src.join("t")), q(&into)),
    );
    assert_eq!(again, "", "rsync found differences on a second run");
}

fn scenario_cp(pt: &Pt) {
    let src = TempDir::new("cpsrc");
    make_tree(src.path());
    let out = TempDir::new("cpout");
    sh(
        Path::new("/"),
        &format!("cp -a {} {}", q(&src.join("t")), q(&pt.m.path("c"))),
    );
    sh(
        Path::new("/"),
        &format!("cp -a {} {}", q(&pt.m.path("c")), q(&out.join("t"))),
    );
    let expected = stat_listing(&src.join("t"));
    assert!(expected.contains("./a/big regular file 640 981173106.123456789 288894"));
    assert_eq!(
        expected,
        stat_listing(&pt.m.path("c")),
        "cp -a into the mount"
    );
    assert_eq!(
        expected,
        stat_listing(&pt.backing("c")),
        "in the backing dir"
    );
    assert_eq!(
        expected,
        stat_listing(&out.join("t")),
        "cp -a out of the mount"
    );
    assert_same_tree(&src.join("t"), &pt.m.path("c"));
    assert_same_tree(&src.join("t"), &out.join("t"));
}

fn scenario_cc(pt: &Pt) {
    let p = pt.m.path("proj");
    fs::create_dir(&p).unwrap();
    fs::write(
        p.join("util.h"),
        "int triangle(int n);\nconst char *greeting(void);\n",
    )
    .unwrap();
    fs::write(
        p.join("util.c"),
        "#include \"util.h\"\nint triangle(int n) { return n * (n + 1) / 2; }\n\
         const char *greeting(void) { return \"hello from flu\"; }\n",
    )
    .unwrap();
    fs::write(
        p.join("main.c"),
        "#include <stdio.h>\n#include <stdlib.h>\n#include \"util.h\"\n\
         int main(int argc, char **argv) {\n\
           int n = argc > 1 ? atoi(argv[1]) : 10;\n\
           printf(\"%s: %d\\n\", greeting(), triangle(n));\n  return 0;\n}\n",
    )
    .unwrap();
    fs::write(
        p.join("Makefile"),
        "CFLAGS = -O1 -Wall -Werror\nprog: main.o util.o\n\t$(CC) -o $@ main.o util.o\n\
         main.o: main.c util.h\nutil.o: util.c util.h\n\
         clean:\n\trm -f prog *.o\n.PHONY: clean\n",
    )
    .unwrap();
    let build = sh(&p, "make 2>&1");
    assert!(
        build.contains("main.c") && build.contains("util.c"),
        "{build}"
    );
    assert_eq!(sh(&p, "./prog 100"), "hello from flu: 5050\n");
    assert_eq!(
        sh(&pt.backing("proj"), "./prog 4"),
        "hello from flu: 10\n",
        "the binary in the backing directory runs too"
    );
    // make's view of mtimes: nothing to do, then only what depends on util.c.
    let noop = sh(&p, "make 2>&1");
    assert!(noop.contains("up to date"), "second make rebuilt: {noop}");
    sh(&p, "sed -i 's/hello from flu/rebuilt/' util.c");
    let rebuild = sh(&p, "make 2>&1");
    assert!(
        rebuild.contains("util.c") && !rebuild.contains("main.c"),
        "{rebuild}"
    );
    assert_eq!(sh(&p, "./prog 3"), "rebuilt: 6\n");
    sh(&p, "make clean");
    assert_eq!(
        sh(&p, "ls").split_whitespace().collect::<Vec<_>>(),
        ["Makefile", "main.c", "util.c", "util.h"]
    );
}

fn scenario_find_du(pt: &Pt) {
    let src = TempDir::new("findsrc");
    make_tree(src.path());
    sh(
        Path::new("/"),
        &format!("cp -a {} {}", q(&src.join("t")), q(&pt.m.path("f"))),
    );
    let listing = find_listing(&pt.m.path("f"));
    assert_eq!(listing, find_listing(&pt.backing("f")));
    assert_eq!(listing, find_listing(&src.join("t")));
    assert_eq!(listing.lines().count(), 11, "{listing}");
    assert_eq!(
        pt.m.sh("find f -type f -name '*a*' | sort"),
        "f/a/b/small\nf/hard\nf/with space\n"
    );
    assert_eq!(
        pt.m.sh("find f -newermt 2005-01-01 -type d | sort"),
        "f\nf/a\nf/a/b\nf/empty\nf/private\n"
    );
    assert_eq!(pt.m.sh("find f -perm -4000"), "f/with space\n");
    // With -o use_ino, hard links show the backing inode number, so they are the same file.
    assert_eq!(
        pt.m.sh("find f -samefile f/hard | sort"),
        "f/a/b/small\nf/hard\n"
    );
    // du: the same apparent sizes and the same block counts as the backing directory.
    let du = |dir: &Path, flags: &str| sh(dir, &format!("du {flags} . | sort -k2"));
    assert_eq!(du(&pt.m.path("f"), "-ab"), du(&pt.backing("f"), "-ab"));
    assert_eq!(du(&pt.m.path("f"), "-ak"), du(&pt.backing("f"), "-ak"));
    let total: u64 = du(&pt.m.path("f"), "-sb")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 288_894, "du -sb counts the big file: {total}");
}

// ---- default (unprivileged-style) mount ---------------------------------------------------

#[test]
fn git_clone_status_gc_fsck() {
    let Some(pt) = Pt::mount(&[]) else { return };
    scenario_git(&pt);
    pt.m.unmount();
}

#[test]
fn tar_extract_matches_the_source_tree() {
    let Some(pt) = Pt::mount(&[]) else { return };
    scenario_tar(&pt);
    pt.m.unmount();
}

#[test]
fn rsync_into_and_out_of_the_mount() {
    let Some(pt) = Pt::mount(&["use_ino"]) else {
        return;
    };
    scenario_rsync(&pt);
    pt.m.unmount();
}

#[test]
fn cp_a_preserves_times_and_modes() {
    let Some(pt) = Pt::mount(&[]) else { return };
    scenario_cp(&pt);
    pt.m.unmount();
}

#[test]
fn c_project_builds_and_runs() {
    let Some(pt) = Pt::mount(&[]) else { return };
    scenario_cc(&pt);
    pt.m.unmount();
}

#[test]
fn find_and_du_agree_with_the_backing_dir() {
    let Some(pt) = Pt::mount(&["use_ino"]) else {
        return;
    };
    scenario_find_du(&pt);
    pt.m.unmount();
}

// ---- as root, shared with other users -----------------------------------------------------

const NOBODY: u32 = 65534;

/// `sh -c SCRIPT` in `cwd` as uid/gid 65534 with no supplementary groups.
fn as_nobody(cwd: &Path, script: &str) -> Run {
    sh_run(
        cwd,
        &format!(
            "HOME=/nonexistent setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups sh -c {}",
            q(Path::new(script))
        ),
    )
}

#[test]
fn all_tools_with_allow_other_and_default_permissions_as_root() {
    if !is_root() {
        eprintln!("SKIPPED: creating files as another user needs root");
        return;
    }
    let Some(pt) = Pt::mount(&["allow_other", "default_permissions", "use_ino"]) else {
        return;
    };
    scenario_git(&pt);
    scenario_tar(&pt);
    scenario_rsync(&pt);
    scenario_cp(&pt);
    scenario_cc(&pt);
    scenario_find_du(&pt);

    // Files root made are root's.
    assert_eq!(fs::metadata(pt.backing("proj/Makefile")).unwrap().uid(), 0);

    // Another user: a world-writable directory it may use, and one it may not.
    pt.m.sh("mkdir shared && chmod 1777 shared && mkdir closed");
    let r = as_nobody(
        &pt.m.path("shared"),
        "set -e; id -u; echo mine > file; mkdir dir; echo in > dir/f; ln -s file link
         mkfifo fifo; cp -a dir copy; mv file moved; tar -cf t.tar dir; mkdir x
         tar -C x -xf t.tar; stat -c '%u %g' moved x/dir/f",
    );
    assert!(r.ok(), "as 65534 in the mount: {r:?}");
    assert_eq!(r.stdout, "65534\n65534 65534\n65534 65534\n");
    let shared = pt.backing("shared");
    for name in [
        "moved", "dir", "dir/f", "link", "fifo", "copy", "copy/f", "t.tar", "x", "x/dir", "x/dir/f",
    ] {
        let md = fs::symlink_metadata(shared.join(name)).unwrap();
        assert_eq!(
            (md.uid(), md.gid()),
            (NOBODY, NOBODY),
            "{name} in the backing dir must belong to the user who created it"
        );
    }
    assert_eq!(
        fs::metadata(shared.join("dir"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755,
        "the caller's umask applies"
    );
    // default_permissions: the kernel refuses what the modes forbid.
    let denied = as_nobody(&pt.m.path("closed"), "echo x > f");
    assert!(!denied.ok(), "65534 wrote into root's 755 directory");
    assert!(denied.stderr.contains("Permission denied"), "{denied:?}");
    let denied = as_nobody(&pt.m.path("proj"), "cat /dev/null > Makefile");
    assert!(denied.stderr.contains("Permission denied"), "{denied:?}");
    assert!(!pt.backing("closed/f").exists());
    // …and a user may not give a file away.
    let chown = as_nobody(&pt.m.path("shared"), "chown 0 moved");
    assert!(!chown.ok(), "65534 gave a file to root: {chown:?}");
    assert_eq!(fs::metadata(shared.join("moved")).unwrap().uid(), NOBODY);
    pt.m.unmount();
}
