//! What `flu check` reports: findings with a severity, a message and, where known, the
//! file and line they are about.

use std::fmt;
use std::path::{Path, PathBuf};

use mlua::Function;

/// How bad a finding is: an error makes `flu check` fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A place in a Lua file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u32>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

impl Location {
    /// Where Lua function `f` is defined (None for a function that is not Lua code, such
    /// as a native passthrough handler).
    pub(super) fn of_function(f: &Function) -> Option<Location> {
        let info = f.info();
        let file = info.source?.strip_prefix('@')?.to_string();
        Some(Location {
            file,
            line: info.line_defined.and_then(|l| u32::try_from(l).ok()),
        })
    }
}

/// One thing `flu check` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
}

impl Finding {
    pub fn error(message: impl Into<String>, location: Option<Location>) -> Finding {
        Finding {
            severity: Severity::Error,
            message: message.into(),
            location,
        }
    }

    pub fn warning(message: impl Into<String>, location: Option<Location>) -> Finding {
        Finding {
            severity: Severity::Warning,
            message: message.into(),
            location,
        }
    }

    /// A finding from a Lua message that may start with its `file:line:` (as errors
    /// raised by Lua code and syntax errors do): the position becomes the location.
    pub fn from_message(severity: Severity, text: &str) -> Finding {
        let (location, message) = split_position(text);
        Finding {
            severity,
            message: message.to_string(),
            location,
        }
    }
}

/// `file:line: rest` → the location and the rest; a text without one is all message.
/// Lua puts the position first, so only the text before the first `: ` is looked at (a
/// `12:30: ` later in a message is no position).
pub(super) fn split_position(text: &str) -> (Option<Location>, &str) {
    let Some((head, rest)) = text.split_once(": ") else {
        return (None, text);
    };
    match head.rsplit_once(':') {
        Some((file, line))
            if !file.is_empty()
                && !file.contains('\n')
                && !line.is_empty()
                && line.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let location = Location {
                file: file.to_string(),
                line: line.parse().ok(),
            };
            (Some(location), rest)
        }
        _ => (None, text),
    }
}

/// The findings about one script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// The script checked (absolute).
    pub script: PathBuf,
    pub findings: Vec<Finding>,
    /// The handlers the table defines (also through `__index` tables).
    pub handlers: usize,
    /// The entries `readdir('/')` listed, when it was called and answered.
    pub root_entries: Option<usize>,
}

impl CheckReport {
    pub fn new(script: &Path) -> CheckReport {
        CheckReport {
            script: script.to_path_buf(),
            findings: Vec::new(),
            handlers: 0,
            root_entries: None,
        }
    }

    /// Add a finding, once: the same finding about many entries is said once.
    pub fn push(&mut self, finding: Finding) {
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_split_off_messages() {
        let (loc, msg) = split_position("x/fs.lua:12: attempt to index a nil value");
        assert_eq!(
            loc,
            Some(Location {
                file: "x/fs.lua".into(),
                line: Some(12)
            })
        );
        assert_eq!(msg, "attempt to index a nil value");
        let (loc, msg) = split_position("usage: flu mount x.lua DIR -- ROOT");
        assert_eq!((loc, msg), (None, "usage: flu mount x.lua DIR -- ROOT"));
        let (loc, _) = split_position("bad: thing\nfs.lua:3: later");
        assert_eq!(loc, None);
        let (loc, msg) = split_position("bad result: x.lua:3: y");
        assert_eq!((loc, msg), (None, "bad result: x.lua:3: y"));
    }
}
