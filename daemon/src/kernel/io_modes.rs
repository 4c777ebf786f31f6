//! Kernel passthrough bookkeeping: which open files go straight to a backing file, the
//! backing ids they use, and the per-node I/O mode the kernel enforces.
//!
//! The kernel (fs/fuse/iomode.c) allows one backing file per inode at a time, and refuses
//! (EIO at open) to mix passthrough opens with page-cached opens of the same inode. So:
//! every passthrough open of a node shares one backing id, kept until the node's last
//! passthrough handle is released; a node with cached opens is opened normally; a normal
//! open of a node in passthrough mode is forced to direct I/O, which needs no I/O mode.
//!
//! It also knows which nodes have a passthrough open that may write: writes through a
//! shared mapping of such a file change the backing file's times behind the kernel's
//! back (no request, no attribute invalidation), so their attributes are not cached.
//!
//! Generic over the backing id type so it can be tested without a kernel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// How to answer one open.
#[derive(Debug)]
pub enum IoDecision<B> {
    /// Reply with passthrough to this backing id.
    Passthrough(Arc<B>),
    /// Reply normally; `force_direct_io` when the node is in passthrough mode.
    Normal { force_direct_io: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Passthrough,
    Cached,
    Direct,
}

#[derive(Debug)]
struct NodeIo<B> {
    backing: Option<Arc<B>>,
    passthrough_opens: u64,
    cached_opens: u64,
    /// Passthrough opens that may write.
    writers: u64,
}

impl<B> Default for NodeIo<B> {
    fn default() -> Self {
        NodeIo {
            backing: None,
            passthrough_opens: 0,
            cached_opens: 0,
            writers: 0,
        }
    }
}

#[derive(Debug)]
struct State<B> {
    nodes: HashMap<u64, NodeIo<B>>,
    handles: HashMap<u64, (u64, Mode)>,
    /// Passthrough handles that may write.
    writers: std::collections::HashSet<u64>,
}

/// See the module documentation.
#[derive(Debug)]
pub struct IoModes<B> {
    state: Mutex<State<B>>,
}

impl<B> Default for IoModes<B> {
    fn default() -> Self {
        IoModes {
            state: Mutex::new(State {
                nodes: HashMap::new(),
                handles: HashMap::new(),
                writers: std::collections::HashSet::new(),
            }),
        }
    }
}

impl<B> IoModes<B> {
    fn lock(&self) -> MutexGuard<'_, State<B>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decide how handle `fh` of `node` is opened. `passthrough` when it has a backing
    /// file and the kernel allows passthrough; `direct_io` when it is opened with direct
    /// I/O anyway; `make_backing` registers the backing file (called at most once, only
    /// when the node has no backing id yet). A failure to register falls back to a
    /// normal open.
    pub fn open<E: std::fmt::Display>(
        &self,
        node: u64,
        fh: u64,
        passthrough: bool,
        direct_io: bool,
        make_backing: impl FnOnce() -> Result<B, E>,
    ) -> IoDecision<B> {
        let mut state = self.lock();
        let io = state.nodes.entry(node).or_default();
        if passthrough && io.cached_opens == 0 {
            let backing = match &io.backing {
                Some(b) => Some(b.clone()),
                None => match make_backing() {
                    Ok(b) => Some(Arc::new(b)),
                    Err(e) => {
                        tracing::debug!("kernel passthrough refused for node {node}: {e}");
                        None
                    }
                },
            };
            if let Some(b) = backing {
                io.backing = Some(b.clone());
                io.passthrough_opens += 1;
                state.handles.insert(fh, (node, Mode::Passthrough));
                return IoDecision::Passthrough(b);
            }
        }
        let in_passthrough = io.passthrough_opens > 0;
        let mode = if in_passthrough || direct_io {
            Mode::Direct
        } else {
            io.cached_opens += 1;
            Mode::Cached
        };
        state.handles.insert(fh, (node, mode));
        IoDecision::Normal {
            force_direct_io: in_passthrough,
        }
    }

    /// Passthrough handle `fh` (opened with [`IoModes::open`]) may write.
    pub fn may_write(&self, fh: u64) {
        let mut state = self.lock();
        let Some((node, Mode::Passthrough)) = state.handles.get(&fh).copied() else {
            return;
        };
        if state.writers.insert(fh) {
            if let Some(io) = state.nodes.get_mut(&node) {
                io.writers += 1;
            }
        }
    }

    /// Whether `node` has a passthrough open that may write.
    pub fn has_writer(&self, node: u64) -> bool {
        self.lock()
            .nodes
            .get(&node)
            .is_some_and(|io| io.writers > 0)
    }

    /// Handle `fh` was released: drop its share of the node's mode and backing id.
    pub fn release(&self, fh: u64) {
        let mut state = self.lock();
        let Some((node, mode)) = state.handles.remove(&fh) else {
            return;
        };
        let writer = state.writers.remove(&fh);
        let Some(io) = state.nodes.get_mut(&node) else {
            return;
        };
        if writer {
            io.writers = io.writers.saturating_sub(1);
        }
        match mode {
            Mode::Passthrough => {
                io.passthrough_opens = io.passthrough_opens.saturating_sub(1);
                if io.passthrough_opens == 0 {
                    io.backing = None;
                }
            }
            Mode::Cached => io.cached_opens = io.cached_opens.saturating_sub(1),
            Mode::Direct => {}
        }
        if io.passthrough_opens == 0 && io.cached_opens == 0 {
            state.nodes.remove(&node);
        }
    }

    /// Handles tracked.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().handles.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[derive(Debug, PartialEq)]
    struct Backing(u32);

    fn open(
        m: &IoModes<Backing>,
        node: u64,
        fh: u64,
        passthrough: bool,
        made: &Cell<u32>,
    ) -> IoDecision<Backing> {
        m.open(node, fh, passthrough, false, || {
            made.set(made.get() + 1);
            Ok::<_, String>(Backing(made.get()))
        })
    }

    #[test]
    fn writers_are_passthrough_handles_that_may_write_until_released() {
        let m = IoModes::default();
        let made = Cell::new(0);
        drop(open(&m, 5, 1, true, &made));
        assert!(!m.has_writer(5));
        m.may_write(1);
        m.may_write(1);
        assert!(m.has_writer(5));
        drop(open(&m, 5, 2, true, &made));
        m.may_write(2);
        m.release(1);
        assert!(m.has_writer(5), "handle 2 still writes");
        m.release(2);
        assert!(!m.has_writer(5));
        // A cached (not passthrough) handle is no writer of this kind.
        drop(open(&m, 6, 3, false, &made));
        m.may_write(3);
        assert!(!m.has_writer(6));
    }

    #[test]
    fn passthrough_opens_share_one_backing_until_the_last_release() {
        let m = IoModes::default();
        let made = Cell::new(0);
        let IoDecision::Passthrough(a) = open(&m, 5, 1, true, &made) else {
            panic!("expected passthrough")
        };
        let IoDecision::Passthrough(b) = open(&m, 5, 2, true, &made) else {
            panic!("expected passthrough")
        };
        assert_eq!(made.get(), 1);
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        m.release(1);
        // Still open through handle 2: a new open reuses the same backing.
        let IoDecision::Passthrough(c) = open(&m, 5, 3, true, &made) else {
            panic!("expected passthrough")
        };
        assert_eq!(*c, Backing(1));
        drop(c);
        m.release(2);
        m.release(3);
        assert_eq!(m.len(), 0);
        let IoDecision::Passthrough(d) = open(&m, 5, 4, true, &made) else {
            panic!("expected passthrough")
        };
        assert_eq!(*d, Backing(2), "a fresh backing after all were released");
    }

    #[test]
    fn modes_are_not_mixed_on_one_node() {
        let m = IoModes::default();
        let made = Cell::new(0);
        // A cached open first: passthrough is refused for that node.
        assert!(matches!(
            open(&m, 7, 1, false, &made),
            IoDecision::Normal {
                force_direct_io: false
            }
        ));
        assert!(matches!(
            open(&m, 7, 2, true, &made),
            IoDecision::Normal {
                force_direct_io: false
            }
        ));
        m.release(1);
        m.release(2);
        // A passthrough open first: later normal opens get direct I/O.
        assert!(matches!(
            open(&m, 7, 3, true, &made),
            IoDecision::Passthrough(_)
        ));
        assert!(matches!(
            open(&m, 7, 4, false, &made),
            IoDecision::Normal {
                force_direct_io: true
            }
        ));
        // Other nodes are independent.
        assert!(matches!(
            open(&m, 8, 5, false, &made),
            IoDecision::Normal {
                force_direct_io: false
            }
        ));
    }

    #[test]
    fn registration_failure_falls_back() {
        let m: IoModes<Backing> = IoModes::default();
        let d = m.open(9, 1, true, false, || Err("no CAP_SYS_ADMIN"));
        assert!(matches!(
            d,
            IoDecision::Normal {
                force_direct_io: false
            }
        ));
        m.release(1);
        m.release(1);
        assert_eq!(m.len(), 0);
    }
}
