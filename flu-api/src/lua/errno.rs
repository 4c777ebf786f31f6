//! `flu.errno`: errno values as Lua sees them, and reading an errno back out of
//! whatever a handler raised or returned.
//!
//! An errno value is a userdata (so `error(flu.errno.ENOENT)` keeps its identity through
//! `error`, `assert` and `pcall`) that prints as its strerror text, compares equal to
//! itself, and exposes `.code` and `.name`.

use mlua::{Lua, MetaMethod, UserData, UserDataFields, UserDataMethods, Value};

use crate::errno::Errno;
use crate::errno_table::{ERRNO_ALIASES, ERRNO_NAMES};

/// The userdata behind `flu.errno.X`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LuaErrno(pub Errno);

impl UserData for LuaErrno {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("code", |_, this| Ok(this.0.code()));
        fields.add_field_method_get("name", |_, this| Ok(this.0.name()));
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.0.strerror()));
        methods.add_meta_method(MetaMethod::Eq, |_, this, other: Value| {
            Ok(errno_of_value(&other) == Some(this.0))
        });
        // `errno.ENOENT .. ''` works as with a string.
        methods.add_meta_function(MetaMethod::Concat, |_, (a, b): (Value, Value)| {
            Ok(format!("{}{}", display(&a), display(&b)))
        });
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::UserData(ud) => match ud.borrow::<LuaErrno>() {
            Ok(e) => e.0.strerror(),
            Err(_) => v.to_string().unwrap_or_default(),
        },
        _ => v.to_string().unwrap_or_default(),
    }
}

/// Build the `flu.errno` table: every Linux errno name plus the aliases (`ENOATTR`, …).
pub fn create_errno_table(lua: &Lua) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    for (name, code) in ERRNO_NAMES.iter().chain(ERRNO_ALIASES) {
        t.set(*name, LuaErrno(Errno(*code)))?;
    }
    Ok(t)
}

/// The errno a value stands for when it is an errno userdata.
pub fn errno_of_value(v: &Value) -> Option<Errno> {
    match v {
        Value::UserData(ud) => ud.borrow::<LuaErrno>().ok().map(|e| e.0),
        _ => None,
    }
}

/// Read an errno from the `err` of a `nil, err[, code]` return, or from a raised value
/// that is not an errno userdata: a number, an errno name, a normalized message.
pub fn errno_of_report(err: &Value, code: &Value) -> Option<Errno> {
    // A float code counts as the err position's does (`return nil, msg, 13.0`).
    let code = match code {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        other => other.as_i64(),
    };
    if let Some(n) = code {
        if let Some(e) = Errno::from_number(n) {
            return Some(e);
        }
    }
    match err {
        Value::UserData(_) => errno_of_value(err),
        Value::Integer(n) => Errno::from_number(*n),
        Value::Number(n) if n.fract() == 0.0 => Errno::from_number(*n as i64),
        Value::String(s) => Errno::from_message(&s.to_string_lossy()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_values_behave_in_lua() {
        let lua = Lua::new();
        lua.globals()
            .set("errno", create_errno_table(&lua).unwrap())
            .unwrap();
        let ok: bool = lua
            .load(
                r#"
                assert(tostring(errno.ENOENT) == "No such file or directory")
                assert(errno.ENOENT.code == 2 and errno.ENOENT.name == "ENOENT")
                assert(errno.ENOENT == errno.ENOENT)
                assert(errno.ENOATTR == errno.ENODATA)
                local ok, e = pcall(error, errno.EACCES)
                assert(not ok and e == errno.EACCES)
                local ok2, e2 = pcall(function() assert(false, errno.EPERM) end)
                assert(not ok2 and e2 == errno.EPERM)
                return ("x: " .. errno.EIO) == "x: Input/output error"
            "#,
            )
            .eval()
            .unwrap();
        assert!(ok);
    }

    #[test]
    fn reports_parse() {
        let lua = Lua::new();
        let s = Value::String(lua.create_string("not_found").unwrap());
        assert_eq!(errno_of_report(&s, &Value::Nil), Some(Errno::ENOENT));
        let s = Value::String(lua.create_string("EPERM").unwrap());
        assert_eq!(errno_of_report(&s, &Value::Nil), Some(Errno::EPERM));
        let s = Value::String(lua.create_string("whatever").unwrap());
        assert_eq!(
            errno_of_report(&s, &Value::Integer(13)),
            Some(Errno::EACCES)
        );
        assert_eq!(errno_of_report(&s, &Value::Nil), None);
        assert_eq!(
            errno_of_report(&Value::Integer(-5), &Value::Nil),
            Some(Errno::EIO)
        );
    }
}
