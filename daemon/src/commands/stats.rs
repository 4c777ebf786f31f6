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
            "Lua memory",
            match v.get("lua_memory_bytes").and_then(Value::as_u64) {
                Some(b) => format!("{b} bytes ({:.1} MiB)", b as f64 / (1 << 20) as f64),
                None => "- (no Lua serves this mount)".into(),
            },
        ),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "{label:<20}{value}");
    }
    let used: Vec<(&str, u64, u64)> = v
        .get("ops")
        .map(Value::members)
        .unwrap_or_default()
        .iter()
        .filter_map(|(name, c)| {
            let requests = c.get("requests")?.as_u64()?;
            let errors = c.get("errors")?.as_u64()?;
            (requests > 0).then_some((name.as_str(), requests, errors))
        })
        .collect();
    if used.is_empty() {
        let _ = writeln!(out, "\nno requests yet");
    } else {
        let _ = writeln!(
            out,
            "\n{:<20}{:>12}{:>10}",
            "operation", "requests", "errors"
        );
        for (name, requests, errors) in used {
            let _ = writeln!(out, "{name:<20}{requests:>12}{errors:>10}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::json::parse;

    #[test]
    fn table_shows_numbers_and_used_operations() {
        let v = parse(
            r#"{"ok":true,"protocol":1,"pid":7,"mountpoint":"/m","script":"/s.lua","uptime_s":3,"nodes":2,"open_files":1,"open_dirs":0,"requests_in_flight":0,"serving_threads":2,"lua_memory_bytes":null,"ops":{"getattr":{"requests":5,"errors":1},"read":{"requests":0,"errors":0}}}"#,
        )
        .unwrap();
        let t = table(&v);
        assert!(t.contains("mountpoint          /m\n"), "{t}");
        assert!(t.contains("nodes               2\n"), "{t}");
        assert!(t.contains("no Lua"), "{t}");
        assert!(
            t.contains("getattr                        5         1\n"),
            "{t}"
        );
        assert!(!t.contains("read "), "{t}");
        assert_eq!(parse(&reply_json(&v)).unwrap(), v);
    }
}
