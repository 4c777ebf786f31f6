//! Bridges to descriptors made elsewhere: `fs.fileno(io_file)`, `fs.wrap_fd(fd)` and
//! `fs.wrap_file(io_file)`.
//!
//! A Lua `io` file is a `LUA_FILEHANDLE` ("FILE*") userdata holding a `luaL_Stream`.
//! mlua does not expose it, so it is read through the C API inside [`Lua::exec_raw`],
//! after `luaL_testudata` has proved the value really is such a stream; everything done
//! with the `FILE *` happens inside that call, while the state is locked, so the stream
//! cannot be closed underneath.

use std::os::fd::RawFd;

use mlua::{ffi, Lua, Table, Value};

use super::error::{cvt, misuse, retry, FsResult, Ret};
use super::file::File;

/// `luaL_Stream` from `lauxlib.h` (Lua 5.4): the stream, and the function that closes
/// it — NULL once the file is closed.
#[repr(C)]
struct LuaStream {
    f: *mut libc::FILE,
    closef: Option<ffi::lua_CFunction>,
}

/// `LUA_FILEHANDLE`, the registry name of the `io` file metatable.
const LUA_FILEHANDLE: &std::ffi::CStr = c"FILE*";

enum Stream<T> {
    NotAFile,
    Closed,
    Open(T),
}

/// Run `f` on the open stream of `v` if `v` is an `io` file.
fn with_stream<T>(
    lua: &Lua,
    v: &Value,
    f: impl FnOnce(*mut libc::FILE) -> T,
) -> mlua::Result<Stream<T>> {
    if !matches!(v, Value::UserData(_)) {
        return Ok(Stream::NotAFile);
    }
    let mut out = Stream::NotAFile;
    // SAFETY: exec_raw pushes `v` as argument 1 and runs the closure in a protected
    // call. luaL_testudata returns a non-NULL block pointer only when argument 1 is a
    // full userdata whose metatable is the io library's LUA_FILEHANDLE one, which makes
    // the block a luaL_Stream (LuaStream has its layout: a pointer and an optional
    // function pointer). Its `f` is a valid FILE * while `closef` is non-NULL (Lua sets
    // it to NULL on close), and no Lua code runs before the closure returns, so the
    // stream stays open while `f` uses it. Nothing here raises a Lua error.
    unsafe {
        lua.exec_raw::<()>(v, |state| {
            let p = ffi::luaL_testudata(state, 1, LUA_FILEHANDLE.as_ptr()).cast::<LuaStream>();
            if !p.is_null() {
                out = if (*p).closef.is_none() || (*p).f.is_null() {
                    Stream::Closed
                } else {
                    Stream::Open(f((*p).f))
                };
            }
            ffi::lua_settop(state, 0);
        })?;
    }
    Ok(out)
}

fn not_a_file(what: &str, v: &Value) -> mlua::Error {
    misuse(format!(
        "{what}: io file expected, got {}",
        match v {
            Value::UserData(_) => "another userdata",
            other => other.type_name(),
        }
    ))
}

/// `fs.fileno(file)`: the descriptor of an `io` file (or of an fs file, as `f.fd`).
pub(crate) fn fileno(lua: &Lua, v: Value) -> mlua::Result<RawFd> {
    if let Value::UserData(ud) = &v {
        if ud.is::<File>() {
            return ud.borrow::<File>()?.fd();
        }
    }
    // SAFETY: `s` is the open stream with_stream found; fileno only reads it.
    match with_stream(lua, &v, |s| unsafe { libc::fileno(s) })? {
        Stream::Open(fd) if fd >= 0 => Ok(fd),
        // An io.popen-less stream without a descriptor (none in Lua's io library).
        Stream::Open(_) => Err(misuse("fileno: the stream has no file descriptor")),
        Stream::Closed => Err(misuse("fileno: attempt to use a closed file")),
        Stream::NotAFile => Err(not_a_file("fileno", &v)),
    }
}

/// `fs.wrap_fd(fd[, opt])`: a file object for an open descriptor. The object owns it
/// (closes it on `f:close()` and collection) unless `opt.own == false`.
pub(crate) fn wrap_fd(_: &Lua, (fd, opt): (i64, Option<Table>)) -> mlua::Result<Ret<File>> {
    let fd = RawFd::try_from(fd)
        .ok()
        .filter(|&fd| fd >= 0)
        .ok_or_else(|| misuse(format!("wrap_fd: invalid file descriptor {fd}")))?;
    let own = match &opt {
        Some(t) => t.get::<Option<bool>>("own")?.unwrap_or(true),
        None => true,
    };
    // SAFETY: F_GETFD only queries the descriptor's flags; EBADF if it is not open.
    let r = cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) });
    Ok(Ret(r.map(|_| File::from_fd(fd, own))))
}

/// `fs.wrap_file(io_file)`: a file object on a duplicate (close-on-exec) of the io
/// file's descriptor, after flushing the stream so the two agree on the contents and
/// the position. Closing either leaves the other working.
pub(crate) fn wrap_file(lua: &Lua, v: Value) -> mlua::Result<Ret<File>> {
    let dup = |s: *mut libc::FILE| -> FsResult<RawFd> {
        // SAFETY: `s` is the open stream with_stream found. fflush writes out pending
        // output and, for input on a seekable file, moves the descriptor's offset back
        // to the stream's position (POSIX.1-2008).
        unsafe { libc::fflush(s) };
        // SAFETY: fileno only reads the stream.
        let fd = unsafe { libc::fileno(s) };
        if fd < 0 {
            return Err(crate::errno::Errno::EBADF);
        }
        // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, owned by the File below.
        retry(|| cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) }))
    };
    match with_stream(lua, &v, dup)? {
        Stream::Open(r) => Ok(Ret(r.map(|fd| File::from_fd(fd, true)))),
        Stream::Closed => Err(misuse("wrap_file: attempt to use a closed file")),
        Stream::NotAFile => Err(not_a_file("wrap_file", &v)),
    }
}
