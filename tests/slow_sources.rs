//! The slow-source examples over real mounts: `examples/gitfs.lua` over a repository
//! the test makes (branches, commits, nested trees, odd names, sizes, a branch that
//! moves while mounted; cached paths served while `git` is slow, slow reads in
//! parallel) and `examples/httpfs.lua` against `examples/httpfs_server.py` on loopback
//! (values, listings, 404 as ENOENT, a dead server as EIO once the cache expired; cached
//! paths served while the server takes 2 s; a read interrupted while it waits leaves
//! nothing behind).

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// How long a branch move may take to show (the example re-reads refs every 2 s).
const MOVE_WAIT: Duration = Duration::from_secs(15);

/// How long the slow `git` and the slow endpoint take.
const SLOW: Duration = Duration::from_secs(2);

/// Whether `program` runs here; without it the test is skipped, except on CI.
fn have(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!on_ci(), "{program} is needed for this test");
        eprintln!("SKIPPED: no {program} here");
    }
    ok
}

// ---------------------------------------------------------------------------------
// gitfs

/// `git ARGS` in `repo`, with a fixed identity; its stdout.
fn git(repo: &Path, args: &[&str]) -> String {
    let r = run_cmd(
        Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_NAME", "flu")
            .env("GIT_AUTHOR_EMAIL", "flu@localhost")
            .env("GIT_COMMITTER_NAME", "flu")
            .env("GIT_COMMITTER_EMAIL", "flu@localhost")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        COMMAND_TIMEOUT,
    );
    assert!(r.ok(), "git {args:?} failed: {}", r.stderr);
    r.stdout
}

/// A file as committed: its path in the tree (bytes) and its content.
struct Committed {
    path: Vec<u8>,
    content: Vec<u8>,
}

/// A name that is not UTF-8 (Latin-1 "café.txt").
const LATIN1_NAME: &[u8] = b"caf\xe9.txt";

fn write(repo: &Path, rel: &[u8], content: &[u8]) {
    let path = repo.join(OsStr::from_bytes(rel));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A repository with `main` (a nested tree, odd names, an executable, a symlink, a
/// 200 kB binary file) and `feature/two` one commit ahead. The files of main's tip.
fn make_repo(repo: &Path) -> Vec<Committed> {
    std::fs::create_dir_all(repo).unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let files = vec![
        Committed {
            path: b"README.md".to_vec(),
            content: b"# a test repository\n".to_vec(),
        },
        Committed {
            path: b"src/lib/deep/nested.txt".to_vec(),
            content: b"four levels down\n".to_vec(),
        },
        Committed {
            path: b"src/main.rs".to_vec(),
            content: b"fn main() {}\n".to_vec(),
        },
        Committed {
            path: b"with space.txt".to_vec(),
            content: b"a name with a blank\n".to_vec(),
        },
        Committed {
            path: LATIN1_NAME.to_vec(),
            content: b"not UTF-8\n".to_vec(),
        },
        Committed {
            path: b"empty".to_vec(),
            content: Vec::new(),
        },
        Committed {
            path: b"big.bin".to_vec(),
            content: big,
        },
        Committed {
            path: b"run.sh".to_vec(),
            content: b"#!/bin/sh\necho hi\n".to_vec(),
        },
    ];
    for f in &files {
        write(repo, &f.path, &f.content);
    }
    std::fs::set_permissions(repo.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("src/main.rs", repo.join("link")).unwrap();
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "first"]);
    git(repo, &["checkout", "-q", "-b", "feature/two"]);
    write(repo, b"README.md", b"# changed on feature/two\n");
    write(repo, b"extra.txt", b"only on the branch\n");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "second"]);
    git(repo, &["checkout", "-q", "main"]);
    files
}

fn names(dir: &Path) -> BTreeSet<Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("readdir {dir:?}: {e}"))
        .map(|e| e.unwrap().file_name().as_bytes().to_vec())
        .collect()
}

/// A whole listing, or the error opendir or readdir gave (readdir's comes at the
/// first entry).
fn listing(dir: &Path) -> std::io::Result<Vec<std::ffi::OsString>> {
    std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect()
}

fn set(items: &[&[u8]]) -> BTreeSet<Vec<u8>> {
    items.iter().map(|s| s.to_vec()).collect()
}

/// Every path below `dir` (relative, bytes), by walking with readdir.
fn walk(dir: &Path, prefix: &[u8], out: &mut BTreeSet<Vec<u8>>) {
    for name in names(dir) {
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            [prefix, b"/", &name].concat()
        };
        let path = dir.join(OsStr::from_bytes(&name));
        out.insert(rel.clone());
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            walk(&path, &rel, out);
        }
    }
}

fn at(root: &Path, rel: &[u8]) -> PathBuf {
    root.join(OsStr::from_bytes(rel))
}

#[test]
fn gitfs_serves_branches_commits_and_trees() {
    if !have("git") {
        return;
    }
    let tmp = TempDir::new("gitfs-repo");
    let repo = tmp.join("repo");
    let files = make_repo(&repo);
    let main_sha = git(&repo, &["rev-parse", "main"]).trim().to_string();
    let feature_sha = git(&repo, &["rev-parse", "feature/two"]).trim().to_string();
    let Some(m) = mount_with(&example("gitfs.lua"), MountOptions::new().arg(&repo)) else {
        return;
    };
    let mnt = &m.dir;

    assert_eq!(names(mnt), set(&[b"HEAD", b"branches", b"commits"]));
    assert_eq!(
        std::fs::read_to_string(mnt.join("HEAD")).unwrap(),
        format!("{main_sha}\n")
    );
    assert_eq!(
        names(&mnt.join("branches")),
        set(&[b"feature", b"main", b"main.log"])
    );
    assert_eq!(
        names(&mnt.join("branches/feature")),
        set(&[b"two", b"two.log"])
    );
    let commits = names(&mnt.join("commits"));
    assert!(
        commits.contains(main_sha.as_bytes()) && commits.contains(feature_sha.as_bytes()),
        "{commits:?}"
    );

    // Every blob of main reads as committed, with the size stat gives.
    let main = mnt.join("branches/main");
    for f in &files {
        let p = at(&main, &f.path);
        assert_eq!(
            std::fs::read(&p).unwrap_or_else(|e| panic!("read {p:?}: {e}")),
            f.content,
            "{p:?}"
        );
        let md = std::fs::metadata(&p).unwrap();
        assert!(md.is_file(), "{p:?}");
        assert_eq!(md.len(), f.content.len() as u64, "size of {p:?}");
        assert_eq!(md.permissions().mode() & 0o222, 0, "{p:?} is read-only");
    }
    let mode = |rel: &str| {
        std::fs::metadata(main.join(rel))
            .unwrap()
            .permissions()
            .mode()
    };
    assert_ne!(mode("run.sh") & 0o111, 0, "the executable stays executable");
    assert_eq!(mode("README.md") & 0o111, 0);
    let link = main.join("link");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("src/main.rs"));
    assert_eq!(std::fs::read(&link).unwrap(), b"fn main() {}\n");

    // The whole tree, walked: exactly the committed paths and their directories.
    let mut walked = BTreeSet::new();
    walk(&main, b"", &mut walked);
    let expected: BTreeSet<Vec<u8>> = set(&[
        b"README.md",
        b"src",
        b"src/lib",
        b"src/lib/deep",
        b"src/lib/deep/nested.txt",
        b"src/main.rs",
        b"with space.txt",
        LATIN1_NAME,
        b"empty",
        b"big.bin",
        b"run.sh",
        b"link",
    ]);
    assert_eq!(walked, expected);
    // find(1) agrees (it counts the start directory too).
    let found = run_cmd(
        Command::new("find").arg(&main).args(["-printf", "x\\n"]),
        COMMAND_TIMEOUT,
    );
    assert!(found.ok(), "{}", found.stderr);
    assert_eq!(found.stdout.lines().count(), expected.len() + 1);

    // The branch's own tree and log; main's files by commit id; errors.
    let two = mnt.join("branches/feature/two");
    assert_eq!(
        std::fs::read(two.join("README.md")).unwrap(),
        b"# changed on feature/two\n"
    );
    assert_eq!(
        std::fs::read(two.join("extra.txt")).unwrap(),
        b"only on the branch\n"
    );
    let log = std::fs::read_to_string(mnt.join("branches/feature/two.log")).unwrap();
    let log_lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        log_lines,
        [format!("{feature_sha} second"), format!("{main_sha} first")]
    );
    let old = mnt.join("commits").join(&main_sha);
    assert_eq!(
        std::fs::read(old.join("README.md")).unwrap(),
        b"# a test repository\n"
    );
    assert_errno(
        std::fs::metadata(main.join("extra.txt")),
        libc::ENOENT,
        "a file only on the other branch",
    );
    assert_errno(
        std::fs::metadata(mnt.join("commits").join("0".repeat(40))),
        libc::ENOENT,
        "an unknown commit",
    );
    assert_errno(
        std::fs::metadata(main.join("README.md/x")),
        libc::ENOTDIR,
        "a file used as a directory",
    );
    assert_errno(
        std::fs::OpenOptions::new()
            .write(true)
            .open(main.join("README.md")),
        libc::EROFS,
        "opening for writing",
    );

    // A commit on main while mounted: the timer sees the ref move and the kernel is
    // told to forget the branch; the new tree shows.
    std::fs::write(repo.join("later.txt"), "committed while mounted\n").unwrap();
    git(&repo, &["add", "later.txt"]);
    git(&repo, &["commit", "-q", "-m", "third"]);
    let new_sha = git(&repo, &["rev-parse", "main"]).trim().to_string();
    let moved = wait_until(MOVE_WAIT, || {
        std::fs::read(main.join("later.txt")).is_ok_and(|c| c == b"committed while mounted\n")
    });
    assert!(
        moved,
        "the new commit on main did not show within {MOVE_WAIT:?}"
    );
    assert!(wait_until(MOVE_WAIT, || {
        std::fs::read_to_string(mnt.join("HEAD")).is_ok_and(|h| h == format!("{new_sha}\n"))
    }));
    let log = std::fs::read_to_string(mnt.join("branches/main.log")).unwrap();
    assert!(log.starts_with(&format!("{new_sha} third\n")), "{log}");
}

#[test]
fn gitfs_refuses_a_directory_that_is_no_repository() {
    if !have("git") {
        return;
    }
    let tmp = TempDir::new("gitfs-norepo");
    let plain = tmp.join("plain");
    let mnt = tmp.join("mnt");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::create_dir_all(&mnt).unwrap();
    let r = run_cmd(
        Command::new(flu_bin())
            .arg("mount")
            .arg(example("gitfs.lua"))
            .arg(&mnt)
            .arg("--")
            .arg(&plain)
            .env("GIT_CEILING_DIRECTORIES", tmp.path()),
        MOUNT_TIMEOUT,
    );
    if r.ok() {
        force_unmount(&mnt);
    }
    assert!(!r.ok(), "gitfs mounted a directory that is no repository");
    assert!(r.stderr.contains("is not a git repository"), "{}", r.stderr);
    assert!(!is_mounted(&mnt));
}

/// A `git` that sleeps SLOW before every command while `mark` exists.
fn slow_git(dir: &Path, mark: &Path) -> PathBuf {
    let path = dir.join("slow-git");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nif [ -e '{}' ]; then sleep {}; fi\nexec git \"$@\"\n",
            mark.display(),
            SLOW.as_secs()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn gitfs_serves_what_it_cached_while_git_is_slow() {
    if !have("git") {
        return;
    }
    let tmp = TempDir::new("gitfs-slow");
    let repo = tmp.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    let content = |i: usize| format!("file {i}\n").repeat(i + 1);
    for i in 0..8 {
        write(&repo, format!("dir/f{i}").as_bytes(), content(i).as_bytes());
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "files"]);
    let sha = git(&repo, &["rev-parse", "main"]).trim().to_string();
    let mark = tmp.join("slow");
    let Some(m) = mount_with(
        &example("gitfs.lua"),
        MountOptions::new()
            .arg(&repo)
            .env("GITFS_GIT", slow_git(tmp.path(), &mark)),
    ) else {
        return;
    };
    // Learn the tree through the branch (git is fast still): the trees and the commit
    // are now in the script's cache. Its paths below /commits/SHA the kernel has never
    // seen, so every stat of them reaches the script.
    let branch = m.dir.join("branches/main/dir");
    assert_eq!(names(&branch).len(), 8);
    let cached = m.dir.join("commits").join(&sha).join("dir");

    std::fs::write(&mark, "").unwrap();
    let started = Instant::now();
    let reader = {
        let p = branch.join("f0");
        std::thread::spawn(move || (std::fs::read(p), Instant::now()))
    };
    // Let the read reach git.
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    for _ in 0..5 {
        for i in 0..8 {
            let md = std::fs::metadata(cached.join(format!("f{i}"))).unwrap();
            assert_eq!(md.len(), content(i).len() as u64);
        }
    }
    assert_eq!(names(&cached).len(), 8);
    let took = t.elapsed();
    assert!(
        !reader.is_finished(),
        "the slow read finished before the stats were done: is git slow?"
    );
    assert!(
        took < Duration::from_secs(1),
        "40 stats and a listing of cached paths took {took:?} while git was slow"
    );
    let (read, done) = reader.join().unwrap();
    assert_eq!(read.unwrap(), content(0).as_bytes());
    assert!(done - started >= SLOW - Duration::from_millis(100));

    // Seven slow reads at once wait together, not one after the other.
    let t = Instant::now();
    let readers: Vec<_> = (1..8)
        .map(|i| {
            let p = branch.join(format!("f{i}"));
            std::thread::spawn(move || std::fs::read(p))
        })
        .collect();
    for (i, r) in (1..8).zip(readers) {
        assert_eq!(r.join().unwrap().unwrap(), content(i).as_bytes());
    }
    let took = t.elapsed();
    assert!(
        took < SLOW * 3,
        "7 reads each waiting {SLOW:?} for git took {took:?}"
    );
    std::fs::remove_file(&mark).unwrap();
}

// ---------------------------------------------------------------------------------
// httpfs

/// The example's test server, stopped (by its pid) on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Start it on a free loopback port and wait until it answers.
    fn start(delay: Duration, args: &[&str]) -> Server {
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let child = Command::new("python3")
            .arg(example("httpfs_server.py"))
            .args(["--port", &port.to_string()])
            .args(["--delay", &delay.as_secs_f64().to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 examples/httpfs_server.py");
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        };
        assert!(
            wait_until(Duration::from_secs(20), || TcpStream::connect((
                "127.0.0.1",
                port
            ))
            .is_ok()),
            "the test server does not listen on port {port}"
        );
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mount_httpfs(server: &Server, ttl: &str) -> Option<Mounted> {
    // The kernel keeps nothing: every stat reaches the script (and its own cache).
    mount_with(
        &example("httpfs.lua"),
        MountOptions::new()
            .opt("attr_timeout=0")
            .opt("entry_timeout=0")
            .arg(&server.url)
            .arg(ttl),
    )
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {p:?}: {e}"))
}

#[test]
fn httpfs_serves_a_json_api() {
    if !have("python3") {
        return;
    }
    let server = Server::start(SLOW, &[]);
    let Some(m) = mount_httpfs(&server, "60") else {
        return;
    };
    let mnt = &m.dir;
    assert_eq!(
        names(mnt),
        set(&[b"name", b"version", b"pi", b"open", b"motto", b"users", b"posts", b"big", b"slow"])
    );
    assert_eq!(read(&mnt.join("name")), "httpfs demo\n");
    assert_eq!(read(&mnt.join("version")), "3\n");
    assert_eq!(read(&mnt.join("pi")), "3.14159\n");
    assert_eq!(read(&mnt.join("open")), "true\n");
    assert_eq!(read(&mnt.join("motto")), "null\n");
    assert_eq!(names(&mnt.join("users")), set(&[b"alice", b"bob"]));
    let alice = mnt.join("users/alice");
    assert_eq!(
        names(&alice),
        set(&[b"name", b"email", b"admin", b"languages"])
    );
    assert_eq!(read(&alice.join("email")), "alice@example.org\n");
    assert_eq!(read(&alice.join("admin")), "true\n");
    assert_eq!(names(&alice.join("languages")), set(&[b"1", b"2"]));
    assert_eq!(read(&alice.join("languages/2")), "rust\n");
    assert!(names(&mnt.join("users/bob/languages")).is_empty());
    assert_eq!(names(&mnt.join("posts")), set(&[b"1", b"2"]));
    assert_eq!(read(&mnt.join("posts/1/body")), "First post.\nTwo lines.\n");
    assert_eq!(read(&mnt.join("posts/2/title")), "Caf\u{e9} \u{2615}\n");
    assert_eq!(
        read(&mnt.join("posts/2/body")),
        "Unicode is fine: \u{e9}\u{e8} \u{1f600}\n"
    );
    // Sizes are the bytes a read gives, also for a value of many pages.
    let big: String = (0..3000)
        .map(|i| format!("line {i:05} of a longer value\n"))
        .collect::<String>()
        + "\n";
    let p = mnt.join("big/text");
    assert_eq!(std::fs::metadata(&p).unwrap().len(), big.len() as u64);
    assert_eq!(read(&p), big);
    assert_eq!(
        std::fs::metadata(mnt.join("posts/2/title")).unwrap().len(),
        "Caf\u{e9} \u{2615}\n".len() as u64
    );
    assert!(std::fs::metadata(mnt.join("users")).unwrap().is_dir());

    // Names the API does not have: ENOENT (the server's 404, or no such member).
    assert_errno(
        std::fs::metadata(mnt.join("users/carol")),
        libc::ENOENT,
        "a user the API lacks",
    );
    assert_errno(
        std::fs::metadata(mnt.join("posts/3")),
        libc::ENOENT,
        "past the end of an array",
    );
    assert_errno(
        std::fs::metadata(mnt.join("name/x")),
        libc::ENOTDIR,
        "a value used as a directory",
    );
    assert_errno(
        std::fs::OpenOptions::new()
            .write(true)
            .open(mnt.join("name")),
        libc::EROFS,
        "opening for writing",
    );
}

#[test]
fn httpfs_answers_404_as_enoent_and_other_failures_as_eio() {
    if !have("python3") {
        return;
    }
    // /users lists bob, but the server answers 404 for /users/bob and 500 for /posts.
    let server = Server::start(SLOW, &["--missing", "users/bob", "--broken", "posts"]);
    let Some(m) = mount_httpfs(&server, "1") else {
        return;
    };
    // (Whether the listing of /users shows bob depends on whether the kernel asks for
    // the attributes with the names, READDIRPLUS: they would fail.)
    assert!(names(&m.dir.join("users")).contains(&b"alice"[..]));
    assert_eq!(read(&m.dir.join("users/alice/name")), "Alice\n");
    assert_errno(
        std::fs::metadata(m.dir.join("users/bob")),
        libc::ENOENT,
        "a directory the server answers with 404",
    );
    assert_errno(
        listing(&m.dir.join("users/bob")),
        libc::ENOENT,
        "a listing the server answers with 404",
    );
    assert_errno(
        std::fs::metadata(m.dir.join("users/bob/name")),
        libc::ENOENT,
        "a value below a 404",
    );
    assert_errno(
        std::fs::metadata(m.dir.join("posts")),
        libc::EIO,
        "a directory the server answers with 500",
    );
    assert!(
        !m.wait_log_lines(&["posts: HTTP 500"]).is_empty(),
        "{}",
        m.log_text()
    );
    // The cache expires after 1 s; then the next look needs the server, which is gone.
    drop(server);
    std::thread::sleep(Duration::from_millis(2100));
    assert_errno(
        listing(&m.dir.join("users")),
        libc::EIO,
        "a listing when the server is gone",
    );
}

#[test]
fn httpfs_serves_cached_paths_while_the_server_is_slow() {
    if !have("python3") {
        return;
    }
    let server = Server::start(SLOW, &[]);
    let Some(m) = mount_httpfs(&server, "60") else {
        return;
    };
    let alice = m.dir.join("users/alice");
    // Into the script's cache (the root's listing also starts a prefetch of /slow,
    // which takes SLOW).
    assert_eq!(names(&alice).len(), 4);
    let started = Instant::now();
    let reader = {
        let p = m.dir.join("slow/answer");
        std::thread::spawn(move || (std::fs::read_to_string(p), Instant::now()))
    };
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    for _ in 0..50 {
        std::fs::metadata(alice.join("email")).unwrap();
    }
    assert_eq!(read(&alice.join("name")), "Alice\n");
    let took = t.elapsed();
    assert!(
        !reader.is_finished(),
        "the slow read finished before the stats were done: is the server slow?"
    );
    assert!(
        took < Duration::from_secs(1),
        "50 stats of cached paths took {took:?} while a request waited for the server"
    );
    let (answer, done) = reader.join().unwrap();
    assert_eq!(answer.unwrap(), "42\n");
    assert!(
        done - started >= Duration::from_millis(500),
        "{:?}",
        done - started
    );
}

#[test]
fn httpfs_an_interrupted_read_leaves_nothing_behind() {
    if !have("python3") {
        return;
    }
    let server = Server::start(SLOW, &[]);
    let Some(m) = mount_httpfs(&server, "60") else {
        return;
    };
    let answer = m.dir.join("slow/answer");
    let start = Instant::now();
    let mut cat = Command::new("cat")
        .arg(&answer)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(cat.id() as i32, libc::SIGINT) };
    let status = wait_child(&mut cat, Duration::from_secs(5)).expect("cat ends when interrupted");
    assert!(!status.success(), "cat was interrupted: {status:?}");
    assert!(start.elapsed() < SLOW, "the interrupt was answered at once");
    // The fetch the interrupted read waited for goes on; the next read gets its answer
    // when it comes, not after some leftover mark expires.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(std::fs::read_to_string(answer)));
    let got = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the read after an interrupted one never ended");
    assert_eq!(got.unwrap(), "42\n");
    let took = start.elapsed();
    assert!(
        took < SLOW + Duration::from_millis(1500),
        "the read after an interrupted one took {took:?}"
    );
}
