//! `flu.sleep(seconds)`: wait, giving the Lua lock up inside a handler. Wakes early
//! when the request is interrupted or the filesystem unmounts.

use std::time::{Duration, Instant};

use mlua::{Function, Lua, MultiValue, Value};

use super::{Job, Outcome, Work};

/// The longest sleep: an hour (longer values are cut to it).
const LONGEST: Duration = Duration::from_secs(3600);

/// How often a sleeper looks whether it should give up.
const TICK: Duration = Duration::from_millis(10);

struct Sleep(Duration);

impl Job for Sleep {
    fn describe(&self) -> String {
        format!("flu.sleep({} s)", self.0.as_secs_f64())
    }

    fn run(self: Box<Self>, cancelled: &dyn Fn() -> bool) -> Outcome {
        let end = Instant::now() + self.0;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || cancelled() {
                break;
            }
            std::thread::sleep(left.min(TICK));
        }
        Box::new(|_| Ok(MultiValue::new()))
    }
}

/// `make(seconds)`: the Work of a sleep, or nil for none (0, negative, NaN).
pub fn constructor(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, seconds: f64| {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Ok(Value::Nil);
        }
        let d = Duration::from_secs_f64(seconds).min(LONGEST);
        Ok(Value::UserData(lua.create_userdata(Work::new(Sleep(d)))?))
    })
}
