//! Directories: opendir, readdir (with its `filler`), stat_entry, releasedir and
//! fsyncdir — handler calls and native functions.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::{Arc, Mutex};

use mlua::{Function, Lua, Value};

use super::files::answer_open;
use super::native_args::{
    answer, arg, ctx, datasync_arg, flags_of, handle_of, path_arg, with_fi_handle, Raw,
};
use super::{args, call_unit, P};
use crate::lua::call::{call_protected, expect_unit, HandlerError};
use crate::lua::filesystem::LuaFilesystem;
use crate::lua::handles::HandleKind;
use crate::lua::sets::{mode_from_lua, type_string};
use crate::lua::stat::{stat_from_lua, stat_to_lua, StatDefaults};
use crate::op::Op;
use crate::operations::{DirEntry, DirOps, Fh, OpResult, Opened, RequestContext};
use crate::stat::Stat;

/// A listing this long is a runaway loop, not a directory.
const MAX_ENTRIES: usize = 10_000_000;

thread_local! {
    /// The fillers of the readdir handler calls this thread is in, by function identity,
    /// with what they collect into: `base.readdir` handed one of them lists straight
    /// into its sink, without a Lua call (and a name string, a type string) per entry.
    static FILLERS: std::cell::RefCell<Vec<(usize, Sink)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What a filler collects into.
type Sink = Arc<Mutex<Vec<DirEntry>>>;

/// While alive, `filler` is known to this thread as collecting into `sink`.
struct KnownFiller;

impl KnownFiller {
    fn enter(filler: &Function, sink: &Sink) -> KnownFiller {
        FILLERS.with(|f| {
            f.borrow_mut()
                .push((filler.to_pointer() as usize, sink.clone()))
        });
        KnownFiller
    }
}

impl Drop for KnownFiller {
    fn drop(&mut self) {
        FILLERS.with(|f| {
            f.borrow_mut().pop();
        });
    }
}

/// The sink of `filler` when it is a filler this thread's readdir handler calls made.
fn sink_of(filler: &Function) -> Option<Sink> {
    let id = filler.to_pointer() as usize;
    FILLERS.with(|f| {
        f.borrow()
            .iter()
            .rev()
            .find(|(p, _)| *p == id)
            .map(|(_, s)| s.clone())
    })
}

/// Put what a backend listed into `sink`, as the filler would have (up to
/// `MAX_ENTRIES`).
fn fill_directly(sink: &Sink, entries: Vec<DirEntry>) {
    let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
    let room = MAX_ENTRIES.saturating_sub(sink.len());
    sink.extend(entries.into_iter().take(room));
}

/// The `filler(name[, stat|type[, offset]])` a readdir handler calls, collecting into
/// `sink`.
fn filler(
    lua: &Lua,
    sink: Arc<Mutex<Vec<DirEntry>>>,
    defaults: StatDefaults,
) -> mlua::Result<Function> {
    lua.create_function(
        move |_, (name, stat, _offset): (mlua::LuaString, Value, Value)| {
            let bad =
                |e: String| mlua::Error::runtime(format!("bad argument #2 to 'filler' ({e})"));
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
            if sink.len() >= MAX_ENTRIES {
                return Ok(false);
            }
            sink.push(DirEntry { name, stat, kind });
            Ok(true)
        },
    )
}

impl DirOps for LuaFilesystem {
    fn opendir(&self, ctx: &RequestContext, path: P, flags: i32) -> OpResult<Opened> {
        self.open_slot(Op::Opendir, path, ctx, flags, None, |b| {
            b.opendir(ctx, path, flags)
        })
    }

    fn readdir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<Vec<DirEntry>> {
        self.dispatch_on(
            Op::Readdir,
            path,
            ctx,
            fh,
            HandleKind::Dir,
            |b, nfh| b.readdir(ctx, path, nfh),
            |lua, f| -> Result<Vec<DirEntry>, HandlerError> {
                let entries: Arc<Mutex<Vec<DirEntry>>> = Arc::default();
                let filler = filler(lua, entries.clone(), self.defaults)?;
                let fi = self.file_info(lua, fh)?;
                let p = Self::path_value(lua, path)?;
                let known = KnownFiller::enter(&filler, &entries);
                let called = call_protected(lua, f, (p, filler, fi));
                drop(known);
                expect_unit(called?)?;
                let list = std::mem::take(&mut *entries.lock().unwrap_or_else(|p| p.into_inner()));
                Ok(list)
            },
        )
    }

    /// Only where the listing came from a backend's own readdir on its own handle, and
    /// that backend also answers getattr (a Lua getattr must see every stat request).
    fn stat_entry(
        &self,
        ctx: &RequestContext,
        dir: P,
        fh: Fh,
        name: &OsStr,
    ) -> Option<OpResult<Stat>> {
        let handlers = self.handlers();
        let crate::lua::filesystem::Route::Native(b) = handlers.route(Op::Readdir) else {
            return None;
        };
        if !matches!(handlers.route(Op::Getattr), crate::lua::filesystem::Route::Native(g) if Arc::ptr_eq(g, b))
        {
            return None;
        }
        let h = self.native_handle(fh, b)?;
        b.stat_entry(ctx, dir, Fh(h.fh), name)
    }

    fn releasedir(&self, ctx: &RequestContext, path: P, fh: Fh) -> OpResult<()> {
        self.release_slot(Op::Releasedir, path, ctx, fh, |lua, f| {
            call_unit(
                lua,
                f,
                args!(lua; Self::path_value(lua, path)?, self.file_info(lua, fh)?),
            )
        })
    }

    fn fsyncdir(&self, ctx: &RequestContext, path: P, fh: Fh, datasync: bool) -> OpResult<()> {
        self.dispatch_on(
            Op::Fsyncdir,
            path,
            ctx,
            fh,
            HandleKind::Dir,
            |b, nfh| b.fsyncdir(ctx, path, nfh, datasync),
            // Flu passed fsyncdir's datasync as a number (fsync's as a boolean).
            |lua, f| {
                call_unit(lua, f, args!(lua; Self::path_value(lua, path)?, i32::from(datasync), self.file_info(lua, fh)?))
            },
        )
    }
}

/// `base.opendir(path, fi)`, `base.readdir(path, filler, fi)` and friends: the
/// backend's directory operations from Lua.
pub(super) fn natives() -> Vec<(Op, Raw)> {
    vec![
        (Op::Opendir, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let fi = arg(&a, 1);
            answer_open(lua, &fi, b.opendir(&ctx(lua), &p, flags_of(&fi)))
        }),
        (Op::Readdir, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let Value::Function(filler) = arg(&a, 1) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'filler' (function expected)",
                ));
            };
            let c = ctx(lua);
            // The filler gets what the backend listed: a stat table only when it gave a
            // stat (the passthrough does not), else the entry's type as a Flu mode string
            // ('file', 'directory', …), else nil. Measured with bench/run on flu-lua
            // (readdir of 2,000 files, time ratio to native): stating every entry here to
            // hand the filler a full stat table ×42 (the tables are built and parsed back
            // for each entry, although the kernel wants attributes only for the first
            // chunk); a type string ×13; nothing (nil) ×72, as the daemon must then ask
            // the Lua getattr for every entry's type. Readdirplus entries without a stat
            // are stated through getattr, so a Lua getattr override also sees them.
            let listed = with_fi_handle(b, &c, &p, &arg(&a, 2), HandleKind::Dir, |fh| {
                b.readdir(&c, &p, fh)
            });
            match (listed, sink_of(&filler)) {
                // The handler's own filler (a wrapper passing it on unchanged): what it
                // would collect, collected directly.
                (Ok(entries), Some(sink)) => {
                    fill_directly(&sink, entries);
                    answer(lua, Ok(()))
                }
                (Ok(entries), None) => {
                    for e in entries {
                        let name = lua.create_string(e.name.as_bytes())?;
                        let stat = match (&e.stat, e.kind.and_then(type_string)) {
                            (Some(st), _) => Value::Table(stat_to_lua(lua, st)?),
                            (None, Some(t)) => Value::String(lua.create_string(t)?),
                            (None, None) => Value::Nil,
                        };
                        let more: Value = filler.call((name, stat))?;
                        if matches!(more, Value::Boolean(false)) {
                            break;
                        }
                    }
                    answer(lua, Ok(()))
                }
                (Err(e), _) => answer::<()>(lua, Err(e)),
            }
        }),
        (Op::Releasedir, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            match handle_of(&arg(&a, 1)) {
                Some(h) => answer(lua, b.releasedir(&ctx(lua), &p, Fh(h.fh))),
                None => answer(lua, Ok(())),
            }
        }),
        (Op::Fsyncdir, |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let datasync = datasync_arg(&arg(&a, 1));
            let c = ctx(lua);
            answer(
                lua,
                with_fi_handle(b, &c, &p, &arg(&a, 2), HandleKind::Dir, |fh| {
                    b.fsyncdir(&c, &p, fh, datasync)
                }),
            )
        }),
    ]
}
