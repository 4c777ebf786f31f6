//! Lifecycle and introspection: init, destroy, which route serves a handler
//! (`served_by`) and whether inode numbers are stable.

use std::path::Path;

use super::calling::args;
use crate::lua::dispatch::{route_label, LuaFilesystem, Op, Route};
use crate::operations::{ConnectionInfo, OpResult, RequestContext};

impl LuaFilesystem {
    /// Inode numbers are real when the backend's own getattr reports them.
    pub(super) fn do_stable_inode_numbers(&self) -> bool {
        match self.route(Op::Getattr) {
            Route::Native(b) => b.stable_inode_numbers(),
            _ => false,
        }
    }

    pub(super) fn do_served_by(&self, handler: &str) -> &'static str {
        let handler = match handler {
            "lookup" => "getattr",
            "stat_entry" => "readdir",
            h => h,
        };
        Op::ALL
            .iter()
            .find(|op| op.name() == handler)
            .map(|op| route_label(self.route(*op)))
            .unwrap_or("daemon")
    }

    pub(super) fn do_init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        match self.route(Op::Init) {
            Route::Native(b) => b.init(conn),
            Route::Missing => Ok(()),
            Route::Lua(_) => self.unit(
                Op::Init,
                Path::new("/"),
                &RequestContext::default(),
                |lua| {
                    let t = lua.create_table()?;
                    t.set("proto_major", conn.proto_major)?;
                    t.set("proto_minor", conn.proto_minor)?;
                    t.set("max_write", conn.max_write)?;
                    t.set("max_readahead", conn.max_readahead)?;
                    args!(lua; t)
                },
            ),
        }
    }

    pub(super) fn do_destroy(&self) {
        match self.route(Op::Destroy) {
            Route::Native(b) => b.destroy(),
            Route::Missing => {}
            Route::Lua(_) => {
                let _ = self.unit(
                    Op::Destroy,
                    Path::new("/"),
                    &RequestContext::default(),
                    |lua| args!(lua;),
                );
            }
        }
    }
}
