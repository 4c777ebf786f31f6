//! Escaping for log lines: a path or name may hold any byte but `/` and NUL, so a file
//! called "x\nERROR forged" must not become a second log line, and an ESC in a name must
//! not drive the terminal of whoever reads the log.
//!
//! One rule, used for every path, name and script message that reaches the log:
//! printable ASCII stays as it is, every other byte is written the way Rust's `{:?}`
//! writes bytes (`\n`, `\t`, `\r`, `\0`, `\x1b`, and invalid or non-ASCII UTF-8 byte by
//! byte as `\xNN`). A backslash becomes `\\`, so an escaped text reads back unambiguously.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Whether a byte is written as it is (printable ASCII, space included).
fn is_plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Write `b` escaped; a backslash too unless `keep_backslash` (see `sanitize_line`).
fn push_escaped(out: &mut String, b: u8, keep_backslash: bool) {
    match b {
        b'\\' if keep_backslash => out.push('\\'),
        b'\\' => out.push_str("\\\\"),
        b if is_plain(b) => out.push(b as char),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        b'\0' => out.push_str("\\0"),
        b => out.push_str(&format!("\\x{b:02x}")),
    }
}

/// `bytes` escaped for a log line.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        push_escaped(&mut out, b, false);
    }
    out
}

/// A text (a script's error message, say) escaped for a log line.
pub fn escape_str(text: &str) -> String {
    escape_bytes(text.as_bytes())
}

/// A path escaped for a log line.
pub fn escape_path(path: &Path) -> String {
    escape_os(path.as_os_str())
}

/// A name escaped for a log line.
pub fn escape_os(name: &OsStr) -> String {
    escape_bytes(name.as_bytes())
}

/// Display adapter: `format!("{}", Escaped(path))`, for log macros.
pub struct Escaped<'a>(pub &'a Path);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_path(self.0))
    }
}

/// The last line of defence, for a whole formatted log line (the log writer applies it
/// to every line, whoever wrote it): control characters and invalid UTF-8 are escaped
/// as above, while backslashes stay as they are (the paths in the line were escaped
/// already, and their `\n` must not become `\\n`), printable UTF-8 (the `µs` of a
/// latency) stays readable, and so does the final newline. `keep_esc` keeps ESC bytes,
/// for the colour codes of a log written to a terminal.
pub fn sanitize_line(line: &[u8], keep_esc: bool) -> Vec<u8> {
    let (body, newline) = match line.strip_suffix(b"\n") {
        Some(body) => (body, true),
        None => (line, false),
    };
    if body.iter().all(|&b| is_plain(b) || (keep_esc && b == 0x1b)) {
        return line.to_vec();
    }
    let mut out = String::with_capacity(body.len() + 8);
    for chunk in body.utf8_chunks() {
        for c in chunk.valid().chars() {
            if keep_esc && c == '\x1b' {
                out.push(c);
            } else if c.is_control() {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    push_escaped(&mut out, b, true);
                }
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_escaped(&mut out, b, true);
        }
    }
    if newline {
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_stays_everything_else_is_escaped() {
        assert_eq!(escape_bytes(b"/a b/c.txt"), "/a b/c.txt");
        assert_eq!(escape_bytes(b"x\ny\x1b[31m"), "x\\ny\\x1b[31m");
        assert_eq!(escape_bytes(b"\t\r\0\x7f"), "\\t\\r\\0\\x7f");
        assert_eq!(escape_bytes("é".as_bytes()), "\\xc3\\xa9");
        assert_eq!(escape_bytes(b"\xff"), "\\xff");
        assert_eq!(escape_bytes(b"a\\n"), "a\\\\n");
    }

    #[test]
    fn whole_lines_keep_backslashes_and_the_final_newline() {
        assert_eq!(sanitize_line(b"ok \\n\n", false), b"ok \\n\n");
        assert_eq!(sanitize_line(b"a\nb\n", false), b"a\\nb\n");
        assert_eq!(
            sanitize_line(b"\x1b[2mx\x1b[0m\n", true),
            b"\x1b[2mx\x1b[0m\n"
        );
        assert_eq!(sanitize_line(b"\x1b[2m\n", false), b"\\x1b[2m\n");
        // Printable UTF-8 stays; C1 controls and invalid bytes do not.
        assert_eq!(
            sanitize_line("in 7.3µs\n".as_bytes(), false),
            "in 7.3µs\n".as_bytes()
        );
        assert_eq!(sanitize_line("a\u{85}b".as_bytes(), false), b"a\\xc2\\x85b");
        assert_eq!(sanitize_line(b"x\xffy", false), b"x\\xffy");
    }
}
