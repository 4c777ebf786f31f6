//! Stat and statfs tables: what handlers return from getattr/statfs, read into `Stat` /
//! `StatFs` with Flu's defaults, and the tables handed to scripts by native handlers.
//!
//! Field names: `dev ino mode nlink uid gid rdev size blocks blksize` and the times as
//! `atime mtime ctime` or Flu/LuaFileSystem's `access modification change`.

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::sets::{bits_from_lua, bits_to_lua, mode_from_lua, MODE_BITS, MODE_TYPES};
use super::time::timespec_from_lua;
use crate::stat::{Stat, StatFs};
use crate::time::Timespec;

/// What a stat table leaves out is filled from these (the mounting user, mount time).
#[derive(Clone, Copy, Debug, Default)]
pub struct StatDefaults {
    pub uid: u32,
    pub gid: u32,
    pub time: Timespec,
}

/// Every field `stat_from_lua` reads (a test holds the two together); `flu check`
/// reports any other field of a stat table as one flu ignores.
pub const STAT_FIELDS: &[&str] = &[
    "dev",
    "ino",
    "mode",
    "nlink",
    "uid",
    "gid",
    "rdev",
    "size",
    "blocks",
    "blksize",
    "atime",
    "access",
    "mtime",
    "modification",
    "ctime",
    "change",
    "attr_timeout",
    "entry_timeout",
];

/// statvfs flag names as Flu spells them.
pub const STATVFS_FLAGS: &[(&str, u64)] =
    &[("rdonly", libc::ST_RDONLY), ("nosuid", libc::ST_NOSUID)];

/// The Lua halves of the stat conversions, compiled once per Lua state (app data; made
/// with the `flu` module, before a script can replace `setmetatable`): building a stat
/// table, and reading every field of one, each in one call into Lua instead of one
/// crossing per field.
struct StatKit {
    make: Function,
    fields: Function,
}

/// Make the kit of `lua` now (the `flu` module does, so that it captures the standard
/// `setmetatable`).
pub fn install_kit(lua: &Lua) -> mlua::Result<()> {
    kit(lua, |k| &k.make).map(drop)
}

/// One function of `lua`'s kit (made on first use: states made without the `flu`
/// module, as in tests).
fn kit(lua: &Lua, which: fn(&StatKit) -> &Function) -> mlua::Result<Function> {
    if let Some(k) = lua.app_data_ref::<StatKit>() {
        return Ok(which(&k).clone());
    }
    let types: String = MODE_TYPES
        .iter()
        .map(|(n, t)| format!("[{t}] = '{n}', "))
        .collect();
    let bits: String = MODE_BITS
        .iter()
        .map(|(n, b)| format!("{{'{n}', {b}}}, "))
        .collect();
    let make: Function = lua
        .load(format!(
            r#"
            local setmetatable, modeset_mt, timespec_mt = ...
            local TYPES = {{ {types} }}
            local BITS = {{ {bits} }}
            return function(dev, ino, mode, nlink, uid, gid, rdev, size, blocks, blksize, as, an, ms, mn, cs, cn)
              local m = {{}}
              local ty = TYPES[mode & {ifmt}]
              if ty then m[ty] = true end
              for i = 1, #BITS do
                local b = BITS[i]
                if mode & b[2] ~= 0 then m[b[1]] = true end
              end
              return {{
                dev = dev, ino = ino, mode = setmetatable(m, modeset_mt), nlink = nlink,
                uid = uid, gid = gid, rdev = rdev, size = size, blocks = blocks, blksize = blksize,
                atime = setmetatable({{ sec = as, nsec = an }}, timespec_mt),
                mtime = setmetatable({{ sec = ms, nsec = mn }}, timespec_mt),
                ctime = setmetatable({{ sec = cs, nsec = cn }}, timespec_mt),
              }}
            end
            "#,
            ifmt = libc::S_IFMT,
        ))
        .set_name("=flu.stat")
        .call((
            lua.globals().get::<Function>("setmetatable")?,
            super::sets::modeset_metatable(lua)?,
            super::time::timespec_metatable(lua)?,
        ))?;
    let reads: Vec<String> = STAT_FIELDS.iter().map(|f| format!("t.{f}")).collect();
    let fields: Function = lua
        .load(format!(
            "return function(t) return {} end",
            reads.join(", ")
        ))
        .set_name("=flu.stat")
        .call(())?;
    let k = StatKit { make, fields };
    let f = which(&k).clone();
    lua.set_app_data(k);
    Ok(f)
}

/// The fields of a stat table, read in one call (`STAT_FIELDS` order). Indexing as Lua
/// does, so a metatable's `__index` answers too.
struct Fields(Vec<Value>);

impl Fields {
    fn of(lua: &Lua, t: &Table) -> Result<Fields, String> {
        let values: MultiValue = kit(lua, |k| &k.fields)
            .and_then(|f| f.call(t.clone()))
            .map_err(|e| e.to_string())?;
        Ok(Fields(values.into_iter().collect()))
    }

    fn get(&self, name: &str) -> Result<Value, String> {
        Ok(STAT_FIELDS
            .iter()
            .position(|f| *f == name)
            .and_then(|i| self.0.get(i).cloned())
            .unwrap_or(Value::Nil))
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, String> {
        integer_value(name, self.get(name)?)
    }

    fn time(&self, names: [&str; 2]) -> Result<Option<Timespec>, String> {
        for name in names {
            let v = self.get(name)?;
            if !v.is_nil() {
                return timespec_from_lua(&v)
                    .map(Some)
                    .map_err(|e| format!("field '{name}': {e}"));
            }
        }
        Ok(None)
    }

    /// A cache lifetime in seconds (`attr_timeout`, `entry_timeout`): a number ≥ 0.
    fn seconds(&self, name: &str) -> Result<Option<std::time::Duration>, String> {
        let seconds = match self.get(name)? {
            Value::Nil => return Ok(None),
            Value::Integer(n) => n as f64,
            Value::Number(n) => n,
            other => {
                return Err(format!(
                    "field '{name}' must be a number of seconds, got {}",
                    other.type_name()
                ))
            }
        };
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(format!(
                "field '{name}' must be a number of seconds (0 or more), got {seconds}"
            ));
        }
        // Beyond a year is "forever" for a cache; the kernel takes 64-bit seconds anyway.
        Ok(Some(std::time::Duration::from_secs_f64(
            seconds.min(365.0 * 86400.0),
        )))
    }
}

/// A numeric field's value: Flu read fields with lua_isnumber, which takes numeric
/// strings too.
fn integer_value(name: &str, v: Value) -> Result<Option<i64>, String> {
    match v {
        Value::Nil => Ok(None),
        Value::Integer(n) => Ok(Some(n)),
        Value::Number(n) if n.is_finite() => Ok(Some(n as i64)),
        Value::String(s) => match s.to_string_lossy().trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n as i64)),
            _ => Err(format!("field '{name}' must be a number, got string")),
        },
        other => Err(format!(
            "field '{name}' must be a number, got {}",
            other.type_name()
        )),
    }
}

fn statfs_field(t: &Table, name: &str) -> Result<Option<i64>, String> {
    integer_value(name, t.get::<Value>(name).map_err(|e| e.to_string())?)
}

/// Read a stat table; missing fields get sane defaults (nlink 1 — 2 for a directory —,
/// the mounting user, the mount time, blocks from size).
pub fn stat_from_lua(v: &Value, defaults: &StatDefaults) -> Result<Stat, String> {
    let Value::Table(t) = v else {
        return Err(format!("table expected, got {}", v.type_name()));
    };
    // The table's own state: callers need not pass it.
    let f = Fields::of(&t.weak_lua().upgrade(), t)?;
    let mode_value = f.get("mode")?;
    let mode = if mode_value.is_nil() {
        libc::S_IFREG | 0o644
    } else {
        mode_from_lua(&mode_value).map_err(|e| format!("field 'mode': {e}"))?
    };
    let size = f.integer("size")?.unwrap_or(0).max(0) as u64;
    let is_dir = mode & libc::S_IFMT == libc::S_IFDIR;
    let atime = f.time(["atime", "access"])?.unwrap_or(defaults.time);
    let mtime = f.time(["mtime", "modification"])?.unwrap_or(defaults.time);
    let ctime = f.time(["ctime", "change"])?.unwrap_or(mtime);
    Ok(Stat {
        dev: f.integer("dev")?.unwrap_or(0) as u64,
        ino: f.integer("ino")?.unwrap_or(0) as u64,
        mode,
        nlink: f.integer("nlink")?.unwrap_or(if is_dir { 2 } else { 1 }) as u64,
        uid: f.integer("uid")?.map(|n| n as u32).unwrap_or(defaults.uid),
        gid: f.integer("gid")?.map(|n| n as u32).unwrap_or(defaults.gid),
        rdev: f.integer("rdev")?.unwrap_or(0) as u64,
        size,
        blocks: f
            .integer("blocks")?
            .map(|n| n as u64)
            .unwrap_or(size.div_ceil(512)),
        blksize: f.integer("blksize")?.map(|n| n as u32).unwrap_or(4096),
        atime,
        mtime,
        ctime,
        attr_timeout: f.seconds("attr_timeout")?,
        entry_timeout: f.seconds("entry_timeout")?,
    })
}

/// A stat table for a script (mode as a Flu set, times as `{sec=, nsec=}`).
pub fn stat_to_lua(lua: &Lua, st: &Stat) -> mlua::Result<Table> {
    kit(lua, |k| &k.make)?.call((
        st.dev as i64,
        st.ino as i64,
        i64::from(st.mode),
        st.nlink as i64,
        st.uid,
        st.gid,
        st.rdev as i64,
        st.size as i64,
        st.blocks as i64,
        st.blksize,
        st.atime.sec,
        st.atime.nsec,
        st.mtime.sec,
        st.mtime.nsec,
        st.ctime.sec,
        st.ctime.nsec,
    ))
}

/// Read a statfs table (Flu's names); `frsize` defaults to `bsize`.
pub fn statfs_from_lua(v: &Value) -> Result<StatFs, String> {
    let Value::Table(t) = v else {
        return Err(format!("table expected, got {}", v.type_name()));
    };
    let d = StatFs::default();
    let get = |name: &str, default: u64| -> Result<u64, String> {
        Ok(statfs_field(t, name)?.map(|n| n as u64).unwrap_or(default))
    };
    let bsize = get("bsize", d.bsize)?;
    let flag_value: Value = t.get("flag").map_err(|e| e.to_string())?;
    Ok(StatFs {
        bsize,
        frsize: get("frsize", bsize)?,
        blocks: get("blocks", 0)?,
        bfree: get("bfree", 0)?,
        bavail: get("bavail", 0)?,
        files: get("files", 0)?,
        ffree: get("ffree", 0)?,
        favail: get("favail", 0)?,
        fsid: get("fsid", 0)?,
        flag: bits_from_lua(&flag_value, STATVFS_FLAGS),
        namemax: get("namemax", d.namemax)?,
    })
}

/// A statfs table for a script.
pub fn statfs_to_lua(lua: &Lua, s: &StatFs) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 11)?;
    for (k, v) in [
        ("bsize", s.bsize),
        ("frsize", s.frsize),
        ("blocks", s.blocks),
        ("bfree", s.bfree),
        ("bavail", s.bavail),
        ("files", s.files),
        ("ffree", s.ffree),
        ("favail", s.favail),
        ("fsid", s.fsid),
        ("namemax", s.namemax),
    ] {
        t.raw_set(k, v as i64)?;
    }
    t.raw_set("flag", bits_to_lua(lua, s.flag, STATVFS_FLAGS)?)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flu_names_and_defaults() {
        let lua = Lua::new();
        let d = StatDefaults {
            uid: 7,
            gid: 8,
            time: Timespec::new(100, 0),
        };
        let v: Value = lua
            .load("return {mode={reg=true, rusr=true}, size=1000, modification=5.25, access={sec=3, nsec=9}}")
            .eval()
            .unwrap();
        let st = stat_from_lua(&v, &d).unwrap();
        assert_eq!(st.mode, libc::S_IFREG | 0o400);
        assert_eq!(st.size, 1000);
        assert_eq!(st.blocks, 2);
        assert_eq!(st.nlink, 1);
        assert_eq!((st.uid, st.gid), (7, 8));
        assert_eq!(st.mtime, Timespec::new(5, 250_000_000));
        assert_eq!(st.atime, Timespec::new(3, 9));
        assert_eq!(st.ctime, st.mtime);
        let v: Value = lua.load("return {mode='directory'}").eval().unwrap();
        let st = stat_from_lua(&v, &d).unwrap();
        assert_eq!((st.nlink, st.atime), (2, Timespec::new(100, 0)));
        let v: Value = lua.load("return {size='12'}").eval().unwrap();
        assert_eq!(stat_from_lua(&v, &d).unwrap().size, 12);
        let v: Value = lua.load("return {size='big'}").eval().unwrap();
        assert!(stat_from_lua(&v, &d).unwrap_err().contains("'size'"));
        assert!(stat_from_lua(&Value::Integer(1), &d).is_err());
    }

    #[test]
    fn stat_fields_are_the_fields_read() {
        // An empty table behind a proxy that records every key looked up: with nothing
        // set, the conversion asks for every field it knows (both spellings of times).
        let lua = Lua::new();
        let (proxy, read): (Value, Table) = lua
            .load(
                r#"
                local read = {}
                return setmetatable({}, { __index = function(_, k) read[#read + 1] = k end }), read
                "#,
            )
            .eval()
            .unwrap();
        stat_from_lua(&proxy, &StatDefaults::default()).unwrap();
        let mut read: Vec<String> = read.sequence_values().map(|k| k.unwrap()).collect();
        read.sort();
        read.dedup();
        let mut known: Vec<String> = STAT_FIELDS.iter().map(|s| s.to_string()).collect();
        known.sort();
        assert_eq!(read, known);
    }

    #[test]
    fn a_plain_table_and_one_with_a_metatable_read_alike() {
        let lua = Lua::new();
        let d = StatDefaults::default();
        let fields = "mode = 'file', size = 3, nlink = 2, uid = 7, gid = '8', \
                      mtime = 5, access = {sec = 1, nsec = 2}, blksize = 512, other = true";
        let plain: Value = lua.load(format!("return {{ {fields} }}")).eval().unwrap();
        let with_meta: Value = lua
            .load(format!("return setmetatable({{ {fields} }}, {{}})"))
            .eval()
            .unwrap();
        assert_eq!(stat_from_lua(&plain, &d), stat_from_lua(&with_meta, &d));
        // __index still answers for a table with a metatable.
        let defaults: Value = lua
            .load(
                "return setmetatable({ size = 1 }, { __index = { uid = 42, mode = 'directory' } })",
            )
            .eval()
            .unwrap();
        let st = stat_from_lua(&defaults, &d).unwrap();
        assert_eq!(
            (st.uid, st.mode & libc::S_IFMT, st.size),
            (42, libc::S_IFDIR, 1)
        );
        // A bad field is named either way.
        let bad: Value = lua.load("return { size = {} }").eval().unwrap();
        assert!(stat_from_lua(&bad, &d).unwrap_err().contains("'size'"));
    }

    #[test]
    fn cache_lifetimes_are_read_in_seconds() {
        let lua = Lua::new();
        let d = StatDefaults::default();
        let v: Value = lua
            .load("return { size = 1, attr_timeout = 0.25, entry_timeout = 3600 }")
            .eval()
            .unwrap();
        let st = stat_from_lua(&v, &d).unwrap();
        assert_eq!(st.attr_timeout, Some(std::time::Duration::from_millis(250)));
        assert_eq!(st.entry_timeout, Some(std::time::Duration::from_secs(3600)));
        let plain: Value = lua.load("return { size = 1 }").eval().unwrap();
        let st = stat_from_lua(&plain, &d).unwrap();
        assert_eq!((st.attr_timeout, st.entry_timeout), (None, None));
        for bad in ["-1", "0/0", "'soon'"] {
            let v: Value = lua
                .load(format!("return {{ attr_timeout = {bad} }}"))
                .eval()
                .unwrap();
            let e = stat_from_lua(&v, &d).unwrap_err();
            assert!(e.contains("attr_timeout"), "{bad}: {e}");
        }
    }

    #[test]
    fn stat_round_trip() {
        let lua = Lua::new();
        let st = Stat {
            dev: 1,
            ino: 99,
            mode: libc::S_IFLNK | 0o777,
            nlink: 3,
            uid: 1000,
            gid: 100,
            rdev: 0,
            size: 12,
            blocks: 8,
            blksize: 4096,
            atime: Timespec::new(1, 2),
            mtime: Timespec::new(3, 4),
            ctime: Timespec::new(5, 6),
            attr_timeout: None,
            entry_timeout: None,
        };
        let t = stat_to_lua(&lua, &st).unwrap();
        assert_eq!(
            stat_from_lua(&Value::Table(t), &StatDefaults::default()).unwrap(),
            st
        );
    }

    #[test]
    fn statfs_round_trip() {
        let lua = Lua::new();
        let v: Value = lua
            .load("return {bsize=4096, blocks=10, flag={rdonly=true}}")
            .eval()
            .unwrap();
        let s = statfs_from_lua(&v).unwrap();
        assert_eq!(
            (s.frsize, s.blocks, s.flag, s.namemax),
            (4096, 10, libc::ST_RDONLY, 255)
        );
        let t = statfs_to_lua(&lua, &s).unwrap();
        assert_eq!(statfs_from_lua(&Value::Table(t)).unwrap(), s);
    }
}
