//! Lifecycle and introspection: init, destroy, which route serves an operation
//! (`served_by`) and whether inode numbers are stable.

use std::path::Path;

use super::{args, call_unit};
use crate::lua::filesystem::{LuaFilesystem, Route};
use crate::op::{Op, ServedBy};
use crate::operations::{ConnectionInfo, Lifecycle, OpResult, RequestContext};

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
        match op.handler() {
            Some(handler) => self.route(handler).served_by(),
            None => ServedBy::Daemon,
        }
    }

    fn max_file_size(&self) -> Option<u64> {
        self.max_file_size
    }

    fn memory_used(&self) -> Option<u64> {
        Some(self.memory_used())
    }

    fn roots(&self) -> Vec<std::path::PathBuf> {
        self.backends.iter().flat_map(|b| b.roots()).collect()
    }

    fn mounted(&self, dev: u64) {
        for b in &self.backends {
            b.mounted(dev);
        }
    }

    /// Inode numbers are real when the backend's own getattr reports them, and when a
    /// Lua getattr reports any (`base.getattr` and `fs.attr` results do): the names of
    /// one file then share one node, as hard links should. A script that reports no
    /// `ino` gets a node per name, as before.
    fn stable_inode_numbers(&self) -> bool {
        match self.route(Op::Getattr) {
            Route::Native(b) => b.stable_inode_numbers(),
            Route::Lua(_) => true,
            Route::Missing => false,
        }
    }
}
