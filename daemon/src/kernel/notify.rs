//! `KernelNotifier`: `flu.notify` on the wire. A path becomes the node id the kernel
//! knows (through the core's node table), and the notification is written to the FUSE
//! connection by one sender thread per mount, in order.
//!
//! Why a sender thread: the kernel handles a notification inside the write, and may
//! wait there for a lock that an in-flight request holds (a page being read, a
//! directory being looked up) — a request that may itself be waiting for the Lua lock
//! that the notifying timer holds. So nothing that holds the Lua lock writes itself:
//! - from a handler (`Delivery::AfterReply`) the notification is queued on the serving
//!   thread and handed to the sender after that request's reply (`flush_after_reply`);
//!   a failure is logged;
//! - from a timer (`Delivery::Now`) it is handed to the sender at once and the kernel's
//!   answer awaited for `ANSWER_WAIT`; if the kernel is still busy then (a request of
//!   this mount holds what it needs), the call returns success and a later failure is
//!   logged, so that the Lua lock is let go and the request can finish.

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::io::{self, IoSlice};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Weak};
use std::time::Duration;

use flu_api::log_escape::Escaped;
use flu_api::notify::{Delivery, Notification, Notifier, NotifyError};
use flu_api::Errno;

use super::FuseAdapter;
use crate::session::abi::{self, notify_code, Pod};
use crate::session::Channel;

/// How long a timer's notification waits for the kernel's answer.
const ANSWER_WAIT: Duration = Duration::from_millis(250);

/// One notification, ready to write.
struct Job {
    bytes: Vec<u8>,
    /// For the log.
    what: String,
    /// Where the kernel's answer goes (None: log a failure).
    answer: Option<mpsc::SyncSender<io::Result<()>>>,
}

thread_local! {
    /// Notifications made by the handler this thread is serving, sent after its reply.
    static AFTER_REPLY: RefCell<Vec<(mpsc::Sender<Job>, Job)>> = const { RefCell::new(Vec::new()) };
}

/// Hand the notifications the request just answered made to their sender. Called by
/// the adapter after every reply; nothing to do is one thread-local look.
pub fn flush_after_reply() {
    let pending = AFTER_REPLY.with(|q| {
        let mut q = q.borrow_mut();
        if q.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut *q))
        }
    });
    for (sender, job) in pending.into_iter().flatten() {
        if let Err(mpsc::SendError(job)) = sender.send(job) {
            tracing::debug!("{}: not sent, the mount is gone", job.what);
        }
    }
}

/// See the module documentation.
pub struct KernelNotifier {
    adapter: Weak<FuseAdapter>,
    sender: mpsc::Sender<Job>,
}

impl KernelNotifier {
    /// A notifier for the mount served by `adapter` on `channel`; its sender thread
    /// ends when the notifier is dropped.
    pub fn start(adapter: &Arc<FuseAdapter>, channel: Arc<Channel>) -> io::Result<KernelNotifier> {
        let (sender, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("flu-notify".into())
            .spawn(move || {
                for job in jobs {
                    let result = channel.send(&[IoSlice::new(&job.bytes)]);
                    match job.answer {
                        Some(answer) => {
                            // The caller stopped waiting: its answer is logged instead.
                            if let Err(mpsc::TrySendError::Disconnected(r)) =
                                answer.try_send(result)
                            {
                                log_failure(&job.what, r);
                            }
                        }
                        None => log_failure(&job.what, result),
                    }
                }
            })?;
        Ok(KernelNotifier {
            adapter: Arc::downgrade(adapter),
            sender,
        })
    }

    fn node(&self, path: &Path) -> Result<u64, NotifyError> {
        let adapter = self.adapter.upgrade().ok_or(NotifyError::NotMounted)?;
        adapter
            .core()
            .nodes()
            .node_of_path(path)
            .ok_or_else(|| NotifyError::Unknown(Escaped(path).to_string()))
    }

    /// The message for `n`, and the name to forget in the node table (a delete).
    fn encode(&self, n: &Notification) -> Result<Encoded, NotifyError> {
        match n {
            Notification::InvalInode {
                path,
                offset,
                length,
            } => {
                let ino = self.node(path)?;
                let body = abi::NotifyInvalInodeOut {
                    ino,
                    off: *offset,
                    len: *length,
                };
                Ok((
                    message(notify_code::INVAL_INODE, body.as_bytes(), None),
                    None,
                ))
            }
            Notification::InvalEntry { dir, name } => {
                let parent = self.node(dir)?;
                let body = abi::NotifyInvalEntryOut {
                    parent,
                    namelen: name.len() as u32,
                    flags: 0,
                };
                Ok((
                    message(notify_code::INVAL_ENTRY, body.as_bytes(), Some(name)),
                    None,
                ))
            }
            Notification::Delete { dir, name } => {
                let parent = self.node(dir)?;
                // A name the kernel never looked up has no node: child 0 makes the
                // kernel drop whatever it has under the name, as inval_entry.
                let child = self
                    .adapter
                    .upgrade()
                    .and_then(|a| a.core().nodes().child(parent, name))
                    .unwrap_or(0);
                let body = abi::NotifyDeleteOut {
                    parent,
                    child,
                    namelen: name.len() as u32,
                    padding: 0,
                };
                Ok((
                    message(notify_code::DELETE, body.as_bytes(), Some(name)),
                    Some((parent, name.clone())),
                ))
            }
        }
    }
}

/// A notification's bytes, and for a delete the (parent, name) the daemon forgets.
type Encoded = (Vec<u8>, Option<(u64, OsString)>);

/// A notification message: the header (unique 0, the code in `error`), the fixed part,
/// and a NUL-terminated name.
fn message(code: i32, body: &[u8], name: Option<&OsStr>) -> Vec<u8> {
    let name = name.map(OsStr::as_bytes);
    let len = std::mem::size_of::<abi::OutHeader>() + body.len() + name.map_or(0, |n| n.len() + 1);
    let header = abi::OutHeader {
        len: len as u32,
        error: code,
        unique: 0,
    };
    let mut bytes = Vec::with_capacity(len);
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(body);
    if let Some(name) = name {
        bytes.extend_from_slice(name);
        bytes.push(0);
    }
    bytes
}

/// Whether the kernel's answer means the notification did what was asked. ENOENT: the
/// kernel had nothing cached under that name or node, which is what was wanted.
fn delivered(result: io::Result<()>) -> Result<(), NotifyError> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Err(NotifyError::NotMounted),
        Err(e) => Err(NotifyError::Kernel(
            Errno::from_number(i64::from(e.raw_os_error().unwrap_or(libc::EIO)))
                .unwrap_or(Errno::EIO),
        )),
    }
}

fn log_failure(what: &str, result: io::Result<()>) {
    if let Err(err) = delivered(result) {
        tracing::warn!("{what}: {err}");
    }
}

fn describe(n: &Notification) -> String {
    match n {
        Notification::InvalInode { path, .. } => {
            format!("flu.notify.inval_inode({})", Escaped(path))
        }
        Notification::InvalEntry { dir, name } | Notification::Delete { dir, name } => format!(
            "flu.notify.{}({}, {})",
            n.kind(),
            Escaped(dir),
            Escaped(Path::new(name))
        ),
    }
}

impl Notifier for KernelNotifier {
    fn notify(&self, n: Notification, delivery: Delivery) -> Result<(), NotifyError> {
        let (bytes, forget) = self.encode(&n)?;
        let what = describe(&n);
        // The daemon forgets the name too: a node still open under it must not be
        // found by path again (as after an unlink).
        if let Some((parent, name)) = &forget {
            if let Some(a) = self.adapter.upgrade() {
                a.core().nodes().unlink(*parent, name);
            }
        }
        match delivery {
            Delivery::AfterReply => {
                let job = Job {
                    bytes,
                    what,
                    answer: None,
                };
                AFTER_REPLY.with(|q| q.borrow_mut().push((self.sender.clone(), job)));
                Ok(())
            }
            Delivery::Now => {
                let (answer, result) = mpsc::sync_channel(1);
                let job = Job {
                    bytes,
                    what,
                    answer: Some(answer),
                };
                self.sender.send(job).map_err(|_| NotifyError::NotMounted)?;
                match result.recv_timeout(ANSWER_WAIT) {
                    Ok(r) => delivered(r),
                    // Still in the kernel: see the module documentation.
                    Err(mpsc::RecvTimeoutError::Timeout) => Ok(()),
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(NotifyError::NotMounted),
                }
            }
        }
    }
}
