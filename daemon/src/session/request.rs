//! Parsing one request read from /dev/fuse: the header and the operation with its
//! arguments, borrowed from the read buffer. A request that is too short or malformed
//! is an error (answered EIO), never a panic.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::abi::{self, opcode, Pod};

/// One request from the kernel.
#[derive(Debug)]
pub struct Request<'a> {
    pub header: abi::InHeader,
    pub op: Operation<'a>,
}

/// What the kernel asks, with its arguments.
#[derive(Debug)]
pub enum Operation<'a> {
    Init(abi::InitIn),
    Destroy,
    Interrupt(abi::InterruptIn),
    Lookup {
        name: &'a OsStr,
    },
    Forget(abi::ForgetIn),
    BatchForget(Vec<abi::ForgetOne>),
    Getattr(abi::GetattrIn),
    Setattr(abi::SetattrIn),
    Readlink,
    Symlink {
        name: &'a OsStr,
        target: &'a OsStr,
    },
    Mknod {
        arg: abi::MknodIn,
        name: &'a OsStr,
    },
    Mkdir {
        arg: abi::MkdirIn,
        name: &'a OsStr,
    },
    Unlink {
        name: &'a OsStr,
    },
    Rmdir {
        name: &'a OsStr,
    },
    Rename {
        newdir: u64,
        flags: u32,
        name: &'a OsStr,
        newname: &'a OsStr,
    },
    Link {
        arg: abi::LinkIn,
        name: &'a OsStr,
    },
    Open(abi::OpenIn),
    Read(abi::ReadIn),
    Write {
        arg: abi::WriteIn,
        data: &'a [u8],
    },
    Statfs,
    Release(abi::ReleaseIn),
    Fsync(abi::FsyncIn),
    Setxattr {
        arg: abi::SetxattrIn,
        name: &'a OsStr,
        value: &'a [u8],
    },
    Getxattr {
        arg: abi::GetxattrIn,
        name: &'a OsStr,
    },
    Listxattr(abi::GetxattrIn),
    Removexattr {
        name: &'a OsStr,
    },
    Flush(abi::FlushIn),
    Opendir(abi::OpenIn),
    Readdir(abi::ReadIn),
    Readdirplus(abi::ReadIn),
    Releasedir(abi::ReleaseIn),
    Fsyncdir(abi::FsyncIn),
    Getlk(abi::LkIn),
    Setlk {
        arg: abi::LkIn,
        sleep: bool,
    },
    Access(abi::AccessIn),
    Create {
        arg: abi::CreateIn,
        name: &'a OsStr,
    },
    Tmpfile {
        arg: abi::CreateIn,
    },
    Fallocate(abi::FallocateIn),
    Lseek(abi::LseekIn),
    CopyFileRange(abi::CopyFileRangeIn),
    /// Answered by the kernel's fallbacks once flu says ENOSYS (bmap, ioctl, poll,
    /// syncfs, statx, and opcodes newer than flu).
    Unsupported(u32),
    /// The kernel's answer to a notification: no reply.
    NotifyReply,
}

/// Why a request could not be parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Reads the argument part of a request in order.
struct Args<'a>(&'a [u8]);

impl<'a> Args<'a> {
    fn fixed<T: Pod>(&mut self) -> Result<T, Malformed> {
        let v = T::read_from(self.0).ok_or(Malformed("argument too short"))?;
        self.0 = &self.0[std::mem::size_of::<T>()..];
        Ok(v)
    }

    /// A NUL-terminated name.
    fn name(&mut self) -> Result<&'a OsStr, Malformed> {
        let end = self
            .0
            .iter()
            .position(|&b| b == 0)
            .ok_or(Malformed("name without NUL"))?;
        let name = &self.0[..end];
        self.0 = &self.0[end + 1..];
        Ok(OsStr::from_bytes(name))
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed("data too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

impl<'a> Request<'a> {
    /// Parse the request in `buf` (exactly what one read returned).
    pub fn parse(buf: &'a [u8]) -> Result<Request<'a>, Malformed> {
        let header = abi::InHeader::read_from(buf).ok_or(Malformed("short header"))?;
        let len = header.len as usize;
        if len > buf.len() || len < std::mem::size_of::<abi::InHeader>() {
            return Err(Malformed("length does not match the read"));
        }
        // Extensions (security contexts, supplementary groups) follow the arguments;
        // flu asks for none, but leaves them out if the kernel sends them.
        let ext = usize::from(header.total_extlen) * 8;
        let body_end = len
            .checked_sub(ext)
            .filter(|e| *e >= std::mem::size_of::<abi::InHeader>())
            .ok_or(Malformed("extensions longer than the request"))?;
        let mut a = Args(&buf[std::mem::size_of::<abi::InHeader>()..body_end]);
        let op = match header.opcode {
            opcode::INIT => Operation::Init(a.fixed()?),
            opcode::DESTROY => Operation::Destroy,
            opcode::INTERRUPT => Operation::Interrupt(a.fixed()?),
            opcode::LOOKUP => Operation::Lookup { name: a.name()? },
            opcode::FORGET => Operation::Forget(a.fixed()?),
            opcode::BATCH_FORGET => {
                let head: abi::BatchForgetIn = a.fixed()?;
                let mut all = Vec::with_capacity(head.count.min(4096) as usize);
                for _ in 0..head.count {
                    all.push(a.fixed()?);
                }
                Operation::BatchForget(all)
            }
            opcode::GETATTR => Operation::Getattr(a.fixed()?),
            opcode::SETATTR => Operation::Setattr(a.fixed()?),
            opcode::READLINK => Operation::Readlink,
            opcode::SYMLINK => {
                let name = a.name()?;
                let target = a.name()?;
                Operation::Symlink { name, target }
            }
            opcode::MKNOD => Operation::Mknod {
                arg: a.fixed()?,
                name: a.name()?,
            },
            opcode::MKDIR => Operation::Mkdir {
                arg: a.fixed()?,
                name: a.name()?,
            },
            opcode::UNLINK => Operation::Unlink { name: a.name()? },
            opcode::RMDIR => Operation::Rmdir { name: a.name()? },
            opcode::RENAME => {
                let arg: abi::RenameIn = a.fixed()?;
                Operation::Rename {
                    newdir: arg.newdir,
                    flags: 0,
                    name: a.name()?,
                    newname: a.name()?,
                }
            }
            opcode::RENAME2 => {
                let arg: abi::Rename2In = a.fixed()?;
                Operation::Rename {
                    newdir: arg.newdir,
                    flags: arg.flags,
                    name: a.name()?,
                    newname: a.name()?,
                }
            }
            opcode::LINK => Operation::Link {
                arg: a.fixed()?,
                name: a.name()?,
            },
            opcode::OPEN => Operation::Open(a.fixed()?),
            opcode::READ => Operation::Read(a.fixed()?),
            opcode::WRITE => {
                let arg: abi::WriteIn = a.fixed()?;
                let data = a.bytes(arg.size as usize)?;
                Operation::Write { arg, data }
            }
            opcode::STATFS => Operation::Statfs,
            opcode::RELEASE => Operation::Release(a.fixed()?),
            opcode::FSYNC => Operation::Fsync(a.fixed()?),
            opcode::SETXATTR => {
                let arg: abi::SetxattrIn = a.fixed()?;
                let name = a.name()?;
                let value = a.bytes(arg.size as usize)?;
                Operation::Setxattr { arg, name, value }
            }
            opcode::GETXATTR => Operation::Getxattr {
                arg: a.fixed()?,
                name: a.name()?,
            },
            opcode::LISTXATTR => Operation::Listxattr(a.fixed()?),
            opcode::REMOVEXATTR => Operation::Removexattr { name: a.name()? },
            opcode::FLUSH => Operation::Flush(a.fixed()?),
            opcode::OPENDIR => Operation::Opendir(a.fixed()?),
            opcode::READDIR => Operation::Readdir(a.fixed()?),
            opcode::READDIRPLUS => Operation::Readdirplus(a.fixed()?),
            opcode::RELEASEDIR => Operation::Releasedir(a.fixed()?),
            opcode::FSYNCDIR => Operation::Fsyncdir(a.fixed()?),
            opcode::GETLK => Operation::Getlk(a.fixed()?),
            opcode::SETLK => Operation::Setlk {
                arg: a.fixed()?,
                sleep: false,
            },
            opcode::SETLKW => Operation::Setlk {
                arg: a.fixed()?,
                sleep: true,
            },
            opcode::ACCESS => Operation::Access(a.fixed()?),
            opcode::CREATE => Operation::Create {
                arg: a.fixed()?,
                name: a.name()?,
            },
            opcode::TMPFILE => Operation::Tmpfile { arg: a.fixed()? },
            opcode::FALLOCATE => Operation::Fallocate(a.fixed()?),
            opcode::LSEEK => Operation::Lseek(a.fixed()?),
            opcode::COPY_FILE_RANGE => Operation::CopyFileRange(a.fixed()?),
            opcode::NOTIFY_REPLY => Operation::NotifyReply,
            other => Operation::Unsupported(other),
        };
        Ok(Request { header, op })
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
        let buf = request(opcode::SYMLINK, b"link\0target\0");
        let r = Request::parse(&buf).unwrap();
        match r.op {
            Operation::Symlink { name, target } => {
                assert_eq!((name, target), (OsStr::new("link"), OsStr::new("target")))
            }
            other => panic!("{other:?}"),
        }
        let w = abi::WriteIn {
            size: 3,
            offset: 5,
            ..Default::default()
        };
        let mut args = w.as_bytes().to_vec();
        args.extend_from_slice(b"abc");
        let buf = request(opcode::WRITE, &args);
        match Request::parse(&buf).unwrap().op {
            Operation::Write { arg, data } => assert_eq!((arg.offset, data), (5, &b"abc"[..])),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_requests_are_errors_not_panics() {
        assert!(Request::parse(&[0u8; 10]).is_err());
        assert!(Request::parse(&request(opcode::LOOKUP, b"no nul")).is_err());
        assert!(Request::parse(&request(opcode::GETATTR, &[0u8; 4])).is_err());
        let w = abi::WriteIn {
            size: 100,
            ..Default::default()
        };
        assert!(Request::parse(&request(opcode::WRITE, w.as_bytes())).is_err());
        let mut lying = request(opcode::STATFS, &[]);
        lying[0] = 200;
        assert!(Request::parse(&lying).is_err());
        let b = abi::BatchForgetIn {
            count: u32::MAX,
            dummy: 0,
        };
        assert!(Request::parse(&request(opcode::BATCH_FORGET, b.as_bytes())).is_err());
        assert!(matches!(
            Request::parse(&request(9999, &[])).unwrap().op,
            Operation::Unsupported(9999)
        ));
    }
}
