//! Notifications to the kernel (`flu.notify`): a filesystem tells the kernel that what it
//! cached (a file's data and attributes, a name) is stale. The daemon implements
//! `Notifier` over its FUSE connection and hands it to the backend once the mount serves
//! (`Lifecycle::serving`); a backend only names paths.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::errno::Errno;

/// What the kernel is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notification {
    /// Drop the cached attributes of `path` and its data from `offset` on, `length`
    /// bytes (0: to the end). A negative offset drops the attributes only.
    InvalInode {
        path: PathBuf,
        offset: i64,
        length: i64,
    },
    /// Drop the cached lookup of `name` in `dir` (the name appeared or went away).
    InvalEntry { dir: PathBuf, name: OsString },
    /// `name` in `dir` is gone (FUSE_NOTIFY_DELETE): as `InvalEntry`, and the kernel
    /// also drops the node's dentry if it still has it.
    Delete { dir: PathBuf, name: OsString },
}

impl Notification {
    /// The name the script called (`inval_inode`, …), for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Notification::InvalInode { .. } => "inval_inode",
            Notification::InvalEntry { .. } => "inval_entry",
            Notification::Delete { .. } => "delete",
        }
    }
}

/// When a notification may be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Called inside a handler: queue it and send it after that handler's reply (the
    /// kernel may hold a lock the request needs until it has its answer, so sending
    /// first could wait forever); a failure is logged.
    AfterReply,
    /// Called outside any request (a timer): send it now and give the kernel's answer.
    Now,
}

/// Why a notification was not delivered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The daemon has no node for the path: the kernel has nothing cached for it.
    #[error(
        "{0} is not known to the kernel (never looked up, or forgotten): nothing is cached for it"
    )]
    Unknown(String),
    /// The filesystem does not serve a mount (yet, or any more).
    #[error("the filesystem is not mounted: there is no kernel cache to notify")]
    NotMounted,
    /// The kernel refused it.
    #[error("the kernel refused the notification: {0}")]
    Kernel(Errno),
    /// The kernel does not speak this notification (too old a protocol).
    #[error("the kernel does not support {0} notifications")]
    Unsupported(&'static str),
}

/// Sends notifications to the kernel of one mount.
pub trait Notifier: Send + Sync {
    fn notify(&self, notification: Notification, delivery: Delivery) -> Result<(), NotifyError>;
}
