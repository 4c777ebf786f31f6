//! Just enough JSON for the control channel, by hand (no serde: the build stays light).
//! The daemon writes replies with `Object`; `flu stats` (and the tests) read them back
//! with `parse`. Strings are escaped by `escape`, the one place that knows JSON's rules.

use std::fmt::Write as _;

/// `s` as a JSON string literal, quotes included: `"` and `\` are backslashed, control
/// characters written as `\n`, `\t`, … or `\u00XX`; everything else is kept (JSON text
/// is UTF-8).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object being written, members in the order given.
#[derive(Debug, Default)]
pub struct Object {
    text: String,
}

impl Object {
    pub fn new() -> Object {
        Object::default()
    }

    fn key(&mut self, key: &str) -> &mut String {
        self.text.push(if self.text.is_empty() { '{' } else { ',' });
        self.text.push_str(&escape(key));
        self.text.push(':');
        &mut self.text
    }

    pub fn string(mut self, key: &str, value: &str) -> Object {
        let v = escape(value);
        self.key(key).push_str(&v);
        self
    }

    pub fn number(mut self, key: &str, value: u64) -> Object {
        let _ = write!(self.key(key), "{value}");
        self
    }

    /// A number, or `null` for `None`.
    pub fn maybe_number(mut self, key: &str, value: Option<u64>) -> Object {
        match value {
            Some(v) => {
                let _ = write!(self.key(key), "{v}");
            }
            None => self.key(key).push_str("null"),
        }
        self
    }

    pub fn boolean(mut self, key: &str, value: bool) -> Object {
        self.key(key).push_str(if value { "true" } else { "false" });
        self
    }

    /// An array of strings.
    pub fn strings(mut self, key: &str, values: &[String]) -> Object {
        let items: Vec<String> = values.iter().map(|v| escape(v)).collect();
        let text = format!("[{}]", items.join(","));
        self.key(key).push_str(&text);
        self
    }

    /// An array of objects.
    pub fn objects(mut self, key: &str, values: Vec<Object>) -> Object {
        let text = array(values);
        self.key(key).push_str(&text);
        self
    }

    pub fn object(mut self, key: &str, value: Object) -> Object {
        let v = value.finish();
        self.key(key).push_str(&v);
        self
    }

    /// The object's text.
    pub fn finish(mut self) -> String {
        if self.text.is_empty() {
            self.text.push('{');
        }
        self.text.push('}');
        self.text
    }
}

/// A JSON array of `values`.
pub fn array(values: Vec<Object>) -> String {
    let items: Vec<String> = values.into_iter().map(Object::finish).collect();
    format!("[{}]", items.join(","))
}

/// A parsed JSON value. Numbers keep their text (the daemon writes integers; `as_u64`
/// reads them exactly).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Members in the order written.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of an array (none for anything else).
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    pub fn members(&self) -> &[(String, Value)] {
        match self {
            Value::Object(members) => members,
            _ => &[],
        }
    }
}

/// What is wrong with a JSON text, and where (a byte offset).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid JSON at byte {at}: {what}")]
pub struct ParseError {
    pub at: usize,
    pub what: &'static str,
}

/// Parse one JSON value (surrounding whitespace allowed, nothing else).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

/// Nesting deeper than this is refused (a reply is never deep; recursion stays bounded).
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> ParseError {
        ParseError { at: self.i, what }
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &str) -> Result<(), ParseError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.eat("null").map(|_| Value::Null),
            Some(b't') => self.eat("true").map(|_| Value::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') | Some(b'{') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.err("nested too deeply"));
                }
                let v = if self.s[self.i] == b'[' {
                    self.array()
                } else {
                    self.object()
                };
                self.depth -= 1;
                v
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        while matches!(
            self.s.get(self.i),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("number"))?;
        if text.parse::<f64>().is_err() {
            return Err(ParseError {
                at: start,
                what: "malformed number",
            });
        }
        Ok(Value::Number(text.to_string()))
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("expected , or ]")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a member name"));
            }
            let key = self.string()?;
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("expected :"));
            }
            self.i += 1;
            members.push((key, self.value()?));
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.err("expected , or }")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(digits)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while !matches!(self.s.get(self.i), None | Some(b'"' | b'\\' | 0..=0x1f)) {
                self.i += 1;
            }
            // The input is a &str, and the run stops only at ASCII bytes: valid UTF-8.
            out.push_str(
                std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("utf-8"))?,
            );
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self
                        .s
                        .get(self.i)
                        .ok_or_else(|| self.err("unexpected end"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xd800..0xdc00).contains(&code) {
                                // A surrogate pair: the low half must follow.
                                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("lone surrogate"));
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&low) {
                                    return Err(self.err("lone surrogate"));
                                }
                                code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                            }
                            out.push(
                                char::from_u32(code).ok_or_else(|| self.err("bad \\u escape"))?,
                            );
                        }
                        _ => return Err(self.err("unknown escape")),
                    }
                }
                None => return Err(self.err("unterminated string")),
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("plain"), r#""plain""#);
        assert_eq!(escape(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(escape("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(
            escape("\u{1}\u{1f}\u{7f}\u{8}\u{c}"),
            r#""\u0001\u001f\u007f\b\f""#
        );
        assert_eq!(escape("/mnt/é ☃"), "\"/mnt/é ☃\"");
        assert_eq!(escape(""), r#""""#);
    }

    #[test]
    fn escaped_strings_parse_back_to_themselves() {
        for s in [
            "",
            "a\"b\\c/d",
            "\n\r\t\u{0}\u{1f}\u{7f}",
            "é ☃ 𝄞",
            "}{][,:",
        ] {
            assert_eq!(parse(&escape(s)), Ok(Value::String(s.to_string())), "{s:?}");
        }
    }

    #[test]
    fn objects_written_and_read() {
        let inner = Object::new().number("requests", 3).number("errors", 0);
        let text = Object::new()
            .boolean("ok", true)
            .string("mountpoint", "/mnt/a \"b\"")
            .number("pid", 42)
            .maybe_number("lua_memory_bytes", None)
            .object("ops", Object::new().object("read", inner))
            .finish();
        assert_eq!(
            text,
            r#"{"ok":true,"mountpoint":"/mnt/a \"b\"","pid":42,"lua_memory_bytes":null,"ops":{"read":{"requests":3,"errors":0}}}"#
        );
        let v = parse(&text).unwrap();
        assert_eq!(v.get("ok").and_then(Value::as_bool), Some(true));
        assert_eq!(
            v.get("mountpoint").and_then(Value::as_str),
            Some("/mnt/a \"b\"")
        );
        assert_eq!(v.get("pid").and_then(Value::as_u64), Some(42));
        assert_eq!(v.get("lua_memory_bytes"), Some(&Value::Null));
        let read = v.get("ops").and_then(|o| o.get("read")).unwrap();
        assert_eq!(read.get("requests").and_then(Value::as_u64), Some(3));
        assert_eq!(Object::new().finish(), "{}");
    }

    #[test]
    fn arrays_of_objects_and_items() {
        let text = Object::new()
            .objects(
                "rows",
                vec![Object::new().number("a", 1), Object::new().string("b", "x")],
            )
            .objects("none", vec![])
            .finish();
        assert_eq!(text, r#"{"rows":[{"a":1},{"b":"x"}],"none":[]}"#);
        let v = parse(&text).unwrap();
        let rows = v.get("rows").unwrap().items();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].get("b").and_then(Value::as_str), Some("x"));
        assert!(v.get("none").unwrap().items().is_empty());
        assert!(Value::Null.items().is_empty());
    }

    #[test]
    fn parsing_other_json() {
        assert_eq!(
            parse(" [1, -2.5e3, \"\\u00e9\\ud834\\udd1e\", [], {}] "),
            Ok(Value::Array(vec![
                Value::Number("1".into()),
                Value::Number("-2.5e3".into()),
                Value::String("é𝄞".into()),
                Value::Array(vec![]),
                Value::Object(vec![]),
            ]))
        );
    }

    #[test]
    fn malformed_json_is_an_error() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "{\"a\":1,}",
            "[1 2]",
            "\"abc",
            "\"\\x\"",
            "tru",
            "1 2",
            "\"\\ud834\"",
            "\"a\nb\"",
            "--1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep).is_err());
    }
}
