//! Property tests over every Lua→Rust conversion ("Nothing knocks it over"): arbitrary
//! Lua values — nil, booleans, extreme integers and floats, strings of any bytes, nested
//! tables keyed by the real field and set names, tables whose `__index` raises or falls
//! back to anything, functions, userdata, errno values — fed to the stat, statfs, mode,
//! open flag, bit set, time and errno readers, to the handler result checks, and, through
//! a whole script driven by the operation traits, to getattr, statfs, read, write,
//! listxattr and readdir's `filler`. Each property says what must hold beyond "it
//! returned"; a panic anywhere (also one caught inside a Lua call) fails it.
//!
//! The value generator is shared with `ops/fuzz_tests.rs` (lock tables, native
//! function arguments).

use std::cell::Cell;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::sync::{Arc, Once};

use mlua::{Function, LightUserData, Lua, MultiValue, Table, UserData, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;

use super::call::{
    call_protected, check_report, expect_bytes, expect_count, expect_unit, first, install,
    HandlerError,
};
use super::errno::{errno_of_report, errno_of_value, LuaErrno};
use super::sets::{
    bits_from_lua, bits_to_lua, mode_from_lua, mode_to_lua, open_flags_from_lua, open_flags_to_lua,
    MODE_BITS, MODE_TYPES, OPEN_FLAG_BITS,
};
use super::stat::{
    stat_from_lua, stat_to_lua, statfs_from_lua, statfs_to_lua, StatDefaults, STATVFS_FLAGS,
};
use super::time::{timespec_from_lua, timespec_to_lua};
use super::{default_environment, Script, ScriptOutcome};
use crate::errno::Errno;
use crate::errno_table::ERRNO_NAMES;
use crate::operations::{Fh, Operations, RequestContext};
use crate::stat::{Stat, StatFs};
use crate::test_support::TempDir;
use crate::time::Timespec;

/// 256 cases per property, nothing written into the source tree.
pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Panics caught by mlua inside a Lua call (a Rust callback such as `filler` panicking
// under `pcall`/`xpcall` becomes a Lua error): counted per thread by a panic hook.

thread_local! {
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Panics so far on this thread (the hook is installed on first use).
pub(crate) fn panics_on_this_thread() -> usize {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            previous(info)
        }));
    });
    PANICS.with(Cell::get)
}

// ---------------------------------------------------------------------------------------
// Arbitrary Lua values.

/// A Lua value to build: the generator's tree, turned into an `mlua::Value` by `value`.
#[derive(Clone)]
pub(crate) enum Gen {
    Nil,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(Vec<u8>),
    /// A `flu.errno.X` userdata.
    Errno(i32),
    /// A Rust function (returns nothing).
    Func,
    /// A userdata that is no errno.
    Opaque,
    Light,
    /// A table with these entries (nil and NaN keys are left out, as Lua cannot hold them).
    Table(Vec<(Gen, Gen)>),
    /// A sequence `{v1, v2, …}` (a nil makes a hole).
    Array(Vec<Gen>),
    /// A table whose metatable's `__index` raises an error.
    Raising(Vec<(Gen, Gen)>),
    /// A table whose metatable's `__index` is the second value (of any type).
    Inherits(Vec<(Gen, Gen)>, Box<Gen>),
}

impl fmt::Debug for Gen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gen::Nil => write!(f, "nil"),
            Gen::Bool(b) => write!(f, "{b}"),
            Gen::Int(n) => write!(f, "{n}"),
            Gen::Num(n) => write!(f, "{n:?}f"),
            Gen::Str(s) => write!(f, "\"{}\"", s.escape_ascii()),
            Gen::Errno(c) => write!(f, "errno({c})"),
            Gen::Func => write!(f, "function"),
            Gen::Opaque => write!(f, "userdata"),
            Gen::Light => write!(f, "lightuserdata"),
            Gen::Table(kv) => write_entries(f, "", kv),
            Gen::Array(vs) => f.debug_list().entries(vs).finish(),
            Gen::Raising(kv) => write_entries(f, "raising", kv),
            Gen::Inherits(kv, parent) => {
                write_entries(f, "", kv)?;
                write!(f, " inheriting {parent:?}")
            }
        }
    }
}

fn write_entries(f: &mut fmt::Formatter<'_>, tag: &str, kv: &[(Gen, Gen)]) -> fmt::Result {
    write!(f, "{tag}{{")?;
    for (k, v) in kv {
        write!(f, "[{k:?}]={v:?}, ")?;
    }
    write!(f, "}}")
}

struct Opaque;
impl UserData for Opaque {}

/// The Lua value `g` describes.
pub(crate) fn value(lua: &Lua, g: &Gen) -> mlua::Result<Value> {
    Ok(match g {
        Gen::Nil => Value::Nil,
        Gen::Bool(b) => Value::Boolean(*b),
        Gen::Int(n) => Value::Integer(*n),
        Gen::Num(n) => Value::Number(*n),
        Gen::Str(s) => Value::String(lua.create_string(s)?),
        Gen::Errno(c) => Value::UserData(lua.create_userdata(LuaErrno(Errno(*c)))?),
        Gen::Func => Value::Function(lua.create_function(|_, _: MultiValue| Ok(()))?),
        Gen::Opaque => Value::UserData(lua.create_userdata(Opaque)?),
        Gen::Light => Value::LightUserData(LightUserData(std::ptr::null_mut())),
        Gen::Table(kv) => Value::Table(table(lua, kv)?),
        Gen::Array(vs) => {
            let t = lua.create_table()?;
            for (i, v) in vs.iter().enumerate() {
                t.raw_set(i + 1, value(lua, v)?)?;
            }
            Value::Table(t)
        }
        Gen::Raising(kv) => {
            let t = table(lua, kv)?;
            let mt = lua.create_table()?;
            mt.raw_set(
                "__index",
                lua.create_function(|_, _: MultiValue| -> mlua::Result<()> {
                    Err(mlua::Error::runtime("__index raised"))
                })?,
            )?;
            t.set_metatable(Some(mt))?;
            Value::Table(t)
        }
        Gen::Inherits(kv, parent) => {
            let t = table(lua, kv)?;
            let mt = lua.create_table()?;
            mt.raw_set("__index", value(lua, parent)?)?;
            t.set_metatable(Some(mt))?;
            Value::Table(t)
        }
    })
}

fn table(lua: &Lua, kv: &[(Gen, Gen)]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (k, v) in kv {
        let k = value(lua, k)?;
        if matches!(k, Value::Nil) || matches!(k, Value::Number(n) if n.is_nan()) {
            continue;
        }
        t.raw_set(k, value(lua, v)?)?;
    }
    Ok(t)
}

/// The field names of stat, statfs, time, lock and fi tables.
pub(crate) const FIELD_NAMES: &[&str] = &[
    "mode",
    "size",
    "ino",
    "dev",
    "nlink",
    "uid",
    "gid",
    "rdev",
    "blocks",
    "blksize",
    "atime",
    "mtime",
    "ctime",
    "access",
    "modification",
    "change",
    "sec",
    "nsec",
    "bsize",
    "frsize",
    "bfree",
    "bavail",
    "files",
    "ffree",
    "favail",
    "fsid",
    "flag",
    "namemax",
    "type",
    "start",
    "end",
    "pid",
    "flags",
    "fh",
    "lock_owner",
    "number",
    "message",
];

/// Flu set names: modes, open flags (both spellings), statvfs and xattr flags.
pub(crate) const SET_NAMES: &[&str] = &[
    "reg",
    "dir",
    "lnk",
    "blk",
    "chr",
    "fifo",
    "sock",
    "rusr",
    "wusr",
    "xusr",
    "rgrp",
    "wgrp",
    "xgrp",
    "roth",
    "woth",
    "xoth",
    "suid",
    "sgid",
    "svtx",
    "rdonly",
    "wronly",
    "rdwr",
    "creat",
    "excl",
    "trunc",
    "append",
    "sync",
    "dsync",
    "directory",
    "tmpfile",
    "nosuid",
    "create",
    "replace",
    "O_RDONLY",
    "O_WRONLY",
    "O_RDWR",
    "O_CREAT",
    "O_TRUNC",
    "O_APPEND",
    "O_SYNC",
];

/// Words handlers pass as strings: mode strings, lock types, errno names and messages,
/// numbers as text, and names no listing may contain.
const WORDS: &[&str] = &[
    "file",
    "directory",
    "link",
    "socket",
    "named pipe",
    "char device",
    "block device",
    "other",
    "symlink",
    "pipe",
    "chardev",
    "blockdev",
    "unknown",
    "now",
    "rdlck",
    "wrlck",
    "unlck",
    "read",
    "write",
    "ENOENT",
    "EACCES",
    "ENOATTR",
    "EWOULDBLOCK",
    "not_found",
    "access_denied",
    "No such file or directory",
    "Permission denied",
    "0644",
    "0o755",
    "100644",
    "37777777777",
    "40000000000",
    "777777777777777777777777",
    "12",
    " 12 ",
    "-5",
    "2",
    "-2",
    "4096",
    "1e3",
    "1.5",
    "inf",
    "-inf",
    "nan",
    "1e400",
    "0x10",
    "",
    ".",
    "..",
    "a/b",
    "/",
    "a\0b",
    "\0",
    "name",
    "user.x",
    "\u{fffd}",
];

fn special_ints() -> Vec<i64> {
    vec![
        i64::MIN,
        i64::MIN + 1,
        i64::MAX,
        -1,
        0,
        1,
        2,
        -2,
        13,
        -13,
        4095,
        4096,
        -4095,
        -4096,
        i32::MAX as i64,
        i32::MIN as i64,
        i32::MAX as i64 + 1,
        u32::MAX as i64,
        u32::MAX as i64 + 1,
        999_999_999,
        1_000_000_000,
        0o100644,
        0o40755,
        0o170000,
        0o7777,
        libc::O_WRONLY as i64 | libc::O_CREAT as i64,
    ]
}

fn special_floats() -> Vec<f64> {
    vec![
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        2.0,
        -2.0,
        13.0,
        1e-10,
        -1e-10,
        f64::MIN_POSITIVE,
        -5e-324,
        5e-324,
        0.999_999_999_9,
        999_999_999.5,
        1e9,
        1e300,
        -1e300,
        f64::MAX,
        f64::MIN,
        i64::MAX as f64,
        i64::MIN as f64,
        u64::MAX as f64,
        4_294_967_295.0,
        4_294_967_296.0,
        33188.0,
    ]
}

fn any_int() -> BoxedStrategy<i64> {
    prop_oneof![
        select(special_ints()),
        any::<i64>(),
        -5000i64..5000,
        0i64..=0o177777,
    ]
    .boxed()
}

fn any_float() -> BoxedStrategy<f64> {
    prop_oneof![
        select(special_floats()),
        any::<f64>(),
        -1e12f64..1e12,
        (-1e4f64..1e4).prop_map(f64::trunc),
    ]
    .boxed()
}

fn any_bytes() -> BoxedStrategy<Vec<u8>> {
    let names: Vec<&'static str> = FIELD_NAMES
        .iter()
        .chain(SET_NAMES)
        .chain(WORDS)
        .copied()
        .collect();
    prop_oneof![
        4 => select(names).prop_map(|s| s.as_bytes().to_vec()),
        2 => vec(any::<u8>(), 0..24),
        2 => vec(select(b"/\0a.\xff \xc3".to_vec()), 0..8),
        1 => any_int().prop_map(|n| n.to_string().into_bytes()),
        1 => any_float().prop_map(|n| n.to_string().into_bytes()),
        1 => (1usize..6000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ]
    .boxed()
}

/// An errno code as `flu.errno` holds them (1..4095).
fn errno_code() -> BoxedStrategy<i32> {
    prop_oneof![
        select(ERRNO_NAMES.iter().map(|(_, c)| *c).collect::<Vec<_>>()),
        1i32..4096
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Gen> {
    prop_oneof![
        2 => Just(Gen::Nil),
        1 => any::<bool>().prop_map(Gen::Bool),
        3 => any_int().prop_map(Gen::Int),
        3 => any_float().prop_map(Gen::Num),
        4 => any_bytes().prop_map(Gen::Str),
        1 => errno_code().prop_map(Gen::Errno),
        1 => Just(Gen::Func),
        1 => Just(Gen::Opaque),
        1 => Just(Gen::Light),
    ]
    .boxed()
}

fn name_key() -> BoxedStrategy<Gen> {
    select(
        FIELD_NAMES
            .iter()
            .chain(SET_NAMES)
            .copied()
            .collect::<Vec<_>>(),
    )
    .prop_map(|s| Gen::Str(s.as_bytes().to_vec()))
    .boxed()
}

/// Any value: leaves, and tables nested up to three deep keyed mostly by real names.
pub(crate) fn any_gen() -> BoxedStrategy<Gen> {
    let tree = leaf().prop_recursive(3, 48, 8, |inner| {
        let key = prop_oneof![3 => name_key(), 1 => inner.clone()];
        let entries = vec((key, inner.clone()), 0..8);
        prop_oneof![
            4 => entries.clone().prop_map(Gen::Table),
            2 => vec(inner.clone(), 0..6).prop_map(Gen::Array),
            1 => entries.clone().prop_map(Gen::Raising),
            1 => (entries, inner).prop_map(|(kv, p)| Gen::Inherits(kv, Box::new(p))),
        ]
    });
    prop_oneof![4 => tree, 2 => plausible_record(), 1 => leaf()].boxed()
}

/// A value a field plausibly holds: a number, a numeric string, a time or a set.
fn plausible_field() -> BoxedStrategy<Gen> {
    let set = vec(
        (
            select(SET_NAMES.to_vec()).prop_map(|s| Gen::Str(s.as_bytes().to_vec())),
            prop_oneof![3 => Just(Gen::Bool(true)), 1 => leaf()],
        ),
        0..6,
    )
    .prop_map(Gen::Table);
    let time = (
        prop_oneof![
            any_int().prop_map(Gen::Int),
            any_float().prop_map(Gen::Num),
            Just(Gen::Nil)
        ],
        prop_oneof![
            (0i64..1_000_000_000).prop_map(Gen::Int),
            any_int().prop_map(Gen::Int),
            any_float().prop_map(Gen::Num),
            Just(Gen::Nil)
        ],
    )
        .prop_map(|(s, n)| {
            Gen::Table(vec![
                (Gen::Str(b"sec".to_vec()), s),
                (Gen::Str(b"nsec".to_vec()), n),
            ])
        });
    prop_oneof![
        4 => any_int().prop_map(Gen::Int),
        2 => any_float().prop_map(Gen::Num),
        1 => any_int().prop_map(|n| Gen::Str(n.to_string().into_bytes())),
        2 => time,
        2 => set,
        1 => leaf(),
    ]
    .boxed()
}

/// A table of real field names with plausible values (so conversions also succeed).
fn plausible_record() -> BoxedStrategy<Gen> {
    vec((name_key(), plausible_field()), 0..8)
        .prop_map(Gen::Table)
        .boxed()
}

/// A table keyed by stat field names (the cache lifetimes too) whose values are
/// plausible fields, mode strings of every kind, or anything.
fn stat_record() -> BoxedStrategy<Gen> {
    let key = select(crate::lua::stat::STAT_FIELDS.to_vec())
        .prop_map(|s| Gen::Str(s.as_bytes().to_vec()));
    let mode_string = select(vec![
        "file",
        "directory",
        "dir",
        "symlink",
        "block device",
        "0644",
        "100755",
        "0o755",
        "99",
        "",
        "not a mode",
        "a mode string longer than the reader copies",
    ])
    .prop_map(|s| Gen::Str(s.as_bytes().to_vec()));
    let value = prop_oneof![3 => plausible_field(), 2 => mode_string, 1 => leaf()];
    vec((key, value), 0..10).prop_map(Gen::Table).boxed()
}

/// A handler's result list: what it returns, or a value it raises.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Return(Vec<Gen>),
    Raise(Gen),
}

fn outcome(results: impl Strategy<Value = Gen> + Clone + 'static) -> BoxedStrategy<Outcome> {
    let report = (
        prop_oneof![
            any_bytes().prop_map(Gen::Str),
            errno_code().prop_map(Gen::Errno),
            any_int().prop_map(Gen::Int),
            any_float().prop_map(Gen::Num),
            Just(Gen::Nil),
        ],
        prop_oneof![
            Just(Gen::Nil),
            any_int().prop_map(Gen::Int),
            any_float().prop_map(Gen::Num)
        ],
    )
        .prop_map(|(err, code)| Outcome::Return(vec![Gen::Nil, err, code]));
    prop_oneof![
        5 => vec(results.clone(), 0..4).prop_map(Outcome::Return),
        2 => results.clone().prop_map(|g| Outcome::Return(vec![g])),
        2 => report,
        2 => prop_oneof![results, errno_code().prop_map(Gen::Errno), any_int().prop_map(Gen::Int)]
            .prop_map(Outcome::Raise),
    ]
    .boxed()
}

fn multi(lua: &Lua, gens: &[Gen]) -> mlua::Result<MultiValue> {
    gens.iter().map(|g| value(lua, g)).collect()
}

/// A Lua state with the protected-call machinery installed, as `Script::load` does.
fn lua_with_calls() -> Lua {
    // SAFETY: the debug library is loaded on purpose (tracebacks), as scripts get it.
    let lua = unsafe { Lua::unsafe_new_with(mlua::StdLib::ALL, mlua::LuaOptions::default()) };
    let is_errno = lua
        .create_function(|_, v: Value| Ok(errno_of_value(&v).is_some()))
        .unwrap();
    install(&lua, is_errno).unwrap();
    lua
}

// ---------------------------------------------------------------------------------------
// Valid Rust values for round trips.

fn any_timespec() -> BoxedStrategy<Timespec> {
    (any::<i64>(), 0u32..1_000_000_000)
        .prop_map(|(s, n)| Timespec::new(s, n))
        .boxed()
}

/// A mode flu can name: one known file type (or none) and any permission bits.
fn known_mode() -> BoxedStrategy<u32> {
    let types: Vec<u32> = std::iter::once(0)
        .chain(MODE_TYPES.iter().map(|(_, t)| *t))
        .collect();
    (select(types), 0u32..=0o7777)
        .prop_map(|(t, p)| t | p)
        .boxed()
}

fn any_stat() -> BoxedStrategy<Stat> {
    (
        (any::<u64>(), any::<u64>(), known_mode(), any::<u64>()),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u64>(),
            0..=i64::MAX as u64,
        ),
        (any::<u64>(), any::<u32>()),
        (any_timespec(), any_timespec(), any_timespec()),
    )
        .prop_map(
            |((dev, ino, mode, nlink), (uid, gid, rdev, size), (blocks, blksize), (a, m, c))| {
                Stat {
                    dev,
                    ino,
                    mode,
                    nlink,
                    uid,
                    gid,
                    rdev,
                    size,
                    blocks,
                    blksize,
                    atime: a,
                    mtime: m,
                    ctime: c,
                    attr_timeout: None,
                    entry_timeout: None,
                }
            },
        )
        .boxed()
}

fn any_statfs() -> BoxedStrategy<StatFs> {
    (
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
        (any::<u64>(), any::<bool>(), any::<bool>(), any::<u64>()),
    )
        .prop_map(
            |(
                (bsize, frsize, blocks, bfree),
                (bavail, files, ffree, favail),
                (fsid, ro, ns, namemax),
            )| {
                StatFs {
                    bsize,
                    frsize,
                    blocks,
                    bfree,
                    bavail,
                    files,
                    ffree,
                    favail,
                    fsid,
                    flag: if ro { libc::ST_RDONLY } else { 0 }
                        | if ns { libc::ST_NOSUID } else { 0 },
                    namemax,
                }
            },
        )
        .boxed()
}

/// A key of an open flag set: a flag's name, its C spelling, a wrong-case spelling, or
/// another key.
fn flag_key() -> BoxedStrategy<Gen> {
    let names: Vec<&str> = ["rdonly", "wronly", "rdwr"]
        .into_iter()
        .chain(OPEN_FLAG_BITS.iter().map(|(n, _)| *n))
        .collect();
    (select(names), 0..4u8)
        .prop_map(|(n, spelling)| {
            Gen::Str(
                match spelling {
                    0 => n.to_string(),
                    1 => format!("O_{}", n.to_ascii_uppercase()),
                    2 => format!("O_{n}"),
                    _ => n.to_ascii_uppercase(),
                }
                .into_bytes(),
            )
        })
        .boxed()
}

/// Open flags flu can name: an access mode and any of the named flags.
fn known_open_flags() -> BoxedStrategy<i32> {
    (
        select(vec![libc::O_RDONLY, libc::O_WRONLY, libc::O_RDWR]),
        vec(select(OPEN_FLAG_BITS.to_vec()), 0..6),
    )
        .prop_map(|(acc, bits)| bits.iter().fold(acc, |f, (_, b)| f | b))
        .boxed()
}

fn defaults() -> StatDefaults {
    StatDefaults {
        uid: 7,
        gid: 8,
        time: Timespec::new(100, 5),
    }
}

// ---------------------------------------------------------------------------------------
// The conversions, one by one.

proptest! {
    #![proptest_config(config())]

    /// stat_from_lua takes any value without panicking; only a table can be a stat, and
    /// every time it reads is a valid timespec (nsec below one second).
    #[test]
    fn stat_from_lua_survives_anything(g in any_gen()) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        let r = stat_from_lua(&v, &defaults());
        if !matches!(v, Value::Table(_)) {
            prop_assert!(r.is_err());
        }
        if let Ok(st) = r {
            for t in [st.atime, st.mtime, st.ctime] {
                prop_assert!(t.nsec < 1_000_000_000, "{st:?}");
            }
        }
    }

    /// The C-API reader of plain stat tables and the general one agree on every value,
    /// stat or error alike (plausible records and arbitrary trees).
    #[test]
    fn both_stat_readers_agree(g in prop_oneof![any_gen(), plausible_record(), stat_record()]) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        prop_assert_eq!(
            stat_from_lua(&v, &defaults()),
            crate::lua::stat::stat_from_lua_general(&v, &defaults())
        );
    }

    /// stat_to_lua then stat_from_lua gives back the same Stat, for any Stat whose mode
    /// flu can name and whose size fits an off_t.
    #[test]
    fn stat_round_trips(st in any_stat()) {
        let lua = Lua::new();
        let t = stat_to_lua(&lua, &st).unwrap();
        prop_assert_eq!(stat_from_lua(&Value::Table(t), &defaults()), Ok(st));
    }

    /// statfs_from_lua takes any value without panicking; only a table can be a statfs.
    #[test]
    fn statfs_from_lua_survives_anything(g in any_gen()) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        let r = statfs_from_lua(&v);
        if !matches!(v, Value::Table(_)) {
            prop_assert!(r.is_err());
        }
    }

    /// statfs_to_lua then statfs_from_lua gives back the same StatFs (any counts, the
    /// flags flu names).
    #[test]
    fn statfs_round_trips(s in any_statfs()) {
        let lua = Lua::new();
        let t = statfs_to_lua(&lua, &s).unwrap();
        prop_assert_eq!(statfs_from_lua(&Value::Table(t)), Ok(s));
    }

    /// mode_from_lua takes any value without panicking; a number is taken exactly when it
    /// is an integer in u32's range, and then as itself.
    #[test]
    fn mode_from_lua_survives_anything(g in any_gen(), n in any_int(), f in any_float()) {
        let lua = Lua::new();
        for v in [value(&lua, &g).unwrap(), Value::Integer(n), Value::Number(f)] {
            let r = mode_from_lua(&v);
            match v {
                Value::Integer(n) => prop_assert_eq!(r.ok(), u32::try_from(n).ok()),
                Value::Number(n) => {
                    let exact = n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n);
                    prop_assert_eq!(r.is_ok(), exact, "{:?} for {}", r, n);
                    if let Ok(m) = r {
                        prop_assert_eq!(m as f64, n);
                    }
                }
                Value::String(_) | Value::Table(_) => {}
                _ => prop_assert!(r.is_err()),
            }
        }
    }

    /// Any mode flu can name survives mode_to_lua → mode_from_lua, the set's `.number`
    /// seen from Lua, and the octal string spellings ("100644", "0o100644").
    #[test]
    fn mode_round_trips(mode in known_mode()) {
        let lua = Lua::new();
        let t = mode_to_lua(&lua, mode).unwrap();
        prop_assert_eq!(mode_from_lua(&Value::Table(t.clone())), Ok(mode));
        lua.globals().set("m", t).unwrap();
        let number: i64 = lua.load("return m.number").eval().unwrap();
        prop_assert_eq!(number, i64::from(mode));
        for s in [format!("{mode:o}"), format!("0o{mode:o}"), format!("0{mode:o}")] {
            let v = Value::String(lua.create_string(&s).unwrap());
            prop_assert_eq!(mode_from_lua(&v), Ok(mode), "{}", s);
        }
        prop_assert_eq!(mode_from_lua(&Value::Integer(i64::from(mode))), Ok(mode));
    }

    /// open_flags_from_lua takes any value without panicking; an integer is taken exactly
    /// when it fits an i32, and then as itself.
    #[test]
    fn open_flags_from_lua_survives_anything(g in any_gen(), n in any_int()) {
        let lua = Lua::new();
        for v in [value(&lua, &g).unwrap(), Value::Integer(n)] {
            let r = open_flags_from_lua(&v);
            match v {
                Value::Integer(n) => prop_assert_eq!(r.ok(), i32::try_from(n).ok()),
                Value::Table(_) => prop_assert!(r.is_ok()),
                _ => prop_assert!(r.is_err()),
            }
        }
    }

    /// Any access mode with any named flags survives open_flags_to_lua →
    /// open_flags_from_lua, and a set spelled with `O_` names reads the same as one with
    /// the plain names.
    #[test]
    fn open_flags_round_trip(flags in known_open_flags()) {
        let lua = Lua::new();
        let t = open_flags_to_lua(&lua, flags).unwrap();
        prop_assert_eq!(open_flags_from_lua(&Value::Table(t.clone())), Ok(flags));
        let upper = lua.create_table().unwrap();
        for pair in t.pairs::<String, Value>() {
            let (k, v) = pair.unwrap();
            upper.raw_set(format!("O_{}", k.to_ascii_uppercase()), v).unwrap();
        }
        prop_assert_eq!(open_flags_from_lua(&Value::Table(upper)), Ok(flags));
    }

    /// A set of open flags reads as the flags whose names (in either spelling, or in a
    /// wrong case, which does not count) hold a true value, whatever else it holds.
    #[test]
    fn open_flag_sets_read_by_name(entries in vec((flag_key(), leaf()), 0..10)) {
        let lua = Lua::new();
        let g = Gen::Table(entries);
        let Value::Table(t) = value(&lua, &g).unwrap() else { unreachable!() };
        // The model: each name looked up in both spellings.
        let has = |name: &str| {
            [name.to_string(), format!("O_{}", name.to_ascii_uppercase())]
                .iter()
                .any(|k| !matches!(t.raw_get::<Value>(k.as_str()).unwrap(), Value::Nil | Value::Boolean(false)))
        };
        let access = if has("rdwr") {
            libc::O_RDWR
        } else if has("wronly") {
            libc::O_WRONLY
        } else {
            libc::O_RDONLY
        };
        let want = OPEN_FLAG_BITS
            .iter()
            .filter(|(n, _)| has(n))
            .fold(access, |f, (_, b)| f | b);
        prop_assert_eq!(open_flags_from_lua(&Value::Table(t)), Ok(want));
    }

    /// A mode set reads as the bits whose names hold a true value, whatever else it
    /// holds.
    #[test]
    fn mode_sets_read_by_name(entries in vec((name_key(), leaf()), 0..12)) {
        let lua = Lua::new();
        let Value::Table(t) = value(&lua, &Gen::Table(entries)).unwrap() else { unreachable!() };
        let want = MODE_TYPES
            .iter()
            .chain(MODE_BITS)
            .filter(|(n, _)| !matches!(t.raw_get::<Value>(*n).unwrap(), Value::Nil | Value::Boolean(false)))
            .fold(0, |m, (_, b)| m | b);
        prop_assert_eq!(mode_from_lua(&Value::Table(t)), Ok(want));
    }

    /// bits_from_lua takes any value without panicking; bits_to_lua → bits_from_lua
    /// gives back any combination of the named flags, and an integer is its own bits.
    #[test]
    fn bits_round_trip(g in any_gen(), ro in any::<bool>(), ns in any::<bool>(), n in any_int()) {
        let lua = Lua::new();
        let v = value(&lua, &g).unwrap();
        let got = bits_from_lua(&v, STATVFS_FLAGS);
        if let Value::Table(_) = v {
            prop_assert_eq!(got & !(libc::ST_RDONLY | libc::ST_NOSUID), 0);
        }
        let flags = if ro { libc::ST_RDONLY } else { 0 } | if ns { libc::ST_NOSUID } else { 0 };
        let t = bits_to_lua(&lua, flags, STATVFS_FLAGS).unwrap();
        prop_assert_eq!(bits_from_lua(&Value::Table(t), STATVFS_FLAGS), flags);
        prop_assert_eq!(bits_from_lua(&Value::Integer(n), STATVFS_FLAGS), n as u64);
    }

    /// timespec_from_lua takes any value without panicking and never gives a nsec of a
    /// second or more; an integer is whole seconds; `{sec=, nsec=}` with integers is
    /// taken exactly when nsec is in 0..1e9.
    #[test]
    fn timespec_from_lua_survives_anything(g in any_gen(), f in any_float(), sec in any_int(), nsec in any_int()) {
        let lua = Lua::new();
        for v in [value(&lua, &g).unwrap(), Value::Number(f), Value::Integer(sec)] {
            if let Ok(t) = timespec_from_lua(&v) {
                prop_assert!(t.nsec < 1_000_000_000, "{:?}", t);
            }
            if let Value::Integer(n) = v {
                prop_assert_eq!(timespec_from_lua(&v), Ok(Timespec::new(n, 0)));
            }
        }
        let t = lua.create_table().unwrap();
        t.raw_set("sec", sec).unwrap();
        t.raw_set("nsec", nsec).unwrap();
        let r = timespec_from_lua(&Value::Table(t));
        if (0..1_000_000_000).contains(&nsec) {
            prop_assert_eq!(r, Ok(Timespec::new(sec, nsec as u32)));
        } else {
            prop_assert!(r.is_err());
        }
    }

    /// Any timespec survives timespec_to_lua → timespec_from_lua; a number of seconds
    /// with a fraction is read to within a microsecond.
    #[test]
    fn timespec_round_trips(ts in any_timespec(), secs in -1e9f64..1e9) {
        let lua = Lua::new();
        let t = timespec_to_lua(&lua, ts).unwrap();
        prop_assert_eq!(timespec_from_lua(&Value::Table(t)), Ok(ts));
        let read = timespec_from_lua(&Value::Number(secs)).unwrap();
        prop_assert!(read.nsec < 1_000_000_000);
        prop_assert!((read.as_secs_f64() - secs).abs() < 1e-6, "{:?} for {}", read, secs);
    }

    /// errno_of_value and errno_of_report take any values without panicking, and what
    /// they find is always an errno number (1..4095); only an errno userdata is an errno
    /// value.
    #[test]
    fn errno_readers_survive_anything(err in any_gen(), code in any_gen(), n in any_int(), f in any_float()) {
        let lua = Lua::new();
        let err_v = value(&lua, &err).unwrap();
        let code_v = value(&lua, &code).unwrap();
        let e = errno_of_value(&err_v);
        prop_assert_eq!(e.is_some(), matches!(err, Gen::Errno(_)));
        let scalars = [Value::Integer(n), Value::Number(f)];
        for (a, b) in [(&err_v, &code_v), (&scalars[0], &code_v), (&scalars[1], &code_v), (&err_v, &scalars[0]), (&err_v, &scalars[1])] {
            if let Some(e) = errno_of_report(a, b) {
                prop_assert!((1..4096).contains(&e.code()), "{:?}", e);
            }
        }
    }

    /// Every errno number comes back from each spelling a handler may use: the
    /// userdata, the number (also negative, also as a float), the number as text, its
    /// name, its strerror text, and a `nil, msg, code` report's code.
    #[test]
    fn errno_values_round_trip(code in errno_code()) {
        let lua = Lua::new();
        let e = Errno(code);
        let ud = value(&lua, &Gen::Errno(code)).unwrap();
        prop_assert_eq!(errno_of_value(&ud), Some(e));
        prop_assert_eq!(errno_of_report(&ud, &Value::Nil), Some(e));
        for n in [Value::Integer(code.into()), Value::Integer(-i64::from(code)), Value::Number(code.into())] {
            prop_assert_eq!(errno_of_report(&n, &Value::Nil), Some(e));
            prop_assert_eq!(errno_of_report(&Value::Nil, &n), Some(e));
        }
        let text = |s: &str| Value::String(lua.create_string(s).unwrap());
        prop_assert_eq!(errno_of_report(&text(&code.to_string()), &Value::Nil), Some(e));
        if let Some(name) = e.name() {
            prop_assert_eq!(errno_of_report(&text(name), &Value::Nil), Some(e));
            let by_message = errno_of_report(&text(&e.strerror()), &Value::Nil);
            prop_assert_eq!(by_message.map(Errno::strerror), Some(e.strerror()));
        }
    }

    /// The handler result checks take any result list without panicking: a report
    /// (`nil, err[, code]`) is an errno or a bad result, a negative integer is an errno,
    /// anything else passes; expect_bytes takes exactly strings, expect_count exactly
    /// non-negative integral numbers, each as itself.
    #[test]
    fn result_checks_survive_anything(
        gens in vec(any_gen(), 0..4),
        head in prop_oneof![Just(None), any_int().prop_map(|n| Some(Gen::Int(n))), any_float().prop_map(|f| Some(Gen::Num(f)))],
    ) {
        let lua = Lua::new();
        let mut gens = gens;
        if let Some(h) = head {
            gens.insert(0, h);
        }
        let results = multi(&lua, &gens).unwrap();
        let v0 = results.front().cloned().unwrap_or(Value::Nil);
        let is_report = v0.is_nil()
            && results.len() >= 2
            && !(results.get(1).unwrap().is_nil() && results.get(2).is_none_or(Value::is_nil));
        match check_report(&results) {
            Ok(()) => prop_assert!(!is_report),
            Err(HandlerError::Errno(e)) => {
                prop_assert!(is_report);
                prop_assert!((1..4096).contains(&e.code()));
            }
            Err(HandlerError::BadResult(_)) => prop_assert!(is_report),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
        let negative = matches!(v0, Value::Integer(n) if n < 0);
        let unit = expect_unit(results.clone());
        prop_assert_eq!(unit.is_ok(), !is_report && !negative);
        match first(results.clone()) {
            Ok(v) => {
                prop_assert!(!is_report && !negative);
                prop_assert!(v == v0 || matches!(v, Value::Number(n) if n.is_nan()));
            }
            Err(e) => {
                prop_assert!(is_report || negative);
                prop_assert!((1..4096).contains(&e.errno().code()));
            }
        }
        match (&v0, expect_bytes("read", v0.clone())) {
            (Value::String(s), Ok(b)) => prop_assert_eq!(b, s.as_bytes().to_vec()),
            (Value::String(_), Err(e)) => prop_assert!(false, "string refused: {:?}", e),
            (_, r) => prop_assert!(matches!(r, Err(HandlerError::BadResult(_)))),
        }
        match (&v0, expect_count("write", v0.clone())) {
            (Value::Integer(n), r) => prop_assert_eq!(r.ok(), u64::try_from(*n).ok()),
            (Value::Number(f), Ok(n)) => {
                prop_assert!(*f >= 0.0 && f.fract() == 0.0);
                // Above u64::MAX a float count saturates (write clamps it to u32 anyway).
                prop_assert!(n as f64 == *f || (n == u64::MAX && *f >= u64::MAX as f64), "{} for {}", n, f);
            }
            (Value::Number(f), Err(_)) => prop_assert!(!(*f >= 0.0 && f.fract() == 0.0)),
            (_, r) => prop_assert!(r.is_err()),
        }
    }

    /// call_protected never lets a raised value escape: an errno userdata, or a number
    /// that is an errno, comes back as that errno; anything else raised is a script
    /// error; values returned come back as they are.
    #[test]
    fn protected_calls_classify_anything_raised(g in any_gen(), gens in vec(any_gen(), 0..4)) {
        let lua = lua_with_calls();
        let v = value(&lua, &g).unwrap();
        let raise: Function = lua.load("return function(v) error(v, 0) end").eval().unwrap();
        let expected = match &v {
            Value::UserData(_) => errno_of_value(&v),
            Value::Integer(_) | Value::Number(_) => errno_of_report(&v, &Value::Nil),
            _ => None,
        };
        match call_protected(&lua, &raise, v.clone()) {
            Ok(r) => prop_assert!(false, "raising returned {:?}", r),
            Err(HandlerError::Errno(e)) => prop_assert_eq!(Some(e), expected),
            Err(HandlerError::Script { .. }) => prop_assert_eq!(None, expected),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
        let identity: Function = lua.load("return function(...) return ... end").eval().unwrap();
        let args = multi(&lua, &gens).unwrap();
        let back = call_protected(&lua, &identity, args.clone()).unwrap();
        prop_assert_eq!(back.len(), args.len());
        for (a, b) in args.iter().zip(back.iter()) {
            prop_assert!(a == b || matches!(a, Value::Number(n) if n.is_nan()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Whole handlers, through the operation traits.

/// Every handler answers what the test put in `OUTCOME` (returned, or raised); readdir
/// first calls `filler` with each of `ENTRIES` under pcall, noting in `ACCEPTED` whether
/// the filler took it.
const ECHO: &str = r#"
local fs = {}
local function answer()
  local o = OUTCOME
  if o.raise then error(o.value, 0) end
  return table.unpack(o, 1, o.n)
end
fs.getattr = answer
fs.statfs = answer
fs.read = answer
fs.write = answer
fs.listxattr = answer
function fs.readdir(path, filler, fi)
  ACCEPTED = {}
  for i = 1, ENTRIES.n do
    local e = ENTRIES[i]
    ACCEPTED[i] = pcall(filler, table.unpack(e, 1, 3))
  end
  return answer()
end
return fs
"#;

fn echo_script() -> (Script, Arc<dyn Operations>) {
    let dir = TempDir::new("lua-fuzz");
    let path = dir.join("fs.lua");
    std::fs::write(&path, ECHO).unwrap();
    let mut script = Script::load(&path, &[], &default_environment()).unwrap();
    let ScriptOutcome::Finished {
        filesystem: Some(fs),
        ..
    } = script.run().unwrap()
    else {
        panic!("the echo script returns its table");
    };
    let ops = script.filesystem(&fs).unwrap();
    (script, ops)
}

fn ctx() -> RequestContext {
    RequestContext {
        uid: 1000,
        gid: 100,
        pid: 42,
        umask: 0o022,
        unmasked_mode: None,
    }
}

/// Set `OUTCOME`; give back the values the handler returns or raises.
fn set_outcome(lua: &Lua, o: &Outcome) -> MultiValue {
    let t = lua.create_table().unwrap();
    let values = match o {
        Outcome::Return(gens) => multi(lua, gens).unwrap(),
        Outcome::Raise(g) => MultiValue::from_iter([value(lua, g).unwrap()]),
    };
    match o {
        Outcome::Return(_) => {
            for (i, v) in values.iter().enumerate() {
                t.raw_set(i + 1, v.clone()).unwrap();
            }
            t.raw_set("n", values.len()).unwrap();
        }
        Outcome::Raise(_) => {
            t.raw_set("raise", true).unwrap();
            t.raw_set("value", values.front().cloned().unwrap())
                .unwrap();
        }
    }
    lua.globals().set("OUTCOME", t).unwrap();
    values
}

/// What a handler call must answer for `o`: the errno a raise or a report stands for
/// (EIO when none), the errno of a negative number, else what `accept` makes of the
/// first result.
fn expected<T>(
    o: &Outcome,
    values: &MultiValue,
    accept: impl FnOnce(&Value) -> Result<T, Errno>,
) -> Result<T, Errno> {
    let v0 = values.front().cloned().unwrap_or(Value::Nil);
    if let Outcome::Raise(_) = o {
        let e = match &v0 {
            Value::UserData(_) => errno_of_value(&v0),
            Value::Integer(n) => Errno::from_number(*n),
            Value::Number(n) if n.fract() == 0.0 => Errno::from_number(*n as i64),
            _ => None,
        };
        return Err(e.unwrap_or(Errno::EIO));
    }
    let err = values.get(1).cloned().unwrap_or(Value::Nil);
    let code = values.get(2).cloned().unwrap_or(Value::Nil);
    if v0.is_nil() && !(err.is_nil() && code.is_nil()) {
        return Err(errno_of_report(&err, &code).unwrap_or(Errno::EIO));
    }
    if let Value::Integer(n) = v0 {
        if n < 0 {
            return Err(Errno::from_number(n).unwrap_or(Errno::EIO));
        }
    }
    accept(&v0)
}

/// Run `prop` over `strategy` with one echo script for all cases; no panic may occur,
/// also not one caught inside Lua.
fn with_echo<S: Strategy>(
    strategy: S,
    prop: impl Fn(&Lua, &dyn Operations, S::Value) -> Result<(), TestCaseError>,
) {
    let (script, ops) = echo_script();
    let mut runner = TestRunner::new(config());
    let result = runner.run(&strategy, |input| {
        let before = panics_on_this_thread();
        prop(script.lua(), ops.as_ref(), input)?;
        prop_assert_eq!(
            panics_on_this_thread(),
            before,
            "a panic was caught inside Lua"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn stat_without_times(st: Stat) -> Stat {
    Stat {
        atime: Timespec::default(),
        mtime: Timespec::default(),
        ctime: Timespec::default(),
        ..st
    }
}

fn script_defaults() -> StatDefaults {
    StatDefaults {
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        time: Timespec::default(),
    }
}

/// getattr answers any handler outcome with the stat stat_from_lua reads from a
/// returned table (the mount-time defaults aside), or the errno the outcome stands for —
/// EIO for a bad result, never a panic.
#[test]
fn getattr_answers_any_handler_result() {
    with_echo(outcome(any_gen()), |lua, ops, o| {
        let values = set_outcome(lua, &o);
        let got = ops.getattr(&ctx(), Path::new("/f"), None);
        let want = expected(&o, &values, |v| match v {
            Value::Table(_) => stat_from_lua(v, &script_defaults()).map_err(|_| Errno::EIO),
            _ => Err(Errno::EIO),
        });
        prop_assert_eq!(got.map(stat_without_times), want.map(stat_without_times));
        Ok(())
    });
}

/// statfs answers any handler outcome with what statfs_from_lua reads, or the errno the
/// outcome stands for (EIO for a bad result).
#[test]
fn statfs_answers_any_handler_result() {
    with_echo(outcome(any_gen()), |lua, ops, o| {
        let values = set_outcome(lua, &o);
        let got = ops.statfs(&ctx(), Path::new("/"));
        let want = expected(&o, &values, |v| match v {
            Value::Table(_) => statfs_from_lua(v).map_err(|_| Errno::EIO),
            _ => Err(Errno::EIO),
        });
        prop_assert_eq!(got, want);
        Ok(())
    });
}

/// read answers any handler outcome with the bytes of a returned string, or the errno
/// the outcome stands for (EIO for anything but a string).
#[test]
fn read_answers_any_handler_result() {
    with_echo(outcome(any_gen()), |lua, ops, o| {
        let values = set_outcome(lua, &o);
        let got = ops.read(&ctx(), Path::new("/f"), Fh(0), 0, 4096);
        let want = expected(&o, &values, |v| match v {
            Value::String(s) => Ok(s.as_bytes().to_vec()),
            _ => Err(Errno::EIO),
        });
        prop_assert_eq!(got, want);
        Ok(())
    });
}

/// write answers any handler outcome with the count returned (all of the data for
/// nothing, at most u32::MAX), or the errno the outcome stands for (EIO for anything but
/// a non-negative integral number).
#[test]
fn write_answers_any_handler_result() {
    let data = b"some data".as_slice();
    with_echo(outcome(any_gen()), |lua, ops, o| {
        let values = set_outcome(lua, &o);
        let got = ops.write(&ctx(), Path::new("/f"), Fh(0), 0, data);
        let want = expected(&o, &values, |v| match v {
            Value::Nil => Ok(data.len() as u32),
            Value::Integer(n) if *n >= 0 => Ok(u32::try_from(*n).unwrap_or(u32::MAX)),
            Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Ok(if *n > u32::MAX as f64 {
                u32::MAX
            } else {
                *n as u32
            }),
            _ => Err(Errno::EIO),
        });
        prop_assert_eq!(got, want);
        Ok(())
    });
}

/// An array of names, or anything.
fn xattr_list() -> BoxedStrategy<Gen> {
    prop_oneof![
        2 => vec(any_bytes().prop_map(Gen::Str), 0..6).prop_map(Gen::Array),
        1 => any_gen(),
    ]
    .boxed()
}

/// listxattr answers any handler outcome with the strings of a returned array (up to its
/// first hole), EIO when an item is no string or no xattr name (empty, or with a NUL,
/// which would split the kernel's NUL-separated list), or the errno the outcome stands
/// for.
#[test]
fn listxattr_answers_any_handler_result() {
    with_echo(outcome(xattr_list()), |lua, ops, o| {
        let values = set_outcome(lua, &o);
        let got = ops.listxattr(&ctx(), Path::new("/f"), None);
        let want = expected(&o, &values, |v| {
            let Value::Table(t) = v else {
                return Err(Errno::EIO);
            };
            let mut names = Vec::new();
            for i in 1.. {
                match t.raw_get::<Value>(i).unwrap() {
                    Value::Nil => break,
                    Value::String(s) => {
                        let b = s.as_bytes().to_vec();
                        if b.is_empty() || b.contains(&0) {
                            return Err(Errno::EIO);
                        }
                        names.push(OsString::from_vec(b))
                    }
                    _ => return Err(Errno::EIO),
                }
            }
            Ok(names)
        });
        prop_assert_eq!(got, want);
        Ok(())
    });
}

/// A filler call's arguments: a name (usually a string, sometimes anything), a stat or
/// type (nothing, a type, a stat table, or anything) and an offset.
fn filler_args() -> BoxedStrategy<(Gen, Gen, Gen)> {
    (
        prop_oneof![3 => any_bytes().prop_map(Gen::Str), 1 => leaf()],
        prop_oneof![
            2 => Just(Gen::Nil),
            1 => select(WORDS.to_vec()).prop_map(|s| Gen::Str(s.as_bytes().to_vec())),
            1 => any_int().prop_map(Gen::Int),
            2 => plausible_record(),
            2 => any_gen(),
        ],
        prop_oneof![Just(Gen::Nil), any_int().prop_map(Gen::Int), leaf()],
    )
        .boxed()
}

/// readdir's filler takes or refuses any arguments without panicking: it takes exactly
/// a string (or number) name that is non-empty with no '/' or NUL, with no stat, a type
/// mode_from_lua reads, or a table stat_from_lua reads; readdir then lists exactly the
/// entries taken, in order, with their name, stat or type — or answers the errno of the
/// handler's outcome.
#[test]
fn readdir_filler_takes_only_valid_entries() {
    let strategy = (vec(filler_args(), 0..6), outcome(leaf()));
    with_echo(strategy, |lua, ops, (entries, o)| {
        let list = lua.create_table().unwrap();
        let mut args = Vec::new();
        for (i, (name, stat, offset)) in entries.iter().enumerate() {
            let e = lua.create_table().unwrap();
            let a = [name, stat, offset].map(|g| value(lua, g).unwrap());
            for (j, v) in a.iter().enumerate() {
                e.raw_set(j + 1, v.clone()).unwrap();
            }
            list.raw_set(i + 1, e).unwrap();
            args.push(a);
        }
        list.raw_set("n", entries.len()).unwrap();
        lua.globals().set("ENTRIES", list).unwrap();
        let values = set_outcome(lua, &o);
        let got = ops.readdir(&ctx(), Path::new("/"), Fh(0));
        let accepted: Table = lua.globals().get("ACCEPTED").unwrap();

        let mut want_entries = Vec::new();
        for (i, [name, stat, _]) in args.iter().enumerate() {
            let took: bool = accepted.raw_get(i + 1).unwrap();
            // A number is taken as its text, as Lua's tostring writes it.
            let name = match name {
                Value::String(_) | Value::Integer(_) | Value::Number(_) => lua
                    .coerce_string(name.clone())
                    .unwrap()
                    .map(|s| s.as_bytes().to_vec()),
                _ => None,
            };
            let good_name = name
                .as_ref()
                .is_some_and(|b| !b.is_empty() && !b.contains(&b'/') && !b.contains(&0));
            let (good_stat, st, kind) = match stat {
                Value::Nil => (true, None, None),
                Value::String(_) | Value::Integer(_) | Value::Number(_) => {
                    match mode_from_lua(stat) {
                        Ok(m) => (true, None, Some(m & libc::S_IFMT).filter(|k| *k != 0)),
                        Err(_) => (false, None, None),
                    }
                }
                other => match stat_from_lua(other, &script_defaults()) {
                    Ok(st) => (true, Some(st), None),
                    Err(_) => (false, None, None),
                },
            };
            prop_assert_eq!(
                took,
                good_name && good_stat,
                "entry {} {:?}",
                i + 1,
                entries[i]
            );
            if took {
                want_entries.push((name.unwrap(), st.map(stat_without_times), kind));
            }
        }
        let want = expected(&o, &values, |_| Ok(()));
        match (got, want) {
            (Ok(list), Ok(())) => {
                let list: Vec<_> = list
                    .into_iter()
                    .map(|e| (e.name.into_vec(), e.stat.map(stat_without_times), e.kind))
                    .collect();
                prop_assert_eq!(list, want_entries);
            }
            (got, want) => prop_assert_eq!(got.map(|_| ()), want),
        }
        Ok(())
    });
}
