//! Lifecycle and introspection: init, destroy, which route serves an operation
//! (`served_by`), whether inode numbers are stable, and the live side: serving
//! (notifier, timers), reload and the script's files.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{args, call_unit};
use crate::lua::filesystem::{LuaFilesystem, Route};
use crate::lua::interpreter::Wait;
use crate::notify::Notifier;
use crate::op::{Op, ServedBy};
use crate::operations::{ConnectionInfo, Lifecycle, OpResult, ReloadNotes, RequestContext};

impl Lifecycle for LuaFilesystem {
    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        let root = Path::new("/");
        self.dispatch(
            Op::Init,
            root,
            &RequestContext::default(),
            |b| b.init(conn),
            |lua, f| {
                let t = lua.create_table()?;
                t.set("proto_major", conn.proto_major)?;
                t.set("proto_minor", conn.proto_minor)?;
                t.set("max_write", conn.max_write)?;
                t.set("max_readahead", conn.max_readahead)?;
                call_unit(lua, f, args!(lua; t))
            },
        )
    }

    fn destroy(&self) {
        // Waits for slow work give up, tasks and timers end before destroy, and
        // nothing may notify a mount that is gone (done once, by the mount's own
        // filesystem, before the branches of its compositions are destroyed).
        if !crate::lua::filesystem::serving_branch() {
            self.interpreter.gate().close();
            crate::lua::pending::Tasks::of(&self.lua).stop();
            self.timers.stop();
            crate::lua::notify::set_notifier(&self.lua, None);
        }
        let root = Path::new("/");
        let _ = self.dispatch(
            Op::Destroy,
            root,
            &RequestContext::default(),
            |b| {
                b.destroy();
                Ok(())
            },
            |lua, f| call_unit(lua, f, args!(lua;)),
        );
    }

    fn served_by(&self, op: Op) -> ServedBy {
        self.handlers().served_by(op)
    }

    fn served_by_at(&self, op: Op, path: &Path) -> ServedBy {
        let handlers = self.handlers();
        match op.handler().map(|h| (h, handlers.route(h))) {
            Some((handler, Route::Native(b))) => b.served_by_at(handler, path),
            _ => handlers.served_by(op),
        }
    }

    /// The kernel may send O_TRUNC with the open only when open and truncate are one
    /// native backend's own, which truncates on open: a Lua truncate (or open) would
    /// otherwise miss truncations it handled before.
    fn truncates_on_open(&self) -> bool {
        let handlers = self.handlers();
        let Route::Native(open) = handlers.route(Op::Open) else {
            return false;
        };
        let own = |op| matches!(handlers.route(op), Route::Native(b) if Arc::ptr_eq(b, open));
        own(Op::Truncate)
            && (own(Op::Ftruncate) || handlers.route(Op::Ftruncate).is_missing())
            && open.truncates_on_open()
    }

    fn max_file_size(&self) -> Option<u64> {
        self.handlers().max_file_size
    }

    fn memory_used(&self) -> Option<u64> {
        Some(self.memory_used())
    }

    fn handler_timeouts(&self) -> Option<u64> {
        Some(self.handler_timeouts())
    }

    fn pending_calls(&self) -> Option<u64> {
        Some(self.interpreter.gate().pending() as u64)
    }

    fn roots(&self) -> Vec<std::path::PathBuf> {
        let backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        backends.iter().flat_map(|b| b.roots()).collect()
    }

    fn mounted(&self, dev: u64) {
        self.mounted_dev.store(dev, Ordering::SeqCst);
        let backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        for b in backends.iter() {
            b.mounted(dev);
        }
    }

    fn serving(&self, notifier: Arc<dyn Notifier>) {
        crate::lua::notify::set_notifier(&self.lua, Some(notifier));
        // The modules the main chunk required are loaded now: note them for --watch.
        let _ = self
            .interpreter
            .run(Wait::AtMost(Duration::from_secs(5)), |lua| {
                self.refresh_source_files(lua);
                Ok(())
            });
        self.timers.start(self.interpreter.clone());
        crate::lua::pending::Tasks::of(&self.lua).serve(&self.interpreter);
    }

    fn reload(&self) -> Result<ReloadNotes, String> {
        self.reload_script()
    }

    fn source_files(&self) -> Vec<PathBuf> {
        self.source_files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Inode numbers are real when the backend's own getattr reports them, and when a
    /// Lua getattr reports any (`base.getattr` and `fs.attr` results do): the names of
    /// one file then share one node, as hard links should. A script that reports no
    /// `ino` gets a node per name, as before.
    fn stable_inode_numbers(&self) -> bool {
        match self.handlers().route(Op::Getattr) {
            Route::Native(b) => b.stable_inode_numbers(),
            Route::Lua(_) => true,
            Route::Missing => false,
        }
    }
}

/// The native `init` and `destroy` of a backend made of others (`base.init(conn)` in an
/// override starts its parts; `base.destroy()` ends them).
pub(super) fn natives() -> Vec<(Op, super::native_args::Raw)> {
    vec![
        (Op::Init, |lua, b, a| {
            let conn = match a.front() {
                Some(mlua::Value::Table(t)) => ConnectionInfo {
                    proto_major: t.get("proto_major").unwrap_or(0),
                    proto_minor: t.get("proto_minor").unwrap_or(0),
                    max_write: t.get("max_write").unwrap_or(0),
                    max_readahead: t.get("max_readahead").unwrap_or(0),
                },
                _ => ConnectionInfo::default(),
            };
            super::native_args::answer(lua, b.init(&conn))
        }),
        (Op::Destroy, |lua, b, _| {
            b.destroy();
            super::native_args::answer(lua, Ok(()))
        }),
    ]
}
