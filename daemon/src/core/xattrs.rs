//! Extended attributes, with the kernel's size-probe protocol: a request of size 0
//! asks for the length; a value longer than the size asked for is ERANGE. The kernel
//! sends no handle with them: a node removed or replaced while open is served through
//! a handle open on it (`with_open_fh`).

use std::ffi::OsStr;

use flu_api::{Errno, Op, OpResult, RequestContext};

use super::{show_name, At, FsCore, XattrReply};

fn xattr_reply(value: Vec<u8>, size: u32) -> OpResult<XattrReply> {
    let len = u32::try_from(value.len()).map_err(|_| Errno(libc::E2BIG))?;
    if size == 0 {
        Ok(XattrReply::Size(len))
    } else if len > size {
        Err(Errno::ERANGE)
    } else {
        Ok(XattrReply::Data(value))
    }
}

impl FsCore {
    pub fn setxattr(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        name: &OsStr,
        value: &[u8],
        flags: i32,
    ) -> OpResult<()> {
        let args = || format!("{} {} bytes flags={flags:#x}", show_name(name), value.len());
        self.on(Op::Setxattr, At::Node(nodeid), args, |path| {
            self.with_open_fh(nodeid, None, |fh| {
                self.ops.setxattr(ctx, path, name, value, flags, fh)
            })
        })
    }

    pub fn getxattr(
        &self,
        ctx: &RequestContext,
        nodeid: u64,
        name: &OsStr,
        size: u32,
    ) -> OpResult<XattrReply> {
        let args = || format!("{} size={size}", show_name(name));
        self.on(Op::Getxattr, At::Node(nodeid), args, |path| {
            self.with_open_fh(nodeid, None, |fh| {
                xattr_reply(self.ops.getxattr(ctx, path, name, fh)?, size)
            })
        })
    }

    /// The names, each followed by a NUL.
    pub fn listxattr(&self, ctx: &RequestContext, nodeid: u64, size: u32) -> OpResult<XattrReply> {
        let args = || format!("size={size}");
        self.on(Op::Listxattr, At::Node(nodeid), args, |path| {
            self.with_open_fh(nodeid, None, |fh| {
                let mut buf = Vec::new();
                for name in self.ops.listxattr(ctx, path, fh)? {
                    buf.extend_from_slice(name.as_encoded_bytes());
                    buf.push(0);
                }
                xattr_reply(buf, size)
            })
        })
    }

    pub fn removexattr(&self, ctx: &RequestContext, nodeid: u64, name: &OsStr) -> OpResult<()> {
        let args = || show_name(name);
        self.on(Op::Removexattr, At::Node(nodeid), args, |path| {
            self.with_open_fh(nodeid, None, |fh| self.ops.removexattr(ctx, path, name, fh))
        })
    }
}
