//! `flu.http.request{url=, method=, headers=, body=, timeout=, max_body=}` →
//! `{status=, headers=, body=}`, or `nil, message` when no answer came (no connection,
//! a bad URL, the timeout). Any HTTP status is an answer: a 404 is `{status = 404, …}`.
//! `flu.http.get(url[, opts])` is the shorthand. HTTP/1.1 and HTTPS (rustls, with
//! the Mozilla roots built in), through `ureq`.
//!
//! The request runs on a thread of its own: the waiting handler gives up at once when
//! its request is interrupted (the connection is dropped when the thread ends, at the
//! latest at the timeout).

use std::sync::mpsc;
use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::{failure, Job, Outcome, Work};

/// The timeout of a request that sets none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest body kept by default.
const DEFAULT_MAX_BODY: u64 = 64 << 20;

/// How often a waiting handler looks whether it should give up.
const TICK: Duration = Duration::from_millis(10);

struct HttpRequest {
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
    timeout: Duration,
    max_body: u64,
}

/// An answer: status, headers (names in lower case), body.
struct Answer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl HttpRequest {
    fn send(self) -> Result<Answer, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(self.url.as_str());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        let request = builder
            .body(self.body.unwrap_or_default())
            .map_err(|e| format!("bad request: {e}"))?;
        let mut response = agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.as_bytes().to_vec()))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| format!("reading the body: {e}"))?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

impl Job for HttpRequest {
    fn describe(&self) -> String {
        format!(
            "flu.http {} {}",
            self.method,
            crate::log_escape::escape_str(&self.url)
        )
    }

    fn run(self: Box<Self>, cancelled: &dyn Fn() -> bool) -> Outcome {
        let what = format!("{} {}", self.method, self.url);
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("flu-http".into())
            .spawn(move || {
                let _ = tx.send(self.send());
            });
        if let Err(e) = spawned {
            return failure(format!("{what}: cannot start the request: {e}"));
        }
        let answer = loop {
            match rx.recv_timeout(TICK) {
                Ok(answer) => break answer,
                Err(mpsc::RecvTimeoutError::Timeout) if cancelled() => {
                    return failure(format!("{what}: cancelled"));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Err("the request thread ended without an answer".into())
                }
            }
        };
        match answer {
            Err(e) => failure(format!("{what}: {e}")),
            Ok(a) => Box::new(move |lua| {
                let t = lua.create_table()?;
                t.set("status", a.status)?;
                let headers = lua.create_table()?;
                for (name, value) in a.headers {
                    // A repeated header: its values joined, as HTTP allows.
                    let joined = match headers.get::<Option<mlua::LuaString>>(name.as_str())? {
                        Some(prev) => [&prev.as_bytes()[..], b", ", &value].concat(),
                        None => value,
                    };
                    headers.set(name, lua.create_string(&joined)?)?;
                }
                t.set("headers", headers)?;
                t.set("body", lua.create_string(&a.body)?)?;
                Ok(MultiValue::from_iter([Value::Table(t)]))
            }),
        }
    }
}

fn text(v: Value, what: &str) -> mlua::Result<Option<Vec<u8>>> {
    match v {
        Value::Nil => Ok(None),
        Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
        Value::Integer(_) | Value::Number(_) => Ok(Some(v.to_string()?.into_bytes())),
        other => Err(mlua::Error::runtime(format!(
            "flu.http.request: {what} must be a string, got {}",
            other.type_name()
        ))),
    }
}

fn number(v: Value, what: &str) -> mlua::Result<Option<f64>> {
    match v {
        Value::Nil => Ok(None),
        Value::Integer(n) => Ok(Some(n as f64)),
        Value::Number(n) => Ok(Some(n)),
        other => Err(mlua::Error::runtime(format!(
            "flu.http.request: {what} must be a number, got {}",
            other.type_name()
        ))),
    }
}

fn parse(t: Table) -> mlua::Result<HttpRequest> {
    let url = text(t.get("url")?, "url")?.ok_or_else(|| {
        mlua::Error::runtime("flu.http.request: no url (flu.http.request{url = 'http://…'})")
    })?;
    let url = String::from_utf8(url)
        .map_err(|_| mlua::Error::runtime("flu.http.request: the url is not UTF-8"))?;
    let method = match text(t.get("method")?, "method")? {
        Some(m) => String::from_utf8_lossy(&m).to_ascii_uppercase(),
        None => "GET".into(),
    };
    let mut headers = Vec::new();
    match t.get::<Value>("headers")? {
        Value::Nil => {}
        Value::Table(h) => {
            for pair in h.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let name = text(k, "a header name")?.unwrap_or_default();
                let value = text(v, "a header value")?.unwrap_or_default();
                headers.push((String::from_utf8_lossy(&name).into_owned(), value));
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "flu.http.request: headers must be a table of name = value, got {}",
                other.type_name()
            )))
        }
    }
    let timeout = number(t.get("timeout")?, "timeout")?
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_TIMEOUT, |s| Duration::from_secs_f64(s.min(1e9)));
    let max_body = number(t.get("max_body")?, "max_body")?
        .map_or(DEFAULT_MAX_BODY, |n| n.clamp(0.0, u64::MAX as f64) as u64);
    Ok(HttpRequest {
        method,
        url,
        headers,
        body: text(t.get("body")?, "body")?,
        timeout,
        max_body,
    })
}

/// `make{url=, …}`: the Work of one HTTP request.
pub fn constructor(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, t: Value| {
        let Value::Table(t) = t else {
            return Err(mlua::Error::runtime(format!(
                "bad argument #1 to 'request' (table expected, got {}): flu.http.request{{url = 'http://…'}}",
                t.type_name()
            )));
        };
        let job = parse(t)?;
        Ok(Value::UserData(lua.create_userdata(Work::new(job))?))
    })
}
