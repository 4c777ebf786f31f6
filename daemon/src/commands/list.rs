//! `flu list [--json]`: the running flu mounts of the user, found by their control
//! sockets in the run directory (DESIGN §4) and each asked for its numbers; a socket
//! nobody answers on (a daemon that died) is left out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::ListArgs;
use crate::control::json::{array, Object, Value};
use crate::control::{client::query_socket, Request};
use crate::run_dir;

/// How long one mount may take to answer: a stuck daemon must not stall the list.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// One mount, as its daemon describes it.
#[derive(Debug, PartialEq)]
struct Listed {
    mountpoint: String,
    script: String,
    pid: u64,
    uptime_s: u64,
}

pub fn list_command(args: ListArgs) -> Result<(), String> {
    let dir = run_dir::base_dir(nix::unistd::geteuid().as_raw());
    let mut mounts = ask_all(&sockets_in(&dir));
    mounts.sort_by(|a, b| a.mountpoint.cmp(&b.mountpoint));
    if args.json {
        println!("{}", json(&mounts));
    } else {
        print!("{}", table(&mounts));
    }
    Ok(())
}

/// The control sockets in the run directory `dir` (none if it does not exist).
fn sockets_in(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_socket()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sock"))
        .collect()
}

/// Ask every socket at once; the mounts that answered.
fn ask_all(sockets: &[PathBuf]) -> Vec<Listed> {
    std::thread::scope(|scope| {
        let asking: Vec<_> = sockets
            .iter()
            .map(|s| scope.spawn(move || query_socket(s, Request::Stats, ANSWER_TIMEOUT)))
            .collect();
        asking
            .into_iter()
            .filter_map(|h| h.join().ok()?.ok())
            .filter_map(|reply| listed(&reply))
            .collect()
    })
}

fn listed(reply: &Value) -> Option<Listed> {
    let text = |key| reply.get(key).and_then(Value::as_str).map(str::to_string);
    let number = |key| reply.get(key).and_then(Value::as_u64);
    Some(Listed {
        mountpoint: text("mountpoint")?,
        script: text("script").unwrap_or_default(),
        pid: number("pid")?,
        uptime_s: number("uptime_s").unwrap_or(0),
    })
}

fn json(mounts: &[Listed]) -> String {
    array(
        mounts
            .iter()
            .map(|m| {
                Object::new()
                    .string("mountpoint", &m.mountpoint)
                    .string("script", &m.script)
                    .number("pid", m.pid)
                    .number("uptime_s", m.uptime_s)
            })
            .collect(),
    )
}

fn table(mounts: &[Listed]) -> String {
    if mounts.is_empty() {
        return "no flu mounts\n".into();
    }
    let width = mounts
        .iter()
        .map(|m| m.mountpoint.chars().count())
        .max()
        .unwrap_or(0)
        .max("MOUNTPOINT".len());
    let mut out = format!(
        "{:<width$}  {:>8}  {:>9}  SCRIPT\n",
        "MOUNTPOINT", "PID", "UPTIME"
    );
    for m in mounts {
        let _ = writeln!(
            out,
            "{:<width$}  {:>8}  {:>9}  {}",
            m.mountpoint,
            m.pid,
            uptime(m.uptime_s),
            m.script
        );
    }
    out
}

/// Seconds as the largest two units: 45s, 3m05s, 2h07m, 3d04h.
fn uptime(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86399 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::json::parse;

    #[test]
    fn a_reply_becomes_a_row() {
        let reply = parse(
            r#"{"ok":true,"pid":42,"mountpoint":"/mnt/a \"b\"","script":"/s.lua","uptime_s":3725}"#,
        )
        .unwrap();
        let m = listed(&reply).expect("listed");
        assert_eq!(m.pid, 42);
        let t = table(&[m]);
        assert!(t.starts_with("MOUNTPOINT"), "{t}");
        assert!(
            t.contains("/mnt/a \"b\"        42      1h02m  /s.lua\n"),
            "{t}"
        );
        let back = parse(&json(&[listed(&reply).unwrap()])).unwrap();
        let Value::Array(items) = back else {
            panic!("not an array")
        };
        assert_eq!(
            items[0].get("mountpoint").and_then(Value::as_str),
            Some("/mnt/a \"b\"")
        );
        assert_eq!(table(&[]), "no flu mounts\n");
        assert!(listed(&parse(r#"{"ok":true}"#).unwrap()).is_none());
    }

    #[test]
    fn uptimes() {
        assert_eq!(uptime(0), "0s");
        assert_eq!(uptime(185), "3m05s");
        assert_eq!(uptime(7620), "2h07m");
        assert_eq!(uptime(273600), "3d04h");
    }

    #[test]
    fn only_sockets_are_listed() {
        use std::os::unix::net::UnixListener;
        let dir = std::env::temp_dir().join(format!("flu-list-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let _listener = UnixListener::bind(dir.join("mnt-x.sock")).unwrap();
        std::fs::write(dir.join("mnt-y.sock"), "not a socket").unwrap();
        std::fs::write(dir.join("mnt-x.log"), "log").unwrap();
        assert_eq!(sockets_in(&dir), vec![dir.join("mnt-x.sock")]);
        assert!(sockets_in(&dir.join("missing")).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
