//! Directory listing: the owned `DIR*` stream ([`RawDir`]) and the `fs.dir` iterator
//! object with its `d:name() d:attr() d:is() …` methods.
//!
//! luapower's iterator never raises: an error (including failing to open the
//! directory) arrives as one `false, message, code` iteration, then the loop ends.
//! Entry types come from `d_type` when the filesystem provides it, so listing a
//! directory and asking each entry's type costs no extra syscall.

use std::ffi::CStr;
use std::os::fd::RawFd;

use mlua::{AnyUserData, Function, Lua, MetaMethod, MultiValue, UserData, UserDataMethods, Value};

use super::attr::{self, check_type_name, dtype_name, Target};
use super::error::{cstr, cvt, misuse, retry, FsResult, Ret};
use crate::errno::Errno;

/// An owned `DIR*`; closing it closes its fd.
pub(crate) struct RawDir(*mut libc::DIR);

// SAFETY: the stream is owned by exactly one RawDir; reading it needs &mut self, and
// the only &self use (dirfd) reads an immutable field. glibc's DIR has no thread
// affinity.
unsafe impl Send for RawDir {}
// SAFETY: see above; shared references cannot advance the stream.
unsafe impl Sync for RawDir {}

/// One entry as `readdir` returned it.
pub(crate) struct Entry {
    pub name: Vec<u8>,
    pub d_type: u8,
    pub ino: u64,
}

impl RawDir {
    /// Take ownership of a directory fd (closed here on failure too).
    pub(crate) fn from_fd(fd: RawFd) -> FsResult<RawDir> {
        // SAFETY: fd is an open descriptor we own.
        let d = unsafe { libc::fdopendir(fd) };
        if d.is_null() {
            let e = Errno::last();
            // SAFETY: fdopendir failed, so the fd is still ours to close.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Ok(RawDir(d))
    }

    /// Open `path` relative to `dirfd` for listing.
    pub(crate) fn open_at(dirfd: RawFd, path: &CStr) -> FsResult<RawDir> {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: NUL-terminated path.
        let fd = retry(|| cvt(unsafe { libc::openat(dirfd, path.as_ptr(), flags) }))?;
        RawDir::from_fd(fd)
    }

    pub(crate) fn fd(&self) -> RawFd {
        // SAFETY: self.0 is a live stream.
        unsafe { libc::dirfd(self.0) }
    }

    /// The next entry, `None` at the end.
    pub(crate) fn read(&mut self) -> FsResult<Option<Entry>> {
        // readdir signals errors only through errno, so it is cleared first.
        // SAFETY: errno is thread-local; self.0 is a live stream; the returned entry is
        // copied out before the next call can invalidate it.
        unsafe {
            *libc::__errno_location() = 0;
            let e = libc::readdir64(self.0);
            if e.is_null() {
                let err = *libc::__errno_location();
                return if err == 0 { Ok(None) } else { Err(Errno(err)) };
            }
            let name = CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec();
            Ok(Some(Entry {
                name,
                d_type: (*e).d_type,
                ino: (*e).d_ino,
            }))
        }
    }
}

impl Drop for RawDir {
    fn drop(&mut self) {
        // SAFETY: self.0 is live and dropped exactly once.
        unsafe { libc::closedir(self.0) };
    }
}

enum State {
    /// Opening failed: reported at the first iteration.
    Failed(Errno),
    Open(RawDir),
    Closed,
}

/// The `fs.dir` iterator object.
pub(crate) struct Dir {
    state: State,
    /// The directory as given to `fs.dir`, for `d:dir()` and `d:path()`.
    path: Vec<u8>,
    dot_dirs: bool,
    /// The current entry.
    entry: Option<Entry>,
}

impl Dir {
    pub(crate) fn new(opened: FsResult<RawDir>, path: Vec<u8>, dot_dirs: bool) -> Dir {
        Dir {
            state: match opened {
                Ok(d) => State::Open(d),
                Err(e) => State::Failed(e),
            },
            path,
            dot_dirs,
            entry: None,
        }
    }

    /// Advance: `Ok(Some(()))` on an entry, `Ok(None)` at the end.
    fn advance(&mut self) -> FsResult<Option<()>> {
        let d = match &mut self.state {
            State::Failed(e) => {
                let e = *e;
                self.state = State::Closed;
                return Err(e);
            }
            State::Closed => return Ok(None),
            State::Open(d) => d,
        };
        loop {
            match d.read() {
                Ok(Some(e)) => {
                    if !self.dot_dirs && (e.name == b"." || e.name == b"..") {
                        continue;
                    }
                    self.entry = Some(e);
                    return Ok(Some(()));
                }
                r => {
                    // End or error: the stream is done either way; free the fd now.
                    self.state = State::Closed;
                    self.entry = None;
                    return r.map(|_| None);
                }
            }
        }
    }

    fn open_dir(&self) -> mlua::Result<&RawDir> {
        match &self.state {
            State::Open(d) => Ok(d),
            _ => Err(misuse("directory iterator is closed")),
        }
    }

    fn entry(&self) -> mlua::Result<&Entry> {
        self.entry
            .as_ref()
            .ok_or_else(|| misuse("directory iterator has no current entry"))
    }

    fn full_path(&self) -> Option<Vec<u8>> {
        let e = self.entry.as_ref()?;
        let mut p = self.path.clone();
        if !p.is_empty() && !p.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(&e.name);
        Some(p)
    }

    /// The entry's type without a syscall when `d_type` answers it.
    fn cheap_type(&self, deref: bool) -> Option<&'static str> {
        let e = self.entry.as_ref()?;
        match dtype_name(e.d_type)? {
            "symlink" if deref => None,
            t => Some(t),
        }
    }

    fn stat(&self, deref: bool) -> mlua::Result<FsResult<libc::stat>> {
        let d = self.open_dir()?;
        let name = match cstr(&self.entry()?.name) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Target::At {
            dirfd: d.fd(),
            path: &name,
            deref,
        }
        .stat())
    }
}

/// `d:next()` and the iterator function: `name, d` | `false, msg, code` | `nil`.
fn next(lua: &Lua, ud: AnyUserData) -> mlua::Result<MultiValue> {
    let mut d = ud.borrow_mut::<Dir>()?;
    match d.advance() {
        Ok(Some(())) => {
            let name = lua.create_string(&d.entry()?.name)?;
            drop(d);
            Ok(MultiValue::from_iter([
                Value::String(name),
                Value::UserData(ud),
            ]))
        }
        Ok(None) => Ok(MultiValue::from_iter([Value::Nil])),
        Err(e) => Ok(MultiValue::from_iter([
            Value::Boolean(false),
            Value::String(lua.create_string(e.fs_message())?),
            Value::Integer(e.code() as i64),
        ])),
    }
}

/// `fs.dir`-style result: the iterator function, the state object, and the state object
/// again as the generic `for`'s closing value, so `break` closes the directory at once.
pub(crate) fn iterate(
    lua: &Lua,
    dir: Dir,
) -> mlua::Result<(Function, AnyUserData, Value, AnyUserData)> {
    let ud = lua.create_userdata(dir)?;
    let f = lua.create_function(|lua, (ud, _): (AnyUserData, Value)| next(lua, ud))?;
    Ok((f, ud.clone(), Value::Nil, ud))
}

/// `(name|deref)`: a string names an attribute; a boolean alone is deref.
fn name_and_deref(a: Value, b: Value) -> mlua::Result<(Option<String>, bool)> {
    let deref = |v: &Value| match v {
        Value::Nil => Ok(true),
        Value::Boolean(b) => Ok(*b),
        other => Err(misuse(format!(
            "deref: boolean expected, got {}",
            other.type_name()
        ))),
    };
    match a {
        Value::Nil => Ok((None, deref(&b)?)),
        Value::Boolean(x) => Ok((None, x)),
        Value::String(s) => Ok((Some(s.to_str()?.to_string()), deref(&b)?)),
        other => Err(misuse(format!(
            "attribute name expected, got {}",
            other.type_name()
        ))),
    }
}

impl UserData for Dir {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_function("next", next);
        m.add_method_mut("close", |_, d, ()| {
            d.state = State::Closed;
            d.entry = None;
            Ok(true)
        });
        m.add_method("closed", |_, d, ()| Ok(matches!(d.state, State::Closed)));
        m.add_method("name", |lua, d, ()| {
            d.entry
                .as_ref()
                .map(|e| lua.create_string(&e.name))
                .transpose()
        });
        m.add_method("dir", |lua, d, ()| lua.create_string(&d.path));
        m.add_method("path", |lua, d, ()| {
            d.full_path().map(|p| lua.create_string(p)).transpose()
        });
        m.add_method("attr", |lua, d, (a, b): (Value, Value)| {
            let (name, deref) = name_and_deref(a, b)?;
            if let Some(n) = name.as_deref() {
                // Free answers: the type from d_type, the inode from d_ino.
                match (n, d.cheap_type(deref)) {
                    ("type", Some(t)) => return Ok(Ret(Ok(Value::String(lua.create_string(t)?)))),
                    ("inode", _) if !deref || d.cheap_type(true).is_some() => {
                        return Ok(Ret(Ok(Value::Integer(d.entry()?.ino as i64))))
                    }
                    _ => {}
                }
            }
            let dirfd = d.open_dir()?.fd();
            let ename = match cstr(&d.entry()?.name) {
                Ok(n) => n,
                Err(e) => return Ok(Ret(Err(e))),
            };
            let t = Target::At {
                dirfd,
                path: &ename,
                deref,
            };
            Ok(Ret(attr::get(lua, &t, name.as_deref())?))
        });
        m.add_method("is", |_, d, (ty, deref): (Option<String>, Option<bool>)| {
            if let Some(t) = &ty {
                check_type_name(t)?;
            }
            // Asking "is it a symlink" only makes sense without following it.
            let deref = deref.unwrap_or(ty.as_deref() != Some("symlink"));
            let actual = match d.cheap_type(deref) {
                Some(t) => t,
                None => match d.stat(deref)? {
                    Ok(st) => attr::type_name(st.st_mode),
                    Err(e) if e == Errno::ENOENT => return Ok(Ret(Ok(false))),
                    Err(e) => return Ok(Ret(Err(e))),
                },
            };
            Ok(Ret(Ok(ty.is_none_or(|t| t == actual))))
        });
        m.add_meta_method(MetaMethod::ToString, |_, d, ()| {
            Ok(format!(
                "fs.dir ({}{})",
                String::from_utf8_lossy(&d.path),
                if matches!(d.state, State::Closed) {
                    ", closed"
                } else {
                    ""
                }
            ))
        });
        m.add_meta_method_mut(MetaMethod::Close, |_, d, _: MultiValue| {
            d.state = State::Closed;
            Ok(())
        });
    }
}
