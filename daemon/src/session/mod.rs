//! flu's own FUSE session layer: mounting (`mount`), the kernel ABI (`abi`), reading
//! and parsing requests (`channel`, `request`), answering them (`reply`), interrupts
//! (`interrupts`) and the serving threads (here). The fuser adapter of earlier
//! versions is gone; `kernel/adapter.rs` implements `Handler` on top of this.
//!
//! Why flu has its own (docs/architecture.md, "The session loop"): fuser 0.18 answers
//! FUSE_INTERRUPT with ENOSYS (after which the kernel sends no more), parses no
//! FUSE_TMPFILE, and keeps the /dev/fuse read loop to itself, so interrupts, O_TMPFILE,
//! adaptive threading and io_uring could not be had on it. The protocol part is small:
//! fixed little-endian structures, one request per read, one reply per write.

pub mod abi;
mod buffer;
mod channel;
mod interrupts;
pub mod mount;
mod reply;
mod request;
mod ring;
mod ring_workers;
mod spin;
mod workers;

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use channel::{BackingId, Channel};
pub use mount::{Mount, MountSpec, Unmounter};
pub use reply::{DirBuffer, Reply};
pub use request::{Args, Malformed, Request};
pub use ring::possible_cpus;
pub use workers::Activity;

use channel::Received;
use ring_workers::Prepared;

/// What the kernel offered at FUSE_INIT.
#[derive(Clone, Copy, Debug)]
pub struct KernelOffer {
    pub major: u32,
    pub minor: u32,
    pub max_readahead: u32,
    /// `flags | flags2 << 32`.
    pub flags: u64,
}

/// What flu answers at FUSE_INIT.
#[derive(Clone, Copy, Debug)]
pub struct InitAnswer {
    /// Wanted capabilities (only those offered are sent).
    pub flags: u64,
    pub max_write: u32,
    pub max_readahead: u32,
    /// For kernel passthrough: how deep backing files may be stacked.
    pub max_stack_depth: u32,
}

/// Who may use the mount, checked per request (the kernel only lets others in with
/// `allow_other`; `allow_root` is `allow_other` for the kernel and this filter here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// The mounting user only (the kernel enforces it).
    #[default]
    Owner,
    /// The mounting user and root.
    RootAndOwner,
    /// Everyone (`allow_other`).
    All,
}

/// The filesystem behind a session.
pub trait Handler: Send + Sync + 'static {
    /// Negotiate the connection; an error refuses the mount.
    fn init(&self, offer: &KernelOffer) -> io::Result<InitAnswer>;
    /// Serve one request (on any of the serving threads). `reply` must be answered once (an unanswered reply answers
    /// EIO when dropped); `Reply::none` for the requests that take no answer.
    fn handle(&self, request: Request<'_>, reply: Reply);
    /// The session ended (unmounted): called once, after the last request.
    fn destroy(&self);
}

/// How to serve.
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// Serving threads kept; more are started while all of them are busy (a stuck
    /// handler must not leave the kernel's interrupts unread), up to `MAX_THREADS`.
    pub threads: usize,
    pub access: Access,
    /// Serve over FUSE over io_uring where the kernel offers it (`-o io_uring`); else,
    /// or when the rings cannot be made, over /dev/fuse.
    pub io_uring: bool,
    /// How long one serving thread, after answering, watches for the next request
    /// before it sleeps in read (zero: never; see `workers`).
    pub spin: std::time::Duration,
}

/// A mounted, initialized FUSE connection and its filesystem.
pub struct Session<H: Handler> {
    channel: Arc<Channel>,
    handler: Arc<H>,
    mount: Mount,
    config: SessionConfig,
    /// The request buffer size for the negotiated max_write.
    buffer_size: usize,
    activity: Arc<Activity>,
    /// The rings to serve over, when FUSE over io_uring was negotiated.
    rings: Option<Prepared>,
}

/// Extra room in a request buffer beyond the largest write's data (headers).
const HEADER_ROOM: usize = 4096;

impl<H: Handler> Session<H> {
    /// Mount `spec` and negotiate FUSE_INIT with `handler`. Nothing stays mounted when
    /// this fails.
    pub fn new(handler: H, spec: &MountSpec, config: SessionConfig) -> io::Result<Session<H>> {
        let mut mount = Mount::new(spec)?;
        let fd = mount
            .take_fd()
            .ok_or_else(|| io::Error::other("the mount has no /dev/fuse fd"))?;
        let channel = Arc::new(Channel::new(fd));
        let handler = Arc::new(handler);
        let io_uring = config.io_uring.then_some(spec.mountpoint.as_path());
        match handshake(&channel, handler.as_ref(), io_uring) {
            Ok((max_write, rings)) => Ok(Session {
                channel,
                handler,
                mount,
                config,
                buffer_size: (max_write as usize + HEADER_ROOM).max(8192 + HEADER_ROOM),
                activity: Arc::default(),
                rings,
            }),
            Err(e) => {
                let _ = mount.unmounter().unmount_lazy();
                Err(e)
            }
        }
    }

    pub fn unmounter(&self) -> Unmounter {
        self.mount.unmounter()
    }

    /// The connection, for notifications to the kernel.
    pub fn channel(&self) -> &Arc<Channel> {
        &self.channel
    }

    /// The filesystem it serves (shared with the serving threads).
    pub fn handler(&self) -> &Arc<H> {
        &self.handler
    }

    /// Its serving threads and requests in flight, readable while it serves.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Serve until the filesystem is unmounted; then `Handler::destroy`.
    pub fn run(self) -> io::Result<()> {
        workers::run(
            self.channel,
            self.handler,
            self.config,
            self.buffer_size,
            self.activity,
            self.rings,
        )
    }

    /// Serve on a background thread (tests).
    pub fn spawn(self) -> io::Result<BackgroundSession> {
        let unmounter = self.unmounter();
        let thread = std::thread::Builder::new()
            .name("flu-session".into())
            .spawn(move || self.run())?;
        Ok(BackgroundSession { thread, unmounter })
    }
}

/// A session served on its own thread.
pub struct BackgroundSession {
    thread: JoinHandle<io::Result<()>>,
    unmounter: Unmounter,
}

impl BackgroundSession {
    /// Unmount and wait for the session to end.
    pub fn unmount_and_join(self) -> io::Result<()> {
        self.unmounter.unmount()?;
        self.thread
            .join()
            .map_err(|_| io::Error::other("the session thread panicked"))?
    }
}

/// FUSE_INIT: the first request. Returns the negotiated max_write, and the rings to
/// serve over when FUSE over io_uring was asked for (`io_uring`: the mountpoint) and
/// agreed.
fn handshake<H: Handler>(
    channel: &Arc<Channel>,
    handler: &H,
    io_uring: Option<&std::path::Path>,
) -> io::Result<(u32, Option<Prepared>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let n = match channel.receive(&mut buf)? {
        Received::Request(n) => n,
        Received::Unmounted => {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the FUSE connection closed before FUSE_INIT",
            ))
        }
    };
    let request =
        Request::parse(&buf[..n]).map_err(|m| io::Error::new(io::ErrorKind::InvalidData, m.0))?;
    let reply = Reply::new(channel.clone(), request.header.unique);
    let init = match request.opcode() {
        abi::opcode::INIT => request.args().fixed::<abi::InitIn>().ok(),
        _ => None,
    };
    let Some(init) = init else {
        reply.error(libc::EIO);
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the first request was not FUSE_INIT",
        ));
    };
    if init.major != abi::KERNEL_VERSION || init.minor < abi::MIN_MINOR_VERSION {
        reply.error(libc::EPROTO);
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "the kernel speaks FUSE {}.{}; flu needs {}.{} or later",
                init.major,
                init.minor,
                abi::KERNEL_VERSION,
                abi::MIN_MINOR_VERSION
            ),
        ));
    }
    let offered = u64::from(init.flags)
        | if u64::from(init.flags) & abi::init_flags::INIT_EXT != 0 {
            u64::from(init.flags2) << 32
        } else {
            0
        };
    let offer = KernelOffer {
        major: init.major,
        minor: init.minor,
        max_readahead: init.max_readahead,
        flags: offered,
    };
    let answer = match handler.init(&offer) {
        Ok(a) => a,
        Err(e) => {
            reply.error(e.raw_os_error().unwrap_or(libc::EIO));
            return Err(e);
        }
    };
    let max_write = answer.max_write.clamp(4096, 16 << 20);
    let mut flags = (answer.flags & offered) | abi::init_flags::MAX_PAGES & offered;
    if offered & abi::init_flags::INIT_EXT != 0 {
        flags |= abi::init_flags::INIT_EXT;
    }
    let max_pages = max_write
        .max(answer.max_readahead.min(init.max_readahead))
        .div_ceil(4096)
        .min(u32::from(u16::MAX));
    let rings = io_uring.and_then(|mountpoint| {
        // The kernel's largest payload either way: a write, or a read of max_pages.
        let payload = (max_write as usize)
            .max(max_pages as usize * 4096)
            .max(8192);
        prepare_rings(channel, offered, payload, mountpoint)
    });
    if rings.is_some() {
        flags |= abi::init_flags::OVER_IO_URING;
    }
    let out = abi::InitOut {
        major: abi::KERNEL_VERSION,
        minor: abi::KERNEL_MINOR_VERSION.min(init.minor),
        max_readahead: answer.max_readahead.min(init.max_readahead),
        flags: flags as u32,
        max_background: 16,
        congestion_threshold: 12,
        max_write,
        time_gran: 1,
        max_pages: max_pages as u16,
        map_alignment: 0,
        flags2: (flags >> 32) as u32,
        max_stack_depth: answer.max_stack_depth,
        unused: [0; 6],
    };
    reply.pod(&out);
    Ok((max_write, rings))
}

/// The rings for `-o io_uring`, if the kernel offers FUSE over io_uring and they can
/// be made; else a warning says why requests come over /dev/fuse.
fn prepare_rings(
    channel: &Arc<Channel>,
    offered: u64,
    payload: usize,
    mountpoint: &std::path::Path,
) -> Option<Prepared> {
    if offered & abi::init_flags::OVER_IO_URING == 0 {
        tracing::warn!(
            "io_uring: the kernel does not offer FUSE over io_uring (Linux 6.14 or later, \
             enabled by root with `echo Y > /sys/module/fuse/parameters/enable_uring`); \
             serving over /dev/fuse"
        );
        return None;
    }
    match Prepared::new(channel, payload, mountpoint) {
        Ok(p) => {
            tracing::info!("serving over io_uring");
            Some(p)
        }
        Err(e) => {
            tracing::warn!("io_uring: cannot set up the rings ({e}); serving over /dev/fuse");
            None
        }
    }
}
