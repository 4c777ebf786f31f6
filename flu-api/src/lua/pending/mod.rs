//! Slow work without a stalled mount: `flu.sleep`, `flu.exec`, `flu.http.*` and
//! `flu.spawn`.
//!
//! Every handler (and timer callback, and spawned task) runs in a coroutine of its own,
//! a *driver* (`driver`). A yielding function builds a `Job` — work Rust does outside
//! Lua — wrapped in a `Work` userdata, and hands it to `await` (Lua glue): inside a
//! driver, `await` yields it; the driver gives the Lua lock up while the job runs
//! (`Gate::suspend`), takes it back and resumes the handler with the job's results.
//! Anywhere else (the main chunk before mounting, a coroutine of the script's own, a
//! callback of `table.sort`), `await` runs the job in place, as a plain call would: the
//! same results, only holding the lock.
//!
//! A job learns that it should give up (its request was interrupted, the filesystem is
//! unmounting) from the `cancelled` closure it is given, and stops its work (kills the
//! process, drops the connection).

mod driver;
mod exec;
mod http;
mod sleep;
mod spawn;

use std::sync::Mutex;

use mlua::{AnyUserData, Function, Lua, MultiValue, Table, UserData, UserDataMethods};

pub use driver::call_yielding;
pub use spawn::Tasks;

/// What a job gives back: built into Lua values once the lock is held again.
pub type Outcome = Box<dyn FnOnce(&Lua) -> mlua::Result<MultiValue> + Send>;

/// Work done outside Lua.
pub trait Job: Send {
    /// What the job is, for the log (`exec git log`, `sleep 2 s`).
    fn describe(&self) -> String;
    /// Do the work; give up soon after `cancelled()` turns true.
    fn run(self: Box<Self>, cancelled: &dyn Fn() -> bool) -> Outcome;
}

/// The outcome of a job that failed: `nil, message` for the script.
pub(super) fn failure(message: String) -> Outcome {
    Box::new(move |lua| {
        Ok(MultiValue::from_iter([
            mlua::Value::Nil,
            mlua::Value::String(lua.create_string(&message)?),
        ]))
    })
}

/// A job on its way to the driver (or to `wait`, outside one).
pub struct Work(Mutex<Option<Box<dyn Job>>>);

impl Work {
    pub fn new(job: impl Job + 'static) -> Work {
        Work(Mutex::new(Some(Box::new(job))))
    }

    /// The job, once: a Work yielded twice has nothing the second time.
    pub fn take(&self) -> Option<Box<dyn Job>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl UserData for Work {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        // Outside a driver: run the job here, holding the Lua lock.
        methods.add_method("wait", |lua, work, ()| {
            let Some(job) = work.take() else {
                return Ok(MultiValue::new());
            };
            let outcome = job.run(&|| crate::interrupt::interrupted() || closing(lua));
            if crate::interrupt::interrupted() {
                return Err(mlua::Error::runtime("the request was interrupted"));
            }
            outcome(lua)
        });
    }
}

/// Whether the filesystem of `lua` is unmounting (waits give up).
fn closing(lua: &Lua) -> bool {
    crate::lua::interpreter::Gate::of(lua).is_some_and(|g| g.closing())
}

const KEY_TOKEN: &str = "flu.pending.token";
const KEY_DRIVERS: &str = "flu.pending.drivers";

/// Install the yielding functions in the `flu` module table.
pub fn install(lua: &Lua, flu: &Table) -> mlua::Result<()> {
    driver::install_pool(lua);
    let token = lua.create_table()?;
    let drivers = lua.create_table()?;
    let weak_keys = lua.create_table()?;
    weak_keys.set("__mode", "k")?;
    drivers.set_metatable(Some(weak_keys))?;
    lua.set_named_registry_value(KEY_TOKEN, token.clone())?;
    lua.set_named_registry_value(KEY_DRIVERS, drivers.clone())?;
    let coroutine: Table = lua.globals().get("coroutine")?;
    // `await(work, ...)`: yield to the driver, or wait in place.
    let await_fn: Function = lua
        .load(
            r#"
            local token, drivers, running, isyieldable, yield = ...
            return function(work)
              if work == nil then return end
              if drivers[running()] and isyieldable() then
                return yield(token, work)
              end
              return work:wait()
            end
            "#,
        )
        .set_name("=flu.await")
        .call((
            token,
            drivers,
            coroutine.get::<Function>("running")?,
            coroutine.get::<Function>("isyieldable")?,
            coroutine.get::<Function>("yield")?,
        ))?;
    // Each yielding function: a Rust constructor of the Work, then await.
    let yielding = |name: &str, make: Function| -> mlua::Result<Function> {
        lua.load(
            r#"
            local await, make = ...
            return function(...) return await(make(...)) end
            "#,
        )
        .set_name(format!("=flu.{name}"))
        .call((await_fn.clone(), make))
    };
    flu.set("sleep", yielding("sleep", sleep::constructor(lua)?)?)?;
    flu.set("exec", yielding("exec", exec::constructor(lua)?)?)?;
    let http = lua.create_table()?;
    let request = yielding("http.request", http::constructor(lua)?)?;
    let get: Function = lua
        .load(
            r#"
            local request, type, error = ...
            return function(url, opts)
              if type(url) ~= 'string' then error("bad argument #1 to 'get' (string expected, got " .. type(url) .. ")", 2) end
              local t = { url = url, method = 'GET' }
              if type(opts) == 'table' then for k, v in pairs(opts) do if t[k] == nil then t[k] = v end end end
              return request(t)
            end
            "#,
        )
        .set_name("=flu.http.get")
        .call((
            request.clone(),
            lua.globals().get::<Function>("type")?,
            lua.globals().get::<Function>("error")?,
        ))?;
    http.set("request", request)?;
    http.set("get", get)?;
    flu.set("http", http)?;
    flu.set("spawn", spawn::function(lua)?)?;
    Ok(())
}

/// The Work a driver coroutine yielded, if it yielded one through `await`.
fn yielded_work(lua: &Lua, values: &MultiValue) -> Option<AnyUserData> {
    let token: Table = lua.named_registry_value(KEY_TOKEN).ok()?;
    match (values.front(), values.get(1)) {
        (Some(mlua::Value::Table(t)), Some(mlua::Value::UserData(work))) if *t == token => {
            Some(work.clone())
        }
        _ => None,
    }
}
