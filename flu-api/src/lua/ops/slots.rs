//! Handle slots: opening into a slot through a Lua handler or a native backend (or the
//! defaults), finding the native backend's handle behind a slot, and closing what a
//! backend still holds when a slot is released.

use std::sync::Arc;

use mlua::{Function, Value};

use super::P;
use crate::lua::call::{call_protected, expect_unit, HandlerError};
use crate::lua::filesystem::{LuaFilesystem, Route};
use crate::lua::handles::{
    new_file_info, with_native_handle, HandleKind, NativeHandle, NativeRef, Slot,
};
use crate::lua::sets::mode_to_lua;
use crate::lua::sets_raw::file_info_fields;
use crate::op::Op;
use crate::operations::{Fh, OpResult, Opened, Operations, RequestContext};

impl LuaFilesystem {
    /// Open `path` as `op` (`open`, `create` or `opendir`) into a new slot: through the
    /// Lua handler (its `fi` and a native handle found in `fi.fh` are kept), or through
    /// `rust_open` on a native backend or the defaults (its handle is kept).
    pub(super) fn open_slot(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        flags: i32,
        mode: Option<u32>,
        rust_open: impl FnOnce(&Arc<dyn Operations>) -> OpResult<Opened>,
    ) -> OpResult<Opened> {
        let dir = op == Op::Opendir;
        self.dispatch(
            op,
            path,
            ctx,
            |backend| Ok(self.native_slot(backend, flags, rust_open(backend)?, dir)),
            |lua, f| self.lua_slot(lua, f, path, flags, mode, dir),
        )
    }

    fn lua_slot(
        &self,
        lua: &mlua::Lua,
        f: &Function,
        path: P,
        flags: i32,
        mode: Option<u32>,
        dir: bool,
    ) -> Result<Opened, HandlerError> {
        let fi = new_file_info(lua, flags)?;
        let p = Self::path_value(lua, path)?;
        let results = match mode {
            Some(m) => call_protected(lua, f, (p, mode_to_lua(lua, m)?, fi.clone()))?,
            None => call_protected(lua, f, (p, fi.clone()))?,
        };
        expect_unit(results)?;
        let (fh, options) = file_info_fields(lua, &fi)?;
        let native = match fh {
            Value::UserData(ud) => ud.borrow::<NativeHandle>().ok().map(|h| *h),
            _ => None,
        };
        let (direct_io, keep_cache, nonseekable) =
            (options.direct_io, options.keep_cache, options.nonseekable);
        // libfuse's field: the script vouches that its listing changes only when the
        // directory does (a change through the mount, or a new mtime).
        let cache_dir = dir && options.cache_readdir;
        // A Lua open: the kernel may skip FLUSH at close when nobody would hear it (no
        // flush handler: it would answer ENOSYS) or the script says so (libfuse's
        // `noflush`); a flush handler is otherwise the script's business.
        let no_flush = !dir && (self.handlers().route(Op::Flush).is_missing() || options.noflush);
        // The native handle came from whichever backend serves the ops natively.
        let native_ref = native.and_then(|handle| {
            self.handlers()
                .native_backend()
                .map(|backend| NativeRef { backend, handle })
        });
        let backing_fd = native_ref.as_ref().and_then(|n| {
            (!dir && self.backing_allowed(&n.backend))
                .then_some(n.handle.backing_fd)
                .flatten()
        });
        let fh = self.handles.insert(Slot::new(flags, native_ref, Some(fi)));
        Ok(Opened {
            fh,
            direct_io,
            keep_cache,
            nonseekable,
            backing_fd,
            no_flush,
            cache_dir,
        })
    }

    pub(super) fn native_slot(
        &self,
        backend: &Arc<dyn Operations>,
        flags: i32,
        opened: Opened,
        dir: bool,
    ) -> Opened {
        let handle = NativeHandle {
            fh: opened.fh,
            backing_fd: opened.backing_fd,
        };
        // The defaults hold nothing open: such a slot has no native part (its fi.fh
        // stays 0, as in Flu).
        let native = (!self.is_unimplemented(backend)).then(|| NativeRef {
            backend: backend.clone(),
            handle,
        });
        let fh = self.handles.insert(Slot::new(flags, native, None));
        let backing_fd = if !dir && self.backing_allowed(backend) {
            opened.backing_fd
        } else {
            None
        };
        // The kernel may skip flush only when flush is this backend's own too, and
        // cache a listing only when readdir is: a Lua readdir's answer is the script's.
        let no_flush = opened.no_flush && self.serves_natively(Op::Flush, backend);
        let cache_dir = opened.cache_dir && self.serves_natively(Op::Readdir, backend);
        Opened {
            fh,
            backing_fd,
            no_flush,
            cache_dir,
            ..opened
        }
    }

    /// Whether `op` is `backend`'s own function, served without Lua.
    fn serves_natively(&self, op: Op, backend: &Arc<dyn Operations>) -> bool {
        matches!(self.handlers().route(op), Route::Native(b) if Arc::ptr_eq(b, backend))
    }

    /// Reads and writes may bypass the daemon only when both are the backend's own.
    fn backing_allowed(&self, backend: &Arc<dyn Operations>) -> bool {
        [Op::Read, Op::Write]
            .iter()
            .all(|op| self.serves_natively(*op, backend))
    }

    /// Whether `own`, the backend that opened a slot, is one an earlier load of the
    /// script made and this load no longer routes to (after a reload): the slot's
    /// operations then stay with it.
    fn outlived_by_reload(&self, own: &Arc<dyn Operations>) -> bool {
        let handlers = self.handlers();
        !Op::HANDLERS
            .iter()
            .any(|op| matches!(handlers.route(*op), Route::Native(b) if Arc::ptr_eq(b, own)))
    }

    /// `dispatch` for an operation on open slot `fh`: a Rust backend gets its own handle
    /// behind the slot (or a temporary one, see `native_io`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dispatch_on<R>(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        fh: Fh,
        kind: HandleKind,
        rust: impl FnOnce(&Arc<dyn Operations>, Fh) -> OpResult<R>,
        lua: impl FnOnce(&mlua::Lua, &Function) -> Result<R, HandlerError>,
    ) -> OpResult<R> {
        self.dispatch(
            op,
            path,
            ctx,
            |b| self.native_io(b, ctx, path, fh, kind, rust),
            lua,
        )
    }

    /// Run a native op routed to `routed` on slot `fh`: on the routed backend's own
    /// handle behind the slot, or on a temporary one when the slot has none of its
    /// (see `with_native_handle`). A handle an earlier load's backend opened stays with
    /// that backend once a reload routes elsewhere (`outlived_by_reload`).
    pub(super) fn native_io<R>(
        &self,
        routed: &Arc<dyn Operations>,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        kind: HandleKind,
        f: impl FnOnce(&Arc<dyn Operations>, Fh) -> OpResult<R>,
    ) -> OpResult<R> {
        let slot = self.handles.get(fh.0);
        let flags = slot.as_ref().map_or(libc::O_RDONLY, |s| s.flags);
        let native = slot.as_ref().and_then(|s| s.native.as_ref());
        let (backend, handle) = match native {
            Some(n) if Arc::ptr_eq(&n.backend, routed) => (routed, Some(n.handle.fh)),
            Some(n) if !self.is_unimplemented(routed) && self.outlived_by_reload(&n.backend) => {
                (&n.backend, Some(n.handle.fh))
            }
            _ => (routed, None),
        };
        with_native_handle(backend, ctx, path, handle, flags, kind, |nfh| {
            f(backend, nfh)
        })
    }

    /// The backend's own handle behind an optional slot (for getattr/setattr by handle).
    pub(super) fn native_fh(&self, backend: &Arc<dyn Operations>, fh: Option<Fh>) -> Option<Fh> {
        fh.and_then(|fh| self.native_handle(fh, backend))
            .map(|h| Fh(h.fh))
    }

    /// Release slot `fh`: the Lua handler `op` (`release` or `releasedir`) sees its
    /// `fi` first, then whatever a native backend still holds for it is closed.
    pub(super) fn release_slot(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        fh: Fh,
        lua_release: impl FnOnce(&mlua::Lua, &Function) -> Result<(), HandlerError>,
    ) -> OpResult<()> {
        let result = match self.handlers().route(op) {
            Route::Lua(_) => self.dispatch(op, path, ctx, |_| Ok(()), lua_release),
            _ => Ok(()),
        };
        if let Some(slot) = self.handles.remove(fh.0) {
            if let Some(n) = &slot.native {
                let nfh = Fh(n.handle.fh);
                let _ = if op == Op::Releasedir {
                    n.backend.releasedir(ctx, path, nfh)
                } else {
                    n.backend.release(ctx, path, nfh, slot.flags, false)
                };
            }
        }
        result
    }
}
