//! `flu stats DIR [--json]`: ask the daemon of the mount at DIR for its numbers over the
//! control channel; print them as a table, or the daemon's JSON as it is.

use std::fmt::Write as _;

use crate::cli::StatsArgs;
use crate::control::json::Value;
use crate::control::{query, Request, ANSWER_TIMEOUT};

pub fn stats_command(args: StatsArgs) -> Result<(), String> {
    let reply =
        query(&args.mountpoint, Request::Stats, ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", reply_json(&reply));
    } else {
        print!("{}", table(&reply));
    }
    Ok(())
}

/// The reply written back as JSON (it was parsed to check it; print the same members).
fn reply_json(v: &Value) -> String {
    use crate::control::json::escape;
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.clone(),
        Value::String(s) => escape(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(reply_json).collect();
            format!("[{}]", inner.join(","))
        }
        Value::Object(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{}", escape(k), reply_json(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
    }
}

/// The readable form: the mount's numbers, then the operations that were asked for.
fn table(v: &Value) -> String {
    let text = |key: &str| match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => reply_json(other),
    };
    let mut out = String::new();
    let rows = [
        ("mountpoint", text("mountpoint")),
        ("script", text("script")),
        ("pid", text("pid")),
        ("uptime", format!("{} s", text("uptime_s"))),
        ("nodes", text("nodes")),
        ("open files", text("open_files")),
        ("open directories", text("open_dirs")),
        ("requests in flight", text("requests_in_flight")),
        ("serving threads", text("serving_threads")),
        (
            "io_uring",
            match v.get("ring_threads").and_then(Value::as_u64) {
                Some(n) if n > 0 => format!("{n} threads, {} requests", text("ring_requests")),
                _ => "- (requests come over /dev/fuse)".into(),
            },
        ),
        (
            "Lua memory",
            match v.get("lua_memory_bytes").and_then(Value::as_u64) {
                Some(b) => format!("{b} bytes ({:.1} MiB)", b as f64 / (1 << 20) as f64),
                None => "- (no Lua serves this mount)".into(),
            },
        ),
        ("handler timeouts", text("handler_timeouts")),
        ("pending handlers", text("pending_handlers")),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "{label:<20}{value}");
    }
    let used: Vec<(&str, &Value)> = v
        .get("ops")
        .map(Value::members)
        .unwrap_or_default()
        .iter()
        .filter(|(_, c)| c.get("requests").and_then(Value::as_u64).unwrap_or(0) > 0)
        .map(|(name, c)| (name.as_str(), c))
        .collect();
    if used.is_empty() {
        let _ = writeln!(out, "\nno requests yet");
        return out;
    }
    let _ = writeln!(
        out,
        "\n{:<16}{:>10}{:>8}{:>10}{:>10}{:>10}",
        "operation", "requests", "errors", "p50", "p99", "max"
    );
    let number = |c: &Value, key: &str| c.get(key).and_then(Value::as_u64).unwrap_or(0);
    let latency = |c: &Value, key: &str| match c.get("latency_us").and_then(|l| l.get(key)) {
        Some(l) => l.as_u64().map_or_else(|| "-".into(), micros),
        None => "-".into(),
    };
    for (name, c) in &used {
        let _ = writeln!(
            out,
            "{name:<16}{:>10}{:>8}{:>10}{:>10}{:>10}",
            number(c, "requests"),
            number(c, "errors"),
            latency(c, "p50"),
            latency(c, "p99"),
            latency(c, "max"),
        );
    }
    let failing: Vec<String> = used
        .iter()
        .filter_map(|(name, c)| {
            let errnos = c.get("errnos")?.members();
            if errnos.is_empty() {
                return None;
            }
            let list: Vec<String> = errnos
                .iter()
                .map(|(errno, n)| format!("{errno} {}", n.as_u64().unwrap_or(0)))
                .collect();
            Some(format!("{name:<16}{}", list.join(", ")))
        })
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\nerrors by errno");
        for line in failing {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// A latency for people: µs, ms or s with one decimal where it helps.
fn micros(us: u64) -> String {
    match us {
        0..=999 => format!("{us} µs"),
        1_000..=999_999 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.1} s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::json::parse;

    #[test]
    fn table_shows_numbers_and_used_operations() {
        let v = parse(
            r#"{"ok":true,"protocol":1,"pid":7,"mountpoint":"/m","script":"/s.lua","uptime_s":3,"nodes":2,"open_files":1,"open_dirs":0,"requests_in_flight":0,"serving_threads":2,"lua_memory_bytes":null,"handler_timeouts":null,"ops":{"getattr":{"requests":5,"errors":1,"errnos":{"ENOENT":1},"latency_us":{"mean":20,"p50":12,"p99":1500,"max":2500000}},"read":{"requests":0,"errors":0,"errnos":{},"latency_us":{"mean":0,"p50":0,"p99":0,"max":0}}}}"#,
        )
        .unwrap();
        let t = table(&v);
        assert!(t.contains("mountpoint          /m\n"), "{t}");
        assert!(t.contains("nodes               2\n"), "{t}");
        assert!(t.contains("no Lua"), "{t}");
        assert!(t.contains("handler timeouts    -\n"), "{t}");
        assert!(
            t.contains("getattr                  5       1     12 µs    1.5 ms     2.5 s\n"),
            "{t}"
        );
        assert!(
            t.contains("errors by errno\ngetattr         ENOENT 1\n"),
            "{t}"
        );
        assert!(!t.contains("read "), "{t}");
        assert_eq!(parse(&reply_json(&v)).unwrap(), v);
    }

    #[test]
    fn a_mount_with_no_requests_says_so() {
        let v = parse(r#"{"ok":true,"ops":{"read":{"requests":0,"errors":0}}}"#).unwrap();
        assert!(table(&v).ends_with("\nno requests yet\n"), "{}", table(&v));
    }
}
