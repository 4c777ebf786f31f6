//! The core's directory-reply interfaces over fuser's reply buffers: a listing entry
//! becomes a dirent (plain readdir) or a dirent with attributes (readdirplus).

use std::ffi::OsStr;
use std::time::Duration;

use fuser::{FileAttr, Generation, INodeNo, ReplyDirectory, ReplyDirectoryPlus};

use super::attr::{file_type, negative_attr, to_file_attr};
use crate::core::{DirPlusReply, DirReply, PlusEntry};

/// A plain readdir reply.
pub struct DirListing<'a>(pub &'a mut ReplyDirectory);

impl DirReply for DirListing<'_> {
    fn add(&mut self, ino: u64, offset: u64, kind: u32, name: &OsStr) -> bool {
        self.0.add(INodeNo(ino), offset, file_type(kind), name)
    }
}

/// A readdirplus reply; `ttl` covers both the entry and its attributes.
pub struct DirPlusListing<'a> {
    pub reply: &'a mut ReplyDirectoryPlus,
    pub ttl: Duration,
}

impl DirPlusReply for DirPlusListing<'_> {
    fn add(&mut self, offset: u64, name: &OsStr, entry: PlusEntry) -> bool {
        match entry {
            PlusEntry::Known(e) => {
                let attr = to_file_attr(&e.stat, e.nodeid);
                self.reply.add(
                    INodeNo(e.nodeid),
                    offset,
                    name,
                    &self.ttl,
                    &attr,
                    Generation(0),
                )
            }
            // Not instantiated by the kernel: no cache lifetime.
            PlusEntry::Bare { ino, kind } => {
                let attr = FileAttr {
                    kind: file_type(kind),
                    ino: INodeNo(ino),
                    ..negative_attr()
                };
                self.reply.add(
                    INodeNo(ino),
                    offset,
                    name,
                    &Duration::ZERO,
                    &attr,
                    Generation(0),
                )
            }
        }
    }
}
