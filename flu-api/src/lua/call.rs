//! Calling a Lua handler safely: every call goes through `xpcall` with a message handler
//! that keeps errno values intact and captures a traceback for anything else, so a
//! script bug becomes a logged EIO and never unwinds into the daemon.

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use super::errno::{errno_of_report, errno_of_value};
use crate::errno::Errno;

/// How a handler call failed.
#[derive(Debug)]
pub enum HandlerError {
    /// The handler reported an errno (raised `flu.errno.X`, or returned `nil, err`).
    Errno(Errno),
    /// A bug in the script: a runtime error, with its traceback.
    Script { message: String, traceback: String },
    /// The handler returned something of the wrong type.
    BadResult(String),
    /// The call needed more memory than `--lua-memory-limit` allows.
    OutOfMemory,
}

impl HandlerError {
    /// The errno the caller gets.
    pub fn errno(&self) -> Errno {
        match self {
            HandlerError::Errno(e) => *e,
            HandlerError::OutOfMemory => Errno::ENOMEM,
            HandlerError::Script { .. } | HandlerError::BadResult(_) => Errno::EIO,
        }
    }
}

impl From<mlua::Error> for HandlerError {
    fn from(e: mlua::Error) -> HandlerError {
        if is_memory_error(&e) {
            return HandlerError::OutOfMemory;
        }
        HandlerError::Script {
            message: e.to_string(),
            traceback: String::new(),
        }
    }
}

/// Whether `e` is Lua running out of memory (the limit was reached), possibly wrapped by
/// a Rust callback that allocated.
fn is_memory_error(e: &mlua::Error) -> bool {
    match e {
        mlua::Error::MemoryError(_) => true,
        mlua::Error::CallbackError { cause, .. } => is_memory_error(cause),
        _ => false,
    }
}

/// What Lua raises when an allocation fails. The message handler never sees a memory
/// error (Lua skips it for LUA_ERRMEM), so `xpcall` returns this plain string, which no
/// other error can produce: every error the handler sees comes back as a number, an
/// errno or a table.
const LUA_MEMORY_MESSAGE: &str = "not enough memory";

/// `xpcall` and the message handler, kept as app data of the Lua state so that a script
/// that replaces the globals cannot break error handling, and so that each call finds
/// them without a registry lookup.
struct Protection {
    xpcall: Function,
    handler: Function,
}

/// Remember `xpcall` and the message handler, so a script that replaces the globals
/// cannot break error handling.
pub fn install(lua: &Lua, is_errno: Function) -> mlua::Result<()> {
    let xpcall: Function = lua.globals().get("xpcall")?;
    let handler: Function = lua
        .load(
            r#"
            local is_errno, traceback, tostring, type = ...
            return function(e)
              if type(e) == 'number' or is_errno(e) then return e end
              local ok, msg = pcall(tostring, e)
              return { __flu_script_error = true, message = ok and msg or '?', traceback = traceback('', 2) }
            end
            "#,
        )
        .set_name("=flu")
        .call((
            is_errno,
            lua.globals().get::<Table>("debug")?.get::<Function>("traceback")?,
            lua.globals().get::<Function>("tostring")?,
            lua.globals().get::<Function>("type")?,
        ))?;
    lua.set_app_data(Protection { xpcall, handler });
    Ok(())
}

/// Call `f(args…)` protected; returns the handler's results. Under a mounted
/// filesystem's interpreter the call runs in a driver coroutine, so that the yielding
/// functions (`flu.sleep`, `flu.exec`, …) give the Lua lock up while they wait
/// (`super::pending`); elsewhere it is a plain protected call.
pub fn call_protected(
    lua: &Lua,
    f: &Function,
    args: impl IntoLuaMulti,
) -> Result<MultiValue, HandlerError> {
    match super::interpreter::Gate::of(lua) {
        Some(gate) => super::pending::call_yielding(lua, &gate, f, args),
        None => call_unyielding(lua, f, args),
    }
}

/// `call_protected` that never gives the Lua lock up: for what must run start to end
/// under it (a reload's `reload` hook, while the handler tables are switched).
pub fn call_unyielding(
    lua: &Lua,
    f: &Function,
    args: impl IntoLuaMulti,
) -> Result<MultiValue, HandlerError> {
    let results: MultiValue = xpcall(lua)?.call(xpcall_args(lua, f, args)?)?;
    xpcall_results(results)
}

/// The arguments of `xpcall(f, message handler, args…)`, pushed onto the stack as they
/// are (mlua takes a tuple's last member as the rest of the arguments).
pub(super) fn xpcall_args<A: IntoLuaMulti>(
    lua: &Lua,
    f: &Function,
    args: A,
) -> mlua::Result<(Function, Function, A)> {
    let handler = protection(lua, |p| p.handler.clone())?;
    Ok((f.clone(), handler, args))
}

/// `xpcall` itself (a driver coroutine's body).
pub(super) fn xpcall(lua: &Lua) -> mlua::Result<Function> {
    protection(lua, |p| p.xpcall.clone())
}

fn protection(lua: &Lua, with: impl FnOnce(&Protection) -> Function) -> mlua::Result<Function> {
    lua.app_data_ref::<Protection>()
        .map(|p| with(&p))
        .ok_or_else(|| mlua::Error::runtime("flu: the protected call was not installed"))
}

/// What `xpcall` returned, as the handler's results or its error.
pub(super) fn xpcall_results(mut results: MultiValue) -> Result<MultiValue, HandlerError> {
    let ok = matches!(results.pop_front(), Some(Value::Boolean(true)));
    if ok {
        return Ok(results);
    }
    let err = results.pop_front().unwrap_or(Value::Nil);
    Err(classify_raised(&err))
}

fn classify_raised(err: &Value) -> HandlerError {
    if let Some(e) = errno_of_value(err) {
        return HandlerError::Errno(e);
    }
    match err {
        Value::Integer(_) | Value::Number(_) => match errno_of_report(err, &Value::Nil) {
            Some(e) => HandlerError::Errno(e),
            None => HandlerError::Script {
                message: format!("raised a number that is not an errno: {err:?}"),
                traceback: String::new(),
            },
        },
        Value::Table(t) => {
            // Errors raised from Rust (the watchdog) print with mlua's prefix.
            let message = t
                .get::<String>("message")
                .map(|m| m.trim_start_matches("runtime error: ").to_string())
                .unwrap_or_else(|_| "error object".into());
            if message.contains(super::memory::OVER_LIMIT) {
                return HandlerError::OutOfMemory;
            }
            HandlerError::Script {
                message,
                traceback: t.get::<String>("traceback").unwrap_or_default(),
            }
        }
        Value::String(s) if s.as_bytes().as_ref() == LUA_MEMORY_MESSAGE.as_bytes() => {
            HandlerError::OutOfMemory
        }
        Value::Error(e) if is_memory_error(e) => HandlerError::OutOfMemory,
        other => HandlerError::Script {
            message: other.to_string().unwrap_or_default(),
            traceback: String::new(),
        },
    }
}

/// A `nil, err[, code]` return is an error report; anything else is a result.
pub fn check_report(results: &MultiValue) -> Result<(), HandlerError> {
    let first = results.front().unwrap_or(&Value::Nil);
    if !first.is_nil() || results.len() < 2 {
        return Ok(());
    }
    let err = results.get(1).unwrap_or(&Value::Nil);
    let code = results.get(2).unwrap_or(&Value::Nil);
    // `return nil, maybe_err` with no error is a plain nil.
    if err.is_nil() && code.is_nil() {
        return Ok(());
    }
    match errno_of_report(err, code) {
        Some(e) => Err(HandlerError::Errno(e)),
        None => Err(HandlerError::BadResult(format!(
            "returned nil with error '{}', which is not an errno (use flu.errno.X, an errno name, or a number)",
            err.to_string().unwrap_or_default()
        ))),
    }
}

/// The first result of a handler that returns nothing meaningful: success unless it is an
/// error report, or a negative number (C style `return -ENOENT`).
pub fn expect_unit(results: MultiValue) -> Result<(), HandlerError> {
    check_report(&results)?;
    match results.front() {
        Some(Value::Integer(n)) if *n < 0 => Err(HandlerError::Errno(
            Errno::from_number(*n).unwrap_or(Errno::EIO),
        )),
        _ => Ok(()),
    }
}

/// The first result, after error reports are handled.
pub fn first(results: MultiValue) -> Result<Value, HandlerError> {
    check_report(&results)?;
    let v = results.into_iter().next().unwrap_or(Value::Nil);
    match v {
        Value::Integer(n) if n < 0 => Err(HandlerError::Errno(
            Errno::from_number(n).unwrap_or(Errno::EIO),
        )),
        v => Ok(v),
    }
}

/// Flu's wording for a result of the wrong type.
pub fn bad_result(handler: &str, expected: &str, got: &Value) -> HandlerError {
    HandlerError::BadResult(format!(
        "bad result #1 from '{handler}' ({expected} expected, got {})",
        lua_type_name(got)
    ))
}

/// The name Lua's `type()` gives a value (integers are numbers).
pub fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Integer(_) => "number",
        other => other.type_name(),
    }
}

/// Read a string result (bytes).
pub fn expect_bytes(handler: &str, v: Value) -> Result<Vec<u8>, HandlerError> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        other => Err(bad_result(handler, "string", &other)),
    }
}

/// Read a non-negative integer result.
pub fn expect_count(handler: &str, v: Value) -> Result<u64, HandlerError> {
    match v {
        Value::Integer(n) if n >= 0 => Ok(n as u64),
        Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => Ok(n as u64),
        other => Err(bad_result(handler, "positive integer", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lua::errno::create_errno_table;

    fn setup() -> Lua {
        // SAFETY: tests load the debug library, as scripts get it.
        let lua = unsafe { Lua::unsafe_new_with(mlua::StdLib::ALL, mlua::LuaOptions::default()) };
        let errno = create_errno_table(&lua).unwrap();
        lua.globals().set("errno", errno).unwrap();
        let is_errno = lua
            .create_function(|_, v: Value| Ok(errno_of_value(&v).is_some()))
            .unwrap();
        install(&lua, is_errno).unwrap();
        lua
    }

    fn run(lua: &Lua, code: &str) -> Result<MultiValue, HandlerError> {
        let f: Function = lua.load(code).eval().unwrap();
        call_protected(lua, &f, ("/p",))
    }

    #[test]
    fn errno_errors_keep_their_value() {
        let lua = setup();
        let e = run(&lua, "return function() error(errno.ENOENT) end").unwrap_err();
        assert!(matches!(e, HandlerError::Errno(Errno::ENOENT)));
        let e = run(&lua, "return function() assert(false, errno.EACCES) end").unwrap_err();
        assert!(matches!(e, HandlerError::Errno(Errno::EACCES)));
    }

    #[test]
    fn bugs_carry_message_and_traceback() {
        let lua = setup();
        let e = run(&lua, "return function(p) local x = nil; return x.y end").unwrap_err();
        match e {
            HandlerError::Script { message, traceback } => {
                assert!(message.contains("attempt to index"), "{message}");
                assert!(traceback.contains("stack traceback"), "{traceback}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let e = run(&lua, "return function() error({}) end").unwrap_err();
        assert!(matches!(e, HandlerError::Script { .. }));
        let e = run(&lua, "return function() error('boom') end").unwrap_err();
        assert_eq!(e.errno(), Errno::EIO);
    }

    #[test]
    fn reports_and_results() {
        let lua = setup();
        let r = run(&lua, "return function() return nil, 'not_found' end").unwrap();
        assert!(matches!(
            expect_unit(r),
            Err(HandlerError::Errno(Errno::ENOENT))
        ));
        let r = run(&lua, "return function() return nil, 'x', 13 end").unwrap();
        assert!(matches!(first(r), Err(HandlerError::Errno(Errno::EACCES))));
        let r = run(&lua, "return function() return -2 end").unwrap();
        assert!(matches!(
            expect_unit(r),
            Err(HandlerError::Errno(Errno::ENOENT))
        ));
        let r = run(&lua, "return function() return 42 end").unwrap();
        let e = expect_bytes("read", first(r).unwrap()).unwrap_err();
        match e {
            HandlerError::BadResult(m) => {
                assert_eq!(m, "bad result #1 from 'read' (string expected, got number)")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
