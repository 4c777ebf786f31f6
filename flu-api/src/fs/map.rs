//! Memory mapping: `fs.map{...}`, `f:map{...}`, `fs.mirror_map{...}`,
//! `fs.unlink_mapfile`, `fs.pagesize`, `fs.aligned_size`.
//!
//! Lua cannot hold a pointer, so a map object is a userdata owning the mapping and the
//! bytes move through `m:read(offset, n)` / `m:write(offset, s)` with strict bounds
//! checks. The mapping is unmapped by `m:free()` or, failing that, when the collector
//! frees the userdata. Nothing a script passes can reach memory outside the mapping:
//! offsets are checked against its length, a read-only mapping refuses writes (instead
//! of faulting), and a file mapping never extends past the end of the file it was made
//! from (a read-only one fails with `file_too_short`, a writable one grows the file
//! first), so the only fault left is the one C has too: another process truncating the
//! file while it is mapped.

use std::ffi::CString;
use std::ptr::NonNull;

use mlua::{
    AnyUserData, IntoLuaMulti, Lua, MetaMethod, MultiValue, Table, UserData, UserDataFields,
    UserDataMethods, Value,
};

use super::error::{cstr, cvt, misuse, retry, FsResult, Ret};
use super::file::{gc_retry, File};
use super::flags::parse_perms;
use crate::errno::Errno;

type LStr = mlua::LuaString;

/// The system page size (`sysconf(_SC_PAGESIZE)`).
pub(crate) fn pagesize() -> usize {
    // SAFETY: sysconf takes an integer and has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
}

/// `fs.aligned_size(size[, dir])`: `size` rounded up (`dir` `'r'`, the default) or down
/// (`'l'`) to a multiple of the page size.
pub(crate) fn aligned_size(_: &Lua, (size, dir): (i64, Option<String>)) -> mlua::Result<i64> {
    let ps = pagesize() as i64;
    if size < 0 {
        return Err(misuse("aligned_size: negative size"));
    }
    match dir.as_deref() {
        None | Some("r") | Some("right") => size
            .checked_add(ps - 1)
            .map(|s| s / ps * ps)
            .ok_or_else(|| misuse("aligned_size: size out of range")),
        Some("l") | Some("left") => Ok(size / ps * ps),
        Some(other) => Err(misuse(format!(
            "aligned_size: dir must be 'l' or 'r', got '{other}'"
        ))),
    }
}

/// A region of the address space this process mapped, unmapped on drop.
struct Region {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a mapping is process-wide memory with no thread affinity; the Lua state (and
// mlua's borrow of the userdata) serializes every access to the Map owning it.
unsafe impl Send for Region {}
// SAFETY: through a shared reference the memory is only read (`m:read`, `msync`);
// `m:write` needs the Map borrowed mutably (exclusively).
unsafe impl Sync for Region {}

impl Region {
    /// `mmap(NULL, len, prot, flags, fd, offset)`; `len > 0`.
    fn map(
        len: usize,
        prot: libc::c_int,
        flags: libc::c_int,
        fd: libc::c_int,
        offset: i64,
    ) -> FsResult<Region> {
        // SAFETY: a fresh mapping (no address hint, no MAP_FIXED) cannot overlap any
        // memory in use; the result is checked and owned by the Region at once.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd, offset) };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        NonNull::new(p.cast::<u8>())
            .map(|ptr| Region { ptr, len })
            .ok_or(Errno::ENOMEM)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: ptr and len are exactly what mmap gave this Region, unmapped once
        // (the Region is dropped once); no Rust reference into it outlives a method call.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A map object (`fs.map`, `f:map`, `fs.mirror_map`).
pub(crate) struct Map {
    /// `None` once freed.
    region: Option<Region>,
    /// `m.size`: the mapped size (for a mirror map, the size of one copy).
    size: usize,
    writable: bool,
    /// The shared-memory name (`/tag`) of a `name=` map, for `m:unlink()`.
    shm_name: Option<CString>,
}

impl Map {
    fn region(&self) -> mlua::Result<&Region> {
        self.region.as_ref().ok_or_else(|| misuse("map is freed"))
    }
}

/// Check that `[offset, offset + n)` lies inside a region of `len` bytes.
fn span(what: &str, len: usize, offset: i64, n: i64) -> mlua::Result<(usize, usize)> {
    let ok = |v: i64| usize::try_from(v).ok();
    match (ok(offset), ok(n)) {
        (Some(o), Some(k)) if o.checked_add(k).is_some_and(|end| end <= len) => Ok((o, k)),
        _ => Err(misuse(format!(
            "map: {what} of {n} bytes at offset {offset} is out of bounds (the map has {len} bytes)"
        ))),
    }
}

impl UserData for Map {
    fn add_fields<F: UserDataFields<Self>>(f: &mut F) {
        f.add_field_method_get("size", |_, m| Ok(m.size as i64));
        f.add_field_function_get("file", |_, ud| ud.user_value::<Value>());
        f.add_field_method_get("name", |lua, m| {
            m.shm_name
                .as_ref()
                .map(|n| lua.create_string(&n.as_bytes()[1..]))
                .transpose()
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("read", |lua, m, (offset, n): (Option<i64>, Option<i64>)| {
            let r = m.region()?;
            let offset = offset.unwrap_or(0);
            let n = n.unwrap_or_else(|| (r.len as i64).saturating_sub(offset));
            let (o, k) = span("read", r.len, offset, n)?;
            let mut buf = Vec::<u8>::with_capacity(k);
            // SAFETY: [o, o + k) lies inside the live mapping (checked by span, and the
            // region is not freed while borrowed); buf has k bytes of capacity. The
            // bytes are copied without forming a reference to the shared memory.
            unsafe {
                std::ptr::copy_nonoverlapping(r.ptr.as_ptr().add(o), buf.as_mut_ptr(), k);
                buf.set_len(k);
            }
            lua.create_string(buf)
        });
        m.add_method_mut("write", |_, m, (offset, s): (i64, LStr)| {
            let r = m.region()?;
            if !m.writable {
                return Err(misuse("map: write to a read-only map"));
            }
            let s = s.as_bytes();
            let (o, k) = span("write", r.len, offset, s.len() as i64)?;
            // SAFETY: [o, o + k) lies inside the live mapping (checked by span), which
            // is mapped writable (checked above); s is a separate Lua string of k bytes.
            unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), r.ptr.as_ptr().add(o), k) };
            Ok(true)
        });
        m.add_method("flush", |_, m, (a, b, c): (Value, Value, Value)| {
            let r = m.region()?;
            // m:flush([async][, offset, n]); luapower's address becomes an offset.
            let (async_, off, n) = match a {
                Value::Boolean(x) => (x, b, c),
                Value::Nil => (false, b, c),
                other => (false, other, b),
            };
            let int = |v: Value, d: i64| match v {
                Value::Nil => Ok(d),
                Value::Integer(i) => Ok(i),
                other => Err(misuse(format!(
                    "map: flush offset and size must be integers, got {}",
                    other.type_name()
                ))),
            };
            let off = int(off, 0)?;
            let n = int(n, (r.len as i64).saturating_sub(off))?;
            let (o, k) = span("flush", r.len, off, n)?;
            let start = o / pagesize() * pagesize(); // msync wants a page-aligned start
            let flags = if async_ {
                libc::MS_ASYNC
            } else {
                libc::MS_SYNC
            };
            // SAFETY: [start, o + k) lies inside the live mapping (start <= o is on the
            // page holding o, and the mapping starts on a page boundary).
            let rc = unsafe { libc::msync(r.ptr.as_ptr().add(start).cast(), o + k - start, flags) };
            Ok(Ret(cvt(rc).map(|_| true)))
        });
        m.add_method_mut("free", |_, m, ()| {
            m.region = None;
            Ok(true)
        });
        m.add_method("freed", |_, m, ()| Ok(m.region.is_none()));
        m.add_method("unlink", |_, m, ()| {
            m.region()?;
            match &m.shm_name {
                Some(n) => Ok(Ret(shm_unlink(n))),
                None => Err(misuse("map: unlink: not a named (name=) map")),
            }
        });
        m.add_meta_method(MetaMethod::ToString, |_, m, ()| {
            Ok(match &m.region {
                None => "fs.map (freed)".to_string(),
                Some(r) => format!("fs.map ({} bytes)", r.len),
            })
        });
        m.add_meta_method_mut(MetaMethod::Close, |_, m, _: MultiValue| {
            m.region = None;
            Ok(())
        });
    }
}

/// Why a map could not be made: an OS error, or (luapower's word) a file too short for
/// a mapping that may not grow it.
pub(crate) enum MapErr {
    Os(Errno),
    TooShort,
}

impl From<Errno> for MapErr {
    fn from(e: Errno) -> MapErr {
        MapErr::Os(e)
    }
}

pub(crate) struct MapRet(Result<AnyUserData, MapErr>);

impl IntoLuaMulti for MapRet {
    fn into_lua_multi(self, lua: &Lua) -> mlua::Result<MultiValue> {
        match self.0 {
            Ok(ud) => ud.into_lua_multi(lua),
            Err(MapErr::Os(e)) => Ret::<()>(Err(e)).into_lua_multi(lua),
            Err(MapErr::TooShort) => {
                (Value::Nil, "file_too_short", libc::EINVAL).into_lua_multi(lua)
            }
        }
    }
}

/// The `access` letters: `r` read (always), `w` write through to the file, `c`
/// copy-on-write (writable, private: the file is never changed).
#[derive(Clone, Copy)]
struct Access {
    write: bool,
    copy: bool,
}

fn parse_access(v: &Value) -> mlua::Result<Access> {
    let s = match v {
        Value::Nil => {
            return Ok(Access {
                write: false,
                copy: false,
            })
        }
        Value::String(s) => s.to_str()?.to_string(),
        other => {
            return Err(misuse(format!(
                "map: access must be a string, got {}",
                other.type_name()
            )))
        }
    };
    let mut a = Access {
        write: false,
        copy: false,
    };
    for c in s.chars() {
        match c {
            'r' => {}
            'w' => a.write = true,
            'c' => a.copy = true,
            'x' => {
                return Err(misuse(
                    "map: access 'x' (executable) is not offered: Lua cannot run machine code",
                ))
            }
            other => return Err(misuse(format!("map: invalid access letter '{other}'"))),
        }
    }
    if a.write && a.copy {
        return Err(misuse("map: access 'w' and 'c' exclude each other"));
    }
    Ok(a)
}

/// The options of `fs.map`, read from a table.
struct MapOpts {
    path: Option<LStr>,
    file: Option<AnyUserData>,
    name: Option<LStr>,
    access: Access,
    size: Option<usize>,
    offset: i64,
    perms: libc::mode_t,
}

fn int_opt(t: &Table, key: &str) -> mlua::Result<Option<i64>> {
    match t.get::<Value>(key)? {
        Value::Nil => Ok(None),
        Value::Integer(n) => Ok(Some(n)),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(Some(n as i64)),
        other => Err(misuse(format!(
            "map: {key} must be an integer, got {}",
            other.type_name()
        ))),
    }
}

fn size_opt(t: &Table) -> mlua::Result<Option<usize>> {
    match int_opt(t, "size")? {
        None => Ok(None),
        Some(n) if n > 0 => usize::try_from(n)
            .map(Some)
            .map_err(|_| misuse("map: size out of range")),
        Some(_) => Err(misuse("map: size must be positive")),
    }
}

fn parse_opts(t: &Table) -> mlua::Result<MapOpts> {
    if !matches!(t.get::<Value>("addr")?, Value::Nil) {
        return Err(misuse(
            "map: addr is not supported (flu chooses the address; Lua cannot use one)",
        ));
    }
    let str_opt = |key: &str| -> mlua::Result<Option<LStr>> {
        match t.get::<Value>(key)? {
            Value::Nil => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(misuse(format!(
                "map: {key} must be a string, got {}",
                other.type_name()
            ))),
        }
    };
    let file = match t.get::<Value>("file")? {
        Value::Nil => None,
        Value::UserData(ud) if ud.is::<File>() => Some(ud),
        other => {
            return Err(misuse(format!(
                "map: file must be an fs file object, got {}",
                other.type_name()
            )))
        }
    };
    let offset = int_opt(t, "offset")?.unwrap_or(0);
    let ps = pagesize() as i64;
    if offset < 0 || offset % ps != 0 {
        return Err(misuse(format!(
            "map: offset {offset} is not a multiple of the page size ({ps}); see fs.aligned_size"
        )));
    }
    let perms = match t.get::<Value>("perms")? {
        Value::Nil => 0o666,
        v => parse_perms(&v, 0)?.0,
    };
    let o = MapOpts {
        path: str_opt("path")?,
        file,
        name: str_opt("name")?,
        access: parse_access(&t.get::<Value>("access")?)?,
        size: size_opt(t)?,
        offset,
        perms,
    };
    let sources = [o.path.is_some(), o.file.is_some(), o.name.is_some()];
    if sources.iter().filter(|&&b| b).count() > 1 {
        return Err(misuse("map: give at most one of path, file and name"));
    }
    Ok(o)
}

/// An fd that is closed on drop (the file `fs.map` opened itself, a memfd).
struct OwnedFd(libc::c_int);

impl Drop for OwnedFd {
    fn drop(&mut self) {
        // SAFETY: the fd was opened by this module and is closed once, here.
        unsafe { libc::close(self.0) };
    }
}

/// The `/tag` shared-memory name for `name=` (a leading `/` may already be there).
fn shm_name(name: &[u8]) -> FsResult<CString> {
    let mut v = Vec::with_capacity(name.len() + 1);
    if !name.starts_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    cstr(&v)
}

fn shm_unlink(name: &CString) -> FsResult<bool> {
    // SAFETY: NUL-terminated name.
    cvt(unsafe { libc::shm_unlink(name.as_ptr()) }).map(|_| true)
}

/// `fs.unlink_mapfile(tagname)`: remove the shared memory of a `name=` map.
pub(crate) fn unlink_mapfile(_: &Lua, name: LStr) -> mlua::Result<Ret<bool>> {
    Ok(Ret(shm_name(&name.as_bytes()).and_then(|n| shm_unlink(&n))))
}

/// Map, collecting garbage (whose finalizers unmap forgotten maps) and trying once more
/// if the address space or the map count is exhausted.
fn map_gc(lua: &Lua, f: impl Fn() -> FsResult<Region>) -> mlua::Result<FsResult<Region>> {
    match f() {
        Err(e) if e.code() == libc::ENOMEM => {
            lua.gc_collect()?;
            lua.gc_collect()?;
            Ok(f())
        }
        r => Ok(r),
    }
}

fn file_size(fd: libc::c_int) -> FsResult<i64> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st is a writable stat buffer; fstat fills it on success.
    cvt(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so st is initialized.
    Ok(unsafe { st.assume_init() }.st_size)
}

/// Build the map from parsed options.
fn make(lua: &Lua, o: &MapOpts) -> mlua::Result<Result<Map, MapErr>> {
    let a = o.access;
    let prot = libc::PROT_READ
        | if a.write || a.copy {
            libc::PROT_WRITE
        } else {
            0
        };
    let share = if a.copy {
        libc::MAP_PRIVATE
    } else {
        libc::MAP_SHARED
    };
    let mut shm = None;

    // The descriptor to map: the caller's file, or one opened here (closed after mmap:
    // the mapping keeps the file).
    let owned: OwnedFd;
    // The caller's file stays borrowed until the mapping is made, so no finalizer run
    // by a collection below can close the descriptor in between.
    let borrowed;
    // How a file or shared-memory object opened here is opened.
    let flags = libc::O_CLOEXEC
        | if a.write {
            libc::O_RDWR | libc::O_CREAT
        } else {
            libc::O_RDONLY
        };
    let fd = if let Some(ud) = &o.file {
        borrowed = ud.borrow::<File>()?;
        borrowed.fd()?
    } else if let Some(p) = &o.path {
        let c = match cstr(&p.as_bytes()) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e.into())),
        };
        let r = gc_retry(lua, || {
            // SAFETY: NUL-terminated path; the fd is owned by OwnedFd at once.
            retry(|| cvt(unsafe { libc::open(c.as_ptr(), flags, o.perms as libc::c_uint) }))
        })?;
        match r {
            Ok(fd) => owned = OwnedFd(fd),
            Err(e) => return Ok(Err(e.into())),
        }
        owned.0
    } else if let Some(n) = &o.name {
        let c = match shm_name(&n.as_bytes()) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e.into())),
        };
        let r = gc_retry(lua, || {
            // SAFETY: NUL-terminated name; the fd is owned by OwnedFd at once.
            retry(|| cvt(unsafe { libc::shm_open(c.as_ptr(), flags, o.perms) }))
        })?;
        match r {
            Ok(fd) => owned = OwnedFd(fd),
            Err(e) => return Ok(Err(e.into())),
        }
        shm = Some(c);
        owned.0
    } else {
        // Anonymous memory: private, zero-filled, size required.
        let size = o
            .size
            .ok_or_else(|| misuse("map: size is required without path, file or name"))?;
        let r = map_gc(lua, || {
            Region::map(size, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        })?;
        return Ok(r.map_err(MapErr::from).map(|region| Map {
            region: Some(region),
            size,
            writable: a.write || a.copy,
            shm_name: None,
        }));
    };

    let fsize = match file_size(fd) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.into())),
    };
    let size = match o.size {
        Some(s) => s,
        None => match usize::try_from(fsize - o.offset) {
            Ok(s) if s > 0 => s,
            _ => return Ok(Err(MapErr::TooShort)),
        },
    };
    let end = i64::try_from(size)
        .ok()
        .and_then(|s| s.checked_add(o.offset))
        .ok_or_else(|| misuse("map: offset + size out of range"))?;
    if end > fsize {
        // Pages past the end of a file fault (SIGBUS) when touched: never map them.
        if !a.write {
            return Ok(Err(MapErr::TooShort));
        }
        // SAFETY: plain syscall on an fd.
        if let Err(e) = retry(|| cvt(unsafe { libc::ftruncate(fd, end) })) {
            return Ok(Err(e.into()));
        }
    }
    let r = map_gc(lua, || Region::map(size, prot, share, fd, o.offset))?;
    Ok(r.map_err(MapErr::from).map(|region| Map {
        region: Some(region),
        size,
        writable: a.write || a.copy,
        shm_name: shm,
    }))
}

fn finish(lua: &Lua, r: Result<Map, MapErr>, file: Option<AnyUserData>) -> mlua::Result<MapRet> {
    Ok(MapRet(match r {
        Ok(m) => {
            let ud = lua.create_userdata(m)?;
            if let Some(f) = file {
                ud.set_user_value(f)?;
            }
            Ok(ud)
        }
        Err(e) => Err(e),
    }))
}

/// `fs.map{...}`, also positional: `fs.map(path | f[, access][, size][, offset])`.
pub(crate) fn map(
    lua: &Lua,
    (a, access, size, offset): (Value, Value, Value, Value),
) -> mlua::Result<MapRet> {
    let t = match a {
        Value::Table(t) => t,
        src @ (Value::String(_) | Value::UserData(_)) => {
            let t = lua.create_table()?;
            t.set(
                if matches!(src, Value::String(_)) {
                    "path"
                } else {
                    "file"
                },
                src,
            )?;
            t.set("access", access)?;
            t.set("size", size)?;
            t.set("offset", offset)?;
            t
        }
        other => {
            return Err(misuse(format!(
                "map: options table, path or file expected, got {}",
                other.type_name()
            )))
        }
    };
    let o = parse_opts(&t)?;
    let r = make(lua, &o)?;
    finish(lua, r, o.file.clone())
}

/// `f:map{...}`: `fs.map` with `file = f`.
pub(crate) fn map_file(lua: &Lua, f: AnyUserData, opt: Value) -> mlua::Result<MapRet> {
    let t = match opt {
        Value::Table(t) => t,
        Value::Nil => lua.create_table()?,
        other => {
            return Err(misuse(format!(
                "map: options table expected, got {}",
                other.type_name()
            )))
        }
    };
    if !matches!(t.get::<Value>("path")?, Value::Nil)
        || !matches!(t.get::<Value>("name")?, Value::Nil)
    {
        return Err(misuse("f:map: path and name do not go with a file"));
    }
    // Work on a copy: the caller's table is not changed.
    let copy = lua.create_table()?;
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        copy.set(k, v)?;
    }
    copy.set("file", f)?;
    let o = parse_opts(&copy)?;
    let r = make(lua, &o)?;
    finish(lua, r, o.file.clone())
}

/// `fs.mirror_map{size=, times=2}`: anonymous shared memory (a memfd) of `size` bytes
/// mapped `times` times back to back, so a ring buffer can read and write across its
/// end in one piece. The whole `size * times` region is reserved first; each copy is
/// then placed inside that reservation with MAP_FIXED, which therefore only ever
/// replaces pages this call owns.
pub(crate) fn mirror_map(lua: &Lua, t: Table) -> mlua::Result<Ret<AnyUserData>> {
    for key in ["path", "file", "name"] {
        if !matches!(t.get::<Value>(key)?, Value::Nil) {
            return Err(misuse(format!(
                "mirror_map: {key} is not offered (mirror maps are anonymous memory)"
            )));
        }
    }
    if !matches!(t.get::<Value>("addr")?, Value::Nil) {
        return Err(misuse("mirror_map: addr is not supported"));
    }
    let ps = pagesize();
    let size = size_opt(&t)?.ok_or_else(|| misuse("mirror_map: size is required"))?;
    if size % ps != 0 {
        return Err(misuse(format!(
            "mirror_map: size {size} is not a multiple of the page size ({ps}); see fs.aligned_size"
        )));
    }
    let times = match int_opt(&t, "times")? {
        None => 2,
        Some(n) if (1..=1024).contains(&n) => n as usize,
        Some(n) => {
            return Err(misuse(format!(
                "mirror_map: times must be 1..1024, got {n}"
            )))
        }
    };
    if size.checked_mul(times).is_none() {
        return Err(misuse("mirror_map: size * times out of range"));
    }
    let r = map_gc(lua, || mirror_region(size, times))?;
    Ok(Ret(match r {
        Ok(region) => Ok(lua.create_userdata(Map {
            region: Some(region),
            size,
            writable: true,
            shm_name: None,
        })?),
        Err(e) => Err(e),
    }))
}

/// The memfd mapped `times` times into one reservation (see [`mirror_map`]).
fn mirror_region(size: usize, times: usize) -> FsResult<Region> {
    // SAFETY: a static NUL-terminated name; the fd is owned by OwnedFd at once.
    let fd = OwnedFd(cvt(unsafe {
        libc::memfd_create(c"flu-mirror-map".as_ptr(), libc::MFD_CLOEXEC)
    })?);
    // SAFETY: plain syscall on our fd.
    retry(|| cvt(unsafe { libc::ftruncate(fd.0, size as i64) }))?;
    let reserve = Region::map(
        size * times,
        libc::PROT_NONE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
        -1,
        0,
    )?;
    for i in 0..times {
        // SAFETY: [i * size, (i + 1) * size) lies inside `reserve`, a mapping this
        // function just made and nothing else uses, so MAP_FIXED replaces only those
        // PROT_NONE pages. On failure `reserve` unmaps the whole range when dropped.
        let p = unsafe {
            libc::mmap(
                reserve.ptr.as_ptr().add(i * size).cast(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd.0,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
    }
    Ok(reserve)
}
