//! What a script's header tells `flu test`: the arguments to mount it with and the
//! checks it fails on purpose, and the commands that prepare what it serves. The header
//! is the script's leading comment block (a shebang line, `--` comments and blank
//! lines, up to the first line of code); three kinds of line in it count:
//!
//! ```lua
//! -- flu test setup: git -C {tmpdir} init -q
//! -- flu test: -- {tmpdir} 'statfs:.=EIO'
//! -- flu test expects failure: statfs (every statfs answers EIO, on purpose)
//! ```
//!
//! `flu test:` gives the script's arguments as on the command line after `--`: words
//! separated by blanks, `'…'` or `"…"` quoting a word with blanks in it. `setup:` (any
//! number, run in order) gives a command, in the same words, run before mounting.
//! The placeholders (`placeholders`) are filled in both. `expects failure:` names a
//! check, with the reason in parentheses.

use std::fmt;

const ARGS_PREFIX: &str = "flu test:";
const SETUP_PREFIX: &str = "flu test setup:";
const EXPECTS_PREFIX: &str = "flu test expects failure:";

/// A check the script fails on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedFailure {
    pub check: String,
    pub reason: String,
}

/// What the header says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// The script's arguments (placeholders not yet replaced), if the header gives them.
    pub args: Option<Vec<String>>,
    /// Commands to run before mounting, each a program and its arguments.
    pub setup: Vec<Vec<String>>,
    pub expected_failures: Vec<ExpectedFailure>,
}

/// A header line that cannot be read, with its line number (1-based).
#[derive(Debug, PartialEq, Eq)]
pub struct HeaderError {
    pub line: usize,
    pub what: String,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

/// Read the header of a script's text.
pub fn parse(text: &str) -> Result<Header, HeaderError> {
    let mut header = Header::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || (n == 1 && trimmed.starts_with("#!")) {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            break; // the first line of code ends the header
        };
        // A block comment (`--[[`) is still part of the header, but holds no directives.
        let comment = comment.trim();
        let err = |what: String| HeaderError { line: n, what };
        if let Some(rest) = comment.strip_prefix(EXPECTS_PREFIX) {
            header
                .expected_failures
                .push(expected_failure(rest).map_err(err)?);
        } else if let Some(rest) = comment.strip_prefix(SETUP_PREFIX) {
            let words = split_words(rest).map_err(err)?;
            if words.is_empty() {
                return Err(err("`flu test setup:` names no command".into()));
            }
            header.setup.push(words);
        } else if let Some(rest) = comment.strip_prefix(ARGS_PREFIX) {
            if header.args.is_some() {
                return Err(err(
                    "a second `flu test:` line (give the arguments once)".into()
                ));
            }
            let words = split_words(rest).map_err(err)?;
            match words.split_first() {
                Some((first, args)) if first == "--" => header.args = Some(args.to_vec()),
                _ => {
                    return Err(err(
                        "`flu test:` takes the script's arguments after `--`, as on the command line (`-- flu test: -- {tmpdir}`)".into(),
                    ))
                }
            }
        }
    }
    Ok(header)
}

/// `CHECK (reason)` or `CHECK`.
fn expected_failure(text: &str) -> Result<ExpectedFailure, String> {
    let text = text.trim();
    let (check, rest) = match text.find(|c: char| c.is_whitespace() || c == '(') {
        Some(i) => (&text[..i], text[i..].trim()),
        None => (text, ""),
    };
    if check.is_empty() {
        return Err("`flu test expects failure:` names no check".into());
    }
    let reason = match rest {
        "" => String::new(),
        r if r.starts_with('(') && r.ends_with(')') => r[1..r.len() - 1].trim().to_string(),
        r => {
            return Err(format!(
                "after the check name, give the reason in parentheses, not {r:?}"
            ))
        }
    };
    Ok(ExpectedFailure {
        check: check.to_string(),
        reason,
    })
}

/// Split a line into words: blanks separate, `'…'` and `"…"` quote (no escapes).
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.get_or_insert_with(String::new).push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            None if c.is_whitespace() => words.extend(word.take()),
            None => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("unclosed {q} quote"));
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_and_expected_failures() {
        let h = parse(
            "#!/usr/bin/env flu\n-- faultfs: a passthrough\n--\n-- flu test: -- {tmpdir} 'statfs:.=EIO' \"a b\"\n-- flu test expects failure: statfs (every statfs fails)\n-- flu test expects failure: read-size\n\nlocal flu = require 'flu'\n-- flu test expects failure: ignored (after the header)\n",
        )
        .unwrap();
        assert_eq!(
            h.args,
            Some(vec![
                "{tmpdir}".to_string(),
                "statfs:.=EIO".to_string(),
                "a b".to_string()
            ])
        );
        assert_eq!(
            h.expected_failures,
            vec![
                ExpectedFailure {
                    check: "statfs".into(),
                    reason: "every statfs fails".into()
                },
                ExpectedFailure {
                    check: "read-size".into(),
                    reason: String::new()
                },
            ]
        );
        assert!(h.setup.is_empty());
    }

    #[test]
    fn setup_commands_in_order() {
        let h = parse(
            "-- flu test setup: git -C {tmpdir} init -q\n-- flu test setup: git commit -m 'a b'\n-- flu test: -- {tmpdir}\n",
        )
        .unwrap();
        assert_eq!(
            h.setup,
            [
                vec!["git", "-C", "{tmpdir}", "init", "-q"],
                vec!["git", "commit", "-m", "a b"]
            ]
        );
        assert_eq!(h.args, Some(vec!["{tmpdir}".to_string()]));
        let e = parse("-- flu test setup:\n").unwrap_err();
        assert!(e.what.contains("names no command"), "{e}");
    }

    #[test]
    fn no_header_and_empty_args() {
        assert_eq!(parse("return {}\n").unwrap(), Header::default());
        let h = parse("-- flu test: --\nreturn {}").unwrap();
        assert_eq!(h.args, Some(vec![]));
        assert_eq!(split_words("a '' b").unwrap(), ["a", "", "b"]);
    }

    #[test]
    fn bad_lines_say_where() {
        let e = parse("-- x\n-- flu test: {tmpdir}\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.what.contains("after `--`"), "{e}");
        assert!(parse("-- flu test: -- 'open\n").is_err());
        assert!(parse("-- flu test: --\n-- flu test: -- x\n").is_err());
        assert!(parse("-- flu test expects failure:\n").is_err());
        assert!(parse("-- flu test expects failure: statfs because\n").is_err());
    }
}
