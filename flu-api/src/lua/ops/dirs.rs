//! Directories: opendir, readdir (with its `filler`), stat_entry, releasedir and
//! fsyncdir.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::sync::{Arc, Mutex};

use mlua::Value;

use super::calling::{args, P};
use crate::errno::Errno;
use crate::lua::call::{call_protected, expect_unit};
use crate::lua::dispatch::{LuaFilesystem, Op, Route};
use crate::lua::handles::{NativeHandle, NativeRef, Slot};
use crate::lua::sets::mode_from_lua;
use crate::lua::stat::stat_from_lua;
use crate::operations::{DirEntry, Fh, OpResult, Opened, RequestContext};
use crate::stat::Stat;

impl LuaFilesystem {
    pub(super) fn do_opendir(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        match self.route(Op::Opendir) {
            Route::Native(b) => {
                let opened = b.opendir(ctx, path, flags)?;
                let handle = NativeHandle {
                    fh: opened.fh,
                    backing_fd: None,
                };
                let fh = self.handles.insert(Slot {
                    flags,
                    fi: None,
                    native: Some(NativeRef {
                        backend: b.clone(),
                        handle,
                    }),
                });
                Ok(Opened {
                    fh,
                    backing_fd: None,
                    ..opened
                })
            }
            Route::Missing => Ok(Opened {
                fh: self.handles.insert(Slot {
                    flags,
                    ..Slot::default()
                }),
                ..Opened::default()
            }),
            Route::Lua(_) => self
                .open_lua(Op::Opendir, path, ctx, flags, None)
                .map(|o| Opened {
                    backing_fd: None,
                    ..o
                }),
        }
    }

    pub(super) fn do_readdir(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
    ) -> OpResult<Vec<DirEntry>> {
        match self.route(Op::Readdir) {
            Route::Native(b) => {
                self.native_io(b, ctx, path, fh, true, |nfh| b.readdir(ctx, path, nfh))
            }
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.with_lua(Op::Readdir, path, ctx, |lua, f| {
                let entries: Arc<Mutex<Vec<DirEntry>>> = Arc::default();
                let sink = entries.clone();
                let defaults = self.defaults;
                let filler = lua.create_function(
                    move |_, (name, stat, _offset): (mlua::LuaString, Value, Value)| {
                        let bad = |e: String| {
                            mlua::Error::runtime(format!("bad argument #2 to 'filler' ({e})"))
                        };
                        let (stat, kind) = match &stat {
                            Value::Nil => (None, None),
                            // A type alone ('directory', 0o040000): enough for a listing.
                            v @ (Value::String(_) | Value::Integer(_) | Value::Number(_)) => {
                                let kind = mode_from_lua(v).map_err(bad)? & libc::S_IFMT;
                                (None, (kind != 0).then_some(kind))
                            }
                            v => (Some(stat_from_lua(v, &defaults).map_err(bad)?), None),
                        };
                        let bytes = name.as_bytes();
                        // The kernel rejects a whole listing that has such a name.
                        if bytes.is_empty() || bytes.contains(&b'/') || bytes.contains(&0) {
                            return Err(mlua::Error::runtime(format!(
                                "bad argument #1 to 'filler' (a name cannot be empty or contain '/' or NUL: {:?})",
                                String::from_utf8_lossy(&bytes)
                            )));
                        }
                        let name = OsString::from_vec(bytes.to_vec());
                        let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
                        // A listing this long is a runaway loop, not a directory.
                        if sink.len() >= 10_000_000 {
                            return Ok(false);
                        }
                        sink.push(DirEntry { name, stat, kind });
                        Ok(true)
                    },
                )?;
                let fi = self.file_info(lua, fh)?;
                expect_unit(call_protected(
                    lua,
                    f,
                    (Self::path_value(lua, path)?, filler, fi),
                )?)?;
                let list = std::mem::take(&mut *entries.lock().unwrap_or_else(|p| p.into_inner()));
                Ok(list)
            }),
        }
    }

    /// Only where the listing came from a backend's own readdir on its own handle, and
    /// that backend also answers getattr (a Lua getattr must see every stat request).
    pub(super) fn do_stat_entry(
        &self,
        ctx: &RequestContext,
        dir: P,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        let Route::Native(b) = self.route(Op::Readdir) else {
            return None;
        };
        if !matches!(self.route(Op::Getattr), Route::Native(g) if Arc::ptr_eq(g, b)) {
            return None;
        }
        let h = self.native_handle(fh, b)?;
        b.stat_entry(ctx, dir, Fh(h.fh), name)
    }

    pub(super) fn do_releasedir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<()> {
        let result = match self.route(Op::Releasedir) {
            Route::Lua(_) => self.unit(
                Op::Releasedir,
                path,
                ctx,
                |lua| args!(lua; Self::path_value(lua, path)?, self.file_info(lua, fh)?),
            ),
            _ => Ok(()),
        };
        if let Some(slot) = self.handles.remove(fh.0) {
            self.release_native(ctx, path, &slot, true);
        }
        result
    }

    pub(super) fn do_fsyncdir(
        &self,
        ctx: &RequestContext,
        path: P,
        fh: Fh,
        datasync: bool,
    ) -> OpResult<()> {
        match self.route(Op::Fsyncdir) {
            Route::Native(b) => self.native_io(b, ctx, path, fh, true, |nfh| {
                b.fsyncdir(ctx, path, nfh, datasync)
            }),
            Route::Missing => Err(Errno::ENOSYS),
            Route::Lua(_) => self.unit(
                Op::Fsyncdir,
                path,
                ctx,
                // Flu passed fsyncdir's datasync as a number (fsync's as a boolean).
                |lua| args!(lua; Self::path_value(lua, path)?, i32::from(datasync), self.file_info(lua, fh)?),
            ),
        }
    }
}
