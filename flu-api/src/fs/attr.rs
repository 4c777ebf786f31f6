//! File attributes: reading `struct stat` into Lua values and changing attributes from a
//! Lua table, for paths (`fs.attr`), open files (`f:attr`), directory entries
//! (`d:attr`) and paths relative to an open directory (`dh:attr`).
//!
//! All of them name their file with a [`Target`], so the get/set logic exists once.
//! Times come out both as float seconds (`mtime`) and as exact integer nanoseconds
//! (`mtime_ns`): a double cannot hold today's times to the nanosecond, and passthrough
//! filesystems must round-trip them exactly.

use std::ffi::{c_int, CStr};
use std::os::fd::RawFd;

use mlua::{ffi, IntoLua, Lua, Table, Value};

use super::error::{cvt, misuse, retry, FsResult};
use super::flags::parse_perms;
use super::ops::readlink_at;
use crate::errno::Errno;
use crate::time::{TimeSet, Timespec};

/// The file an attribute call is about.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// A path relative to a directory fd (`AT_FDCWD` for plain paths).
    At {
        dirfd: RawFd,
        path: &'a CStr,
        deref: bool,
    },
    /// An open file descriptor.
    Fd(RawFd),
}

/// Attribute names `attr(name)` accepts.
pub(crate) const NAMES: &[&str] = &[
    "type", "size", "perms", "mode", "uid", "gid", "dev", "inode", "nlink", "rdev", "blksize",
    "blocks", "atime", "mtime", "ctime", "atime_ns", "mtime_ns", "ctime_ns", "target",
];

impl Target<'_> {
    pub(crate) fn stat(&self) -> FsResult<libc::stat> {
        // SAFETY: an all-zero `struct stat` is a valid value; the kernel overwrites it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        match *self {
            Target::At { dirfd, path, deref } => {
                let mut flags = if deref { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
                // An empty name means the directory fd itself (`dh:attr('')`).
                if path.is_empty() {
                    flags |= libc::AT_EMPTY_PATH;
                }
                // SAFETY: path is NUL-terminated, st is a valid out pointer.
                cvt(unsafe { libc::fstatat(dirfd, path.as_ptr(), &mut st, flags) })?;
            }
            // SAFETY: st is a valid out pointer; a bad fd is reported as EBADF.
            Target::Fd(fd) => cvt(unsafe { libc::fstat(fd, &mut st) }).map(drop)?,
        }
        Ok(st)
    }

    /// The target of a symlink, for the `target` attribute.
    fn readlink(&self) -> FsResult<Vec<u8>> {
        match *self {
            Target::At { dirfd, path, .. } => readlink_at(dirfd, path),
            // An O_PATH descriptor of a symlink reads with an empty path.
            Target::Fd(fd) => readlink_at(fd, c""),
        }
    }
}

/// luapower's name for a file type (`st_mode & S_IFMT`).
pub(crate) fn type_name(mode: u32) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "file",
        libc::S_IFDIR => "dir",
        libc::S_IFLNK => "symlink",
        libc::S_IFBLK => "blockdev",
        libc::S_IFCHR => "chardev",
        libc::S_IFIFO => "pipe",
        libc::S_IFSOCK => "socket",
        _ => "unknown",
    }
}

/// The type a `readdir` entry's `d_type` gives, if the filesystem filled it in.
pub(crate) fn dtype_name(d_type: u8) -> Option<&'static str> {
    Some(match d_type {
        libc::DT_REG => "file",
        libc::DT_DIR => "dir",
        libc::DT_LNK => "symlink",
        libc::DT_BLK => "blockdev",
        libc::DT_CHR => "chardev",
        libc::DT_FIFO => "pipe",
        libc::DT_SOCK => "socket",
        _ => return None,
    })
}

/// Check a type name given to `is()`; misspelling it would silently answer false.
pub(crate) fn check_type_name(t: &str) -> mlua::Result<()> {
    match t {
        "file" | "dir" | "symlink" | "blockdev" | "chardev" | "pipe" | "socket" | "unknown" => {
            Ok(())
        }
        _ => Err(misuse(format!("unknown file type '{t}'"))),
    }
}

fn ns(sec: i64, nsec: i64) -> i64 {
    sec.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// One attribute's value, before it is a Lua value.
enum AttrValue {
    Integer(i64),
    Float(f64),
    Name(&'static str),
    Bytes(Vec<u8>),
    Absent,
}

/// One attribute of a stat result. `target` reads the link only when asked for.
// `i64::from` is a no-op on x86_64 but not where `st_blksize` and friends are i32.
#[allow(clippy::useless_conversion)]
fn attr_value(st: &libc::stat, name: &str, t: &Target) -> mlua::Result<AttrValue> {
    use AttrValue::{Float, Integer};
    let time = |s: i64, n: i64| Float(Timespec::new(s, n as u32).as_secs_f64());
    Ok(match name {
        "type" => AttrValue::Name(type_name(st.st_mode)),
        "size" => Integer(i64::from(st.st_size)),
        "perms" => Integer((st.st_mode & 0o7777) as i64),
        "mode" => Integer(st.st_mode as i64),
        "uid" => Integer(st.st_uid as i64),
        "gid" => Integer(st.st_gid as i64),
        "dev" => Integer(st.st_dev as i64),
        "inode" => Integer(st.st_ino as i64),
        "nlink" => Integer(st.st_nlink as i64),
        "rdev" => Integer(st.st_rdev as i64),
        "blksize" => Integer(i64::from(st.st_blksize)),
        "blocks" => Integer(i64::from(st.st_blocks)),
        "atime" => time(st.st_atime, st.st_atime_nsec),
        "mtime" => time(st.st_mtime, st.st_mtime_nsec),
        "ctime" => time(st.st_ctime, st.st_ctime_nsec),
        "atime_ns" => Integer(ns(st.st_atime, st.st_atime_nsec)),
        "mtime_ns" => Integer(ns(st.st_mtime, st.st_mtime_nsec)),
        "ctime_ns" => Integer(ns(st.st_ctime, st.st_ctime_nsec)),
        "target" => {
            if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
                return Ok(AttrValue::Absent);
            }
            // The link may vanish or be unreadable between stat and readlink; the
            // attribute is then absent rather than the whole call failing.
            match t.readlink() {
                Ok(b) => AttrValue::Bytes(b),
                Err(_) => AttrValue::Absent,
            }
        }
        other => return Err(misuse(format!("unknown attribute '{other}'"))),
    })
}

/// One attribute of a stat result, as a Lua value.
pub(crate) fn value(lua: &Lua, st: &libc::stat, name: &str, t: &Target) -> mlua::Result<Value> {
    Ok(match attr_value(st, name, t)? {
        AttrValue::Integer(n) => Value::Integer(n),
        AttrValue::Float(f) => Value::Number(f),
        AttrValue::Name(n) => n.into_lua(lua)?,
        AttrValue::Bytes(b) => Value::String(lua.create_string(b)?),
        AttrValue::Absent => Value::Nil,
    })
}

/// `NAMES` as C strings, for the table built through the C API (a test holds the two
/// together).
const C_NAMES: [&CStr; 19] = [
    c"type",
    c"size",
    c"perms",
    c"mode",
    c"uid",
    c"gid",
    c"dev",
    c"inode",
    c"nlink",
    c"rdev",
    c"blksize",
    c"blocks",
    c"atime",
    c"mtime",
    c"ctime",
    c"atime_ns",
    c"mtime_ns",
    c"ctime_ns",
    c"target",
];

/// All attributes as a table, built through Lua's C API: a script on the `fs` module
/// makes one at every getattr, and one protected call costs less than nineteen.
pub(crate) fn table(lua: &Lua, st: &libc::stat, t: &Target) -> mlua::Result<Table> {
    let mut values = Vec::with_capacity(C_NAMES.len());
    for name in NAMES {
        values.push(attr_value(st, name, t)?);
    }
    // SAFETY: the closure pushes a new table and, per attribute, one value that it stores
    // into it (lua_setfield pops it), after asking for the room; `values` stays owned by
    // this function, so a Lua error (out of memory) that jumps out of the closure leaks
    // nothing, and `exec_raw` returns it as Err. It leaves exactly the new table.
    unsafe {
        lua.exec_raw::<Table>((), |state| {
            if ffi::lua_checkstack(state, 3) == 0 {
                ffi::luaL_error(state, c"stack overflow".as_ptr());
            }
            ffi::lua_createtable(state, 0, C_NAMES.len() as c_int);
            for (name, v) in C_NAMES.iter().zip(&values) {
                match v {
                    AttrValue::Integer(n) => ffi::lua_pushinteger(state, *n),
                    AttrValue::Float(f) => ffi::lua_pushnumber(state, *f),
                    AttrValue::Name(n) => {
                        ffi::lua_pushlstring(state, n.as_ptr().cast(), n.len());
                    }
                    AttrValue::Bytes(b) => {
                        ffi::lua_pushlstring(state, b.as_ptr().cast(), b.len());
                    }
                    AttrValue::Absent => continue,
                }
                ffi::lua_setfield(state, -2, name.as_ptr());
            }
        })
    }
}

/// Get one attribute (`Some(name)`) or all of them.
pub(crate) fn get(lua: &Lua, t: &Target, name: Option<&str>) -> mlua::Result<FsResult<Value>> {
    if let Some(n) = name {
        if !NAMES.contains(&n) {
            return Err(misuse(format!("unknown attribute '{n}'")));
        }
    }
    let st = match t.stat() {
        Ok(st) => st,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(match name {
        Some(n) => value(lua, &st, n, t)?,
        None => Value::Table(table(lua, &st, t)?),
    }))
}

/// A time to set: seconds with a fraction, `{sec=, nsec=}`, or `'now'`.
fn time_arg(v: Value, what: &str) -> mlua::Result<TimeSet> {
    Ok(match v {
        Value::Nil => TimeSet::Omit,
        Value::Integer(s) => TimeSet::At(Timespec::new(s, 0)),
        Value::Number(f) if f.is_finite() => TimeSet::At(Timespec::from_secs_f64(f)),
        Value::Table(t) => {
            let sec: i64 = t.get("sec")?;
            let nsec: Option<i64> = t.get("nsec")?;
            let nsec = nsec.unwrap_or(0);
            if !(0..1_000_000_000).contains(&nsec) {
                return Err(misuse(format!("{what}: nsec out of range")));
            }
            TimeSet::At(Timespec::new(sec, nsec as u32))
        }
        Value::String(s) if s.as_bytes().as_ref() == b"now" => TimeSet::Now,
        other => {
            return Err(misuse(format!(
                "{what}: number, {{sec=, nsec=}} or 'now' expected, got {}",
                other.type_name()
            )))
        }
    })
}

/// A time given as integer nanoseconds since the epoch (`mtime_ns`).
fn time_ns_arg(v: Value, what: &str) -> mlua::Result<Option<TimeSet>> {
    match v {
        Value::Nil => Ok(None),
        Value::Integer(n) => Ok(Some(TimeSet::At(Timespec::new(
            n.div_euclid(1_000_000_000),
            n.rem_euclid(1_000_000_000) as u32,
        )))),
        other => Err(misuse(format!(
            "{what}: integer nanoseconds expected, got {}",
            other.type_name()
        ))),
    }
}

/// What a set-table asks for, checked before any change is made.
struct Changes {
    size: Option<i64>,
    uid: Option<u32>,
    gid: Option<u32>,
    perms: Option<Value>,
    atime: TimeSet,
    mtime: TimeSet,
}

fn id_arg(v: Value, what: &str) -> mlua::Result<Option<u32>> {
    match v {
        Value::Nil => Ok(None),
        Value::Integer(-1) => Ok(None),
        Value::Integer(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| misuse(format!("{what} out of range"))),
        other => Err(misuse(format!(
            "{what}: integer expected, got {}",
            other.type_name()
        ))),
    }
}

fn changes(tbl: &Table) -> mlua::Result<Changes> {
    const SETTABLE: &[&str] = &[
        "size", "uid", "gid", "perms", "atime", "mtime", "atime_ns", "mtime_ns",
    ];
    for pair in tbl.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let known = match &k {
            Value::String(s) => SETTABLE
                .iter()
                .any(|n| n.as_bytes() == s.as_bytes().as_ref()),
            _ => false,
        };
        if !known {
            return Err(misuse(format!(
                "attribute {} cannot be set",
                k.to_string().unwrap_or_default()
            )));
        }
    }
    let size = match tbl.get::<Value>("size")? {
        Value::Nil => None,
        Value::Integer(n) if n >= 0 => Some(n),
        _ => return Err(misuse("size: non-negative integer expected")),
    };
    let atime = match time_ns_arg(tbl.get("atime_ns")?, "atime_ns")? {
        Some(t) => t,
        None => time_arg(tbl.get("atime")?, "atime")?,
    };
    let mtime = match time_ns_arg(tbl.get("mtime_ns")?, "mtime_ns")? {
        Some(t) => t,
        None => time_arg(tbl.get("mtime")?, "mtime")?,
    };
    let perms = match tbl.get::<Value>("perms")? {
        Value::Nil => None,
        p => {
            parse_perms(&p, 0)?; // validate now, apply later against the current mode
            Some(p)
        }
    };
    Ok(Changes {
        size,
        uid: id_arg(tbl.get("uid")?, "uid")?,
        gid: id_arg(tbl.get("gid")?, "gid")?,
        perms,
        atime,
        mtime,
    })
}

/// Change attributes from a table. Order matters: size first (truncating updates
/// mtime), owner before perms (chown clears set-id bits), times last. A failure stops
/// at that step; earlier changes stay made.
pub(crate) fn set(t: &Target, tbl: &Table) -> mlua::Result<FsResult<bool>> {
    let c = changes(tbl)?;
    Ok(apply(t, &c))
}

fn apply(t: &Target, c: &Changes) -> FsResult<bool> {
    if let Some(size) = c.size {
        truncate(t, size)?;
    }
    if c.uid.is_some() || c.gid.is_some() {
        let uid = c.uid.unwrap_or(u32::MAX);
        let gid = c.gid.unwrap_or(u32::MAX);
        cvt(match *t {
            // SAFETY: `path` is a NUL-terminated CStr borrowed for the whole call; the
            // rest are integers (a bad `dirfd` is EBADF).
            Target::At { dirfd, path, deref } => unsafe {
                libc::fchownat(dirfd, path.as_ptr(), uid, gid, nofollow(deref))
            },
            // SAFETY: `fd` is the descriptor of a file object borrowed for this call;
            // fchown takes only integers.
            Target::Fd(fd) => unsafe { libc::fchown(fd, uid, gid) },
        })?;
    }
    if let Some(p) = &c.perms {
        let base = t.stat()?.st_mode & 0o7777;
        let perms = parse_perms(p, base).map_err(|_| Errno::EINVAL)?.0;
        cvt(match *t {
            // SAFETY: `path` is a NUL-terminated CStr borrowed for the whole call; the
            // rest are integers.
            Target::At { dirfd, path, deref } => unsafe {
                libc::fchmodat(dirfd, path.as_ptr(), perms, nofollow(deref))
            },
            // SAFETY: `fd` is the descriptor of a file object borrowed for this call;
            // fchmod takes only integers.
            Target::Fd(fd) => unsafe { libc::fchmod(fd, perms) },
        })?;
    }
    if c.atime != TimeSet::Omit || c.mtime != TimeSet::Omit {
        let times = [c.atime.to_libc(), c.mtime.to_libc()];
        cvt(match *t {
            // SAFETY: `times` is a local array of the two timespecs utimensat reads;
            // `path` is a NUL-terminated CStr borrowed for the whole call.
            Target::At { dirfd, path, deref } => unsafe {
                libc::utimensat(dirfd, path.as_ptr(), times.as_ptr(), nofollow(deref))
            },
            // SAFETY: `times` is a local array of the two timespecs futimens reads; `fd`
            // is the descriptor of a file object borrowed for this call.
            Target::Fd(fd) => unsafe { libc::futimens(fd, times.as_ptr()) },
        })?;
    }
    Ok(true)
}

fn nofollow(deref: bool) -> libc::c_int {
    if deref {
        0
    } else {
        libc::AT_SYMLINK_NOFOLLOW
    }
}

/// Set a size by path through a short-lived descriptor, so it works relative to a
/// directory fd too. O_NONBLOCK keeps a FIFO from blocking the open.
fn truncate(t: &Target, size: i64) -> FsResult<()> {
    match *t {
        // SAFETY: `fd` is the descriptor of a file object borrowed for this call;
        // ftruncate takes only integers.
        Target::Fd(fd) => retry(|| cvt(unsafe { libc::ftruncate(fd, size) })).map(drop),
        Target::At { dirfd, path, deref } => {
            let mut flags = libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC;
            if !deref {
                flags |= libc::O_NOFOLLOW;
            }
            // SAFETY: NUL-terminated path; the fd is closed below on every path.
            let fd = retry(|| cvt(unsafe { libc::openat(dirfd, path.as_ptr(), flags) }))?;
            // SAFETY: `fd` was opened just above and is closed only after this;
            // ftruncate takes only integers.
            let r = retry(|| cvt(unsafe { libc::ftruncate(fd, size) }));
            // SAFETY: fd was opened above and is not used after this.
            unsafe { libc::close(fd) };
            r.map(drop)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_names_are_the_names() {
        let c: Vec<&str> = C_NAMES.iter().map(|n| n.to_str().unwrap()).collect();
        assert_eq!(c, NAMES);
    }

    #[test]
    fn the_table_holds_each_attribute_as_attr_gives_it() {
        let dir = crate::test_support::TempDir::new("fs-attr-table");
        std::fs::write(dir.join("f"), b"abc").unwrap();
        std::os::unix::fs::symlink("f", dir.join("l")).unwrap();
        let lua = Lua::new();
        for name in ["f", "l"] {
            let path = std::ffi::CString::new(dir.join(name).into_os_string().into_encoded_bytes())
                .unwrap();
            let t = Target::At {
                dirfd: libc::AT_FDCWD,
                path: &path,
                deref: false,
            };
            let st = t.stat().unwrap();
            let tbl = table(&lua, &st, &t).unwrap();
            for n in NAMES {
                let one = value(&lua, &st, n, &t).unwrap();
                let got: Value = tbl.raw_get(*n).unwrap();
                assert_eq!(format!("{got:?}"), format!("{one:?}"), "{name} {n}");
            }
            let target: Option<String> = tbl.raw_get("target").unwrap();
            assert_eq!(target.as_deref(), (name == "l").then_some("f"));
        }
    }
}
