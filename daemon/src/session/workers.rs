//! The serving threads: each reads a request from its own fd on the connection, serves
//! it and answers, until the filesystem is unmounted.
//!
//! The configured number of threads (`--threads`) always serve. A keeper thread looks
//! every 10 ms: when every serving thread is busy and requests wait in the kernel's
//! queue (parallel clients, readahead, handlers waiting for slow work), it starts another
//! at once; when every thread has been busy for three looks in a row with none waiting,
//! it starts one too, so that a FUSE_INTERRUPT always reaches a request whose handler is
//! stuck. Up to `MAX_THREADS`. Threads beyond the configured number read from a
//! non-blocking clone of the fd and retire once no request came for `EXTRA_IDLE` while
//! another thread waits for the next. A busy mount therefore costs no thread switch per
//! request, and grows only as far as requests wait.
//!
//! After answering, one thread at a time watches the queue for the next request before
//! it reads (`spin`).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread::JoinHandle;
use std::time::Duration;

use super::abi::{self, Pod};
use super::buffer::RequestBuffer;
use super::channel::{Channel, Received};
use super::interrupts::{Delivered, InFlight};
use super::ring_workers::{Prepared, Rings};
use super::spin::Watch;
use super::{Access, Handler, Reply, Request, SessionConfig};

/// The most serving threads a mount may have.
pub const MAX_THREADS: usize = 64;

/// How often the keeper looks for a mount with no thread reading.
const KEEPER_PERIOD: Duration = Duration::from_millis(10);

/// How many looks in a row every thread must be busy before another starts (30 ms).
const STUCK_LOOKS: u32 = 3;

/// How long an extra thread waits for another request before it leaves (while another
/// thread is waiting too): long enough to stay through a burst of parallel requests.
const EXTRA_IDLE: Duration = Duration::from_millis(200);

/// How many idle looks (1 s) before free heap memory goes back to the system.
const IDLE_LOOKS_BEFORE_TRIM: u32 = 100;

/// How busy a session is, readable from outside while it serves (`flu stats`).
#[derive(Debug, Default)]
pub struct Activity {
    /// Threads serving now.
    total: AtomicUsize,
    /// Requests being served now.
    serving: AtomicUsize,
    /// Threads serving FUSE over io_uring (not counted in `total`).
    pub(super) ring_threads: AtomicUsize,
    /// Requests that came over io_uring.
    pub(super) ring_requests: AtomicU64,
}

impl Activity {
    /// Threads serving now (0 before the session runs and after it ended).
    pub fn threads(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> usize {
        self.serving.load(Ordering::Relaxed)
    }

    /// Threads serving FUSE over io_uring (0 when requests come over /dev/fuse).
    pub fn ring_threads(&self) -> usize {
        self.ring_threads.load(Ordering::Relaxed)
    }

    /// Requests served that came over io_uring.
    pub fn ring_requests(&self) -> u64 {
        self.ring_requests.load(Ordering::Relaxed)
    }
}

/// Serve `channel` with `handler` until unmounted; then `Handler::destroy`, once.
pub fn run<H: Handler>(
    channel: Arc<Channel>,
    handler: Arc<H>,
    config: SessionConfig,
    buffer_size: usize,
    activity: Arc<Activity>,
    rings: Option<Prepared>,
) -> io::Result<()> {
    activity.total.store(1, Ordering::SeqCst);
    let shared = Arc::new(Shared {
        handler,
        channel: channel.clone(),
        in_flight: InFlight::default(),
        access: config.access,
        owner: nix::unistd::geteuid().as_raw(),
        done: AtomicBool::new(false),
        destroyed: Once::new(),
        base: config.threads.clamp(1, MAX_THREADS),
        activity,
        reading: AtomicUsize::new(0),
        watch: Watch::new(config.spin),
        reads: AtomicUsize::new(0),
        buffer_size,
        threads: Mutex::new(Vec::new()),
    });
    for _ in 1..shared.base {
        shared.activity.total.fetch_add(1, Ordering::SeqCst);
        Shared::start_worker(&shared)?;
    }
    let rings = rings.map(|r| r.start(&shared));
    let keeper = {
        let (shared, rings) = (shared.clone(), rings.clone());
        std::thread::Builder::new()
            .name("flu-fuse-keeper".into())
            .spawn(move || shared.keep_a_reader(rings))?
    };
    let result = serve(&channel, &shared, Role::Base);
    shared.done.store(true, Ordering::SeqCst);
    let _ = keeper.join();
    if let Some(rings) = rings {
        rings.stop();
    }
    loop {
        let next = shared
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        match next {
            Some(t) => {
                let _ = t.join();
            }
            None => break,
        }
    }
    shared.destroy();
    shared.activity.total.store(0, Ordering::SeqCst);
    result
}

/// What the serving threads share.
pub(super) struct Shared<H: Handler> {
    handler: Arc<H>,
    channel: Arc<Channel>,
    in_flight: InFlight,
    access: Access,
    owner: u32,
    done: AtomicBool,
    destroyed: Once,
    /// Threads kept serving.
    base: usize,
    /// Threads serving now (`activity.total`), requests being served.
    pub(super) activity: Arc<Activity>,
    /// Threads waiting in read.
    reading: AtomicUsize,
    /// The watch for the next request after an answer (`spin`).
    watch: Watch,
    /// Requests read so far (the keeper's measure of progress).
    pub(super) reads: AtomicUsize,
    buffer_size: usize,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl<H: Handler> Shared<H> {
    fn destroy(&self) {
        self.destroyed.call_once(|| self.handler.destroy());
    }

    /// Start one more serving thread (already counted in `total`), on a clone of the
    /// connection's fd when the kernel allows (else on the same fd).
    fn start_worker(shared: &Arc<Shared<H>>) -> io::Result<()> {
        // An extra thread's own clone never blocks in read, so that it can leave once
        // requests stop coming.
        let (channel, own) = match shared.channel.clone_fd(true) {
            Ok(c) => (Arc::new(c), true),
            Err(e) => {
                tracing::debug!("FUSE_DEV_IOC_CLONE failed ({e}); threads share one fd");
                (shared.channel.clone(), false)
            }
        };
        let worker = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("flu-fuse".into())
            .spawn(move || {
                let role = if own { Role::Extra } else { Role::ExtraShared };
                if let Err(e) = serve(&channel, &worker, role) {
                    tracing::error!("a serving thread stopped: {e}");
                }
            });
        match spawned {
            Ok(t) => {
                let mut threads = shared.threads.lock().unwrap_or_else(|p| p.into_inner());
                // Retired threads need no join.
                threads.retain(|t| !t.is_finished());
                threads.push(t);
                Ok(())
            }
            Err(e) => {
                shared.activity.total.fetch_sub(1, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// The keeper: while nobody has been reading since the last look, start a thread.
    fn keep_a_reader(self: Arc<Self>, rings: Option<Arc<Rings>>) {
        let mut last_reads = usize::MAX;
        let mut stuck_looks = 0;
        let mut idle_looks = 0u32;
        while !self.done.load(Ordering::SeqCst) {
            std::thread::sleep(KEEPER_PERIOD);
            if let Some(rings) = &rings {
                rings.look(&self);
            }
            let reads = self.reads.load(Ordering::SeqCst);
            let stuck = self.reading.load(Ordering::SeqCst) == 0 && reads == last_reads;
            // A mount idle for a second gives the memory its bursts left free back to
            // the system (RSS then tells what is really in use).
            idle_looks = if reads == last_reads {
                idle_looks.saturating_add(1)
            } else {
                0
            };
            if idle_looks == IDLE_LOOKS_BEFORE_TRIM {
                // SAFETY: malloc_trim only releases free heap memory; no pointer is touched.
                unsafe { libc::malloc_trim(0) };
            }
            last_reads = reads;
            // Requests wait while every thread is busy: another thread serves them now.
            // Busy with none waiting, for a few looks in a row: stuck, not merely slow
            // to be scheduled on a loaded machine (which would start threads for
            // nothing), so a reader is started for the interrupt that may come.
            let waiting = self.reading.load(Ordering::SeqCst) == 0
                && self.channel.readable_within(Duration::ZERO);
            stuck_looks = if stuck { stuck_looks + 1 } else { 0 };
            if !waiting && stuck_looks < STUCK_LOOKS {
                continue;
            }
            stuck_looks = 0;
            let total = self.activity.total.load(Ordering::SeqCst);
            if total >= MAX_THREADS {
                continue;
            }
            self.activity.total.fetch_add(1, Ordering::SeqCst);
            tracing::debug!("all {total} serving threads are busy: starting another");
            if let Err(e) = Shared::start_worker(&self) {
                tracing::warn!("cannot start another serving thread: {e}");
            }
        }
    }

    /// An extra thread leaves when another is waiting for requests (it was idle for
    /// `EXTRA_IDLE`, or on a shared fd, it just served one); never below `base`.
    fn may_retire(&self) -> bool {
        self.reading.load(Ordering::SeqCst) > 0
            && self
                .activity
                .total
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                    (t > self.base).then(|| t - 1)
                })
                .is_ok()
    }

    /// Requests of users the mount does not admit (`allow_root`), except those the
    /// kernel sends on its own behalf.
    fn admits(&self, request: &Request<'_>) -> bool {
        let uid = request.header.uid;
        match self.access {
            Access::All | Access::Owner => true,
            Access::RootAndOwner => {
                use abi::opcode::*;
                uid == self.owner
                    || uid == 0
                    || matches!(
                        request.opcode(),
                        FORGET
                            | BATCH_FORGET
                            | INTERRUPT
                            | READ
                            | WRITE
                            | FSYNC
                            | FSYNCDIR
                            | RELEASE
                            | RELEASEDIR
                            | READDIR
                            | READDIRPLUS
                            | DESTROY
                            | NOTIFY_REPLY
                    )
            }
        }
    }
}

/// Which kind of serving thread.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// One of the `base` threads: reads block.
    Base,
    /// An extra thread on a non-blocking clone of its own: leaves when idle.
    Extra,
    /// An extra thread on the shared fd (no clone): leaves after a request.
    ExtraShared,
}

/// One serving thread: read, answer, until unmounted (or, for an extra thread, until
/// it is not needed any more).
fn serve<H: Handler>(channel: &Arc<Channel>, shared: &Shared<H>, role: Role) -> io::Result<()> {
    let extra = role != Role::Base;
    let mut buf = match RequestBuffer::new(shared.buffer_size) {
        Ok(b) => b,
        Err(e) => {
            if extra {
                shared.activity.total.fetch_sub(1, Ordering::SeqCst);
            }
            return Err(e);
        }
    };
    while !shared.done.load(Ordering::SeqCst) {
        // A thread on a shared fd does not watch: its read could wait behind another's.
        if role != Role::ExtraShared {
            shared.watch.before_read(channel);
        }
        shared.reading.fetch_add(1, Ordering::SeqCst);
        let received = if role == Role::Extra {
            channel.receive_within(&mut buf, EXTRA_IDLE)
        } else {
            channel.receive(&mut buf).map(Some)
        };
        shared.reading.fetch_sub(1, Ordering::SeqCst);
        let n = match received {
            Ok(Some(Received::Request(n))) => n,
            Ok(Some(Received::Unmounted)) => break,
            Ok(None) => {
                // Nothing came for a while: the burst that started this thread is over.
                if shared.may_retire() {
                    return Ok(());
                }
                continue;
            }
            Err(e) => {
                if extra {
                    shared.activity.total.fetch_sub(1, Ordering::SeqCst);
                }
                return Err(e);
            }
        };
        shared.reads.fetch_add(1, Ordering::SeqCst);
        dispatch(shared, &buf[..n], |unique| {
            Reply::new(channel.clone(), unique)
        });
        if role == Role::ExtraShared && shared.may_retire() {
            return Ok(());
        }
    }
    if extra {
        shared.activity.total.fetch_sub(1, Ordering::SeqCst);
    }
    Ok(())
}

/// Parse and answer one request (`reply_for` makes the reply to the request with a
/// given `unique`, for the transport it came over).
pub(super) fn dispatch<H: Handler>(
    shared: &Shared<H>,
    buf: &[u8],
    reply_for: impl Fn(u64) -> Reply,
) {
    let request = match Request::parse(buf) {
        Ok(r) => r,
        Err(m) => {
            tracing::error!(
                "a malformed request from the kernel ({}): answered EIO",
                m.0
            );
            if let Some(h) = abi::InHeader::read_from(buf) {
                reply_for(h.unique).error(libc::EIO);
            }
            return;
        }
    };
    let unique = request.header.unique;
    let reply = reply_for(unique);
    if !shared.admits(&request) {
        reply.error(libc::EACCES);
        return;
    }
    match request.opcode() {
        abi::opcode::INTERRUPT => match request.args().fixed::<abi::InterruptIn>() {
            Ok(arg) => match shared.in_flight.interrupt(arg.unique) {
                Delivered::ToRequest => reply.none(),
                Delivered::Unknown => reply.error(libc::EAGAIN),
            },
            Err(_) => reply.error(libc::EIO),
        },
        abi::opcode::DESTROY => {
            reply.ok();
            shared.done.store(true, Ordering::SeqCst);
            shared.destroy();
        }
        abi::opcode::INIT => {
            tracing::error!("FUSE_INIT after the handshake: answered EIO");
            reply.error(libc::EIO);
        }
        // No answer, nothing to interrupt.
        abi::opcode::FORGET | abi::opcode::BATCH_FORGET | abi::opcode::NOTIFY_REPLY => {
            handle_guarded(shared, request, reply)
        }
        _ => {
            let flag = shared.in_flight.start(unique);
            flu_api::interrupt::serving(&flag, || handle_guarded(shared, request, reply));
            shared.in_flight.finish(unique);
        }
    }
}

/// A panic while serving costs that request (its unanswered reply answers EIO as it
/// unwinds), never the serving thread.
fn handle_guarded<H: Handler>(shared: &Shared<H>, request: Request<'_>, reply: Reply) {
    let unique = request.header.unique;
    shared.activity.serving.fetch_add(1, Ordering::Relaxed);
    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        shared.handler.handle(request, reply)
    }));
    shared.activity.serving.fetch_sub(1, Ordering::Relaxed);
    if served.is_err() {
        tracing::error!("internal error while serving request {unique}; answered EIO");
    }
}
