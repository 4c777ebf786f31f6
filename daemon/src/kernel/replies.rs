//! The core's directory-reply interfaces over the session's `DirBuffer`: a listing
//! entry becomes a dirent (plain readdir) or a dirent with its entry (readdirplus).

use flu_api::Stat;
use std::ffi::OsStr;

use super::attr::{dirent_type, entry_out, ReplyAttrs};
use crate::core::{DirPlusReply, DirReply, PlusEntry};
use crate::session::DirBuffer;

/// A plain readdir reply.
pub struct DirListing<'a>(pub &'a mut DirBuffer);

impl DirReply for DirListing<'_> {
    fn add(&mut self, ino: u64, offset: u64, kind: u32, name: &OsStr) -> bool {
        self.0.add(ino, offset, dirent_type(kind), name)
    }
}

/// A readdirplus reply; known entries are cacheable for the mount's lifetimes and show
/// its attribute override.
pub struct DirPlusListing<'a> {
    pub buf: &'a mut DirBuffer,
    pub attrs: ReplyAttrs,
}

impl DirPlusReply for DirPlusListing<'_> {
    fn add(&mut self, offset: u64, name: &OsStr, entry: PlusEntry) -> bool {
        match entry {
            PlusEntry::Known(e) => {
                let out = entry_out(e.nodeid, e.generation, &e.stat, &self.attrs);
                self.buf
                    .add_plus(&out, e.nodeid, offset, dirent_type(e.stat.mode), name)
            }
            // Not instantiated by the kernel (node id 0): no cache lifetime.
            PlusEntry::Bare { ino, kind } => {
                let stat = Stat {
                    mode: kind,
                    ..Stat::default()
                };
                let bare = ReplyAttrs {
                    over: self.attrs.over,
                    ..ReplyAttrs::default()
                };
                let mut out = entry_out(0, 0, &stat, &bare);
                out.attr.ino = ino;
                self.buf
                    .add_plus(&out, ino, offset, dirent_type(kind), name)
            }
        }
    }
}
