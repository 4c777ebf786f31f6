//! The stat table conversions of every getattr, lookup and listed entry done through
//! Lua's C API: building the table a native handler hands a script, and reading the one
//! a handler returns in a single pass over its keys, with no Lua value made per field.
//!
//! The reader only takes what it is sure of: a table without a metatable whose known
//! fields hold numbers, a mode set, a short mode string or a `{sec=, nsec=}` time.
//! Anything else (an `__index`, a numeric string, a wrong type) makes it step aside and
//! `stat.rs` reads the table the general way, so both give the same stat and the same
//! errors.

use std::ffi::{c_int, CStr};

use mlua::{ffi, Lua, Table};

use super::sets::{mode_bit_named, mode_names};
use super::stat::STAT_FIELDS;
use crate::stat::Stat;

/// The longest mode string the reader copies ("block device", "0o100644"); longer ones
/// go the general way.
pub(super) const MODE_NAME_MAX: usize = 16;

/// A number as Lua holds it, or no value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum RawNumber {
    Absent,
    Integer(i64),
    Float(f64),
}

/// One stat field as read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum RawField {
    Number(RawNumber),
    /// A mode set, already as bits.
    ModeBits(u32),
    /// A mode string's bytes (`len` of them).
    ModeName([u8; MODE_NAME_MAX], u8),
    /// A `{sec=, nsec=}` table's two fields.
    Time(RawNumber, RawNumber),
}

/// Every field of `STAT_FIELDS`, in its order.
pub(super) type RawFields = [RawField; STAT_FIELDS.len()];

/// What a field holds, by its name.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Mode,
    Time,
}

fn kind_of(name: &str) -> Kind {
    match name {
        "mode" => Kind::Mode,
        "atime" | "access" | "mtime" | "modification" | "ctime" | "change" => Kind::Time,
        _ => Kind::Number,
    }
}

/// The fields of a plain stat table `t`, or `None` when it must be read the general way.
pub(super) fn read_plain(lua: &Lua, t: &Table) -> Option<RawFields> {
    let mut fields = [RawField::Number(RawNumber::Absent); STAT_FIELDS.len()];
    let mut plain = false;
    // SAFETY: the closure works on its one argument (the table, stack index 1) and on
    // values it pushes and pops itself, after asking for the stack room it uses
    // (`read_fields`). It owns nothing that needs dropping, so a Lua error (out of
    // memory) that jumps out of it leaks nothing; `exec_raw` returns such an error as
    // Err, and the table is then read the general way.
    let done = unsafe {
        lua.exec_raw::<()>(t, |state| {
            plain = read_fields(state, &mut fields);
            ffi::lua_settop(state, 0);
        })
    };
    match done {
        Ok(()) if plain => Some(fields),
        _ => None,
    }
}

/// Read the table at index 1 into `fields`; false when it must be read the general way.
///
/// # Safety
/// `state` is a Lua state whose stack holds a table at index 1.
unsafe fn read_fields(state: *mut ffi::lua_State, fields: &mut RawFields) -> bool {
    if ffi::lua_checkstack(state, 6) == 0 {
        return false;
    }
    if ffi::lua_getmetatable(state, 1) != 0 {
        return false;
    }
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, 1) != 0 {
        // The key at -2, its value at -1.
        if let Some(name) = string_at(state, -2) {
            if let Some(i) = STAT_FIELDS.iter().position(|f| f.as_bytes() == name) {
                match field_at(state, kind_of(STAT_FIELDS[i])) {
                    Some(f) => fields[i] = f,
                    None => return false,
                }
            }
        }
        ffi::lua_settop(state, -2);
    }
    true
}

/// The bytes of the string at `idx`, if it is a string (never converting a number, which
/// would confuse `lua_next`).
///
/// # Safety
/// `idx` is a valid index of `state`; the bytes live as long as the value stays there.
unsafe fn string_at<'a>(state: *mut ffi::lua_State, idx: c_int) -> Option<&'a [u8]> {
    if ffi::lua_type(state, idx) != ffi::LUA_TSTRING {
        return None;
    }
    let mut len = 0usize;
    let p = ffi::lua_tolstring(state, idx, &mut len);
    Some(std::slice::from_raw_parts(p.cast::<u8>(), len))
}

/// The number at `idx`, if it is one.
///
/// # Safety
/// `idx` is a valid index of `state`.
unsafe fn number_at(state: *mut ffi::lua_State, idx: c_int) -> Option<RawNumber> {
    if ffi::lua_type(state, idx) != ffi::LUA_TNUMBER {
        return None;
    }
    Some(if ffi::lua_isinteger(state, idx) != 0 {
        RawNumber::Integer(ffi::lua_tointegerx(state, idx, std::ptr::null_mut()))
    } else {
        RawNumber::Float(ffi::lua_tonumberx(state, idx, std::ptr::null_mut()))
    })
}

/// The field value on top of the stack, read as `kind`.
///
/// # Safety
/// The stack of `state` has a value on top and room for two more.
unsafe fn field_at(state: *mut ffi::lua_State, kind: Kind) -> Option<RawField> {
    if let Some(n) = number_at(state, -1) {
        return Some(RawField::Number(n));
    }
    match (kind, ffi::lua_type(state, -1)) {
        (Kind::Mode, ffi::LUA_TSTRING) => {
            let name = string_at(state, -1)?;
            let mut bytes = [0u8; MODE_NAME_MAX];
            bytes.get_mut(..name.len())?.copy_from_slice(name);
            Some(RawField::ModeName(bytes, name.len() as u8))
        }
        (Kind::Mode, ffi::LUA_TTABLE) => {
            let mut bits = 0;
            each_string_key(state, |name, state| {
                if ffi::lua_toboolean(state, -1) != 0 {
                    bits |= mode_bit_named(name).unwrap_or(0);
                }
                true
            });
            Some(RawField::ModeBits(bits))
        }
        (Kind::Time, ffi::LUA_TTABLE) => {
            let (mut sec, mut nsec) = (RawNumber::Absent, RawNumber::Absent);
            let whole = each_string_key(state, |name, state| {
                let slot = match name {
                    b"sec" => &mut sec,
                    b"nsec" => &mut nsec,
                    _ => return true,
                };
                match number_at(state, -1) {
                    Some(n) => {
                        *slot = n;
                        true
                    }
                    None => false,
                }
            });
            whole.then_some(RawField::Time(sec, nsec))
        }
        _ => None,
    }
}

/// Call `visit(key, state)` with each string key of the table on top of the stack, its
/// value on top; stops (false) when `visit` does.
///
/// # Safety
/// The stack of `state` has a table on top and room for two more values; `visit` leaves
/// the stack as it found it.
unsafe fn each_string_key(
    state: *mut ffi::lua_State,
    mut visit: impl FnMut(&[u8], *mut ffi::lua_State) -> bool,
) -> bool {
    let table = ffi::lua_absindex(state, -1);
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, table) != 0 {
        if let Some(name) = string_at(state, -2) {
            if !visit(name, state) {
                ffi::lua_settop(state, table);
                return false;
            }
        }
        ffi::lua_settop(state, -2);
    }
    true
}

/// A stat table for a script (mode as a Flu set with `modeset_mt`, times as `{sec=,
/// nsec=}` with `timespec_mt`), as the general `stat_to_lua` documents.
pub(super) fn make(
    lua: &Lua,
    st: &Stat,
    modeset_mt: &Table,
    timespec_mt: &Table,
) -> mlua::Result<Table> {
    // SAFETY: the closure works on its two arguments (the metatables, stack indices 1
    // and 2) and on the values it pushes, after asking for the stack room it uses; it
    // owns nothing that needs dropping, so a Lua error (out of memory) that jumps out of
    // it leaks nothing, and `exec_raw` returns it as Err. It leaves exactly the new
    // table on the stack, which `exec_raw` returns.
    unsafe {
        lua.exec_raw::<Table>((modeset_mt, timespec_mt), |state| {
            build(state, st);
        })
    }
}

/// Build the stat table of `st` on top of a stack holding the two metatables, and leave
/// it alone there.
///
/// # Safety
/// `state`'s stack holds the mode set metatable at 1 and the time metatable at 2.
unsafe fn build(state: *mut ffi::lua_State, st: &Stat) {
    if ffi::lua_checkstack(state, 4) == 0 {
        ffi::luaL_error(state, c"stack overflow".as_ptr());
    }
    ffi::lua_createtable(state, 0, 13);
    let t = ffi::lua_gettop(state);
    let integer = |name: &CStr, n: i64| {
        ffi::lua_pushinteger(state, n);
        ffi::lua_setfield(state, t, name.as_ptr());
    };
    integer(c"dev", st.dev as i64);
    integer(c"ino", st.ino as i64);
    integer(c"nlink", st.nlink as i64);
    integer(c"uid", i64::from(st.uid));
    integer(c"gid", i64::from(st.gid));
    integer(c"rdev", st.rdev as i64);
    integer(c"size", st.size as i64);
    integer(c"blocks", st.blocks as i64);
    integer(c"blksize", i64::from(st.blksize));

    ffi::lua_createtable(state, 0, 8);
    for name in mode_names(st.mode) {
        ffi::lua_pushlstring(state, name.as_ptr().cast(), name.len());
        ffi::lua_pushboolean(state, 1);
        ffi::lua_rawset(state, -3);
    }
    ffi::lua_pushvalue(state, 1);
    ffi::lua_setmetatable(state, -2);
    ffi::lua_setfield(state, t, c"mode".as_ptr());

    for (name, time) in [
        (c"atime", st.atime),
        (c"mtime", st.mtime),
        (c"ctime", st.ctime),
    ] {
        ffi::lua_createtable(state, 0, 2);
        ffi::lua_pushinteger(state, time.sec);
        ffi::lua_setfield(state, -2, c"sec".as_ptr());
        ffi::lua_pushinteger(state, i64::from(time.nsec));
        ffi::lua_setfield(state, -2, c"nsec".as_ptr());
        ffi::lua_pushvalue(state, 2);
        ffi::lua_setmetatable(state, -2);
        ffi::lua_setfield(state, t, name.as_ptr());
    }
    ffi::lua_copy(state, t, 1);
    ffi::lua_settop(state, 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lua::stat::{stat_from_lua, stat_to_lua, StatDefaults};
    use crate::time::Timespec;
    use mlua::Value;

    fn table(lua: &Lua, source: &str) -> Table {
        lua.load(source).eval().unwrap()
    }

    #[test]
    fn plain_tables_are_read_here_and_others_step_aside() {
        let lua = Lua::new();
        for plain in [
            "return {mode = {reg = true, rusr = true}, size = 3, mtime = {sec = 5, nsec = 6}}",
            "return {mode = 'directory', atime = 1.5, [1] = 'ignored', other = {}}",
            "return {mode = 33188, uid = 7.0, ctime = {sec = 2}}",
            "return {}",
        ] {
            assert!(read_plain(&lua, &table(&lua, plain)).is_some(), "{plain}");
        }
        for general in [
            "return setmetatable({size = 1}, {__index = {uid = 3}})",
            "return {size = '12'}",
            "return {mode = true}",
            "return {mtime = {sec = '5'}}",
            "return {mode = 'a mode string longer than the reader copies'}",
        ] {
            assert!(
                read_plain(&lua, &table(&lua, general)).is_none(),
                "{general}"
            );
        }
    }

    #[test]
    fn what_is_read_here_is_decoded() {
        let lua = Lua::new();
        let t = table(
            &lua,
            "return {mode = {reg = true, rusr = true, wusr = false, bogus = true}, size = 3, \
             nlink = 2.0, mtime = {sec = 5, nsec = 6}, access = 1.25}",
        );
        let raw = read_plain(&lua, &t).unwrap();
        let at = |name: &str| raw[STAT_FIELDS.iter().position(|f| *f == name).unwrap()];
        assert_eq!(at("mode"), RawField::ModeBits(libc::S_IFREG | 0o400));
        assert_eq!(at("size"), RawField::Number(RawNumber::Integer(3)));
        assert_eq!(at("nlink"), RawField::Number(RawNumber::Float(2.0)));
        assert_eq!(
            at("mtime"),
            RawField::Time(RawNumber::Integer(5), RawNumber::Integer(6))
        );
        assert_eq!(at("uid"), RawField::Number(RawNumber::Absent));
        let st = stat_from_lua(&Value::Table(t), &StatDefaults::default()).unwrap();
        assert_eq!((st.mode, st.size, st.nlink), (libc::S_IFREG | 0o400, 3, 2));
        assert_eq!(st.mtime, Timespec::new(5, 6));
        assert_eq!(st.atime, Timespec::new(1, 250_000_000));
    }

    #[test]
    fn made_tables_hold_what_scripts_read() {
        let lua = Lua::new();
        let st = Stat {
            mode: libc::S_IFDIR | 0o750,
            size: 4096,
            nlink: 3,
            uid: 1000,
            mtime: Timespec::new(7, 8),
            ..Stat::default()
        };
        lua.globals()
            .set("st", stat_to_lua(&lua, &st).unwrap())
            .unwrap();
        let (dir, rusr, woth, size, sec, nsec, text): (bool, bool, Option<bool>, i64, i64, i64, String) = lua
            .load("return st.mode.dir, st.mode.rusr, st.mode.woth, st.size, st.mtime.sec, st.mtime.nsec, tostring(st.mtime)")
            .eval()
            .unwrap();
        assert!(dir && rusr && woth.is_none());
        assert_eq!((size, sec, nsec), (4096, 7, 8));
        assert!(!text.is_empty());
        // The mode set and the times have their metatables.
        let (number, c_name, later): (i64, bool, bool) = lua
            .load("return st.mode.number, st.mode.S_IFDIR, st.atime < st.mtime")
            .eval()
            .unwrap();
        assert_eq!(number, i64::from(libc::S_IFDIR | 0o750));
        assert!(c_name && later);
        // The table itself is plain: handed back, it is read here.
        let t: Table = lua.globals().get("st").unwrap();
        assert!(read_plain(&lua, &t).is_some());
    }
}
