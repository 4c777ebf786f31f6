//! `Errno`: the one error type that crosses from handlers to the kernel.
//!
//! Every failure a handler reports ends as a Linux errno number. This module owns the
//! number, its names (`ENOENT`, aliases such as `ENOATTR`), its strerror text, and the
//! luapower-style normalized messages (`not_found`, `access_denied`, …) the `fs` module
//! returns and handlers may pass back.

use std::fmt;

use crate::errno_table::{ERRNO_ALIASES, ERRNO_NAMES};

/// A Linux errno value (always positive).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

/// luapower's normalized messages and the errno each stands for.
const NORMALIZED: &[(&str, i32)] = &[
    ("not_found", libc::ENOENT),
    ("access_denied", libc::EACCES),
    ("already_exists", libc::EEXIST),
    ("not_empty", libc::ENOTEMPTY),
    ("io_error", libc::EIO),
    ("disk_full", libc::ENOSPC),
    ("not_a_dir", libc::ENOTDIR),
    ("is_a_dir", libc::EISDIR),
    ("symlink_loop", libc::ELOOP),
];

impl Errno {
    pub const EPERM: Errno = Errno(libc::EPERM);
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    pub const EIO: Errno = Errno(libc::EIO);
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    pub const EINTR: Errno = Errno(libc::EINTR);
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    pub const EBADF: Errno = Errno(libc::EBADF);
    pub const EACCES: Errno = Errno(libc::EACCES);
    pub const EEXIST: Errno = Errno(libc::EEXIST);
    pub const EXDEV: Errno = Errno(libc::EXDEV);
    pub const EBUSY: Errno = Errno(libc::EBUSY);
    pub const ENOTDIR: Errno = Errno(libc::ENOTDIR);
    pub const EISDIR: Errno = Errno(libc::EISDIR);
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const ENOSPC: Errno = Errno(libc::ENOSPC);
    pub const EROFS: Errno = Errno(libc::EROFS);
    pub const ERANGE: Errno = Errno(libc::ERANGE);
    pub const ENAMETOOLONG: Errno = Errno(libc::ENAMETOOLONG);
    pub const EFBIG: Errno = Errno(libc::EFBIG);
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    pub const ENOTEMPTY: Errno = Errno(libc::ENOTEMPTY);
    pub const ELOOP: Errno = Errno(libc::ELOOP);
    pub const ENODATA: Errno = Errno(libc::ENODATA);
    pub const EOPNOTSUPP: Errno = Errno(libc::EOPNOTSUPP);
    pub const EOVERFLOW: Errno = Errno(libc::EOVERFLOW);
    pub const ENOTCONN: Errno = Errno(libc::ENOTCONN);
    pub const ESTALE: Errno = Errno(libc::ESTALE);

    /// The errno of the calling thread's last failed libc call.
    pub fn last() -> Errno {
        Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// The errno number.
    pub fn code(self) -> i32 {
        self.0
    }

    /// Canonical symbolic name (`"ENOENT"`), or `None` for an unknown number.
    pub fn name(self) -> Option<&'static str> {
        ERRNO_NAMES
            .iter()
            .find(|(_, v)| *v == self.0)
            .map(|(n, _)| *n)
    }

    /// Look a name up: canonical names, aliases (`ENOATTR`, `ENOTSUP`, …) and
    /// luapower's normalized messages (`not_found`, …).
    pub fn from_name(name: &str) -> Option<Errno> {
        ERRNO_NAMES
            .iter()
            .chain(ERRNO_ALIASES)
            .chain(NORMALIZED)
            .find(|(n, _)| *n == name)
            .map(|(_, v)| Errno(*v))
    }

    /// The C library's message for this errno ("No such file or directory").
    pub fn strerror(self) -> String {
        std::io::Error::from_raw_os_error(self.0)
            .to_string()
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// The message the `fs` module returns for this errno: luapower's normalized word
    /// where there is one (`not_found`), else the errno name (`EROFS`).
    pub fn fs_message(self) -> String {
        match NORMALIZED.iter().find(|(_, v)| *v == self.0) {
            Some((n, _)) => (*n).to_string(),
            None => self
                .name()
                .map(str::to_string)
                .unwrap_or_else(|| format!("errno {}", self.0)),
        }
    }

    /// Parse a message as handlers may give it: a normalized word, an errno name, or a
    /// strerror text; a message that is none of these is not an errno.
    pub fn from_message(msg: &str) -> Option<Errno> {
        let msg = msg.trim();
        if let Some(e) = Errno::from_name(msg) {
            return Some(e);
        }
        if let Ok(n) = msg.parse::<i32>() {
            return Errno::from_number(n as i64);
        }
        ERRNO_NAMES
            .iter()
            .map(|(_, v)| Errno(*v))
            .find(|e| e.strerror() == msg)
    }

    /// A number a script gave: positive or negative (libfuse style `-ENOENT`).
    pub fn from_number(n: i64) -> Option<Errno> {
        let n = n.checked_abs()?;
        if n > 0 && n < 4096 {
            Some(Errno(n as i32))
        } else {
            None
        }
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        Errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

impl From<nix::errno::Errno> for Errno {
    fn from(e: nix::errno::Errno) -> Errno {
        Errno(e as i32)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.strerror())
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl std::error::Error for Errno {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Errno::from_name("ENOENT"), Some(Errno::ENOENT));
        assert_eq!(Errno::ENOENT.name(), Some("ENOENT"));
        assert_eq!(Errno::from_name("ENOATTR"), Some(Errno::ENODATA));
        assert_eq!(Errno::from_name("ENOTSUP"), Some(Errno::EOPNOTSUPP));
        assert_eq!(Errno::from_name("EWOULDBLOCK"), Some(Errno(libc::EAGAIN)));
        assert_eq!(Errno::from_name("nope"), None);
        for (name, v) in ERRNO_NAMES {
            assert_eq!(Errno(*v).name(), Some(*name));
        }
    }

    #[test]
    fn normalized_messages() {
        assert_eq!(Errno::from_message("not_found"), Some(Errno::ENOENT));
        assert_eq!(Errno::from_message("access_denied"), Some(Errno::EACCES));
        assert_eq!(Errno::from_message("already_exists"), Some(Errno::EEXIST));
        assert_eq!(Errno::from_message("not_empty"), Some(Errno::ENOTEMPTY));
        assert_eq!(Errno::from_message("io_error"), Some(Errno::EIO));
        assert_eq!(Errno::from_message("disk_full"), Some(Errno::ENOSPC));
        assert_eq!(Errno::ENOENT.fs_message(), "not_found");
        assert_eq!(Errno::EROFS.fs_message(), "EROFS");
    }

    #[test]
    fn strerror_and_numbers() {
        assert_eq!(Errno::ENOENT.strerror(), "No such file or directory");
        assert_eq!(
            Errno::from_message("No such file or directory"),
            Some(Errno::ENOENT)
        );
        assert_eq!(Errno::from_number(-2), Some(Errno::ENOENT));
        assert_eq!(Errno::from_number(2), Some(Errno::ENOENT));
        assert_eq!(Errno::from_number(0), None);
        assert_eq!(Errno::from_message("13"), Some(Errno::EACCES));
        assert_eq!(format!("{:?}", Errno::EIO), "EIO");
    }
}
