//! The results: rows of (check, expected, got, verdict), printed as a table with a
//! summary line, or as one JSON object with the same rows (written with the control
//! channel's JSON writer).

use std::fmt::Write as _;

use crate::control::json::Object;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    /// Failed, as the script's header says it does on purpose.
    ExpectedFail,
}

impl Verdict {
    pub const fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
            Verdict::ExpectedFail => "xfail",
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub check: String,
    pub expected: String,
    pub got: String,
    pub verdict: Verdict,
}

impl Row {
    pub fn new(check: &str, expected: &str, got: &str, verdict: Verdict) -> Row {
        Row {
            check: check.into(),
            expected: expected.into(),
            got: got.into(),
            verdict,
        }
    }
}

/// How many rows have `verdict`.
pub fn count(rows: &[Row], verdict: Verdict) -> usize {
    rows.iter().filter(|r| r.verdict == verdict).count()
}

/// The summary line: `31 passed, 2 failed, 5 skipped, 1 failed as expected`.
pub fn summary(rows: &[Row]) -> String {
    let mut text = format!(
        "{} passed, {} failed, {} skipped",
        count(rows, Verdict::Pass),
        count(rows, Verdict::Fail),
        count(rows, Verdict::Skip)
    );
    let x = count(rows, Verdict::ExpectedFail);
    if x > 0 {
        let _ = write!(text, ", {x} failed as expected");
    }
    text
}

/// The widest the `got` column grows before it wraps onto more lines.
const GOT_WIDTH: usize = 60;

/// `text` in lines of at most `width` characters, broken at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let cut: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(cut);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The table, then the summary line.
pub fn table(rows: &[Row]) -> String {
    let width = |f: fn(&Row) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).chars().count())
            .chain([title.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let cw = width(|r| &r.check, "check");
    let ew = width(|r| &r.expected, "expected");
    let gw = rows
        .iter()
        .map(|r| r.got.chars().count())
        .chain([3])
        .max()
        .unwrap_or(3)
        .min(GOT_WIDTH);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<cw$}  {:<ew$}  {:<gw$}  verdict",
        "check", "expected", "got"
    );
    for r in rows {
        let got = wrap(&r.got, gw);
        for (i, line) in got.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(
                    out,
                    "{:<cw$}  {:<ew$}  {:<gw$}  {}",
                    r.check,
                    r.expected,
                    line,
                    r.verdict.label()
                );
            } else {
                let _ = writeln!(out, "{:<cw$}  {:<ew$}  {line}", "", "");
            }
        }
    }
    let _ = writeln!(out, "\n{}", summary(rows));
    out
}

/// The JSON form: `{"ok":…,"script":…,"handlers":[…],"writable":…,"summary":{…},
/// "checks":[…]}`.
pub fn json(rows: &[Row], script: &str, handlers: &[String], writable: bool) -> String {
    let checks = rows
        .iter()
        .map(|r| {
            Object::new()
                .string("check", &r.check)
                .string("expected", &r.expected)
                .string("got", &r.got)
                .string("verdict", r.verdict.label())
        })
        .collect();
    Object::new()
        .boolean("ok", count(rows, Verdict::Fail) == 0)
        .string("script", script)
        .strings("handlers", handlers)
        .boolean("writable", writable)
        .object(
            "summary",
            Object::new()
                .number("pass", count(rows, Verdict::Pass) as u64)
                .number("fail", count(rows, Verdict::Fail) as u64)
                .number("skip", count(rows, Verdict::Skip) as u64)
                .number("xfail", count(rows, Verdict::ExpectedFail) as u64),
        )
        .objects("checks", checks)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::json::{parse, Value};

    fn rows() -> Vec<Row> {
        vec![
            Row::new("readdir", "each name once", "4 names in 1 directories", Verdict::Pass),
            Row::new(
                "read-offsets",
                "bytes at offsets",
                "/hello: read at offset 1: got the bytes of offset 0 and a very long tail of words that wraps",
                Verdict::Fail,
            ),
            Row::new("xattr", "xattrs", "no setxattr handler", Verdict::Skip),
            Row::new("statfs", "statfs", "EIO; expected", Verdict::ExpectedFail),
        ]
    }

    #[test]
    fn table_has_every_row_and_a_summary() {
        let t = table(&rows());
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("check ") && lines[0].ends_with("verdict"),
            "{t}"
        );
        assert!(
            lines[1].starts_with("readdir ") && lines[1].ends_with("pass"),
            "{t}"
        );
        assert!(
            lines[2].starts_with("read-offsets ") && lines[2].ends_with("FAIL"),
            "{t}"
        );
        assert!(
            lines[3].trim_start().starts_with("very long"),
            "continuation: {t}"
        );
        assert!(t.contains("skip") && t.contains("xfail"));
        assert!(
            t.ends_with("1 passed, 1 failed, 1 skipped, 1 failed as expected\n"),
            "{t}"
        );
    }

    #[test]
    fn json_has_the_same_rows() {
        let v = parse(&json(&rows(), "/s.lua", &["getattr".into()], false)).unwrap();
        assert_eq!(v.get("ok"), Some(&Value::Bool(false)));
        let checks = v.get("checks").unwrap().items();
        assert_eq!(checks.len(), 4);
        assert_eq!(
            checks[1].get("verdict").and_then(Value::as_str),
            Some("FAIL")
        );
        assert_eq!(
            checks[1].get("check").and_then(Value::as_str),
            Some("read-offsets")
        );
        let summary = v.get("summary").unwrap();
        assert_eq!(summary.get("xfail").and_then(Value::as_u64), Some(1));
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("a b c", 3), ["a b", "c"]);
        assert_eq!(wrap("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(wrap("", 3), [""]);
    }
}
