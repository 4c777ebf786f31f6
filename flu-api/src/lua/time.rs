//! Times as Lua sees them: a number of seconds (fractions allowed) or a `{sec=, nsec=}`
//! table. Times handed to scripts are `{sec=, nsec=}` tables that also compare (`<`,
//! `==`), subtract to seconds, and print, so they are exact yet convenient.

use mlua::{Lua, Table, Value};

use crate::time::Timespec;

/// Read a time a script gave.
pub fn timespec_from_lua(v: &Value) -> Result<Timespec, String> {
    match v {
        Value::Integer(n) => Ok(Timespec::new(*n, 0)),
        Value::Number(n) if n.is_finite() => Ok(Timespec::from_secs_f64(*n)),
        Value::Table(t) => timespec_from_parts(
            t.raw_get("sec").map_err(|e| e.to_string())?,
            t.raw_get("nsec").map_err(|e| e.to_string())?,
        ),
        other => Err(format!(
            "time expected (number or {{sec=, nsec=}}), got {}",
            other.type_name()
        )),
    }
}

/// A time from the `sec` and `nsec` fields of a `{sec=, nsec=}` table (either may be
/// missing: 0).
pub fn timespec_from_parts(sec: Value, nsec: Value) -> Result<Timespec, String> {
    let sec = match sec {
        Value::Integer(n) => n,
        Value::Number(n) if n.is_finite() => n.floor() as i64,
        Value::Nil => 0,
        other => {
            return Err(format!(
                "time 'sec' must be a number, got {}",
                other.type_name()
            ))
        }
    };
    let nsec = match nsec {
        Value::Integer(n) => n,
        Value::Number(n) if n.is_finite() => n as i64,
        Value::Nil => 0,
        other => {
            return Err(format!(
                "time 'nsec' must be a number, got {}",
                other.type_name()
            ))
        }
    };
    if !(0..1_000_000_000).contains(&nsec) {
        return Err(format!("time 'nsec' out of range: {nsec}"));
    }
    Ok(Timespec::new(sec, nsec as u32))
}

pub(crate) fn timespec_metatable(lua: &Lua) -> mlua::Result<Table> {
    const KEY: &str = "flu.timespec";
    if let Ok(Value::Table(t)) = lua.named_registry_value::<Value>(KEY) {
        return Ok(t);
    }
    let mt = lua.create_table()?;
    let secs = |v: &Value| {
        timespec_from_lua(v)
            .map(|t| t.as_secs_f64())
            .unwrap_or(f64::NAN)
    };
    let key = |v: &Value| {
        timespec_from_lua(v)
            .map(|t| (t.sec, t.nsec))
            .unwrap_or((0, 0))
    };
    mt.set(
        "__lt",
        lua.create_function(move |_, (a, b): (Value, Value)| Ok(key(&a) < key(&b)))?,
    )?;
    mt.set(
        "__le",
        lua.create_function(move |_, (a, b): (Value, Value)| Ok(key(&a) <= key(&b)))?,
    )?;
    mt.set(
        "__eq",
        lua.create_function(move |_, (a, b): (Value, Value)| Ok(key(&a) == key(&b)))?,
    )?;
    mt.set(
        "__sub",
        lua.create_function(move |_, (a, b): (Value, Value)| Ok(secs(&a) - secs(&b)))?,
    )?;
    mt.set(
        "__tostring",
        lua.create_function(|_, t: Value| {
            let t = timespec_from_lua(&t).unwrap_or_default();
            Ok(format!("{}.{:09}", t.sec, t.nsec))
        })?,
    )?;
    lua.set_named_registry_value(KEY, &mt)?;
    Ok(mt)
}

/// A time for a script: `{sec=, nsec=}` with comparison metamethods.
pub fn timespec_to_lua(lua: &Lua, t: Timespec) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, 2)?;
    table.raw_set("sec", t.sec)?;
    table.raw_set("nsec", t.nsec)?;
    table.set_metatable(Some(timespec_metatable(lua)?))?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_and_compare() {
        let lua = Lua::new();
        assert_eq!(
            timespec_from_lua(&Value::Number(2.5)).unwrap(),
            Timespec::new(2, 500_000_000)
        );
        assert_eq!(
            timespec_from_lua(&Value::Integer(7)).unwrap(),
            Timespec::new(7, 0)
        );
        let t = timespec_to_lua(&lua, Timespec::new(10, 1)).unwrap();
        assert_eq!(
            timespec_from_lua(&Value::Table(t.clone())).unwrap(),
            Timespec::new(10, 1)
        );
        lua.globals().set("a", t).unwrap();
        lua.globals()
            .set("b", timespec_to_lua(&lua, Timespec::new(10, 2)).unwrap())
            .unwrap();
        let ok: bool = lua
            .load("return a < b and a <= b and not (b < a) and tostring(a) == '10.000000001'")
            .eval()
            .unwrap();
        assert!(ok);
        assert!(timespec_from_lua(&Value::Boolean(true)).is_err());
    }
}
