//! `Channel`: one file descriptor of a FUSE connection (/dev/fuse, or a clone of it
//! for another serving thread): reading requests, writing replies and notifications,
//! and the device ioctls (clone, kernel-passthrough backing files).

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use super::abi::{self, Pod};

/// See the module documentation.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// What reading a request can end with besides a request.
#[derive(Debug)]
pub enum Received {
    Request(usize),
    /// The filesystem was unmounted (or the connection aborted).
    Unmounted,
}

impl Channel {
    pub fn new(fd: OwnedFd) -> Channel {
        Channel { fd }
    }

    /// Read one request into `buf` (the kernel hands out exactly one per read).
    pub fn receive(&self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            match nix::unistd::read(&self.fd, buf) {
                Ok(n) => return Ok(Received::Request(n)),
                // ENOENT: the request was interrupted before we read it; EINTR, EAGAIN:
                // try again.
                Err(
                    nix::errno::Errno::ENOENT
                    | nix::errno::Errno::EINTR
                    | nix::errno::Errno::EAGAIN,
                ) => {}
                Err(nix::errno::Errno::ENODEV) => return Ok(Received::Unmounted),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// One request if one comes within `timeout` (None: none came, or another thread
    /// took it first). Only for a clone made with `nonblocking`: the read never waits.
    pub fn receive_within(
        &self,
        buf: &mut [u8],
        timeout: std::time::Duration,
    ) -> io::Result<Option<Received>> {
        if !self.readable_within(timeout) {
            return Ok(None);
        }
        match nix::unistd::read(&self.fd, buf) {
            Ok(n) => Ok(Some(Received::Request(n))),
            Err(
                nix::errno::Errno::ENOENT | nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN,
            ) => Ok(None),
            Err(nix::errno::Errno::ENODEV) => Ok(Some(Received::Unmounted)),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a request waits to be read, within `timeout` (zero: now). The kernel's
    /// queue is the connection's: any clone of the fd sees it.
    pub fn readable_within(&self, timeout: std::time::Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `pfd` is one live pollfd for an fd this channel owns.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        n > 0 && pfd.revents & (libc::POLLIN | libc::POLLERR) != 0
    }

    /// Write one reply or notification made of `parts` (one writev: the kernel takes a
    /// message per write).
    pub fn send(&self, parts: &[IoSlice<'_>]) -> io::Result<()> {
        // An answer this thread gave over io_uring goes first.
        super::ring::submit_own_answer();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let n = nix::sys::uio::writev(&self.fd, parts)?;
        if n != total {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write to /dev/fuse",
            ));
        }
        Ok(())
    }

    /// A new fd on the same connection, so another thread can read requests in parallel.
    /// `nonblocking`: reads of the clone never wait (for `receive_within`).
    pub fn clone_fd(&self, nonblocking: bool) -> io::Result<Channel> {
        let mut flags = nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC;
        if nonblocking {
            flags |= nix::fcntl::OFlag::O_NONBLOCK;
        }
        let dev = nix::fcntl::open("/dev/fuse", flags, nix::sys::stat::Mode::empty())?;
        let mut source = self.fd.as_raw_fd() as u32;
        // SAFETY: FUSE_DEV_IOC_CLONE reads one u32 (the fd to attach to) from the pointer,
        // which points to a live local.
        let r = unsafe { libc::ioctl(dev.as_raw_fd(), abi::ioctl::CLONE as _, &mut source) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Channel { fd: dev })
    }

    /// Register `file` as a backing file for kernel passthrough; the id the kernel gave.
    pub fn open_backing(&self, file: BorrowedFd<'_>) -> io::Result<u32> {
        let map = abi::BackingMap {
            fd: file.as_raw_fd(),
            ..Default::default()
        };
        // SAFETY: FUSE_DEV_IOC_BACKING_OPEN reads a struct fuse_backing_map from the
        // pointer, which points to a live, fully initialized one.
        let r = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                abi::ioctl::BACKING_OPEN as _,
                map.as_bytes().as_ptr(),
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(r as u32)
    }

    fn close_backing(&self, id: u32) -> io::Result<()> {
        // SAFETY: FUSE_DEV_IOC_BACKING_CLOSE reads one u32 from the pointer, a live local.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), abi::ioctl::BACKING_CLOSE as _, &id) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A registered kernel-passthrough backing file; its id is released when the last
/// holder drops it.
#[derive(Debug)]
pub struct BackingId {
    channel: Arc<Channel>,
    pub id: u32,
}

impl BackingId {
    pub fn register(channel: &Arc<Channel>, file: BorrowedFd<'_>) -> io::Result<BackingId> {
        let id = channel.open_backing(file)?;
        Ok(BackingId {
            channel: channel.clone(),
            id,
        })
    }
}

impl Drop for BackingId {
    fn drop(&mut self) {
        if let Err(e) = self.channel.close_backing(self.id) {
            tracing::debug!("closing backing id {}: {e}", self.id);
        }
    }
}
