//! The runnable examples of docs/fs.md (the ```lua blocks after a `<!-- runnable -->`
//! line), executed verbatim: `require 'fs'` works, and every `print(...)  --> text`
//! line must print that text (values separated by two spaces; `...` matches anything).

use super::env;

const DOC: &str = include_str!("../../../../docs/fs.md");

/// The runnable blocks, each with its first line number in the document.
fn runnable_blocks() -> Vec<(usize, String)> {
    let lines: Vec<&str> = DOC.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "<!-- runnable -->" {
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```lua"),
                "docs/fs.md:{}: a runnable marker must precede a ```lua block",
                i + 1
            );
            let start = i + 2;
            let len = lines[start..]
                .iter()
                .position(|l| l.trim() == "```")
                .expect("an unterminated code block in docs/fs.md");
            out.push((start + 1, lines[start..start + len].join("\n")));
            i = start + len;
        }
        i += 1;
    }
    out
}

/// `expected` with `...` as a wildcard.
fn matches(actual: &str, expected: &str) -> bool {
    let mut parts = expected.split("...");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (k, p) in parts.iter().enumerate() {
        if k + 1 == parts.len() {
            return p.is_empty() || rest.ends_with(p);
        }
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[test]
fn runnable_examples_of_docs_fs_md() {
    let blocks = runnable_blocks();
    assert!(blocks.len() >= 4, "docs/fs.md lost its runnable examples");
    for (line, code) in blocks {
        let e = env();
        e.run(
            r#"
            package.loaded.fs = fs
            OUT = {}
            function print(...)
                local t = table.pack(...)
                for i = 1, t.n do t[i] = tostring(t[i]) end
                OUT[#OUT + 1] = table.concat(t, '  ')
            end
            "#,
        );
        if let Err(err) = e
            .lua
            .load(&code)
            .set_name(format!("=docs/fs.md:{line}"))
            .exec()
        {
            panic!("the example at docs/fs.md:{line} failed:\n{err}");
        }
        let expected: Vec<&str> = code
            .lines()
            .filter(|l| l.trim_start().starts_with("print("))
            .filter_map(|l| l.split_once("-->").map(|(_, x)| x.trim()))
            .collect();
        let out: Vec<String> = e.lua.load("return OUT").eval().unwrap();
        assert_eq!(
            out.len(),
            expected.len(),
            "docs/fs.md:{line}: prints {out:?}"
        );
        for (a, x) in out.iter().zip(&expected) {
            assert!(
                matches(a, x),
                "docs/fs.md:{line}: printed {a:?}, the doc says {x:?}"
            );
        }
    }
}

#[test]
fn wildcard_matching() {
    assert!(matches(
        "false  map: read out of bounds (x)",
        "false  ...out of bounds..."
    ));
    assert!(matches("a  b", "a  b"));
    assert!(!matches("a  bc", "a  b"));
    assert!(!matches("x", "y..."));
}
