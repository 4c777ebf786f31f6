//! Flu sets: named bit sets as Flu scripts read and write them (`{reg=true, rusr=true}`
//! for modes, `{wronly=true, creat=true}` for open flags), converted both ways.
//!
//! A set handed to a handler is a plain table of `name = true` (so `pairs` shows only the
//! names) with a metatable that also gives its numeric value (`m.number`), answers the
//! `O_`-prefixed spelling for open flags (`fi.flags.O_WRONLY`), and supports `m & 0o777`.

use mlua::{Lua, Table, Value};

use super::sets_raw;

const S_IFMT: u32 = libc::S_IFMT;

/// Mode names and bits. File types are matched against `S_IFMT`, permissions as bits.
pub const MODE_TYPES: &[(&str, u32)] = &[
    ("blk", libc::S_IFBLK),
    ("chr", libc::S_IFCHR),
    ("fifo", libc::S_IFIFO),
    ("reg", libc::S_IFREG),
    ("dir", libc::S_IFDIR),
    ("lnk", libc::S_IFLNK),
    ("sock", libc::S_IFSOCK),
];

pub const MODE_BITS: &[(&str, u32)] = &[
    ("rusr", 0o400),
    ("wusr", 0o200),
    ("xusr", 0o100),
    ("rgrp", 0o040),
    ("wgrp", 0o020),
    ("xgrp", 0o010),
    ("roth", 0o004),
    ("woth", 0o002),
    ("xoth", 0o001),
    ("suid", 0o4000),
    ("sgid", 0o2000),
    ("svtx", 0o1000),
];

/// Flu's predefined mode strings.
const MODE_STRINGS: &[(&str, u32)] = &[
    ("file", libc::S_IFREG | 0o660),
    ("directory", libc::S_IFDIR | 0o770),
    ("link", libc::S_IFLNK | 0o660),
    ("socket", libc::S_IFSOCK | 0o660),
    ("named pipe", libc::S_IFIFO | 0o660),
    ("char device", libc::S_IFCHR | 0o660),
    ("block device", libc::S_IFBLK | 0o660),
    ("other", 0),
];

/// The `fs` module's type names (`d:attr('type')`), accepted wherever a mode string is,
/// so a listing can pass them to `filler` as they come.
const FS_TYPE_NAMES: &[(&str, u32)] = &[
    ("dir", libc::S_IFDIR | 0o770),
    ("symlink", libc::S_IFLNK | 0o660),
    ("pipe", libc::S_IFIFO | 0o660),
    ("chardev", libc::S_IFCHR | 0o660),
    ("blockdev", libc::S_IFBLK | 0o660),
    ("unknown", 0),
];

/// Open flag names (the access mode is handled apart: it is a value, not a bit).
pub const OPEN_FLAG_BITS: &[(&str, i32)] = &[
    ("append", libc::O_APPEND),
    ("async", libc::O_ASYNC),
    ("creat", libc::O_CREAT),
    ("direct", libc::O_DIRECT),
    ("directory", libc::O_DIRECTORY),
    ("excl", libc::O_EXCL),
    ("largefile", libc::O_LARGEFILE),
    ("noatime", libc::O_NOATIME),
    ("noctty", libc::O_NOCTTY),
    ("nofollow", libc::O_NOFOLLOW),
    ("nonblock", libc::O_NONBLOCK),
    ("ndelay", libc::O_NDELAY),
    ("sync", libc::O_SYNC),
    ("dsync", libc::O_DSYNC),
    ("trunc", libc::O_TRUNC),
    ("cloexec", libc::O_CLOEXEC),
    ("path", libc::O_PATH),
    ("tmpfile", libc::O_TMPFILE),
];

const ACCESS_MODES: &[(&str, i32)] = &[
    ("rdonly", libc::O_RDONLY),
    ("wronly", libc::O_WRONLY),
    ("rdwr", libc::O_RDWR),
];

/// Flu's predefined mode string for the file type bits `kind` (`"file"`, `"directory"`,
/// …), or `None` for bits that are no file type.
pub fn type_string(kind: u32) -> Option<&'static str> {
    MODE_STRINGS
        .iter()
        .find(|(n, m)| *n != "other" && m & S_IFMT == kind & S_IFMT && kind & S_IFMT != 0)
        .map(|(n, _)| *n)
}

/// The mode a script gave: a Flu set, a Flu predefined string, or a number.
pub fn mode_from_lua(v: &Value) -> Result<u32, String> {
    match v {
        Value::Integer(n) => u32::try_from(*n).map_err(|_| format!("mode {n} out of range")),
        Value::Number(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n) => {
            Ok(*n as u32)
        }
        // `as` would saturate: 2^32 would read as every bit set.
        Value::Number(n) if n.fract() == 0.0 => Err(format!("mode {n} out of range")),
        Value::String(s) => mode_from_name(&s.to_string_lossy()),
        Value::Table(t) => {
            // One pass over the set's entries (raw), not a lookup per name.
            let mut mode = 0;
            sets_raw::each_name(&t.weak_lua().upgrade(), t, |name| {
                mode |= mode_bit_named(name).unwrap_or(0);
            })
            .map_err(|e| e.to_string())?;
            Ok(mode)
        }
        other => Err(format!(
            "mode expected (set, string or number), got {}",
            other.type_name()
        )),
    }
}

/// A mode given as a string: a Flu predefined name, an `fs` type name, or octal digits
/// ("0644", "100644", "0o755").
pub fn mode_from_name(s: &str) -> Result<u32, String> {
    if let Some((_, m)) = MODE_STRINGS
        .iter()
        .chain(FS_TYPE_NAMES)
        .find(|(n, _)| *n == s)
    {
        return Ok(*m);
    }
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .map_err(|_| format!("unknown mode string '{s}'"))
}

/// The bit a mode set's key stands for (`reg`, `rusr`, …), if it is one.
pub fn mode_bit_named(name: &[u8]) -> Option<u32> {
    MODE_TYPES
        .iter()
        .chain(MODE_BITS)
        .find(|(n, _)| n.as_bytes() == name)
        .map(|(_, b)| *b)
}

/// Whether `key` is the open flag `name` (lower case) or its C spelling (`O_` and the
/// name in upper case).
fn spells(key: &[u8], name: &str) -> bool {
    key == name.as_bytes()
        || key.strip_prefix(b"O_").is_some_and(|rest| {
            rest.len() == name.len()
                && rest
                    .iter()
                    .zip(name.bytes())
                    .all(|(r, n)| *r == n.to_ascii_uppercase())
        })
}

/// The names set in a mode, as Flu pushes them.
pub(super) fn mode_names(mode: u32) -> impl Iterator<Item = &'static str> {
    let ty = MODE_TYPES.iter().filter(move |(_, t)| mode & S_IFMT == *t);
    let bits = MODE_BITS.iter().filter(move |(_, b)| mode & b != 0);
    ty.chain(bits).map(|(n, _)| *n)
}

/// Open flags from a set (either spelling) or a number.
pub fn open_flags_from_lua(v: &Value) -> Result<i32, String> {
    match v {
        Value::Integer(n) => i32::try_from(*n).map_err(|_| format!("flags {n} out of range")),
        Value::Table(t) => {
            // One pass over the set's entries (raw, as a set is read): a name counts
            // when its value is true, in either spelling (`wronly` or `O_WRONLY`).
            let (mut rdwr, mut wronly, mut bits) = (false, false, 0);
            sets_raw::each_name(&t.weak_lua().upgrade(), t, |k| {
                let is = |name: &str| spells(k, name);
                if is("rdwr") {
                    rdwr = true;
                } else if is("wronly") {
                    wronly = true;
                } else if let Some((_, bit)) = OPEN_FLAG_BITS.iter().find(|(n, _)| is(n)) {
                    bits |= bit;
                }
            })
            .map_err(|e| e.to_string())?;
            let access = if rdwr {
                libc::O_RDWR
            } else if wronly {
                libc::O_WRONLY
            } else {
                libc::O_RDONLY
            };
            Ok(access | bits)
        }
        other => Err(format!(
            "open flags expected (set or number), got {}",
            other.type_name()
        )),
    }
}

fn open_flag_names(flags: i32) -> impl Iterator<Item = &'static str> {
    let acc = ACCESS_MODES
        .iter()
        .filter(move |(_, m)| flags & libc::O_ACCMODE == *m);
    // O_SYNC includes the O_DSYNC bit: name dsync only when sync is not set.
    let bits = OPEN_FLAG_BITS.iter().filter(move |(n, b)| {
        flags & b == *b && !(*n == "dsync" && flags & libc::O_SYNC == libc::O_SYNC)
    });
    acc.chain(bits).map(|(n, _)| *n)
}

fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Nil | Value::Boolean(false))
}

/// The set metatables, kept as app data so that each set handed to a script finds its
/// metatable without a registry lookup (`install_metatables`).
struct SetMetatables(Vec<(&'static str, Table)>);

/// Make the set metatables of `lua` now and keep them at hand.
pub fn install_metatables(lua: &Lua) -> mlua::Result<()> {
    let kept = vec![
        (
            "flu.modeset",
            set_metatable(lua, "flu.modeset", mode_number)?,
        ),
        (
            "flu.flagset",
            set_metatable(lua, "flu.flagset", flags_number)?,
        ),
    ];
    lua.set_app_data(SetMetatables(kept));
    Ok(())
}

/// The shared metatable of the sets kept under `key` (mode or open flag sets), created
/// once per Lua state.
fn set_metatable(lua: &Lua, key: &str, number_of: fn(&Value) -> i64) -> mlua::Result<Table> {
    if let Some(kept) = lua.app_data_ref::<SetMetatables>() {
        if let Some((_, t)) = kept.0.iter().find(|(k, _)| *k == key) {
            return Ok(t.clone());
        }
    }
    if let Ok(Value::Table(t)) = lua.named_registry_value::<Value>(key) {
        return Ok(t);
    }
    let mt = lua.create_table()?;
    mt.set(
        "__index",
        lua.create_function(move |_, (t, k): (Table, Value)| {
            let Value::String(k) = k else {
                return Ok(Value::Nil);
            };
            let k = k.to_string_lossy();
            if k == "number" || k == "value" {
                return Ok(Value::Integer(number_of(&Value::Table(t))));
            }
            // C spellings (`O_WRONLY`, `S_IFREG`, `S_IRUSR`) read the plain name.
            match c_spelling(&k) {
                Some(p) => t.raw_get::<Value>(p),
                None => Ok(Value::Nil),
            }
        })?,
    )?;
    mt.set(
        "__band",
        lua.create_function(move |_, (a, b): (Value, Value)| {
            Ok(as_number(&a, number_of) & as_number(&b, number_of))
        })?,
    )?;
    mt.set(
        "__bor",
        lua.create_function(move |_, (a, b): (Value, Value)| {
            Ok(as_number(&a, number_of) | as_number(&b, number_of))
        })?,
    )?;
    mt.set(
        "__tostring",
        lua.create_function(move |_, t: Table| Ok(format!("0{:o}", number_of(&Value::Table(t)))))?,
    )?;
    lua.set_named_registry_value(key, &mt)?;
    Ok(mt)
}

/// The set name a C constant name stands for.
fn c_spelling(k: &str) -> Option<String> {
    if let Some(o) = k.strip_prefix("O_") {
        return Some(o.to_ascii_lowercase());
    }
    let ty = match k {
        "S_IFREG" => "reg",
        "S_IFDIR" => "dir",
        "S_IFLNK" => "lnk",
        "S_IFIFO" => "fifo",
        "S_IFSOCK" => "sock",
        "S_IFCHR" => "chr",
        "S_IFBLK" => "blk",
        _ => return k.strip_prefix("S_I").map(|b| b.to_ascii_lowercase()),
    };
    Some(ty.to_string())
}

fn as_number(v: &Value, number_of: fn(&Value) -> i64) -> i64 {
    match v {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        Value::Table(_) => number_of(v),
        _ => 0,
    }
}

fn mode_number(v: &Value) -> i64 {
    mode_from_lua(v).map(i64::from).unwrap_or(0)
}

fn flags_number(v: &Value) -> i64 {
    open_flags_from_lua(v).map(i64::from).unwrap_or(0)
}

/// The metatable of mode sets (`.number`, C spellings).
pub(crate) fn modeset_metatable(lua: &Lua) -> mlua::Result<Table> {
    set_metatable(lua, "flu.modeset", mode_number)
}

/// A mode as a Flu set (with `.number`).
pub fn mode_to_lua(lua: &Lua, mode: u32) -> mlua::Result<Table> {
    sets_raw::make_set(lua, mode_names(mode), &modeset_metatable(lua)?)
}

/// Open flags as a Flu set (`rdonly`/`wronly`/`rdwr` always present; `O_` spellings too).
pub fn open_flags_to_lua(lua: &Lua, flags: i32) -> mlua::Result<Table> {
    sets_raw::make_set(lua, open_flag_names(flags), &flagset_metatable(lua)?)
}

/// The metatable of open flag sets (`.number`, `O_` spellings).
pub(super) fn flagset_metatable(lua: &Lua) -> mlua::Result<Table> {
    set_metatable(lua, "flu.flagset", flags_number)
}

/// A fresh `fi` table for an open with `flags` (`handles::new_file_info`).
pub(super) fn file_info_to_lua(lua: &Lua, flags: i32) -> mlua::Result<Table> {
    sets_raw::make_file_info(lua, open_flag_names(flags), &flagset_metatable(lua)?)
}

/// A small set (`{create=true}`) from named bits, as xattr and statvfs flags use.
pub fn bits_to_lua(lua: &Lua, value: u64, names: &[(&str, u64)]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (name, bit) in names {
        if value & bit != 0 {
            t.raw_set(*name, true)?;
        }
    }
    Ok(t)
}

/// The inverse of `bits_to_lua`; a number is taken as is.
pub fn bits_from_lua(v: &Value, names: &[(&str, u64)]) -> u64 {
    match v {
        Value::Integer(n) => *n as u64,
        Value::Number(n) => *n as u64,
        Value::Table(t) => names
            .iter()
            .filter(|(n, _)| t.raw_get::<Value>(*n).map(|v| truthy(&v)).unwrap_or(false))
            .fold(0, |acc, (_, b)| acc | b),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_round_trip() {
        let lua = Lua::new();
        for mode in [
            libc::S_IFREG | 0o644,
            libc::S_IFDIR | 0o755,
            libc::S_IFLNK | 0o777,
            libc::S_IFIFO | 0o4710,
        ] {
            let t = mode_to_lua(&lua, mode).unwrap();
            assert_eq!(mode_from_lua(&Value::Table(t)).unwrap(), mode);
        }
        let s = Value::String(lua.create_string("directory").unwrap());
        assert_eq!(mode_from_lua(&s).unwrap(), libc::S_IFDIR | 0o770);
        let s = Value::String(lua.create_string("symlink").unwrap());
        assert_eq!(mode_from_lua(&s).unwrap() & libc::S_IFMT, libc::S_IFLNK);
        assert_eq!(mode_from_lua(&Value::Integer(0o100644)).unwrap(), 0o100644);
        assert!(mode_from_lua(&Value::Boolean(true)).is_err());
    }

    #[test]
    fn mode_sets_in_lua() {
        let lua = Lua::new();
        lua.globals()
            .set("m", mode_to_lua(&lua, libc::S_IFREG | 0o640).unwrap())
            .unwrap();
        let ok: bool = lua
            .load(
                r#"
                local n = 0
                for k in pairs(m) do n = n + 1 end
                return m.reg and m.rusr and m.wusr and m.rgrp and not m.roth and n == 4
                   and m.S_IFREG and m.S_IRUSR and not m.S_IFDIR and not m.S_IROTH
                   and m.number == tonumber("100640", 8) and (m & 511) == tonumber("640", 8)
                   and tostring(m) == "0100640"
            "#,
            )
            .eval()
            .unwrap();
        assert!(ok);
    }

    #[test]
    fn open_flags_both_spellings() {
        let lua = Lua::new();
        let f = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
        lua.globals()
            .set("f", open_flags_to_lua(&lua, f).unwrap())
            .unwrap();
        let ok: bool = lua
            .load("return f.wronly and f.O_WRONLY and f.creat and f.O_TRUNC and not f.rdonly and not f.O_RDWR and f.number ~= nil")
            .eval()
            .unwrap();
        assert!(ok);
        let t: Table = lua.globals().get("f").unwrap();
        assert_eq!(open_flags_from_lua(&Value::Table(t)).unwrap(), f);
        let r = open_flags_to_lua(&lua, libc::O_RDONLY).unwrap();
        assert!(r.raw_get::<bool>("rdonly").unwrap());
    }
}
