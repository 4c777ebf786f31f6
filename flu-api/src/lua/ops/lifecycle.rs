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

    /// Inode numbers are real when the backend's own getattr reports them.
    fn stable_inode_numbers(&self) -> bool {
        match self.route(Op::Getattr) {
            Route::Native(b) => b.stable_inode_numbers(),
            _ => false,
        }
    }
}
