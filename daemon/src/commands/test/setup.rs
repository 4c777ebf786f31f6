//! The header's `setup:` commands: run in order before the mount, each to its end, in a
//! process group of its own, with its output in the work directory's `setup.log`. A
//! command may leave a process running in the background (a test server that forks
//! once it listens): it stays in that group, and `Setup`'s drop sends the group SIGTERM
//! when the run ends.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How long one setup command may take.
const SETUP_WAIT: Duration = Duration::from_secs(60);

/// Lines of the log shown when a command fails.
const SHOWN_LINES: usize = 20;

/// The process groups of the commands that ran; stopped on drop.
pub struct Setup {
    groups: Vec<Pid>,
}

/// Run `commands` (program and arguments each, placeholders filled), logging to `log`.
pub fn run(commands: &[Vec<String>], log: &Path) -> Result<Setup, String> {
    let mut setup = Setup { groups: Vec::new() };
    for words in commands {
        let Some((program, args)) = words.split_first() else {
            continue;
        };
        let shown = format!("{words:?}");
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| format!("cannot create {log:?}: {e}"))
        };
        let mut child = Command::new(program)
            .args(args)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(open()?)
            .stderr(open()?)
            .spawn()
            .map_err(|e| format!("setup command {shown}: cannot start {program:?}: {e}"))?;
        setup.groups.push(Pid::from_raw(child.id() as i32));
        let deadline = Instant::now() + SETUP_WAIT;
        let status: ExitStatus = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) | Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "setup command {shown} did not finish within {} s",
                        SETUP_WAIT.as_secs()
                    ));
                }
            }
        };
        if !status.success() {
            return Err(format!(
                "setup command {shown} failed ({status}):\n{}",
                log_tail(log)
            ));
        }
    }
    Ok(setup)
}

/// The last lines the commands wrote.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(SHOWN_LINES)..].join("\n")
}

impl Drop for Setup {
    fn drop(&mut self) {
        // A group whose processes all ended is gone (ESRCH): nothing to stop.
        for &group in &self.groups {
            let _ = killpg(group, Signal::SIGTERM);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_run_in_order_and_a_failure_says_which() {
        let dir = std::env::temp_dir().join(format!("flu-setup-test.{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("setup.log");
        let mark = dir.join("mark");
        let ok = run(
            &[
                words(&["sh", "-c", "echo one > \"$0\"", mark.to_str().unwrap()]),
                words(&["sh", "-c", "echo two >> \"$0\"", mark.to_str().unwrap()]),
            ],
            &log,
        );
        assert!(ok.is_ok());
        assert_eq!(std::fs::read_to_string(&mark).unwrap(), "one\ntwo\n");
        let err = run(&[words(&["sh", "-c", "echo broken >&2; exit 3"])], &log)
            .err()
            .unwrap();
        assert!(err.contains("failed") && err.contains("broken"), "{err}");
        let err = run(&[words(&["/nonexistent/program"])], &log)
            .err()
            .unwrap();
        assert!(err.contains("cannot start"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn what_a_command_leaves_running_is_stopped_on_drop() {
        let dir = std::env::temp_dir().join(format!("flu-setup-bg.{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("pid");
        let setup = run(
            &[words(&[
                "sh",
                "-c",
                "sleep 30 & echo $! > \"$0\"",
                pidfile.to_str().unwrap(),
            ])],
            &dir.join("setup.log"),
        )
        .unwrap();
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let alive = |pid: i32| {
            nix::sys::signal::kill(Pid::from_raw(pid), None).is_ok()
                && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .unwrap_or_default()
                    .contains(") Z ")
        };
        assert!(alive(pid), "the background process runs");
        drop(setup);
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "the background process was stopped");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
