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
        (0..self.branches.len()).all(|i| {
            let mut stable = false;
            let _ = self.call(i, |ops| {
                stable = ops.stable_inode_numbers();
                Ok(())
            });
            stable
        })
    }

    fn served_by_at(&self, op: Op, path: &std::path::Path) -> ServedBy {
        match self.owner(path) {
            super::Owner::Branch(i, rel) => match &self.branches[i].target {
                Target::Backend(b) => b.served_by_at(op, &rel),
                Target::Scoped(s) => s.served_by(op),
            },
            super::Owner::Nobody => ServedBy::Daemon,
        }
    }

    fn truncates_on_open(&self) -> bool {
        (0..self.branches.len()).all(|i| {
            let mut truncates = false;
            let _ = self.call(i, |ops| {
                truncates = ops.truncates_on_open();
                Ok(())
            });
            truncates
        })
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
    /// The backends called directly (not the Lua branches).
    fn backends(&self) -> impl Iterator<Item = &Arc<dyn crate::operations::Operations>> {
        self.branches.iter().filter_map(|b| match &b.target {
            Target::Backend(ops) => Some(ops),
            Target::Scoped(_) => None,
        })
    }
}
