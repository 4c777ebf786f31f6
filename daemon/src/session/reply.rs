//! Answering one request: `Reply` carries the request's id and writes exactly one
//! answer (an error, nothing, plain data, or fixed structures), or, if dropped
//! unanswered, EIO — the kernel must never wait for an answer that will not come.
//! `DirBuffer` builds the records of readdir and readdirplus answers.

use std::ffi::OsStr;
use std::io::IoSlice;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use super::abi::{self, Pod};
use super::channel::Channel;
use super::ring::RingEntry;

/// The answer to one request. See the module documentation.
pub struct Reply {
    channel: Arc<Channel>,
    unique: u64,
    answered: bool,
    /// The ring entry the request came in (FUSE over io_uring): the answer goes back
    /// through it instead of a write to /dev/fuse.
    ring: Option<Arc<RingEntry>>,
}

impl Reply {
    pub fn new(channel: Arc<Channel>, unique: u64) -> Reply {
        Reply {
            channel,
            unique,
            answered: false,
            ring: None,
        }
    }

    /// The reply to a request that came in `entry`.
    pub fn ring(channel: Arc<Channel>, unique: u64, entry: Arc<RingEntry>) -> Reply {
        Reply {
            channel,
            unique,
            answered: false,
            ring: Some(entry),
        }
    }

    pub fn unique(&self) -> u64 {
        self.unique
    }

    /// The connection this reply goes to (to register a backing file before answering
    /// an open).
    pub fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    fn send(&mut self, error: i32, payload: &[&[u8]]) {
        self.answered = true;
        if let Some(entry) = &self.ring {
            entry.answer(self.unique, error, payload);
            return;
        }
        let len =
            std::mem::size_of::<abi::OutHeader>() + payload.iter().map(|p| p.len()).sum::<usize>();
        let header = abi::OutHeader {
            len: len as u32,
            error,
            unique: self.unique,
        };
        let mut parts = Vec::with_capacity(payload.len() + 1);
        parts.push(IoSlice::new(header.as_bytes()));
        parts.extend(payload.iter().map(|p| IoSlice::new(p)));
        if let Err(e) = self.channel.send(&parts) {
            // ENOENT: the kernel no longer waits for this request (it was interrupted
            // and abandoned, or the connection is going away): nothing to report.
            if e.raw_os_error() == Some(libc::ENOENT) {
                tracing::debug!("reply to request {} not wanted any more", self.unique);
            } else {
                tracing::warn!("cannot send the reply to request {}: {e}", self.unique);
            }
        }
    }

    /// Answer with an errno (positive, as `ENOENT`).
    pub fn error(mut self, errno: i32) {
        let errno = if errno > 0 && errno < 4096 {
            errno
        } else {
            libc::EIO
        };
        self.send(-errno, &[]);
    }

    /// Answer success with nothing.
    pub fn ok(mut self) {
        self.send(0, &[]);
    }

    /// Answer with bytes (read data, readlink target, xattr values, directory records).
    pub fn data(mut self, bytes: &[u8]) {
        self.send(0, &[bytes]);
    }

    /// Answer with one fixed structure.
    pub fn pod<T: Pod>(mut self, value: &T) {
        self.send(0, &[value.as_bytes()]);
    }

    /// Answer with two fixed structures (create: entry and open).
    pub fn pod2<A: Pod, B: Pod>(mut self, a: &A, b: &B) {
        self.send(0, &[a.as_bytes(), b.as_bytes()]);
    }

    /// Drop without answering: for requests the kernel expects no answer to (forget).
    pub fn none(mut self) {
        self.answered = true;
        // A ring entry serves its next request only once committed: the kernel sends
        // the requests that take no answer over /dev/fuse, so this is a safeguard.
        if let Some(entry) = &self.ring {
            entry.answer(self.unique, 0, &[]);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if !self.answered {
            tracing::error!("request {} was not answered: EIO", self.unique);
            self.send(-libc::EIO, &[]);
        }
    }
}

/// Records of a readdir or readdirplus answer, up to the size the kernel asked for.
pub struct DirBuffer {
    buf: Vec<u8>,
    max: usize,
}

fn padded(len: usize) -> usize {
    (len + 7) & !7
}

impl DirBuffer {
    pub fn new(max: usize) -> DirBuffer {
        DirBuffer {
            buf: Vec::with_capacity(max.min(128 * 1024)),
            max,
        }
    }

    /// Add a plain entry; true when it did not fit (and was not added).
    pub fn add(&mut self, ino: u64, offset: u64, typ: u32, name: &OsStr) -> bool {
        self.push(None, ino, offset, typ, name)
    }

    /// Add a readdirplus entry; true when it did not fit (and was not added).
    pub fn add_plus(
        &mut self,
        entry: &abi::EntryOut,
        ino: u64,
        offset: u64,
        typ: u32,
        name: &OsStr,
    ) -> bool {
        self.push(Some(entry), ino, offset, typ, name)
    }

    fn push(
        &mut self,
        entry: Option<&abi::EntryOut>,
        ino: u64,
        offset: u64,
        typ: u32,
        name: &OsStr,
    ) -> bool {
        let name = name.as_bytes();
        let head = entry.map_or(0, |_| std::mem::size_of::<abi::EntryOut>())
            + std::mem::size_of::<abi::Dirent>();
        let size = padded(head + name.len());
        if self.buf.len() + size > self.max {
            return true;
        }
        if let Some(e) = entry {
            self.buf.extend_from_slice(e.as_bytes());
        }
        let dirent = abi::Dirent {
            ino,
            off: offset,
            namelen: name.len() as u32,
            typ,
        };
        self.buf.extend_from_slice(dirent.as_bytes());
        self.buf.extend_from_slice(name);
        let pad = size - head - name.len();
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        false
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirents_are_padded_and_bounded() {
        let mut d = DirBuffer::new(64);
        assert!(!d.add(5, 1, 8, OsStr::new("abc")));
        assert_eq!(
            d.bytes().len(),
            32,
            "24 bytes of header + 3 of name, padded to 8"
        );
        let rec = abi::Dirent::read_from(d.bytes()).unwrap();
        assert_eq!((rec.ino, rec.off, rec.namelen, rec.typ), (5, 1, 3, 8));
        assert!(!d.add(6, 2, 4, OsStr::new("12345678")));
        assert!(
            d.add(7, 3, 4, OsStr::new("x")),
            "a third entry does not fit in 64 bytes"
        );
        assert_eq!(d.bytes().len(), 64);
        let mut p = DirBuffer::new(4096);
        assert!(!p.add_plus(&abi::EntryOut::default(), 9, 1, 8, OsStr::new("f")));
        assert_eq!(p.bytes().len(), 128 + 24 + 8);
    }
}
