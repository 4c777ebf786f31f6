//! Open handles of a Lua filesystem: for each file or directory the kernel has open, the
//! `fi` table handed to Lua handlers (so `fi.fh` keeps any Lua value for the life of
//! the handle) and, when a native backend opened it, that backend's own handle. Also
//! the one helper that runs a native call on a backend handle, opening a temporary one
//! when the file was not opened by that backend.

use std::os::fd::RawFd;
use std::path::Path;
use std::sync::{Arc, Mutex};

use mlua::{Lua, Table, UserData, UserDataFields};

use crate::operations::{Fh, OpResult, Operations, RequestContext};

/// A native backend's handle, as a Lua value (`fi.fh` after `base.open(path, fi)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeHandle {
    pub fh: u64,
    pub backing_fd: Option<RawFd>,
}

impl UserData for NativeHandle {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("id", |_, this| Ok(this.fh));
    }
}

/// A backend handle together with the backend that issued it.
#[derive(Clone)]
pub struct NativeRef {
    pub backend: Arc<dyn Operations>,
    pub handle: NativeHandle,
}

/// One open file or directory, in the filesystem's `HandleTable<Slot>`. Its native
/// part and flags are plain data: native I/O reads them without touching a Lua value
/// (cloning one takes the Lua state's lock, which native I/O must never wait for).
#[derive(Default)]
pub struct Slot {
    pub flags: i32,
    pub native: Option<NativeRef>,
    /// The `fi` table, made on the first Lua call that needs it.
    pub fi: Mutex<Option<Table>>,
}

impl Slot {
    pub fn new(flags: i32, native: Option<NativeRef>, fi: Option<Table>) -> Slot {
        Slot {
            flags,
            native,
            fi: Mutex::new(fi),
        }
    }

    pub fn fi(&self) -> Option<Table> {
        self.fi.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_fi(&self, fi: Table) {
        *self.fi.lock().unwrap_or_else(|p| p.into_inner()) = Some(fi);
    }
}

/// A fresh `fi` table, as Flu's file-info object: `flags` (a set), `fh` (0 until set),
/// and the open options a handler may set.
pub fn new_file_info(lua: &Lua, flags: i32) -> mlua::Result<Table> {
    super::sets::file_info_to_lua(lua, flags)
}

/// What a handle is open on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleKind {
    File,
    Dir,
}

/// Run `f` on `backend`'s handle `handle`, or, when the file was not opened by this
/// backend (`None`: a Lua handler opened it, or the script calls a native function
/// with its own `fi`), on a temporary one opened with the file's `flags` for this call.
pub fn with_native_handle<R>(
    backend: &Arc<dyn Operations>,
    ctx: &RequestContext,
    path: &Path,
    handle: Option<u64>,
    flags: i32,
    kind: HandleKind,
    f: impl FnOnce(Fh) -> OpResult<R>,
) -> OpResult<R> {
    if let Some(fh) = handle {
        return f(Fh(fh));
    }
    let flags = flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_TRUNC);
    let opened = match kind {
        HandleKind::File => backend.open(ctx, path, flags)?,
        HandleKind::Dir => backend.opendir(ctx, path, flags)?,
    };
    let tmp = Fh(opened.fh);
    let result = f(tmp);
    let _ = match kind {
        HandleKind::File => backend.release(ctx, path, tmp, flags, false),
        HandleKind::Dir => backend.releasedir(ctx, path, tmp),
    };
    result
}
