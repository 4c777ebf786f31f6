//! Handle slots: opening into a slot through a Lua handler or a native backend,
//! finding the native backend's handle behind a slot (or a temporary one), and
//! closing what a backend still holds when a slot is released.

use std::sync::Arc;

use mlua::Value;

use super::calling::P;
use crate::lua::call::{call_protected, expect_unit};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::handles::{new_file_info, NativeHandle, NativeRef, Slot};
use crate::lua::sets::mode_to_lua;
use crate::operations::{Fh, OpResult, Opened, Operations, RequestContext};

impl LuaFilesystem {
    /// Open through a Lua handler (`open`, `create` or `opendir`): build `fi`, call,
    /// keep `fi` (and a native handle found in `fi.fh`) in a new slot.
    pub(super) fn open_lua(
        &self,
        op: Op,
        path: P,
        ctx: &RequestContext,
        flags: i32,
        mode: Option<u32>,
    ) -> OpResult<Opened> {
        let (fi, native) = self.with_lua(op, path, ctx, |lua, f| {
            let fi = new_file_info(lua, flags)?;
            let p = Self::path_value(lua, path)?;
            let results = match mode {
                Some(m) => call_protected(lua, f, (p, mode_to_lua(lua, m)?, fi.clone()))?,
                None => call_protected(lua, f, (p, fi.clone()))?,
            };
            expect_unit(results)?;
            let native = match fi.raw_get::<Value>("fh")? {
                Value::UserData(ud) => ud.borrow::<NativeHandle>().ok().map(|h| *h),
                _ => None,
            };
            Ok((fi, native))
        })?;
        let flag = |k: &str| {
            fi.raw_get::<Value>(k)
                .map(|v| !matches!(v, Value::Nil | Value::Boolean(false)))
                .unwrap_or(false)
        };
        let (direct_io, keep_cache, nonseekable) =
            (flag("direct_io"), flag("keep_cache"), flag("nonseekable"));
        // The native handle came from whichever backend serves the op natively.
        let native_ref = native.and_then(|handle| {
            self.native_backend()
                .map(|backend| NativeRef { backend, handle })
        });
        let backing_fd = native_ref.as_ref().and_then(|n| {
            self.backing_allowed(&n.backend)
                .then_some(n.handle.backing_fd)
                .flatten()
        });
        let fh = self.handles.insert(Slot {
            flags,
            fi: Some(fi),
            native: native_ref,
        });
        Ok(Opened {
            fh,
            direct_io,
            keep_cache,
            nonseekable,
            backing_fd,
        })
    }

    /// Any native backend the routes use (for handles set by `base.open` in Lua).
    fn native_backend(&self) -> Option<Arc<dyn Operations>> {
        Op::ALL.iter().find_map(|op| match self.route(*op) {
            Route::Native(b) => Some(b.clone()),
            _ => None,
        })
    }

    /// Reads and writes may bypass the daemon only when both are the backend's own.
    fn backing_allowed(&self, backend: &Arc<dyn Operations>) -> bool {
        [Op::Read, Op::Write]
            .iter()
            .all(|op| matches!(self.route(*op), Route::Native(b) if Arc::ptr_eq(b, backend)))
    }

    pub(super) fn open_native(
        &self,
        backend: &Arc<dyn Operations>,
        flags: i32,
        opened: Opened,
    ) -> Opened {
        let handle = NativeHandle {
            fh: opened.fh,
            backing_fd: opened.backing_fd,
        };
        let fh = self.handles.insert(Slot {
            flags,
            fi: None,
            native: Some(NativeRef {
                backend: backend.clone(),
                handle,
            }),
        });
        let backing_fd = if self.backing_allowed(backend) {
            opened.backing_fd
        } else {
            None
        };
        Opened {
            fh,
            backing_fd,
            ..opened
        }
    }

    /// Run a native op on the backend's handle for `fh`, or on a temporary handle.
    pub(super) fn native_io<R>(
        &self,
        backend: &Arc<dyn Operations>,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        dir: bool,
        f: impl FnOnce(Fh) -> OpResult<R>,
    ) -> OpResult<R> {
        if let Some(h) = self.native_handle(fh, backend) {
            return f(Fh(h.fh));
        }
        let flags = self.handles.flags(fh.0).unwrap_or(libc::O_RDONLY)
            & !(libc::O_CREAT | libc::O_EXCL | libc::O_TRUNC);
        let opened = if dir {
            backend.opendir(ctx, path, flags)?
        } else {
            backend.open(ctx, path, flags)?
        };
        let tmp = Fh(opened.fh);
        let r = f(tmp);
        let _ = if dir {
            backend.releasedir(ctx, path, tmp)
        } else {
            backend.release(ctx, path, tmp, flags, false)
        };
        r
    }

    pub(super) fn native_fh(&self, backend: &Arc<dyn Operations>, fh: Option<Fh>) -> Option<Fh> {
        fh.and_then(|fh| self.native_handle(fh, backend))
            .map(|h| Fh(h.fh))
    }

    /// Close what a native backend still holds for a released slot.
    pub(super) fn release_native(&self, ctx: &RequestContext, path: P, slot: &Slot, dir: bool) {
        if let Some(n) = &slot.native {
            let fh = Fh(n.handle.fh);
            let _ = if dir {
                n.backend.releasedir(ctx, path, fh)
            } else {
                n.backend.release(ctx, path, fh, slot.flags, false)
            };
        }
    }
}
