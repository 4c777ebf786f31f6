//! The union's own names, in every layer's form: `.wh..wh.<what>.<n>`, given to a copy
//! under way (renamed into place once complete) and to a whiteout about to be swapped
//! in; the hidden form's opaque marker `.wh..wh..opq` has the prefix too. The union
//! never lists them nor looks them up, and refuses to create them (`Union::reserved`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::{split, Union};
use crate::operations::OpResult;

/// The prefix of the union's own names.
const PRIVATE: &[u8] = b".wh..wh.";

/// Whether `name` is one of the union's own.
pub(super) fn is_private_name(name: &OsStr) -> bool {
    name.as_bytes().starts_with(PRIVATE)
}

impl Union {
    /// A private name beside `path` (in its directory), for a moment.
    pub(super) fn private_beside(&self, path: &Path, what: &str) -> OpResult<PathBuf> {
        let (dir, _) = split(path)?;
        let n = self.private_names.fetch_add(1, Ordering::Relaxed);
        let mut name = OsString::from(OsStr::from_bytes(PRIVATE));
        name.push(format!("{what}.{n}"));
        Ok(dir.join(name))
    }
}
