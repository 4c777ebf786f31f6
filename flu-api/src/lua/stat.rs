//! Stat and statfs tables: what handlers return from getattr/statfs, read into `Stat` /
//! `StatFs` with Flu's defaults, and the tables handed to scripts by native handlers.
//!
//! Field names: `dev ino mode nlink uid gid rdev size blocks blksize` and the times as
//! `atime mtime ctime` or Flu/LuaFileSystem's `access modification change`; and the
//! names of the `fs` module's attribute tables (`inode`, integer nanoseconds as
//! `atime_ns mtime_ns ctime_ns`), so `fs.attr(path, false)` is a stat table as it is.

use std::borrow::Cow;

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::sets::{bits_from_lua, bits_to_lua, mode_from_lua, mode_from_name};
use super::stat_raw::{self, RawField, RawNumber};
use super::time::{timespec_from_lua, timespec_from_parts};
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
    "inode",
    "atime_ns",
    "mtime_ns",
    "ctime_ns",
];

/// statvfs flag names as Flu spells them.
pub const STATVFS_FLAGS: &[(&str, u64)] =
    &[("rdonly", libc::ST_RDONLY), ("nosuid", libc::ST_NOSUID)];

/// What the stat conversions keep per Lua state (app data, made with the `flu` module):
/// the metatable of the times handed to scripts (mode sets get theirs from `sets.rs`),
/// and the general reader of a stat table's fields, one call into Lua instead of one
/// crossing per field.
struct StatKit {
    timespec_mt: Table,
    fields: Function,
}

/// Make the kit of `lua` now (the `flu` module does, before the script runs).
pub fn install_kit(lua: &Lua) -> mlua::Result<()> {
    kit(lua, |_| ())
}

/// Use `lua`'s kit (made on first use: states made without the `flu` module, as in
/// tests).
fn kit<R>(lua: &Lua, with: impl FnOnce(&StatKit) -> R) -> mlua::Result<R> {
    if let Some(k) = lua.app_data_ref::<StatKit>() {
        return Ok(with(&k));
    }
    let reads: Vec<String> = STAT_FIELDS.iter().map(|f| format!("t.{f}")).collect();
    let fields: Function = lua
        .load(format!(
            "return function(t) return {} end",
            reads.join(", ")
        ))
        .set_name("=flu.stat")
        .call(())?;
    let k = StatKit {
        timespec_mt: super::time::timespec_metatable(lua)?,
        fields,
    };
    let r = with(&k);
    lua.set_app_data(k);
    Ok(r)
}

/// Which way a stat table may be read.
#[derive(Clone, Copy, PartialEq)]
enum Reader {
    /// Through the C API when the table is plain.
    Any,
    /// Through Lua only (what the C-API reader must agree with).
    #[cfg(test)]
    General,
}

/// The fields of `STAT_FIELDS`, by position.
#[derive(Clone, Copy, Debug)]
enum Field {
    Dev,
    Ino,
    Mode,
    Nlink,
    Uid,
    Gid,
    Rdev,
    Size,
    Blocks,
    Blksize,
    Atime,
    Access,
    Mtime,
    Modification,
    Ctime,
    Change,
    AttrTimeout,
    EntryTimeout,
    Inode,
    AtimeNs,
    MtimeNs,
    CtimeNs,
}

impl Field {
    fn name(self) -> &'static str {
        STAT_FIELDS[self as usize]
    }
}

/// One field as read, borrowed from `Fields`.
enum Read<'a> {
    Nil,
    /// A number from the C-API reader (made here), or any value from the general one.
    Value(Cow<'a, Value>),
    ModeBits(u32),
    ModeName(&'a [u8]),
    Time(RawNumber, RawNumber),
}

/// The fields of a stat table (`STAT_FIELDS` order): read through the C API when the
/// table is plain (`stat_raw`), else in one call into Lua, indexing as Lua does, so a
/// metatable's `__index` answers too.
// The plain fields stay on the stack on purpose: reading them allocates nothing.
#[allow(clippy::large_enum_variant)]
enum Fields {
    Plain(stat_raw::RawFields),
    General(Vec<Value>),
}

fn number_value(n: RawNumber) -> Value {
    match n {
        RawNumber::Absent => Value::Nil,
        RawNumber::Integer(i) => Value::Integer(i),
        RawNumber::Float(f) => Value::Number(f),
    }
}

impl Fields {
    fn of(lua: &Lua, t: &Table, reader: Reader) -> Result<Fields, String> {
        if reader == Reader::Any {
            if let Some(raw) = stat_raw::read_plain(lua, t) {
                return Ok(Fields::Plain(raw));
            }
        }
        let values: MultiValue = kit(lua, |k| k.fields.clone())
            .and_then(|f| f.call(t.clone()))
            .map_err(|e| e.to_string())?;
        Ok(Fields::General(values.into_iter().collect()))
    }

    fn read(&self, field: Field) -> Read<'_> {
        match self {
            Fields::Plain(raw) => match &raw[field as usize] {
                RawField::Number(RawNumber::Absent) => Read::Nil,
                RawField::Number(n) => Read::Value(Cow::Owned(number_value(*n))),
                RawField::ModeBits(bits) => Read::ModeBits(*bits),
                RawField::ModeName(bytes, len) => Read::ModeName(&bytes[..usize::from(*len)]),
                RawField::Time(sec, nsec) => Read::Time(*sec, *nsec),
            },
            Fields::General(values) => match values.get(field as usize) {
                None | Some(Value::Nil) => Read::Nil,
                Some(v) => Read::Value(Cow::Borrowed(v)),
            },
        }
    }

    /// A numeric field's value (the C-API reader decodes a table only for the mode and
    /// the times, which are never read as numbers).
    fn number(&self, field: Field) -> Value {
        match self.read(field) {
            Read::Value(v) => v.into_owned(),
            _ => Value::Nil,
        }
    }

    fn integer(&self, field: Field) -> Result<Option<i64>, String> {
        integer_value(field.name(), self.number(field))
    }

    /// The mode, if given.
    fn mode(&self) -> Result<Option<u32>, String> {
        let decoded = match self.read(Field::Mode) {
            Read::Nil => return Ok(None),
            Read::ModeBits(bits) => Ok(bits),
            Read::ModeName(name) => mode_from_name(&String::from_utf8_lossy(name)),
            Read::Value(v) => mode_from_lua(&v),
            Read::Time(..) => Err("mode expected (set, string or number), got table".into()),
        };
        decoded.map(Some).map_err(|e| format!("field 'mode': {e}"))
    }

    /// A time: integer nanoseconds (`ns`, the fs module's exact spelling) if given,
    /// else the first of two spellings that is.
    fn time(&self, ns: Field, fields: [Field; 2]) -> Result<Option<Timespec>, String> {
        if let Some(n) = self.integer(ns)? {
            return Ok(Some(Timespec::new(
                n.div_euclid(1_000_000_000),
                n.rem_euclid(1_000_000_000) as u32,
            )));
        }
        for field in fields {
            let t = match self.read(field) {
                Read::Nil => continue,
                Read::Value(v) => timespec_from_lua(&v),
                Read::Time(sec, nsec) => timespec_from_parts(number_value(sec), number_value(nsec)),
                Read::ModeBits(_) | Read::ModeName(_) => {
                    Err("time expected (number or {sec=, nsec=}), got table".into())
                }
            };
            return t
                .map(Some)
                .map_err(|e| format!("field '{}': {e}", field.name()));
        }
        Ok(None)
    }

    /// A cache lifetime in seconds (`attr_timeout`, `entry_timeout`): a number ≥ 0.
    fn seconds(&self, field: Field) -> Result<Option<std::time::Duration>, String> {
        let name = field.name();
        let seconds = match self.number(field) {
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
    read_stat(v, defaults, Reader::Any)
}

/// `stat_from_lua` without the C-API reader, for the tests that hold the two readers
/// together.
#[cfg(test)]
pub(super) fn stat_from_lua_general(v: &Value, defaults: &StatDefaults) -> Result<Stat, String> {
    read_stat(v, defaults, Reader::General)
}

fn read_stat(v: &Value, defaults: &StatDefaults, reader: Reader) -> Result<Stat, String> {
    let Value::Table(t) = v else {
        return Err(format!("table expected, got {}", v.type_name()));
    };
    // The table's own state: callers need not pass it.
    let f = Fields::of(&t.weak_lua().upgrade(), t, reader)?;
    let mode = f.mode()?.unwrap_or(libc::S_IFREG | 0o644);
    let size = f.integer(Field::Size)?.unwrap_or(0).max(0) as u64;
    let is_dir = mode & libc::S_IFMT == libc::S_IFDIR;
    let atime = f
        .time(Field::AtimeNs, [Field::Atime, Field::Access])?
        .unwrap_or(defaults.time);
    let mtime = f
        .time(Field::MtimeNs, [Field::Mtime, Field::Modification])?
        .unwrap_or(defaults.time);
    let ctime = f
        .time(Field::CtimeNs, [Field::Ctime, Field::Change])?
        .unwrap_or(mtime);
    Ok(Stat {
        dev: f.integer(Field::Dev)?.unwrap_or(0) as u64,
        ino: match f.integer(Field::Ino)? {
            Some(n) => n,
            None => f.integer(Field::Inode)?.unwrap_or(0),
        } as u64,
        mode,
        nlink: f
            .integer(Field::Nlink)?
            .unwrap_or(if is_dir { 2 } else { 1 }) as u64,
        uid: f
            .integer(Field::Uid)?
            .map(|n| n as u32)
            .unwrap_or(defaults.uid),
        gid: f
            .integer(Field::Gid)?
            .map(|n| n as u32)
            .unwrap_or(defaults.gid),
        rdev: f.integer(Field::Rdev)?.unwrap_or(0) as u64,
        size,
        blocks: f
            .integer(Field::Blocks)?
            .map(|n| n as u64)
            .unwrap_or(size.div_ceil(512)),
        blksize: f.integer(Field::Blksize)?.map(|n| n as u32).unwrap_or(4096),
        atime,
        mtime,
        ctime,
        attr_timeout: f.seconds(Field::AttrTimeout)?,
        entry_timeout: f.seconds(Field::EntryTimeout)?,
    })
}

/// A stat table for a script (mode as a Flu set, times as `{sec=, nsec=}`).
pub fn stat_to_lua(lua: &Lua, st: &Stat) -> mlua::Result<Table> {
    let timespec_mt = kit(lua, |k| k.timespec_mt.clone())?;
    stat_raw::make(lua, st, &super::sets::modeset_metatable(lua)?, &timespec_mt)
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

    /// An `fs.attr` table (any file, `deref` false) read as a stat table gives the
    /// file's lstat, times to the nanosecond; both readers agree.
    #[test]
    fn fs_attr_tables_are_stat_tables() {
        use std::os::unix::fs::MetadataExt;
        let dir = crate::test_support::TempDir::new("stat-attr");
        let file = dir.path().join("f");
        std::fs::write(&file, b"hello").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink("f", &link).unwrap();
        let lua = Lua::new();
        lua.globals()
            .set("fs", crate::fs::create_module(&lua).unwrap())
            .unwrap();
        let d = StatDefaults::default();
        for path in [dir.path(), &file, &link] {
            let v: Value = lua
                .load("return fs.attr(..., false)")
                .call(path.to_str().unwrap())
                .unwrap();
            let md = std::fs::symlink_metadata(path).unwrap();
            for st in [
                stat_from_lua(&v, &d).unwrap(),
                stat_from_lua_general(&v, &d).unwrap(),
            ] {
                assert_eq!(st.mode, md.mode(), "{path:?}");
                assert_eq!(st.ino, md.ino());
                assert_eq!(
                    (st.dev, st.nlink, st.size),
                    (md.dev(), md.nlink(), md.size())
                );
                assert_eq!(
                    (st.uid, st.gid, st.blocks),
                    (md.uid(), md.gid(), md.blocks())
                );
                assert_eq!(st.blksize as u64, md.blksize());
                // (Not atime: any reader of the directory may move it meanwhile.)
                assert_eq!(st.mtime, Timespec::new(md.mtime(), md.mtime_nsec() as u32));
                assert_eq!(st.ctime, Timespec::new(md.ctime(), md.ctime_nsec() as u32));
            }
        }
    }

    /// `_ns` times win over the other spellings, `ino` over `inode`; times before the
    /// epoch count down from it.
    #[test]
    fn fs_module_spellings_and_their_precedence() {
        let lua = Lua::new();
        let d = StatDefaults::default();
        let read = |src: &str| {
            let v: Value = lua.load(src).eval().unwrap();
            let a = stat_from_lua(&v, &d).unwrap();
            assert_eq!(a, stat_from_lua_general(&v, &d).unwrap(), "{src}");
            a
        };
        let st = read("return {atime=1.5, atime_ns=2000000003, mtime_ns=7, access=9}");
        assert_eq!(st.atime, Timespec::new(2, 3));
        assert_eq!(st.mtime, Timespec::new(0, 7));
        assert_eq!(st.ctime, st.mtime);
        assert_eq!(
            read("return {ctime_ns=-1}").ctime,
            Timespec::new(-1, 999_999_999)
        );
        assert_eq!(read("return {inode=7}").ino, 7);
        assert_eq!(read("return {ino=5, inode=7}").ino, 5);
        let v: Value = lua.load("return {mtime_ns='soon'}").eval().unwrap();
        assert!(stat_from_lua(&v, &d).unwrap_err().contains("'mtime_ns'"));
    }

    #[test]
    fn field_positions_follow_stat_fields() {
        use Field::*;
        let all = [
            Dev,
            Ino,
            Mode,
            Nlink,
            Uid,
            Gid,
            Rdev,
            Size,
            Blocks,
            Blksize,
            Atime,
            Access,
            Mtime,
            Modification,
            Ctime,
            Change,
            AttrTimeout,
            EntryTimeout,
            Inode,
            AtimeNs,
            MtimeNs,
            CtimeNs,
        ];
        assert_eq!(all.len(), STAT_FIELDS.len());
        for f in all {
            let spelled: String = format!("{f:?}")
                .chars()
                .flat_map(|c| {
                    let lower = c.to_ascii_lowercase();
                    if c.is_ascii_uppercase() {
                        vec!['_', lower]
                    } else {
                        vec![c]
                    }
                })
                .skip(1)
                .collect();
            assert_eq!(f.name(), spelled);
        }
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
