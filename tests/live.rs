//! Live filesystems, end to end on real mounts: `flu.notify` (inval_inode, inval_entry,
//! delete) from timers and from inside handlers under long kernel cache lifetimes,
//! per-reply `attr_timeout`/`entry_timeout`, `flu.after`/`flu.every` timers (errors,
//! cancel, stopping at unmount before `destroy`), and reloading a mounted script
//! (`flu reload`, a broken new script, SIGHUP to a detached daemon, `flu mount
//! --watch`) with `flu.state`, open files and `reload(old)`.
//!
//! The scripts are `tests/scripts/live_*.lua`. Every wait is bounded (`SHOW`), and each
//! change that should become visible has a twin that is not announced to the kernel and
//! must stay as the kernel cached it: that shows the kernel really caches, so the
//! announced change is seen because of the notification.

mod common;

use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;

/// How long a change may take to become visible.
const SHOW: Duration = Duration::from_secs(10);

/// The kernel may cache names and attributes for a minute (longer than any test).
const LONG_CACHE: &str = "attr_timeout=60,entry_timeout=60";

/// The whole content of `p` (panics with the error).
#[track_caller]
fn read(p: &Path) -> String {
    match fs::read(p) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => panic!("reading {}: {e}", p.display()),
    }
}

/// The content of `p`, or None if it cannot be read.
fn try_read(p: &Path) -> Option<String> {
    fs::read(p)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The size `stat` gives for `p` (panics with the error).
#[track_caller]
fn size(p: &Path) -> u64 {
    match fs::metadata(p) {
        Ok(m) => m.len(),
        Err(e) => panic!("stat {}: {e}", p.display()),
    }
}

/// Read an open file from offset 0 (each read goes to the filesystem: the live_reload
/// files are opened with direct_io).
fn read_open(f: &File) -> String {
    let mut buf = vec![0u8; 4096];
    let n = f.read_at(&mut buf, 0).expect("read the open file");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `flu reload DIR`, bounded.
fn flu_reload(dir: &Path) -> Run {
    run_cmd(
        Command::new(flu_bin()).arg("reload").arg(dir),
        COMMAND_TIMEOUT,
    )
}

/// Whether `text` holds `name:<digits>:` (a file:line position).
fn has_file_line(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let rest = &text[i + name.len()..];
        let Some(rest) = rest.strip_prefix(':') else {
            return false;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(':')
    })
}

/// Run `sh -c SCRIPT` in `cwd` and wait for it at most `timeout`: its exit status and
/// how long it took; None when it had to be killed.
fn sh_within(
    cwd: &Path,
    script: &str,
    timeout: Duration,
) -> Option<(std::process::ExitStatus, Duration)> {
    let started = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("spawn sh");
    wait_child(&mut child, timeout).map(|s| (s, started.elapsed()))
}

/// Keep `p` open for the guard's life. An open file pins its dentry and inode in the
/// kernel, so that what the kernel cached for it (the name, the attributes, the pages)
/// cannot go when something else on the machine drops the kernel's unused dentries and
/// inodes (`echo 2 > /proc/sys/vm/drop_caches`, as tests/load.rs does): a control file
/// stays as the kernel cached it unless the filesystem tells the kernel otherwise.
#[track_caller]
fn pin(p: &Path) -> File {
    File::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display()))
}

/// Log lines containing `needle`, counted.
fn count_log(m: &Mounted, needle: &str) -> usize {
    m.log_lines_with(&[needle]).len()
}

/// `tests/scripts/live_reload.lua` copied to a private directory with its version set;
/// the test rewrites that copy in place and reloads.
struct ReloadScript {
    dir: TempDir,
}

impl ReloadScript {
    const NAME: &'static str = "live_reload.lua";

    fn new(version: &str) -> ReloadScript {
        let s = ReloadScript {
            dir: TempDir::new("live-script"),
        };
        s.set_version(version);
        s
    }

    fn path(&self) -> PathBuf {
        self.dir.join(Self::NAME)
    }

    /// Overwrite the script (in place: same file, truncated and rewritten).
    fn write(&self, source: &str) {
        fs::write(self.path(), source).expect("write the script");
    }

    fn set_version(&self, version: &str) {
        self.set_source(version, "");
    }

    /// The template with `version`, `prelude` (Lua) run first.
    fn set_source(&self, version: &str, prelude: &str) {
        let template = fs::read_to_string(test_script(Self::NAME)).expect("the template");
        assert!(template.contains("@VERSION@"));
        self.write(&format!(
            "{prelude}{}",
            template.replace("@VERSION@", version)
        ));
    }
}

// ---- 1. inval_inode from a timer ------------------------------------------------------

/// The counter in "status N ...." (the live_inval_inode files).
fn counter(text: &str) -> u64 {
    text.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no counter in {text:?}"))
}

#[test]
fn inval_inode_from_a_timer_refreshes_cached_data_and_size() {
    // Read-only: on a writable mount a read that reaches the daemon marks the atime
    // stale, and the next stat asks getattr again whatever attr_timeout says.
    let Some(m) = mount_with(
        &test_script("live_inval_inode.lua"),
        MountOptions::new().opt(LONG_CACHE).opt("ro"),
    ) else {
        return;
    };
    let (status, frozen) = (m.path("status"), m.path("frozen"));
    let pins = (pin(&status), pin(&frozen));
    // Now the kernel caches both: attributes for 60 s, pages kept across opens
    // (keep_cache).
    let frozen0 = read(&frozen);
    assert_eq!(size(&frozen), frozen0.len() as u64);
    let status0 = read(&status);
    let n0 = counter(&status0);

    // The timer changes /status and invalidates it: new content with its new size.
    let mut seen = (String::new(), 0);
    let fresh = wait_until(SHOW, || {
        let text = read(&status);
        let len = size(&status);
        seen = (text.clone(), len);
        text != status0 && len == text.len() as u64
    });
    assert!(
        fresh,
        "/status stayed {status0:?} (last seen {seen:?}) although a timer invalidates it"
    );
    assert!(counter(&seen.0) > n0, "{seen:?} after {status0:?}");
    assert_ne!(
        seen.1,
        status0.len() as u64,
        "the size changed with the content"
    );

    // The same timer ticks changed /frozen in the script, but nobody told the kernel:
    // it serves the pages and size it cached, now and a second later.
    for pause in [Duration::from_secs(1), Duration::ZERO] {
        assert_eq!(read(&frozen), frozen0, "/frozen was never invalidated");
        assert_eq!(size(&frozen), frozen0.len() as u64);
        sleep(pause);
    }
    // ... while /status keeps moving.
    let later = read(&status);
    assert!(
        counter(&later) > counter(&seen.0),
        "{later:?} after {seen:?}"
    );

    // What the timer's calls returned: true for the file the kernel knows, nil and the
    // documented sentence for a path nobody ever looked up.
    let results = read(&m.path("results"));
    assert!(results.contains("status=true nil\n"), "{results}");
    assert!(
        results.contains("never=nil /never is not known to the kernel"),
        "{results}"
    );
    drop(pins);
    m.unmount();
}

// ---- 2. and 3. inval_entry and delete from a timer -------------------------------------

fn entries_mount() -> Option<Mounted> {
    mount_with(
        &test_script("live_entries.lua"),
        MountOptions::new().opt(&format!("{LONG_CACHE},negative_timeout=60")),
    )
}

/// Wait until /results (what the notify calls returned) has a line starting `what `.
fn notify_result(m: &Mounted, what: &str) -> String {
    let mut line = None;
    wait_until(SHOW, || {
        line = read(&m.path("results"))
            .lines()
            .find(|l| l.starts_with(&format!("{what} ")))
            .map(str::to_string);
        line.is_some()
    });
    line.unwrap_or_else(|| {
        panic!(
            "the timer never reported {what}: {:?}",
            read(&m.path("results"))
        )
    })
}

#[test]
fn inval_entry_from_a_timer_shows_a_name_cached_as_missing() {
    let Some(m) = entries_mount() else {
        return;
    };
    assert!(fs::metadata(m.path("sentinel")).is_ok());
    // Both names are missing, and the kernel remembers that for 60 s.
    assert_errno(fs::metadata(m.path("new")), libc::ENOENT, "stat new");
    assert_errno(
        fs::metadata(m.path("new_control")),
        libc::ENOENT,
        "stat new_control",
    );
    fs::write(m.path("ctl"), "create\n").unwrap();
    assert_eq!(notify_result(&m, "inval_entry"), "inval_entry true nil");
    assert!(
        wait_until(SHOW, || fs::metadata(m.path("new")).is_ok()),
        "the name announced with inval_entry never appeared"
    );
    assert_eq!(read(&m.path("new")), "new\n");
    // Created at the same moment, never announced: still cached as missing.
    let control = fs::metadata(m.path("new_control"));
    if control.is_ok() {
        // A missing name cannot be pinned open: if something else dropped the kernel's
        // dentry cache meanwhile (as tests/load.rs does), the kernel asked again, and
        // then it also asked again for the sentinel, which nothing invalidates.
        assert!(fs::metadata(m.path("sentinel")).is_ok());
        let results = read(&m.path("results"));
        assert!(
            !results.contains("sentinel lookups 1\n"),
            "new_control was created behind the kernel and never announced, yet a \
             stat found it although the kernel cached it as missing for 60 s: {results}"
        );
        eprintln!(
            "the kernel's dentry cache was dropped during the test ({}): the \
             negative-cache control is inconclusive",
            results.trim().replace('\n', "; ")
        );
    } else {
        assert_errno(control, libc::ENOENT, "stat new_control");
    }
    m.unmount();
}

#[test]
fn delete_from_a_timer_removes_a_cached_name() {
    let Some(m) = entries_mount() else {
        return;
    };
    assert_eq!(size(&m.path("gone")), 5);
    assert_eq!(size(&m.path("gone_control")), 13);
    let pinned = pin(&m.path("gone_control"));
    fs::write(m.path("ctl"), "delete\n").unwrap();
    assert_eq!(notify_result(&m, "delete"), "delete true nil");
    assert!(
        wait_until(SHOW, || matches!(
            fs::metadata(m.path("gone")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound
        )),
        "the name removed with flu.notify.delete is still there: {:?}",
        fs::metadata(m.path("gone"))
    );
    // Removed at the same moment, never announced: the kernel still has it.
    assert_eq!(
        size(&m.path("gone_control")),
        13,
        "gone_control (cached for 60 s, not invalidated)"
    );
    drop(pinned);
    m.unmount();
}

// ---- 4. notifying from inside handlers ----------------------------------------------------

#[test]
fn notify_inside_handlers_does_not_deadlock_and_takes_effect() {
    let Some(m) = mount_with(
        &test_script("live_handler_notify.lua"),
        MountOptions::new().opt(&format!("{LONG_CACHE},negative_timeout=60")),
    ) else {
        return;
    };
    let pinned = pin(&m.path("target"));
    assert_eq!(read(&m.path("target")), "before\n");
    // That read reached the daemon, which marks the atime stale: this stat asks
    // getattr now, and from then on the kernel serves attributes (60 s) and pages
    // (keep_cache) from its cache until told otherwise.
    assert_eq!(size(&m.path("target")), 7);
    assert_eq!(read(&m.path("target")), "before\n");
    assert_errno(fs::metadata(m.path("made")), libc::ENOENT, "stat made");
    assert_errno(
        fs::metadata(m.path("made_by_create")),
        libc::ENOENT,
        "stat made_by_create",
    );

    // The write handler invalidates another file, announces a name and invalidates the
    // very file being written; it must answer at once (a writer that hangs is killed).
    let (status, took) = sh_within(&m.dir, "printf hello > ctl", SHOW)
        .expect("a write whose handler notifies hung (deadlock)");
    assert!(status.success(), "printf hello > ctl: {status:?}");
    assert!(took < Duration::from_secs(5), "the write took {took:?}");
    assert!(
        wait_until(SHOW, || try_read(&m.path("target")).as_deref()
            == Some("after hello\n")
            && size(&m.path("target")) == 12),
        "/target: {:?}",
        try_read(&m.path("target"))
    );
    assert!(
        wait_until(SHOW, || fs::metadata(m.path("made")).is_ok()),
        "the name announced by the write handler never appeared"
    );
    assert_eq!(read(&m.path("made")), "made\n");

    // create runs while the kernel holds the directory's lock, which the inval_entry
    // it makes needs.
    let (status, took) = sh_within(&m.dir, ": > newfile", SHOW)
        .expect("a create whose handler notifies hung (deadlock)");
    assert!(status.success(), ": > newfile: {status:?}");
    assert!(took < Duration::from_secs(5), "the create took {took:?}");
    assert!(
        wait_until(SHOW, || fs::metadata(m.path("made_by_create")).is_ok()),
        "the name announced by the create handler never appeared"
    );

    // Inside a handler each call is queued and answers true.
    let results = read(&m.path("results"));
    for line in [
        "write:inval_inode(/target) true nil",
        "write:inval_entry(/, made) true nil",
        "write:inval_inode(/ctl) true nil",
        "create:inval_entry true nil",
    ] {
        assert!(results.lines().any(|l| l == line), "{line:?} in {results}");
    }
    // And nothing the kernel answered later was a failure.
    assert!(
        m.log_lines_with(&["flu.notify"]).is_empty(),
        "{}",
        m.log_text()
    );
    drop(pinned);
    m.unmount();
}

// ---- 5. per-reply cache lifetimes -----------------------------------------------------------

#[test]
fn a_stat_tables_own_lifetimes_override_the_mounts() {
    let Some(m) = mount_with(
        &test_script("live_lifetimes.lua"),
        MountOptions::new().opt(LONG_CACHE),
    ) else {
        return;
    };
    let (fast, slow) = (m.path("fast"), m.path("slow"));
    let pins = (pin(&slow), pin(&m.path("e60")));
    let slow0 = size(&slow);
    let fast0 = size(&fast);
    // attr_timeout = 0: every stat asks again and sees the timer's growth...
    assert!(
        wait_until(SHOW, || size(&fast) >= fast0 + 3),
        "/fast (attr_timeout = 0) stayed at {} bytes (was {fast0})",
        size(&fast)
    );
    // ... while the sibling keeps the size the kernel cached for 60 s, through the same
    // timer ticks and a second more.
    assert_eq!(size(&slow), slow0, "/slow has no attr_timeout of its own");
    let fast1 = size(&fast);
    sleep(Duration::from_secs(1));
    assert_eq!(size(&slow), slow0, "/slow a second later");
    assert!(size(&fast) > fast1, "/fast a second later");

    // entry_timeout = 0: a name removed behind the kernel is looked up again; its
    // sibling with the mount's 60 s stays.
    assert_eq!(size(&m.path("e0")), 3);
    assert_eq!(size(&m.path("e60")), 4);
    fs::write(m.path("ctl"), "remove\n").unwrap();
    assert!(
        wait_until(SHOW, || read(&m.path("removed")) == "yes\n"),
        "the removal did not run"
    );
    assert!(
        wait_until(SHOW, || fs::metadata(m.path("e0")).is_err()),
        "/e0 (entry_timeout = 0) is still found after its removal"
    );
    assert_errno(fs::metadata(m.path("e0")), libc::ENOENT, "stat e0");
    assert_eq!(
        size(&m.path("e60")),
        4,
        "/e60 (the mount's entry_timeout=60) is still cached"
    );
    drop(pins);
    m.unmount();
}

// ---- 6. flu reload -------------------------------------------------------------------------

#[test]
fn flu_reload_switches_tables_keeping_state_and_open_files() {
    let script = ReloadScript::new("one");
    let Some(m) = mount(&script.path()) else {
        return;
    };
    assert_eq!(read(&m.path("version")), "one\n");
    assert_eq!(read(&m.path("loads")), "1\n");
    // Opened under v1: fi.fh = 42, fi.opened_by = 'one'.
    let held = File::open(m.path("handle")).unwrap();
    assert_eq!(read_open(&held), "fh=42 read by one\n");
    assert!(
        !m.wait_log_lines(&["tick one"]).is_empty(),
        "the v1 timer never ran"
    );

    script.set_version("two");
    let r = flu_reload(&m.dir);
    assert!(r.ok(), "flu reload failed ({}): {}", r.status, r.stderr);
    assert_eq!(r.stdout, "", "flu reload prints nothing on success");
    assert_eq!(r.stderr, "", "flu reload prints nothing on success");

    assert_eq!(read(&m.path("version")), "two\n");
    assert_eq!(
        read(&m.path("loads")),
        "2\n",
        "flu.state survives the reload"
    );
    // The file opened before keeps its fi table, now read by v2's handler.
    assert_eq!(read_open(&held), "fh=42 read by two\n");
    // A new open is v2's.
    assert_eq!(read(&m.path("handle")), "fh=43 read by two\n");
    drop(held);
    let events_path = m.path("events");
    assert!(
        wait_until(SHOW, || read(&events_path)
            .contains("two released fh=42 opened by one\n")),
        "the held file's release did not reach v2's handler: {}",
        read(&events_path)
    );
    let events = read(&events_path);
    assert_eq!(events.matches("reload(old)").count(), 1, "{events}");
    assert!(
        events.contains("two reload(old) #1 old is another table=true old has read=true\n"),
        "{events}"
    );
    assert_eq!(events.matches("one init").count(), 1, "{events}");
    assert!(!events.contains("two init"), "init ran again: {events}");
    assert!(!events.contains("one released"), "{events}");
    assert_eq!(
        m.log_lines_with(&["reloaded", ReloadScript::NAME]).len(),
        1,
        "{}",
        m.log_text()
    );

    // The new load's timer runs. (That the old one stops is checked by
    // `a_reload_stops_the_old_timers_even_one_due_while_the_new_script_loads`.)
    assert!(
        !m.wait_log_lines(&["tick two"]).is_empty(),
        "the v2 timer never ran"
    );
    m.unmount();
}

/// Log lines after the first line containing `marker` that contain `needle`.
fn log_lines_after(m: &Mounted, marker: &str, needle: &str) -> Vec<String> {
    let text = m.log_text();
    text.lines()
        .skip_while(|l| !l.contains(marker))
        .skip(1)
        .filter(|l| l.contains(needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_reload_stops_the_old_timers_even_one_due_while_the_new_script_loads() {
    let script = ReloadScript::new("one");
    let Some(m) = mount(&script.path()) else {
        return;
    };
    assert!(
        !m.wait_log_lines(&["tick one"]).is_empty(),
        "the v1 timer never ran"
    );
    // v2 takes half a second to load (a slow setup), so v1's 0.1 s timer falls due
    // while the reload runs it.
    script.set_source(
        "two",
        "local t0 = os.clock()\nwhile os.clock() - t0 < 0.5 do end\n",
    );
    let r = flu_reload(&m.dir);
    assert!(r.ok(), "{}", r.stderr);
    assert_eq!(read(&m.path("version")), "two\n");
    assert!(
        !m.wait_log_lines(&["tick two"]).is_empty(),
        "the v2 timer never ran"
    );
    // The daemon logs "reloaded" under the Lua lock, after retiring the old timers: no
    // v1 tick may follow it.
    sleep(Duration::from_millis(500));
    let late = log_lines_after(&m, "reloaded", "tick one");
    assert!(
        late.is_empty(),
        "the v1 timer ran {} times after the reload:\n{}",
        late.len(),
        m.log_text()
    );
    m.unmount();
}

// ---- 7. a broken new script ----------------------------------------------------------------

#[test]
fn a_failed_reload_reports_file_and_line_and_keeps_the_old_handlers() {
    let script = ReloadScript::new("one");
    let Some(m) = mount(&script.path()) else {
        return;
    };
    assert_eq!(read(&m.path("version")), "one\n");
    let cases = [
        (
            "a syntax error",
            "local flu = require 'flu'\nlocal fs = {\nreturn fs\n",
            "live_reload.lua:3:",
        ),
        (
            "a runtime error",
            "local flu = require 'flu'\n\
             flu.every(0.05, function() flu.log.info('zombie tick') end)\n\
             error('boom')\nreturn {}\n",
            "live_reload.lua:3: boom",
        ),
        (
            "no table",
            "local flu = require 'flu'\nlocal fs = {}\n",
            "returned no filesystem table (got nil)",
        ),
    ];
    for (what, source, expected) in cases {
        let ticks = count_log(&m, "tick one");
        script.write(source);
        let r = flu_reload(&m.dir);
        assert_eq!(
            r.status.code(),
            Some(1),
            "{what}: flu reload should fail (stdout {:?}, stderr {:?})",
            r.stdout,
            r.stderr
        );
        assert!(
            r.stderr.contains(expected),
            "{what}: {expected:?} not in {:?}",
            r.stderr
        );
        assert!(
            r.stderr.contains(ReloadScript::NAME),
            "{what}: no file name in {:?}",
            r.stderr
        );
        if what != "no table" {
            assert!(
                has_file_line(&r.stderr, ReloadScript::NAME),
                "{what}: no file:line in {:?}",
                r.stderr
            );
        }
        assert!(
            r.stderr.contains("old handlers keep serving"),
            "{what}: {:?}",
            r.stderr
        );
        // The old table serves, its timer still ticks, the daemon lives.
        assert_eq!(read(&m.path("version")), "one\n", "after {what}");
        assert_eq!(read(&m.path("loads")), "1\n", "after {what}");
        assert!(m.daemon_alive(), "after {what}");
        assert!(
            wait_until(SHOW, || count_log(&m, "tick one") > ticks),
            "{what}: the old timer stopped"
        );
    }
    assert_eq!(
        m.log_lines_with(&["ERROR", "failed; the old handlers keep serving"])
            .len(),
        3,
        "{}",
        m.log_text()
    );
    // The timer the failed run made was cancelled with it.
    assert_eq!(count_log(&m, "zombie tick"), 0, "{}", m.log_text());

    // And a good script still reloads.
    script.set_version("two");
    let r = flu_reload(&m.dir);
    assert!(r.ok(), "{}", r.stderr);
    assert_eq!(read(&m.path("version")), "two\n");
    assert_eq!(read(&m.path("loads")), "2\n");
    m.unmount();
}

// ---- 8. SIGHUP -----------------------------------------------------------------------------

#[test]
fn sighup_reloads_a_detached_daemon() {
    let script = ReloadScript::new("one");
    let Some(m) = mount(&script.path()) else {
        return;
    };
    let pid = m.pid.expect("the daemon's pid (--pid-file)");
    assert_eq!(read(&m.path("version")), "one\n");
    script.set_version("two");
    // SAFETY: kill(2) on the daemon this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    assert!(
        wait_until(SHOW, || try_read(&m.path("version")).as_deref()
            == Some("two\n")),
        "SIGHUP did not reload: {:?}\n{}",
        try_read(&m.path("version")),
        m.log_text()
    );
    assert!(is_fuse_mounted(&m.dir), "SIGHUP unmounted the filesystem");
    assert!(pid_alive(pid), "SIGHUP ended the daemon");
    assert_eq!(read(&m.path("loads")), "2\n");

    // A broken script on SIGHUP: logged, nothing changes, still mounted.
    script.write("local fs = {\n");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let failed = m.wait_log_lines(&["reload (SIGHUP) failed"]);
    assert!(!failed.is_empty(), "{}", m.log_text());
    assert!(
        has_file_line(&failed[0], ReloadScript::NAME),
        "{}",
        failed[0]
    );
    assert_eq!(read(&m.path("version")), "two\n");
    assert!(is_fuse_mounted(&m.dir) && pid_alive(pid));
    m.unmount();
}

// ---- 9. --watch ----------------------------------------------------------------------------

#[test]
fn watch_reloads_when_the_script_changes() {
    let script = ReloadScript::new("one");
    let Some(m) = mount_with(&script.path(), MountOptions::new().flag("--watch")) else {
        return;
    };
    assert_eq!(read(&m.path("version")), "one\n");
    script.set_version("two");
    assert!(
        wait_until(SHOW, || try_read(&m.path("version")).as_deref()
            == Some("two\n")),
        "--watch did not reload after an edit:\n{}",
        m.log_text()
    );
    assert_eq!(read(&m.path("loads")), "2\n");

    // A broken edit is logged and changes nothing; the next good one reloads.
    script.write("local fs = {\n");
    let failed = m.wait_log_lines(&["reload", "failed; the old handlers keep serving"]);
    assert!(!failed.is_empty(), "{}", m.log_text());
    assert_eq!(read(&m.path("version")), "two\n");
    script.set_version("three");
    assert!(
        wait_until(SHOW, || try_read(&m.path("version")).as_deref()
            == Some("three\n")),
        "--watch did not reload after the fix:\n{}",
        m.log_text()
    );
    assert_eq!(read(&m.path("loads")), "3\n");
    m.unmount();
}

// ---- 10. timers at unmount -------------------------------------------------------------------

#[test]
fn timers_stop_at_unmount_before_destroy_and_a_failing_one_keeps_running() {
    let Some(mut m) = mount(&test_script("live_timers.lua")) else {
        return;
    };
    let origin = "error in the flu.every callback made at";
    assert!(
        wait_until(SHOW, || m.log_lines_with(&["ERROR", origin]).len() >= 2),
        "the failing every timer did not keep running:\n{}",
        m.log_text()
    );
    let failures = m.log_lines_with(&["ERROR", origin]);
    assert!(
        has_file_line(&failures[0], "live_timers.lua") && failures[0].contains("oops 1"),
        "{}",
        failures[0]
    );
    assert!(failures[1].contains("oops 2"), "{}", failures[1]);
    assert!(count_log(&m, "tick") >= 2, "{}", m.log_text());
    assert!(m.daemon_alive());

    let r = m.flu_unmount();
    assert!(r.ok(), "flu unmount: {}", r.stderr);
    m.wait_daemon_exit();
    assert!(!is_mounted(&m.dir));
    let text = m.log_text();
    let lines: Vec<&str> = text.lines().collect();
    let destroyed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("destroyed"))
        .collect();
    assert_eq!(destroyed.len(), 1, "destroy ran once:\n{text}");
    let after = &lines[destroyed[0]..];
    assert!(
        !after
            .iter()
            .any(|l| l.contains("INFO tick") || l.contains(origin)),
        "a timer ran after destroy:\n{text}"
    );
}

// ---- 11. timer objects -----------------------------------------------------------------------

#[test]
fn timer_objects_cancel_and_report_whether_they_are_active() {
    let Some(m) = mount(&test_script("live_timers.lua")) else {
        return;
    };
    // Cancelled in the main chunk, before it could run.
    let cancelled = m.wait_log_lines(&["cancelled before running:"]);
    assert_eq!(cancelled.len(), 1, "{}", m.log_text());
    assert!(
        cancelled[0].ends_with("active-before=true cancel=true active-after=false"),
        "{}",
        cancelled[0]
    );
    // An every timer gets itself as argument and cancels itself on its third run: it
    // runs exactly three times.
    let cancel = m.wait_log_lines(&["self-cancel"]);
    assert_eq!(cancel.len(), 1, "{}", m.log_text());
    assert!(
        cancel[0].ends_with("self-cancel first=true second=false active=false"),
        "{}",
        cancel[0]
    );
    // The other timers (0.05 s) keep ticking: wait for several more of their ticks.
    let ticks = count_log(&m, "INFO tick");
    assert!(
        wait_until(SHOW, || count_log(&m, "INFO tick") >= ticks + 5),
        "{}",
        m.log_text()
    );
    let counted = m.log_lines_with(&["counted "]);
    assert_eq!(counted.len(), 3, "{}", m.log_text());
    for (i, line) in counted.iter().enumerate() {
        assert!(
            line.ends_with(&format!("counted {} same-timer=true active=true", i + 1)),
            "{line}"
        );
    }
    // flu.after runs once; the cancelled one never.
    assert_eq!(m.log_lines_with(&["after ran once"]).len(), 1);
    assert!(m.log_lines_with(&["the cancelled timer ran"]).is_empty());
    m.unmount();
}
