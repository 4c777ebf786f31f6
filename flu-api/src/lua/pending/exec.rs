//! `flu.exec(argv[, opts])`: run a program (no shell) and collect what it printed.
//!
//! `argv` is a table of strings; the options (`stdin`, `cwd`, `env`, `timeout`,
//! `max_output`) come from `opts` or from named fields of `argv` itself
//! (`flu.exec{'git', 'log', cwd = repo}`). The result is `{status=, stdout=, stderr=}`
//! (`signal=` instead of `status` when a signal ended the program; `truncated = true`
//! when an output went past `max_output`); a program that cannot start, or runs past
//! its timeout (it is then killed), gives `nil, message`.
//!
//! The program runs in a process group of its own, so that giving up (a timeout, an
//! interrupted request, an unmount) kills what it started too.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::{failure, Job, Outcome, Work};

/// Bytes kept of each of stdout and stderr by default.
const DEFAULT_MAX_OUTPUT: usize = 16 << 20;

/// How long the output of a program that ended is still read (a process it started
/// in the background may hold the pipe open).
const DRAIN: Duration = Duration::from_secs(1);

struct Exec {
    argv: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    cwd: Option<PathBuf>,
    /// Variables to set (`Some`) or remove (`None`).
    env: Vec<(OsString, Option<OsString>)>,
    timeout: Option<Duration>,
    max_output: usize,
}

/// One output of the program, read on a thread of its own up to a limit (the rest is
/// read and dropped, so the program never blocks on a full pipe).
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

fn capture(
    mut from: impl Read + Send + 'static,
    max: usize,
) -> (Arc<Mutex<Captured>>, JoinHandle<()>) {
    let out = Arc::new(Mutex::new(Captured::default()));
    let into = out.clone();
    let reader = std::thread::spawn(move || {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match from.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let mut c = into.lock().unwrap_or_else(|p| p.into_inner());
                    let room = max.saturating_sub(c.bytes.len());
                    c.bytes.extend_from_slice(&chunk[..n.min(room)]);
                    c.truncated |= n > room;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    });
    (out, reader)
}

/// Kill the program and everything in its process group.
fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.kill();
}

impl Exec {
    fn program(&self) -> String {
        let words: Vec<String> = self
            .argv
            .iter()
            .map(|a| crate::log_escape::escape_str(&a.to_string_lossy()))
            .collect();
        words.join(" ")
    }
}

impl Job for Exec {
    fn describe(&self) -> String {
        format!("flu.exec({})", self.program())
    }

    fn run(self: Box<Self>, cancelled: &dyn Fn() -> bool) -> Outcome {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        for (name, value) in &self.env {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return failure(format!("cannot run {}: {e}", self.program())),
        };
        if let (Some(data), Some(mut pipe)) = (self.stdin.clone(), child.stdin.take()) {
            // A program that does not read its input must not block the wait.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let (stdout, out_reader) = match child.stdout.take() {
            Some(p) => capture(p, self.max_output),
            None => capture(std::io::empty(), 0),
        };
        let (stderr, err_reader) = match child.stderr.take() {
            Some(p) => capture(p, self.max_output),
            None => capture(std::io::empty(), 0),
        };
        let started = Instant::now();
        let mut tick = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => {
                    kill_group(&mut child);
                    return failure(format!("cannot wait for {}: {e}", self.program()));
                }
            }
            if cancelled() {
                kill_group(&mut child);
                let _ = child.wait();
                return failure(format!("{} was cancelled (killed)", self.program()));
            }
            if self.timeout.is_some_and(|t| started.elapsed() >= t) {
                kill_group(&mut child);
                let _ = child.wait();
                return failure(format!(
                    "{} timed out after {} s (killed)",
                    self.program(),
                    self.timeout.map_or(0.0, |t| t.as_secs_f64())
                ));
            }
            std::thread::sleep(tick);
            tick = (tick * 2).min(Duration::from_millis(10));
        };
        let drained = Instant::now() + DRAIN;
        for reader in [out_reader, err_reader] {
            while !reader.is_finished() && Instant::now() < drained {
                std::thread::sleep(Duration::from_millis(2));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
        let take = |c: &Arc<Mutex<Captured>>| {
            std::mem::take(&mut *c.lock().unwrap_or_else(|p| p.into_inner()))
        };
        let (out, err) = (take(&stdout), take(&stderr));
        Box::new(move |lua| {
            let t = lua.create_table()?;
            match (status.code(), status.signal()) {
                (Some(code), _) => t.set("status", code)?,
                (None, Some(signal)) => t.set("signal", signal)?,
                (None, None) => {}
            }
            t.set("stdout", lua.create_string(&out.bytes)?)?;
            t.set("stderr", lua.create_string(&err.bytes)?)?;
            if out.truncated || err.truncated {
                t.set("truncated", true)?;
            }
            Ok(MultiValue::from_iter([Value::Table(t)]))
        })
    }
}

fn bytes_of(v: &Value, what: &str) -> mlua::Result<Vec<u8>> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Integer(_) | Value::Number(_) => Ok(v.to_string()?.into_bytes()),
        other => Err(mlua::Error::runtime(format!(
            "flu.exec: {what} must be a string, got {}",
            other.type_name()
        ))),
    }
}

/// An option from `opts`, or else from the named fields of `argv`.
fn option(argv: &Table, opts: &Option<Table>, name: &str) -> mlua::Result<Value> {
    if let Some(o) = opts {
        let v: Value = o.get(name)?;
        if !v.is_nil() {
            return Ok(v);
        }
    }
    argv.get(name)
}

fn parse(argv: Table, opts: Option<Table>) -> mlua::Result<Exec> {
    let words: Vec<Vec<u8>> = argv
        .sequence_values::<Value>()
        .enumerate()
        .map(|(i, v)| bytes_of(&v?, &format!("argv[{}]", i + 1)))
        .collect::<mlua::Result<_>>()?;
    if words.is_empty() {
        return Err(mlua::Error::runtime(
            "flu.exec: argv is empty (give the program and its arguments: {'git', 'log'})",
        ));
    }
    let stdin = match option(&argv, &opts, "stdin")? {
        Value::Nil => None,
        v => Some(bytes_of(&v, "stdin")?),
    };
    let cwd = match option(&argv, &opts, "cwd")? {
        Value::Nil => None,
        v => Some(PathBuf::from(OsString::from_vec(bytes_of(&v, "cwd")?))),
    };
    let mut env = Vec::new();
    match option(&argv, &opts, "env")? {
        Value::Nil => {}
        Value::Table(t) => {
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let name = OsString::from_vec(bytes_of(&k, "an env name")?);
                let value = match v {
                    Value::Boolean(false) => None,
                    v => Some(OsString::from_vec(bytes_of(&v, "an env value")?)),
                };
                env.push((name, value));
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "flu.exec: env must be a table of name = value, got {}",
                other.type_name()
            )))
        }
    }
    let seconds = |name: &str, v: Value| -> mlua::Result<Option<f64>> {
        match v {
            Value::Nil => Ok(None),
            Value::Integer(n) => Ok(Some(n as f64)),
            Value::Number(n) => Ok(Some(n)),
            other => Err(mlua::Error::runtime(format!(
                "flu.exec: {name} must be a number, got {}",
                other.type_name()
            ))),
        }
    };
    let timeout = seconds("timeout", option(&argv, &opts, "timeout")?)?
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_secs_f64(t.min(1e9)));
    let max_output = seconds("max_output", option(&argv, &opts, "max_output")?)?
        .map_or(DEFAULT_MAX_OUTPUT, |n| {
            n.clamp(0.0, usize::MAX as f64) as usize
        });
    Ok(Exec {
        argv: words.into_iter().map(OsString::from_vec).collect(),
        stdin,
        cwd,
        env,
        timeout,
        max_output,
    })
}

/// `make(argv[, opts])`: the Work of running a program.
pub fn constructor(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, (argv, opts): (Value, Option<Table>)| {
        let Value::Table(argv) = argv else {
            return Err(mlua::Error::runtime(format!(
                "bad argument #1 to 'exec' (table of strings expected, got {}): flu.exec runs a program without a shell, e.g. flu.exec{{'ls', '-l'}}",
                argv.type_name()
            )));
        };
        let job = parse(argv, opts)?;
        Ok(Value::UserData(lua.create_userdata(Work::new(job))?))
    })
}
