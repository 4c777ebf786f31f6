//! The threads serving FUSE over io_uring (`ring`), each with its own entry: at first
//! two per queue (the kernel queues a request on the queue of the CPU its caller runs
//! on), one pinned to that CPU, which serves a sequential client alone (the kernel
//! hands a request to the entry committed last), one spare for a request made while it
//! is busy (a handler that reaches into its own mount). The keeper adds another,
//! unpinned, to a queue whose threads have all been busy with no request finished for
//! a few looks in a row (30 ms), so that a slow or stuck handler does not hold up every
//! caller on that CPU. A queue that keeps finishing requests keeps its threads.
//!
//! The kernel gives a newly registered entry only requests that come after it:
//! those already queued wait for an entry of the queue to commit. So once the keeper
//! added an entry, a request is made on that queue's CPU (a stat of the mount root,
//! forced to reach the daemon): the new entry serves it, and its commit fetches the
//! oldest waiting request. An entry cannot be unregistered, so a
//! ring thread stays until the session ends. What still comes over /dev/fuse (FORGET,
//! INTERRUPT, and every request if the kernel falls back) is served by `workers`.
//!
//! Falling back: the rings are made before FUSE_INIT is answered, and FUSE over
//! io_uring is asked for only if they could be; once asked for, the kernel holds
//! requests back until every queue has an entry, and gives the ring up (serving over
//! /dev/fuse) if a registration fails. A queue whose thread cannot start makes a
//! registration fail on purpose (`RingEntry::refuse`), so requests never wait for a
//! queue nobody serves.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::buffer::RequestBuffer;
use super::channel::Channel;
use super::ring::{possible_cpus, Completion, RingEntry};
use super::workers::{dispatch, Shared};
use super::{Handler, Reply};

/// The most threads one queue may have.
const MAX_THREADS_PER_QUEUE: usize = 16;

/// Threads a queue starts with.
const FIRST_THREADS_PER_QUEUE: usize = 2;

/// How long a request made on a queue waits for the new thread to wait first.
const KICK_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// How many looks in a row (10 ms each) every thread of a queue must be busy, with no
/// request finished, before another starts.
const BUSY_LOOKS: u32 = 3;

/// The rings of a session. See the module documentation.
pub struct Rings {
    channel: Arc<Channel>,
    queues: Vec<Queue>,
    payload_size: usize,
    /// Readable once the session ends: wakes every ring thread.
    wake: OwnedFd,
    /// Where the mount is, to make a request on a queue (see the module documentation).
    mountpoint: PathBuf,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

struct Queue {
    /// Threads serving the queue.
    threads: AtomicUsize,
    /// Of those, threads waiting for a request.
    waiting: AtomicUsize,
    /// Requests the queue's threads finished.
    served: AtomicU64,
    /// `served` at the keeper's last look.
    last_served: AtomicU64,
    /// Looks in a row with none waiting and none finished.
    busy_looks: AtomicU32,
}

/// Why a queue needs another thread.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    /// It served over the ring and lost its last thread (an io_uring error ends one).
    Orphaned,
    /// All its threads were busy without progress for `BUSY_LOOKS` looks.
    Busy,
}

impl Queue {
    /// Whether this queue needs another thread now (called once per look: it counts
    /// the looks a busy queue made no progress).
    fn wants_thread(&self) -> Option<Want> {
        let threads = self.threads.load(Ordering::SeqCst);
        let served = self.served.load(Ordering::SeqCst);
        let progressed = self.last_served.swap(served, Ordering::SeqCst) != served;
        if threads == 0 {
            self.busy_looks.store(0, Ordering::SeqCst);
            return (served > 0).then_some(Want::Orphaned);
        }
        if progressed || self.waiting.load(Ordering::SeqCst) > 0 {
            self.busy_looks.store(0, Ordering::SeqCst);
            return None;
        }
        if self.busy_looks.fetch_add(1, Ordering::SeqCst) + 1 < BUSY_LOOKS {
            return None;
        }
        self.busy_looks.store(0, Ordering::SeqCst);
        Some(Want::Busy)
    }
}

/// Rings made before FUSE_INIT was answered, with the first entry of each queue.
pub struct Prepared {
    rings: Rings,
    first: Vec<RingEntry>,
}

impl Prepared {
    /// One ring and entry per queue of `channel`'s connection, for payloads of up to
    /// `payload_size` bytes. An error means io_uring cannot be used here (not
    /// permitted, no memory): the session then serves over /dev/fuse.
    pub fn new(
        channel: &Arc<Channel>,
        payload_size: usize,
        mountpoint: &Path,
    ) -> io::Result<Prepared> {
        let n = possible_cpus();
        let qids = u16::try_from(n).map_err(|_| io::Error::other("too many CPUs for io_uring"))?;
        let first = (0..qids)
            .flat_map(|qid| std::iter::repeat_n(qid, FIRST_THREADS_PER_QUEUE))
            .map(|qid| RingEntry::new(channel, qid, payload_size))
            .collect::<io::Result<Vec<_>>>()?;
        // SAFETY: eventfd takes no pointers; the result is checked before it is owned.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh fd this code owns alone.
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Prepared {
            rings: Rings {
                channel: channel.clone(),
                queues: (0..n)
                    .map(|_| Queue {
                        threads: AtomicUsize::new(0),
                        waiting: AtomicUsize::new(0),
                        served: AtomicU64::new(0),
                        last_served: AtomicU64::new(0),
                        busy_looks: AtomicU32::new(0),
                    })
                    .collect(),
                payload_size,
                wake,
                mountpoint: mountpoint.to_path_buf(),
                threads: Mutex::new(Vec::new()),
            },
            first,
        })
    }

    /// Start a thread per queue (the connection is initialized: FUSE_INIT was
    /// answered). Returns the rings, for the keeper and the end of the session.
    pub fn start<H: Handler>(self, shared: &Arc<Shared<H>>) -> Arc<Rings> {
        let rings = Arc::new(self.rings);
        let queues = rings.queues.len();
        let mut pinned = vec![false; queues];
        for entry in self.first {
            let qid = entry.qid();
            let first = !std::mem::replace(&mut pinned[usize::from(qid)], true);
            if let Err((e, entry)) = rings.start_thread(shared, entry, first) {
                tracing::warn!(
                    "io_uring: cannot start the thread of queue {qid} ({e}); serving over /dev/fuse"
                );
                if let Err(e) = entry.refuse() {
                    tracing::error!("io_uring: cannot make the kernel fall back: {e}");
                }
            }
        }
        tracing::debug!("io_uring: {queues} queues started");
        rings
    }
}

impl Rings {
    /// Start a thread serving `entry`; on failure the entry comes back.
    fn start_thread<H: Handler>(
        self: &Arc<Self>,
        shared: &Arc<Shared<H>>,
        entry: RingEntry,
        pinned: bool,
    ) -> Result<(), (io::Error, Arc<RingEntry>)> {
        let entry = Arc::new(entry);
        let qid = usize::from(entry.qid());
        let (rings, worker, served) = (self.clone(), shared.clone(), entry.clone());
        self.queues[qid].threads.fetch_add(1, Ordering::SeqCst);
        shared.activity.ring_threads.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name(format!("flu-ring-{qid}"))
            .spawn(move || {
                if pinned {
                    pin_to_cpu(qid);
                }
                if let Err(e) = rings.serve(&worker, &served) {
                    tracing::error!("io_uring: a serving thread of queue {qid} stopped: {e}");
                }
                rings.queues[qid].threads.fetch_sub(1, Ordering::SeqCst);
                worker.activity.ring_threads.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(t) => {
                self.threads
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(t);
                Ok(())
            }
            Err(e) => {
                self.queues[qid].threads.fetch_sub(1, Ordering::SeqCst);
                shared.activity.ring_threads.fetch_sub(1, Ordering::SeqCst);
                Err((e, entry))
            }
        }
    }

    /// One ring thread: register the entry, then serve what comes in it until the
    /// connection or the session ends.
    fn serve<H: Handler>(&self, shared: &Shared<H>, entry: &Arc<RingEntry>) -> io::Result<()> {
        let queue = &self.queues[usize::from(entry.qid())];
        // The thread's copy of each request: a mapping, so only the pages requests
        // touch are resident (see `buffer`).
        let mut copy = RequestBuffer::new(entry.copy_size())?;
        entry.watch(&self.wake)?;
        entry.register()?;
        loop {
            queue.waiting.fetch_add(1, Ordering::SeqCst);
            let completion = entry.wait();
            queue.waiting.fetch_sub(1, Ordering::SeqCst);
            match completion? {
                Completion::Ended => return Ok(()),
                Completion::Retry => {
                    // EAGAIN: the connection is not initialized yet (a moment).
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    entry.retry()?;
                }
                Completion::Request => {
                    shared.reads.fetch_add(1, Ordering::SeqCst);
                    shared
                        .activity
                        .ring_requests
                        .fetch_add(1, Ordering::Relaxed);
                    entry.take_request(&mut copy, |request| {
                        dispatch(shared, request, |unique| {
                            Reply::ring(self.channel.clone(), unique, entry.clone())
                        })
                    })?;
                    queue.served.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    /// The keeper's look: a queue whose threads have all been busy, finishing nothing,
    /// for `BUSY_LOOKS` looks gets another.
    pub fn look<H: Handler>(self: &Arc<Self>, shared: &Arc<Shared<H>>) {
        for (qid, queue) in self.queues.iter().enumerate() {
            let Some(want) = queue.wants_thread() else {
                continue;
            };
            if queue.threads.load(Ordering::SeqCst) >= MAX_THREADS_PER_QUEUE {
                continue;
            }
            // qid < queues.len(), which came from a u16.
            let qid16 = qid as u16;
            match RingEntry::new(&self.channel, qid16, self.payload_size) {
                Ok(entry) => {
                    match want {
                        Want::Orphaned => {
                            tracing::warn!("io_uring: queue {qid} has no thread left: starting one")
                        }
                        Want::Busy => tracing::debug!(
                            "io_uring: all threads of queue {qid} are busy: starting another"
                        ),
                    }
                    match self.start_thread(shared, entry, false) {
                        Ok(()) => self.kick(qid),
                        Err((e, _)) => {
                            tracing::warn!("io_uring: cannot start another thread: {e}")
                        }
                    }
                }
                Err(e) => tracing::warn!("io_uring: cannot make another ring entry: {e}"),
            }
        }
    }

    /// Make a request on queue `qid` once its new thread waits (see the module
    /// documentation): from a short-lived thread on that queue's CPU, which leaves
    /// when the request was answered.
    fn kick(self: &Arc<Self>, qid: usize) {
        let rings = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("flu-ring-kick-{qid}"))
            .spawn(move || {
                let queue = &rings.queues[qid];
                let waits = KICK_WAIT;
                let start = std::time::Instant::now();
                while queue.waiting.load(Ordering::SeqCst) == 0 && start.elapsed() < waits {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                pin_to_cpu(qid);
                if let Err(e) = stat_forced(&rings.mountpoint) {
                    tracing::debug!("io_uring: the request made on queue {qid} failed: {e}");
                }
            });
        if let Err(e) = spawned {
            tracing::debug!("io_uring: cannot make a request on queue {qid}: {e}");
        }
    }

    /// The session ends: wake every ring thread and wait for them.
    pub fn stop(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live local to an eventfd this struct owns.
        let n = unsafe {
            libc::write(
                std::os::fd::AsRawFd::as_raw_fd(&self.wake),
                (&one as *const u64).cast(),
                8,
            )
        };
        if n != 8 {
            tracing::debug!(
                "io_uring: cannot wake the ring threads: {}",
                io::Error::last_os_error()
            );
        }
        loop {
            let next = self.threads.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match next {
                Some(t) => {
                    let _ = t.join();
                }
                None => break,
            }
        }
    }
}

/// A stat of `path` that always reaches the filesystem (`AT_STATX_FORCE_SYNC`).
fn stat_forced(path: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("a mountpoint with a NUL byte"))?;
    // SAFETY: a zeroed statx is a valid buffer for the kernel to fill.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `buf` a live, writable statx.
    let r = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::AT_STATX_FORCE_SYNC,
            libc::STATX_BASIC_STATS,
            &mut buf,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Keep the calling thread on `cpu`, where the callers of its queue run (the request
/// is then served without moving between CPUs). Best effort.
fn pin_to_cpu(cpu: usize) {
    let mut set = nix::sched::CpuSet::new();
    let pinned = set
        .set(cpu)
        .and_then(|_| nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set));
    if let Err(e) = pinned {
        tracing::debug!("io_uring: cannot pin a ring thread to CPU {cpu}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(threads: usize, served: u64) -> Queue {
        Queue {
            threads: AtomicUsize::new(threads),
            waiting: AtomicUsize::new(0),
            served: AtomicU64::new(served),
            last_served: AtomicU64::new(served),
            busy_looks: AtomicU32::new(0),
        }
    }

    #[test]
    fn a_stuck_queue_wants_a_thread_after_its_busy_looks() {
        let q = queue(2, 10);
        for _ in 1..BUSY_LOOKS {
            assert_eq!(q.wants_thread(), None);
        }
        assert_eq!(q.wants_thread(), Some(Want::Busy));
        // The count starts again.
        assert_eq!(q.wants_thread(), None);
    }

    #[test]
    fn progress_or_a_waiting_thread_resets_the_count() {
        let q = queue(2, 10);
        for _ in 1..BUSY_LOOKS {
            assert_eq!(q.wants_thread(), None);
        }
        q.served.fetch_add(1, Ordering::SeqCst);
        assert_eq!(q.wants_thread(), None, "it served one since the last look");
        for _ in 1..BUSY_LOOKS {
            assert_eq!(q.wants_thread(), None);
        }
        q.waiting.store(1, Ordering::SeqCst);
        assert_eq!(q.wants_thread(), None, "a thread is free");
        q.waiting.store(0, Ordering::SeqCst);
        for _ in 1..BUSY_LOOKS {
            assert_eq!(q.wants_thread(), None);
        }
        assert_eq!(q.wants_thread(), Some(Want::Busy));
    }

    #[test]
    fn only_a_queue_that_served_and_lost_its_threads_is_orphaned() {
        assert_eq!(
            queue(0, 0).wants_thread(),
            None,
            "never served: not started yet"
        );
        assert_eq!(queue(0, 3).wants_thread(), Some(Want::Orphaned));
    }
}
