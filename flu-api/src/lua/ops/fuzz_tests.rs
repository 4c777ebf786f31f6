//! Property tests over the conversions the operation bindings do themselves: lock tables
//! (`lock_from_lua`), xattr flag sets, and what native functions read from their
//! arguments (`path_arg`, `int_arg`, `optional_id`, `time_arg`, `flags_of`,
//! `lock_owner_of`, `handle_of`). Arbitrary values come from the
//! generator in `lua/fuzz_tests.rs`; none may cause a panic.

use std::os::unix::ffi::OsStrExt;

use mlua::{Lua, Table, Value};
use proptest::prelude::*;
use proptest::sample::select;

use super::locks::{lock_from_lua, lock_to_lua};
use super::native_args::{
    flags_of, handle_of, int_arg, lock_owner_of, optional_id, path_arg, time_arg,
};
use super::xattrs::XATTR_FLAGS;
use crate::lua::fuzz_tests::{any_gen, config, value, Gen};
use crate::lua::handles::NativeHandle;
use crate::lua::sets::{bits_from_lua, bits_to_lua, open_flags_from_lua};
use crate::lua::time::timespec_from_lua;
use crate::operations::FileLock;
use crate::time::TimeSet;

fn any_lock() -> BoxedStrategy<FileLock> {
    (
        select(vec![libc::F_RDLCK, libc::F_WRLCK, libc::F_UNLCK]),
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
    )
        .prop_map(|(typ, start, end, pid)| FileLock {
            start,
            end,
            typ,
            pid,
        })
        .boxed()
}

/// Integers and floats at the edges, for the number readers.
fn any_number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        select(vec![
            i64::MIN,
            i64::MAX,
            -1,
            0,
            1,
            u32::MAX as i64,
            u32::MAX as i64 + 1
        ])
        .prop_map(Value::Integer),
        any::<f64>().prop_map(Value::Number),
        select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.5,
            -1.0,
            1e300,
            -1e300,
            9.3e18,
            4_294_967_296.0
        ])
        .prop_map(Value::Number),
    ]
    .boxed()
}

/// A table `{[key] = v}`.
fn with_field(lua: &Lua, key: &str, v: Value) -> Table {
    let t = lua.create_table().unwrap();
    t.raw_set(key, v).unwrap();
    t
}

proptest! {
    #![proptest_config(config())]

    /// lock_from_lua takes any value without panicking: anything but a table is the
    /// default lock; the type is always one of F_RDLCK, F_WRLCK, F_UNLCK or the default's;
    /// integer fields of a plain table are taken as they are, missing ones from the
    /// default.
    #[test]
    fn lock_from_lua_survives_anything(g in any_gen(), default in any_lock()) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        let l = lock_from_lua(&v, default);
        let Value::Table(t) = &v else {
            prop_assert_eq!(l, default);
            return Ok(());
        };
        prop_assert!([libc::F_RDLCK, libc::F_WRLCK, libc::F_UNLCK, default.typ].contains(&l.typ));
        if let Gen::Table(_) = g {
            for (field, got, fallback) in [("start", l.start, default.start), ("end", l.end, default.end)] {
                match t.raw_get::<Value>(field).unwrap() {
                    Value::Integer(n) => prop_assert_eq!(got, n as u64),
                    Value::Nil => prop_assert_eq!(got, fallback),
                    _ => {}
                }
            }
            match t.raw_get::<Value>("pid").unwrap() {
                Value::Integer(n) => prop_assert_eq!(l.pid, n as u32),
                Value::Nil => prop_assert_eq!(l.pid, default.pid),
                _ => {}
            }
        }
    }

    /// Any lock survives lock_to_lua → lock_from_lua, whatever the default.
    #[test]
    fn locks_round_trip(lock in any_lock(), default in any_lock()) {
        let lua = Lua::new();
        let t = lock_to_lua(&lua, &lock).unwrap();
        prop_assert_eq!(lock_from_lua(&Value::Table(t), default), lock);
    }

    /// Any combination of xattr flags survives bits_to_lua → bits_from_lua, and a set
    /// never reads as bits outside them.
    #[test]
    fn xattr_flags_round_trip(create in any::<bool>(), replace in any::<bool>(), g in any_gen()) {
        let lua = Lua::new();
        let flags = if create { libc::XATTR_CREATE as u64 } else { 0 }
            | if replace { libc::XATTR_REPLACE as u64 } else { 0 };
        let t = bits_to_lua(&lua, flags, XATTR_FLAGS).unwrap();
        prop_assert_eq!(bits_from_lua(&Value::Table(t), XATTR_FLAGS), flags);
        let v = value(&lua, &g).unwrap();
        let got = bits_from_lua(&v, XATTR_FLAGS);
        if let Value::Table(_) = v {
            prop_assert_eq!(got & !((libc::XATTR_CREATE | libc::XATTR_REPLACE) as u64), 0);
        }
    }

    /// path_arg takes exactly strings, byte for byte (invalid UTF-8 and all).
    #[test]
    fn path_arg_takes_strings_as_bytes(g in any_gen()) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        match (&v, path_arg(&v, "path")) {
            (Value::String(s), Ok(p)) => prop_assert_eq!(p.as_os_str().as_bytes(), &s.as_bytes()[..]),
            (Value::String(_), Err(e)) => prop_assert!(false, "string refused: {}", e),
            (_, r) => prop_assert!(r.is_err()),
        }
    }

    /// int_arg takes integers as they are and integral floats truncated to i64 (the
    /// cast saturates), and refuses everything else; optional_id takes exactly integers
    /// in u32's range.
    #[test]
    fn integer_args(g in any_gen(), n in any_number()) {
        let lua = Lua::new();
        for v in [value(&lua, &g).unwrap(), n.clone()] {
            let r = int_arg(&v, "size");
            match &v {
                Value::Integer(n) => prop_assert_eq!(r.ok(), Some(*n)),
                Value::Number(f) if f.fract() == 0.0 => prop_assert_eq!(r.ok(), Some(*f as i64)),
                _ => prop_assert!(r.is_err()),
            }
            let id = optional_id(&v);
            match &v {
                Value::Integer(n) => prop_assert_eq!(id, u32::try_from(*n).ok()),
                _ => prop_assert_eq!(id, None),
            }
        }
    }

    /// time_arg reads nil as "leave it", "now" as now, and anything else as
    /// timespec_from_lua does (refusing what it refuses).
    #[test]
    fn time_args(g in any_gen(), n in any_number()) {
        let lua = Lua::new();
        for v in [value(&lua, &g).unwrap(), n.clone()] {
            let r = time_arg(&v);
            match &v {
                Value::Nil => prop_assert!(matches!(r, Ok(TimeSet::Omit))),
                Value::String(s) if s.as_bytes().as_ref() == b"now" => prop_assert!(matches!(r, Ok(TimeSet::Now))),
                other => match (timespec_from_lua(other), r) {
                    (Ok(t), Ok(TimeSet::At(u))) => prop_assert_eq!(t, u),
                    (Err(_), Err(_)) => {}
                    (want, got) => prop_assert!(false, "{:?} but time_arg gave {:?}", want, got),
                },
            }
        }
    }

    /// What native functions read from an `fi` of any shape: the open flags
    /// (open_flags_from_lua's, else O_RDONLY), the lock owner (an integer, else 0), no
    /// native handle unless `fh` is one.
    #[test]
    fn file_info_fields(g in any_gen(), fh in any::<u64>()) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        // The value itself as fi, and as each field of a plain fi.
        prop_assert_eq!(flags_of(&v), match &v {
            Value::Table(t) => open_flags_from_lua(&t.raw_get::<Value>("flags").unwrap()).unwrap_or(libc::O_RDONLY),
            _ => libc::O_RDONLY,
        });
        let fi = Value::Table(with_field(&lua, "flags", v.clone()));
        prop_assert_eq!(flags_of(&fi), open_flags_from_lua(&v).unwrap_or(libc::O_RDONLY));
        let fi = Value::Table(with_field(&lua, "lock_owner", v.clone()));
        match &v {
            Value::Integer(n) => prop_assert_eq!(lock_owner_of(&fi), *n as u64),
            Value::Nil | Value::Boolean(_) | Value::Table(_) | Value::Function(_) | Value::UserData(_) => prop_assert_eq!(lock_owner_of(&fi), 0),
            _ => {}
        }
        if !matches!(v, Value::Table(_)) {
            prop_assert_eq!(lock_owner_of(&v), 0);
        }
        prop_assert_eq!(handle_of(&v), None);
        prop_assert_eq!(handle_of(&Value::Table(with_field(&lua, "fh", v.clone()))), None);
        let h = NativeHandle { fh, backing_fd: None };
        let fi = with_field(&lua, "fh", Value::UserData(lua.create_userdata(h).unwrap()));
        prop_assert_eq!(handle_of(&Value::Table(fi)), Some(h));
    }
}
