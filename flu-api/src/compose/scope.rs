//! What a composition's branch is, for the router: a backend it calls directly, or a
//! `Scope` that runs the call in the branch's own setting (a Lua branch is served by its
//! script's filesystem with the branch's handler table in force), and the prefix stack
//! a composed backend's notifications are made absolute with.

use std::cell::RefCell;
use std::sync::Arc;

use crate::op::{Op, ServedBy};
use crate::operations::Operations;

/// A branch served in a setting of its own.
pub trait Scope: Send + Sync {
    /// Run `f` on the backend serving the branch, in its setting; false when the branch
    /// cannot serve yet (a Lua branch before its script's filesystem exists).
    fn run(&self, f: &mut dyn FnMut(&dyn Operations)) -> bool;

    /// Who serves `op` in this branch (answerable before it serves).
    fn served_by(&self, op: Op) -> ServedBy;
}

/// One branch's target.
#[derive(Clone)]
pub enum Target {
    Backend(Arc<dyn Operations>),
    Scoped(Arc<dyn Scope>),
}

impl Target {
    /// Run `f` on the backend, in its setting; EIO when it cannot serve yet.
    pub fn call<R>(
        &self,
        f: impl FnOnce(&dyn Operations) -> crate::operations::OpResult<R>,
    ) -> crate::operations::OpResult<R> {
        match self {
            Target::Backend(b) => f(b.as_ref()),
            Target::Scoped(s) => {
                let mut f = Some(f);
                let mut out = None;
                let ran = s.run(&mut |ops| {
                    if let Some(f) = f.take() {
                        out = Some(f(ops));
                    }
                });
                if !ran {
                    tracing::warn!("a Lua handler table composed with flu.compose or flu.union serves once the filesystem is mounted");
                }
                out.unwrap_or(Err(crate::errno::Errno::EIO))
            }
        }
    }

    pub fn served_by(&self, op: Op) -> ServedBy {
        match self {
            Target::Backend(b) => b.served_by(op),
            Target::Scoped(s) => s.served_by(op),
        }
    }
}

thread_local! {
    /// The mount prefixes of the branches this thread is inside, outermost first.
    static PREFIXES: RefCell<Vec<Arc<[u8]>>> = const { RefCell::new(Vec::new()) };
}

/// While alive, this thread is inside the branch mounted at a prefix.
pub(super) struct Inside(());

impl Inside {
    pub(super) fn enter(prefix: &Arc<[u8]>) -> Inside {
        PREFIXES.with(|p| p.borrow_mut().push(prefix.clone()));
        Inside(())
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        PREFIXES.with(|p| {
            p.borrow_mut().pop();
        });
    }
}

/// The prefixes this thread is inside now, outermost first (captured by timers and
/// tasks a branch starts, so that their notifications land under the branch).
pub fn current_prefixes() -> Vec<Arc<[u8]>> {
    PREFIXES.with(|p| p.borrow().clone())
}

/// Run `f` inside `prefixes` (as captured by `current_prefixes`).
pub fn with_prefixes<R>(prefixes: &[Arc<[u8]>], f: impl FnOnce() -> R) -> R {
    let saved = PREFIXES.with(|p| std::mem::replace(&mut *p.borrow_mut(), prefixes.to_vec()));
    let result = f();
    PREFIXES.with(|p| *p.borrow_mut() = saved);
    result
}

/// `path`, as the branch this thread is inside names it, made a path of the whole
/// mount: every enclosing prefix added, innermost first.
pub fn absolute(path: &[u8]) -> Vec<u8> {
    PREFIXES.with(|p| {
        p.borrow().iter().rev().fold(path.to_vec(), |acc, prefix| {
            super::prefix::join(prefix, &acc)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_get_every_enclosing_prefix() {
        assert_eq!(absolute(b"/f"), b"/f");
        let outer: Arc<[u8]> = Arc::from(&b"/a"[..]);
        let inner: Arc<[u8]> = Arc::from(&b"/b"[..]);
        let _o = Inside::enter(&outer);
        assert_eq!(absolute(b"/f"), b"/a/f");
        {
            let _i = Inside::enter(&inner);
            assert_eq!(absolute(b"/f"), b"/a/b/f");
            assert_eq!(absolute(b"/"), b"/a/b");
            let captured = current_prefixes();
            drop(_i);
            assert_eq!(with_prefixes(&captured, || absolute(b"/x")), b"/a/b/x");
        }
        assert_eq!(absolute(b"/f"), b"/a/f");
    }
}
