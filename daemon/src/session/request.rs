//! One request read from /dev/fuse: its header, and a reader over its arguments
//! (fixed structures, NUL-terminated names, data) borrowed from the read buffer. What
//! each opcode's arguments are is read where the request is served
//! (`kernel/adapter.rs`); a request too short for what it should hold is an error
//! (answered EIO), never a panic.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::abi::{self, Pod};

/// One request from the kernel.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub header: abi::InHeader,
    body: &'a [u8],
}

/// Why a request could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Reads the arguments of a request in order.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a>(&'a [u8]);

impl<'a> Args<'a> {
    /// The next fixed structure.
    pub fn fixed<T: Pod>(&mut self) -> Result<T, Malformed> {
        let v = T::read_from(self.0).ok_or(Malformed("argument too short"))?;
        self.0 = &self.0[std::mem::size_of::<T>()..];
        Ok(v)
    }

    /// The next NUL-terminated name.
    pub fn name(&mut self) -> Result<&'a OsStr, Malformed> {
        let end = self
            .0
            .iter()
            .position(|&b| b == 0)
            .ok_or(Malformed("name without NUL"))?;
        let name = &self.0[..end];
        self.0 = &self.0[end + 1..];
        Ok(OsStr::from_bytes(name))
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed("data too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

impl<'a> Request<'a> {
    /// The request in `buf` (exactly what one read returned).
    pub fn parse(buf: &'a [u8]) -> Result<Request<'a>, Malformed> {
        let header = abi::InHeader::read_from(buf).ok_or(Malformed("short header"))?;
        let len = header.len as usize;
        let start = std::mem::size_of::<abi::InHeader>();
        if len > buf.len() || len < start {
            return Err(Malformed("length does not match the read"));
        }
        // Extensions (security contexts, supplementary groups) follow the arguments;
        // flu asks for none, but leaves them out if the kernel sends them.
        let ext = usize::from(header.total_extlen) * 8;
        let end = len
            .checked_sub(ext)
            .filter(|e| *e >= start)
            .ok_or(Malformed("extensions longer than the request"))?;
        Ok(Request {
            header,
            body: &buf[start..end],
        })
    }

    pub fn opcode(&self) -> u32 {
        self.header.opcode
    }

    /// A reader over the arguments, from their start.
    pub fn args(&self) -> Args<'a> {
        Args(self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(opcode: u32, args: &[u8]) -> Vec<u8> {
        let header = abi::InHeader {
            len: (40 + args.len()) as u32,
            opcode,
            unique: 9,
            nodeid: 1,
            ..Default::default()
        };
        let mut buf = header.as_bytes().to_vec();
        buf.extend_from_slice(args);
        buf
    }

    #[test]
    fn names_and_data_are_borrowed_from_the_buffer() {
        let buf = request(abi::opcode::SYMLINK, b"link\0target\0");
        let r = Request::parse(&buf).unwrap();
        let mut a = r.args();
        assert_eq!(a.name().unwrap(), OsStr::new("link"));
        assert_eq!(a.name().unwrap(), OsStr::new("target"));
        assert!(a.name().is_err(), "nothing left");
        let w = abi::WriteIn {
            size: 3,
            offset: 5,
            ..Default::default()
        };
        let mut args = w.as_bytes().to_vec();
        args.extend_from_slice(b"abc");
        let buf = request(abi::opcode::WRITE, &args);
        let r = Request::parse(&buf).unwrap();
        let mut a = r.args();
        let arg: abi::WriteIn = a.fixed().unwrap();
        assert_eq!((arg.offset, a.bytes(3).unwrap()), (5, &b"abc"[..]));
    }

    #[test]
    fn malformed_requests_are_errors_not_panics() {
        assert!(Request::parse(&[0u8; 10]).is_err());
        let mut lying = request(abi::opcode::STATFS, &[]);
        lying[0] = 200;
        assert!(Request::parse(&lying).is_err());
        let buf = request(abi::opcode::LOOKUP, b"no nul");
        assert!(Request::parse(&buf).unwrap().args().name().is_err());
        let buf = request(abi::opcode::GETATTR, &[0u8; 4]);
        let r = Request::parse(&buf).unwrap();
        assert!(r.args().fixed::<abi::GetattrIn>().is_err());
        assert!(r.args().bytes(5).is_err());
        let mut ext = request(abi::opcode::STATFS, &[]);
        ext[36] = 9; // total_extlen: 72 bytes of extensions in a 40-byte request
        assert!(Request::parse(&ext).is_err());
    }
}
