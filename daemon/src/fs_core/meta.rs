//! Filesystem-wide and metadata operations: statfs, access, extended attributes
//! (with the kernel's size-probe protocol).

use std::ffi::OsStr;

use flu_api::{Op, OpResult, RequestContext, StatFs};

use super::{p, show, xattr_reply, FsCore, XattrReply};

impl FsCore {
    // ---- filesystem-wide and metadata ----

    pub fn statfs(&self, ctx: &RequestContext, nodeid: u64) -> OpResult<StatFs> {
        let path = self.path(nodeid);
        self.run(
            Op::Statfs,
            || show(&path, nodeid),
            || {
                let mut st = self.ops.statfs(ctx, p(&path)?)?;
                if st.frsize == 0 {
                    st.frsize = st.bsize;
                }
                Ok(st)
            },
        )
    }

    pub fn access(&self, ctx: &RequestContext, nodeid: u64, mask: i32) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Access,
            || format!("{} mask={mask:#o}", show(&path, nodeid)),
            || self.ops.access(ctx, p(&path)?, mask),
        )
    }

    pub fn setxattr(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Setxattr,
            || {
                format!(
                    "{} {name:?} {} bytes flags={flags:#x}",
                    show(&path, nodeid),
                    value.len()
                )
            },
            || self.ops.setxattr(ctx, p(&path)?, name, value, flags),
        )
    }

    /// `size` 0 asks for the value's length; a value longer than `size` is ERANGE.
    pub fn getxattr(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        name: &OsStr,
        size: u32,
    ) -> OpResult<XattrReply> {
        let path = self.path(nodeid);
        self.run(
            Op::Getxattr,
            || format!("{} {name:?} size={size}", show(&path, nodeid)),
            || xattr_reply(self.ops.getxattr(ctx, p(&path)?, name)?, size),
        )
    }

    /// The names, each followed by a NUL, with getxattr's size protocol.
    pub fn listxattr(&self, ctx: &RequestContext, nodeid: u64, size: u32) -> OpResult<XattrReply> {
        let path = self.path(nodeid);
        self.run(
            Op::Listxattr,
            || format!("{} size={size}", show(&path, nodeid)),
            || {
                let names = self.ops.listxattr(ctx, p(&path)?)?;
                let mut buf = Vec::new();
                for name in names {
                    buf.extend_from_slice(name.as_encoded_bytes());
                    buf.push(0);
                }
                xattr_reply(buf, size)
            },
        )
    }

    pub fn removexattr(&self, ctx: &RequestContext, nodeid: u64, name: &OsStr) -> OpResult<()> {
        let path = self.path(nodeid);
        self.run(
            Op::Removexattr,
            || format!("{} {name:?}", show(&path, nodeid)),
            || self.ops.removexattr(ctx, p(&path)?, name),
        )
    }
}
