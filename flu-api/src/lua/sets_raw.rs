//! The sets of every call (a create's mode, an open's `fi.flags`, the `fi` table
//! itself) made and read through Lua's C API: one protected call per table instead of
//! one per field, and no Lua value made per key.
//!
//! What is made and read is exactly what `sets.rs` documents: a set is a plain table of
//! `name = true` with a shared metatable, read raw (no metamethod) by its string keys
//! whose values are true.

use std::ffi::c_int;

use mlua::{ffi, Lua, Table, Value};

/// A set of `names` with the metatable `mt`.
pub(super) fn make_set<'a>(
    lua: &Lua,
    names: impl Iterator<Item = &'a str>,
    mt: &Table,
) -> mlua::Result<Table> {
    // SAFETY: the closure works on its one argument (the metatable, stack index 1) and
    // the values it pushes, after asking for the stack room it uses; `names` owns nothing
    // that needs dropping, so a Lua error (out of memory) that jumps out of the closure
    // leaks nothing, and `exec_raw` returns it as Err. It leaves exactly the new table.
    unsafe {
        lua.exec_raw::<Table>(mt, |state| {
            reserve(state);
            push_set(state, names, 1);
            ffi::lua_replace(state, 1);
        })
    }
}

/// A fresh `fi` table whose `flags` is the set of `flag_names` (with the metatable
/// `flagset_mt`), as `handles::new_file_info` documents.
pub(super) fn make_file_info<'a>(
    lua: &Lua,
    flag_names: impl Iterator<Item = &'a str>,
    flagset_mt: &Table,
) -> mlua::Result<Table> {
    // SAFETY: as in `make_set`: the metatable at index 1, values pushed after asking for
    // room, nothing to drop on a Lua error, exactly the new table left.
    unsafe {
        lua.exec_raw::<Table>(flagset_mt, |state| {
            reserve(state);
            ffi::lua_createtable(state, 0, 8);
            push_set(state, flag_names, 1);
            ffi::lua_setfield(state, -2, c"flags".as_ptr());
            // fh, writepage and lock_owner start as 0, the open options as false.
            for (name, number) in [
                (c"fh", true),
                (c"direct_io", false),
                (c"keep_cache", false),
                (c"nonseekable", false),
                (c"flush", false),
                (c"writepage", true),
                (c"lock_owner", true),
            ] {
                if number {
                    ffi::lua_pushinteger(state, 0);
                } else {
                    ffi::lua_pushboolean(state, 0);
                }
                ffi::lua_setfield(state, -2, name.as_ptr());
            }
            ffi::lua_replace(state, 1);
        })
    }
}

/// The options a handler may set in an `fi` table, as read after an open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct FileInfoOptions {
    pub direct_io: bool,
    pub keep_cache: bool,
    pub nonseekable: bool,
    pub cache_readdir: bool,
    pub noflush: bool,
}

/// The option fields of `fi`, in `FileInfoOptions` order.
const OPTION_FIELDS: [&std::ffi::CStr; 5] = [
    c"direct_io",
    c"keep_cache",
    c"nonseekable",
    c"cache_readdir",
    c"noflush",
];

/// `fi.fh` and the options of the `fi` table `fi` (read raw, each true unless nil or
/// false), in one protected call.
pub(super) fn file_info_fields(lua: &Lua, fi: &Table) -> mlua::Result<(Value, FileInfoOptions)> {
    // SAFETY: the closure works on its one argument (`fi`, stack index 1) and the values
    // it pushes, after asking for room; lua_rawget raises nothing and lua_pushstring
    // only runs out of memory, which leaks nothing here (`exec_raw` returns it as Err).
    // It leaves exactly `fi.fh` and the options as a number of bits.
    let (fh, bits) = unsafe {
        lua.exec_raw::<(Value, i64)>(fi, |state| {
            reserve(state);
            let mut bits = 0i64;
            for (i, name) in OPTION_FIELDS.iter().enumerate() {
                ffi::lua_pushstring(state, name.as_ptr());
                ffi::lua_rawget(state, 1);
                if ffi::lua_toboolean(state, -1) != 0 {
                    bits |= 1 << i;
                }
                ffi::lua_settop(state, -2);
            }
            ffi::lua_pushstring(state, c"fh".as_ptr());
            ffi::lua_rawget(state, 1);
            ffi::lua_pushinteger(state, bits);
            ffi::lua_remove(state, 1);
        })
    }?;
    let on = |i: usize| bits & (1 << i) != 0;
    Ok((
        fh,
        FileInfoOptions {
            direct_io: on(0),
            keep_cache: on(1),
            nonseekable: on(2),
            cache_readdir: on(3),
            noflush: on(4),
        },
    ))
}

/// Call `visit` with each name of the set `t` (its string keys whose value is true, read
/// raw), in table order.
pub(super) fn each_name(lua: &Lua, t: &Table, mut visit: impl FnMut(&[u8])) -> mlua::Result<()> {
    // SAFETY: the closure works on its one argument (the set, stack index 1) and on the
    // key and value lua_next pushes, which it pops; it asks for that room first. lua_next
    // on a table nobody changes meanwhile raises nothing, and the bytes handed to `visit`
    // live while the key stays on the stack, which is while `visit` runs.
    unsafe {
        lua.exec_raw::<()>(t, |state| {
            reserve(state);
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, 1) != 0 {
                if ffi::lua_type(state, -2) == ffi::LUA_TSTRING
                    && ffi::lua_toboolean(state, -1) != 0
                {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(state, -2, &mut len);
                    visit(std::slice::from_raw_parts(p.cast::<u8>(), len));
                }
                ffi::lua_settop(state, -2);
            }
            ffi::lua_settop(state, 0);
        })
    }
}

/// Room for what these functions push (a table, a set, a key and a value).
///
/// # Safety
/// `state` is a valid Lua state.
unsafe fn reserve(state: *mut ffi::lua_State) {
    if ffi::lua_checkstack(state, 6) == 0 {
        ffi::luaL_error(state, c"stack overflow".as_ptr());
    }
}

/// Push a set of `names` with the metatable at `mt`.
///
/// # Safety
/// `mt` is a valid index of `state` holding a table, and the stack has room for three
/// more values.
unsafe fn push_set<'a>(
    state: *mut ffi::lua_State,
    names: impl Iterator<Item = &'a str>,
    mt: c_int,
) {
    ffi::lua_createtable(state, 0, 8);
    for name in names {
        ffi::lua_pushlstring(state, name.as_ptr().cast(), name.len());
        ffi::lua_pushboolean(state, 1);
        ffi::lua_rawset(state, -3);
    }
    ffi::lua_pushvalue(state, mt);
    ffi::lua_setmetatable(state, -2);
}
