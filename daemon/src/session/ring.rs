//! FUSE over io_uring: one ring entry and the io_uring it travels on.
//!
//! With `-o io_uring` and a kernel that offers it (FUSE_OVER_IO_URING), each thread
//! serving the ring owns one io_uring and one *entry*: a header buffer and a payload
//! buffer registered with the kernel. The kernel writes a request into the entry and
//! completes the thread's command; the thread answers by writing into the same buffers
//! and submitting COMMIT_AND_FETCH, which also waits for the next request: one system
//! call per request where /dev/fuse takes a read and a write.
//!
//! Requests reach `dispatch` in the form /dev/fuse gives them (header, arguments and
//! data in one slice), so nothing above the session knows the transport. The ring
//! hands them over in pieces: the `fuse_in_header` and the opcode's fixed argument in
//! the header buffer, the rest (names, data) in the payload buffer. They are copied out
//! into one slice (a per-thread buffer), which leaves the entry's buffers free for the
//! answer at any time: a handler's notifications must go out after its answer (the
//! kernel may hold a lock the notification needs until the answer comes), and the
//! answer to a WRITE goes where its data was. Only writes a script serves pay for the
//! copy: a kernel-passthrough write never reaches the daemon.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex, MutexGuard};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use super::abi::{self, uring, Pod};
use super::buffer::RequestBuffer;
use super::channel::Channel;

/// Bytes before the payload: the header buffer, rounded up to a page so the payload is
/// page aligned.
const HEADER_ROOM: usize = 4096;

/// `user_data` of the entry's commands and of the wake-up poll.
const ENTRY: u64 = 1;
const WAKE: u64 = 2;

/// What the kernel completed.
#[derive(Debug, PartialEq, Eq)]
pub enum Completion {
    /// A request waits in the entry.
    Request,
    /// The command must be submitted again (EAGAIN before the connection was
    /// initialized, EINTR).
    Retry,
    /// The connection is gone (unmounted, aborted) or the session ends.
    Ended,
}

/// One entry and its io_uring. See the module documentation.
pub struct RingEntry {
    ring: IoUring<squeue::Entry128, cqueue::Entry>,
    /// Header buffer at 0, payload at `HEADER_ROOM`.
    mem: RequestBuffer,
    /// The two buffers as the kernel is told of them at registration.
    iov: [libc::iovec; 2],
    qid: u16,
    payload_size: usize,
    /// Serializes the submission queue and every access to `mem` outside the kernel's
    /// turn.
    state: Mutex<State>,
    /// The connection, kept open while the entry is registered on it. Commands name
    /// its fd, not a registered (fixed) file: a ring's fixed files are let go only
    /// when the ring is freed, after a killed daemon has gone, and until then the
    /// connection would look alive (fusermount3's auto_unmount would leave the mount
    /// behind).
    channel: Arc<Channel>,
}

#[derive(Default)]
struct State {
    /// The kernel's id of the request in the entry (its `unique`).
    commit_id: u64,
    /// The last command, for a retry.
    last: u32,
    /// A command was pushed but not yet submitted.
    unsubmitted: bool,
}

// SAFETY: `mem` is a private mapping owned by the entry. The kernel reads and writes it
// only while the entry is on its side (between a submitted command and its
// completion); this process touches it only in between, through raw pointers, never
// through a reference that outlives the copy: the serving thread copies the request out
// before anything can answer it, and answers write under `state`'s lock. So sharing the
// entry between the thread serving it and a thread answering one of its requests is
// sound.
unsafe impl Sync for RingEntry {}
// SAFETY: as above; nothing in the entry is tied to the thread that made it.
unsafe impl Send for RingEntry {}

thread_local! {
    /// The entry this thread serves (while it serves it), so an answer given on it
    /// leaves its command for the thread's next wait to submit.
    static SERVING: Cell<*const RingEntry> = const { Cell::new(std::ptr::null()) };
}

/// The bit patterns of a 128-byte SQE the io-uring crate has no builder method for.
mod sqe {
    /// Offset of `len` in `struct io_uring_sqe`.
    pub const LEN_OFFSET: usize = 24;
}

impl RingEntry {
    /// A ring and an entry for queue `qid` of `channel`'s connection, with a payload
    /// buffer of `payload_size` bytes (at least the kernel's largest request or answer
    /// payload). Nothing is registered yet.
    pub fn new(channel: &Arc<Channel>, qid: u16, payload_size: usize) -> io::Result<RingEntry> {
        let ring = IoUring::<squeue::Entry128, cqueue::Entry>::builder().build(4)?;
        let mem = RequestBuffer::new(HEADER_ROOM + payload_size)?;
        let base = mem.raw();
        let iov = [
            libc::iovec {
                iov_base: base.cast(),
                iov_len: uring::HEADER_SIZE,
            },
            libc::iovec {
                // SAFETY: HEADER_ROOM is within the mapping of HEADER_ROOM + payload_size.
                iov_base: unsafe { base.add(HEADER_ROOM) }.cast(),
                iov_len: payload_size,
            },
        ];
        Ok(RingEntry {
            ring,
            mem,
            iov,
            qid,
            payload_size,
            state: Mutex::new(State::default()),
            channel: channel.clone(),
        })
    }

    pub fn qid(&self) -> u16 {
        self.qid
    }

    /// How large a request copied out of the entry can be (`take_request`'s buffer).
    pub fn copy_size(&self) -> usize {
        std::mem::size_of::<abi::InHeader>() + uring::OP_IN_SIZE + self.payload_size
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A FUSE command SQE for this entry.
    fn command(&self, cmd: u32, commit_id: u64, qid: u16) -> squeue::Entry128 {
        let req = abi::UringCmdReq {
            commit_id,
            qid,
            ..Default::default()
        };
        let mut area = [0u8; 80];
        area[..std::mem::size_of::<abi::UringCmdReq>()].copy_from_slice(req.as_bytes());
        let fd = types::Fd(self.channel.as_fd().as_raw_fd());
        let mut op = opcode::UringCmd80::new(fd, cmd).cmd(area);
        if cmd == uring::CMD_REGISTER {
            op = op.addr(Some(self.iov.as_ptr() as u64));
        }
        let mut entry = op.build().user_data(ENTRY);
        if cmd == uring::CMD_REGISTER {
            // The kernel wants `len` = 2, the number of iovecs; the crate's builder
            // sets only `addr`.
            let raw = (&mut entry as *mut squeue::Entry128).cast::<u8>();
            // SAFETY: Entry128 is #[repr(C)], a 128-byte struct io_uring_sqe and its
            // command area (checked in the tests), and `len` is the u32 at offset 24.
            unsafe { raw.add(sqe::LEN_OFFSET).cast::<u32>().write_unaligned(2) };
        }
        entry
    }

    /// Push a command (under `state`'s lock).
    fn push(&self, state: &mut State, entry: &squeue::Entry128) -> io::Result<()> {
        // SAFETY: only code holding `state`'s lock makes a submission queue, so no
        // other exists now; the entry's buffers (iovecs, mapping) live as long as self.
        let pushed = unsafe { self.ring.submission_shared().push(entry) };
        pushed.map_err(|_| io::Error::other("the ring's submission queue is full"))?;
        state.unsubmitted = true;
        Ok(())
    }

    /// Register the entry with the kernel: it then waits for a request.
    pub fn register(&self) -> io::Result<()> {
        let mut state = self.lock();
        state.last = uring::CMD_REGISTER;
        let entry = self.command(uring::CMD_REGISTER, 0, self.qid);
        self.push(&mut state, &entry)
    }

    /// Make the kernel give up FUSE over io_uring on this connection and serve it over
    /// /dev/fuse (it does when a registration fails): for when a queue cannot be
    /// served. Waits for the answer.
    pub fn refuse(&self) -> io::Result<()> {
        {
            let mut state = self.lock();
            let entry = self.command(uring::CMD_REGISTER, 0, u16::MAX);
            self.push(&mut state, &entry)?;
            state.unsubmitted = false;
        }
        self.ring.submitter().submit_and_wait(1)?;
        // SAFETY: the serving thread never started, so no other completion queue exists.
        let done: Vec<i32> = unsafe { self.ring.completion_shared() }
            .map(|c| c.result())
            .collect();
        tracing::debug!("io_uring: registration refused on purpose: {done:?}");
        Ok(())
    }

    /// Watch `wake` (an eventfd): once it is readable, `wait` ends with `Ended`.
    pub fn watch(&self, wake: &std::os::fd::OwnedFd) -> io::Result<()> {
        let poll = opcode::PollAdd::new(types::Fd(wake.as_raw_fd()), libc::POLLIN as u32)
            .build()
            .user_data(WAKE);
        let mut state = self.lock();
        self.push(&mut state, &poll.into())
    }

    /// Submit what is pushed and wait for the kernel's next completion.
    pub fn wait(&self) -> io::Result<Completion> {
        loop {
            self.lock().unsubmitted = false;
            match self.ring.submitter().submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
            let mut got = None;
            // SAFETY: only the thread serving the entry reads its completions.
            for c in unsafe { self.ring.completion_shared() } {
                if c.user_data() == WAKE {
                    return Ok(Completion::Ended);
                }
                got = Some(match -c.result() {
                    0 => Completion::Request,
                    libc::EAGAIN | libc::EINTR => Completion::Retry,
                    libc::ENOTCONN | libc::ECONNABORTED | libc::ENODEV | libc::ECANCELED => {
                        Completion::Ended
                    }
                    errno => {
                        return Err(io::Error::from_raw_os_error(errno));
                    }
                });
            }
            if let Some(g) = got {
                return Ok(g);
            }
        }
    }

    /// Push the last command again (after `Completion::Retry`).
    pub fn retry(&self) -> io::Result<()> {
        let mut state = self.lock();
        let (last, id) = (state.last, state.commit_id);
        let entry = self.command(last, id, self.qid);
        self.push(&mut state, &entry)
    }

    /// Serve the request the kernel put in the entry: `serve` gets it in /dev/fuse's
    /// form, copied into `buf` (at least `copy_size` bytes), and answers it (through
    /// `Reply::ring`) before or after returning.
    pub fn take_request(
        self: &Arc<Self>,
        buf: &mut [u8],
        serve: impl FnOnce(&[u8]),
    ) -> io::Result<()> {
        let base = self.mem.raw();
        let (header, ent) = {
            // SAFETY: the kernel completed the command, so the entry is on this side;
            // the header buffer is the first HEADER_SIZE bytes of the mapping.
            let head = unsafe { std::slice::from_raw_parts(base, uring::HEADER_SIZE) };
            (
                abi::InHeader::read_from(head),
                abi::UringEntInOut::read_from(&head[uring::ENT_IN_OUT_OFFSET..]),
            )
        };
        let (Some(header), Some(ent)) = (header, ent) else {
            return Err(io::Error::other("a ring entry too short for its header"));
        };
        if ent.commit_id == 0 {
            return Err(io::Error::other("a ring request without a commit id"));
        }
        let payload = ent.payload_sz as usize;
        let head_len = std::mem::size_of::<abi::InHeader>();
        // The opcode's fixed argument is what `len` counts beyond the header and the
        // payload.
        let arg = (header.len as usize)
            .checked_sub(head_len + payload)
            .filter(|a| *a <= uring::OP_IN_SIZE && payload <= self.payload_size);
        {
            let mut state = self.lock();
            state.commit_id = ent.commit_id;
            state.last = uring::CMD_COMMIT_AND_FETCH;
        }
        let Some(arg) = arg else {
            tracing::error!(
                "a ring request whose length does not add up (len {}, payload {payload}): answered EIO",
                header.len
            );
            self.answer(header.unique, -libc::EIO, &[]);
            return Ok(());
        };
        let len = head_len + arg + payload;
        if buf.len() < len {
            return Err(io::Error::other(
                "a ring request larger than its copy buffer",
            ));
        }
        // SAFETY: the entry is on this side and the three pieces lie within the mapping
        // (the header buffer; payload <= payload_size was checked); they are copied into
        // `buf` (the thread's own, not the mapping) before anything can answer.
        unsafe {
            let to = buf.as_mut_ptr();
            std::ptr::copy_nonoverlapping(base, to, head_len);
            std::ptr::copy_nonoverlapping(base.add(uring::OP_IN_OFFSET), to.add(head_len), arg);
            std::ptr::copy_nonoverlapping(base.add(HEADER_ROOM), to.add(head_len + arg), payload);
        }
        let previous = SERVING.with(|s| s.replace(Arc::as_ptr(self)));
        serve(&buf[..len]);
        SERVING.with(|s| s.set(previous));
        Ok(())
    }

    /// Answer the entry's request: the out header and `payload` written into the
    /// entry, and COMMIT_AND_FETCH pushed (and submitted, unless the thread serving the
    /// entry gives the answer: its next wait submits it).
    pub fn answer(&self, unique: u64, error: i32, payload: &[&[u8]]) {
        let total: usize = payload.iter().map(|p| p.len()).sum();
        let mut state = self.lock();
        let (error, payload, total) = if total > self.payload_size {
            tracing::error!(
                "the answer to request {unique} ({total} bytes) exceeds the ring's buffer: EIO"
            );
            (-libc::EIO, &[][..], 0)
        } else {
            (error, payload, total)
        };
        let out = abi::OutHeader {
            len: (std::mem::size_of::<abi::OutHeader>() + total) as u32,
            error,
            unique,
        };
        let ent = abi::UringEntInOut {
            commit_id: state.commit_id,
            payload_sz: total as u32,
            ..Default::default()
        };
        let base = self.mem.raw();
        // SAFETY: the kernel waits for this commit, so the entry is on this side; no
        // slice of it is alive (requests are copied out); the lock is held; the header
        // pieces go to the header buffer and `total` <= payload_size bytes to the
        // payload, all within the mapping, which `payload` (the answer's own memory)
        // is not part of.
        unsafe {
            let h = out.as_bytes();
            std::ptr::copy_nonoverlapping(h.as_ptr(), base, h.len());
            let e = ent.as_bytes();
            std::ptr::copy_nonoverlapping(e.as_ptr(), base.add(uring::ENT_IN_OUT_OFFSET), e.len());
            let mut at = base.add(HEADER_ROOM);
            for p in payload {
                std::ptr::copy_nonoverlapping(p.as_ptr(), at, p.len());
                at = at.add(p.len());
            }
        }
        let entry = self.command(uring::CMD_COMMIT_AND_FETCH, state.commit_id, self.qid);
        if let Err(e) = self.push(&mut state, &entry) {
            tracing::error!("cannot answer request {unique} over io_uring: {e}");
            return;
        }
        let own = SERVING.with(|s| std::ptr::eq(s.get(), self));
        if !own {
            state.unsubmitted = false;
            drop(state);
            if let Err(e) = self.ring.submitter().submit() {
                tracing::error!("cannot submit the answer to request {unique}: {e}");
            }
        }
    }
}

/// Before this thread writes to /dev/fuse (a notification): submit the answer it gave
/// on its ring entry, so that the kernel sees them in the order they were given.
pub fn submit_own_answer() {
    let entry = SERVING.with(|s| s.get());
    if entry.is_null() {
        return;
    }
    // SAFETY: SERVING points to the entry this thread is serving a request of, which
    // its `Arc` (held by `take_request`'s caller) keeps alive until it is cleared.
    let entry = unsafe { &*entry };
    let mut state = entry.lock();
    if state.unsubmitted {
        state.unsubmitted = false;
        drop(state);
        if let Err(e) = entry.ring.submitter().submit() {
            tracing::error!("cannot submit an answer over io_uring: {e}");
        }
    }
}

/// How many queues the kernel makes: one per possible CPU (`/sys/devices/system/cpu/
/// possible`, as "0-3" or "0,2-5").
pub fn possible_cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|s| count_cpus(s.trim()))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn count_cpus(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.split(',') {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_counted() {
        assert_eq!(count_cpus("0"), Some(1));
        assert_eq!(count_cpus("0-1"), Some(2));
        assert_eq!(count_cpus("0,2-5"), Some(5));
        assert_eq!(count_cpus(""), None);
        assert_eq!(count_cpus("3-1"), None);
        assert_eq!(count_cpus("x"), None);
    }

    #[test]
    fn a_register_command_carries_the_iovecs_and_their_count() {
        assert_eq!(std::mem::size_of::<squeue::Entry128>(), 128);
        let entry = opcode::UringCmd80::new(types::Fd(3), uring::CMD_REGISTER)
            .addr(Some(0x1122_3344_5566_7788))
            .build();
        let raw = (&entry as *const squeue::Entry128).cast::<u8>();
        // SAFETY: reading the 128 bytes of a live Entry128 (repr(C), checked size).
        let bytes = unsafe { std::slice::from_raw_parts(raw, 128) };
        assert_eq!(bytes[0], opcode::UringCmd80::CODE);
        assert_eq!(
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
            uring::CMD_REGISTER,
            "cmd_op"
        );
        assert_eq!(
            u64::from_le_bytes(bytes[16..24].try_into().unwrap()),
            0x1122_3344_5566_7788,
            "addr is at offset 16, so len follows at 24"
        );
    }
}
