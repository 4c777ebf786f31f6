//! A composition's lifecycle: every backend is initialised and destroyed with it;
//! who serves an operation is the most telling of its backends' answers (Lua if any
//! branch runs Lua for it).

use std::path::PathBuf;
use std::sync::Arc;

use super::{Composite, Target};
use crate::notify::Notifier;
use crate::op::{Op, ServedBy};
use crate::operations::{ConnectionInfo, Lifecycle, OpResult};

impl Lifecycle for Composite {
    fn init(&self, conn: &ConnectionInfo) -> OpResult<()> {
        let mut first_error = Ok(());
        for i in 0..self.branches.len() {
            let result = self.call(i, |ops| ops.init(conn));
            if first_error.is_ok() {
                first_error = result;
            }
        }
        first_error
    }

    fn destroy(&self) {
        for i in 0..self.branches.len() {
            let _ = self.call(i, |ops| {
                ops.destroy();
                Ok(())
            });
        }
    }

    fn served_by(&self, op: Op) -> ServedBy {
        let answers: Vec<ServedBy> = self
            .branches
            .iter()
            .map(|b| b.target.served_by(op))
            .collect();
        [ServedBy::Lua, ServedBy::Native, ServedBy::Daemon]
            .into_iter()
            .find(|s| answers.contains(s))
            .unwrap_or(ServedBy::Default)
    }

    /// Stable when every backend's are: numbers are told apart per backend (`tagged`).
    fn stable_inode_numbers(&self) -> bool {
        self.every_backend(|ops| ops.stable_inode_numbers())
    }

    fn truncates_on_open(&self) -> bool {
        self.every_backend(|ops| ops.truncates_on_open())
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.backends().flat_map(|b| b.roots()).collect()
    }

    fn mounted(&self, dev: u64) {
        for b in self.backends() {
            b.mounted(dev);
        }
    }

    fn serving(&self, notifier: Arc<dyn Notifier>) {
        // Lua branches serve with their script's filesystem, which is told itself.
        for b in self.backends() {
            b.serving(notifier.clone());
        }
    }
}

impl Composite {
    /// Whether `holds` of every branch's backend (in its scope).
    fn every_backend(&self, holds: impl Fn(&dyn crate::operations::Operations) -> bool) -> bool {
        (0..self.branches.len()).all(|i| {
            let mut answer = false;
            let _ = self.call(i, |ops| {
                answer = holds(ops);
                Ok(())
            });
            answer
        })
    }

    /// The backends called directly (not the Lua branches).
    fn backends(&self) -> impl Iterator<Item = &Arc<dyn crate::operations::Operations>> {
        self.branches.iter().filter_map(|b| match &b.target {
            Target::Backend(ops) => Some(ops),
            Target::Scoped(_) => None,
        })
    }
}
