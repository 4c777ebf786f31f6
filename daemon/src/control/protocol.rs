//! The control protocol: the client connects, writes one request line, the daemon
//! answers one JSON object on one line and closes.
//!
//! A request line is a word, optionally followed by a space and arguments (for requests
//! to come: `reload`, `list …`), ending in `\n`, at most `MAX_REQUEST` bytes. Every reply
//! has `"ok"`: `true` with the request's members, or `false` with `"error"`, a sentence.
//! Every reply also carries `"protocol"`, so clients can tell what they talk to.

use super::json::Object;

/// The protocol's version, in every reply.
pub const PROTOCOL_VERSION: u64 = 1;

/// The longest request line, newline included.
pub const MAX_REQUEST: usize = 4096;

/// What a client may ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// The mount's numbers (see `stats`).
    Stats,
    /// Load the script again and switch to its handlers (`crate::reload`): `"notes"`,
    /// the choices fixed at mount the new table would change, or an error.
    Reload,
}

impl Request {
    /// The request line for this request, newline included.
    pub fn line(self) -> &'static str {
        match self {
            Request::Stats => "stats\n",
            Request::Reload => "reload\n",
        }
    }

    /// Read a request line (without its newline); the error is the reply's sentence.
    pub fn parse(line: &str) -> Result<Request, String> {
        let (word, args) = match line.split_once(' ') {
            Some((w, a)) => (w, a.trim()),
            None => (line, ""),
        };
        match word {
            "stats" if args.is_empty() => Ok(Request::Stats),
            "stats" => Err("stats takes no arguments".into()),
            "reload" if args.is_empty() => Ok(Request::Reload),
            "reload" => Err("reload takes no arguments".into()),
            "" => Err("empty request".into()),
            other => Err(format!(
                "unknown request {} (known: stats, reload)",
                super::json::escape(other)
            )),
        }
    }
}

/// A successful reply's start: `{"ok":true,"protocol":1,…`.
pub fn ok_reply() -> Object {
    Object::new()
        .boolean("ok", true)
        .number("protocol", PROTOCOL_VERSION)
}

/// A failed reply.
pub fn error_reply(message: &str) -> String {
    Object::new()
        .boolean("ok", false)
        .number("protocol", PROTOCOL_VERSION)
        .string("error", message)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(Request::parse("stats"), Ok(Request::Stats));
        assert_eq!(
            Request::parse(Request::Stats.line().trim_end()),
            Ok(Request::Stats)
        );
        assert!(Request::parse("stats now").is_err());
        assert_eq!(Request::parse("reload"), Ok(Request::Reload));
        assert_eq!(
            Request::parse(Request::Reload.line().trim_end()),
            Ok(Request::Reload)
        );
        assert!(Request::parse("reload now").is_err());
        assert!(Request::parse("").is_err());
        let unknown = Request::parse("rm -rf \"/\"").unwrap_err();
        assert!(unknown.contains(r#""rm""#), "{unknown}");
    }

    #[test]
    fn error_replies_are_json() {
        let r = super::super::json::parse(&error_reply("no \"such\" thing")).unwrap();
        assert_eq!(r.get("ok").and_then(|v| v.as_bool()), Some(false));
        assert_eq!(
            r.get("error").and_then(|v| v.as_str()),
            Some("no \"such\" thing")
        );
    }
}
