//! `Op`: every operation the request pipeline names, declared once.
//!
//! The list below generates the enum, `Op::ALL`, `Op::HANDLERS`, `name()` and
//! `from_name()`. Handler ops are the names a filesystem table may define (DESIGN 3.2)
//! and what a backend routes on; request ops are kernel requests that have no handler
//! of their own and say which handler serves them (for `-d` logs and routing questions).

macro_rules! ops {
    (
        handlers { $($h:ident = $hname:literal,)* }
        requests { $($r:ident = $rname:literal => $served:expr,)* }
    ) => {
        /// See the module documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Op {
            $($h,)*
            $($r,)*
        }

        impl Op {
            /// Every operation: the handlers first, in table order, then the requests.
            pub const ALL: &'static [Op] = &[$(Op::$h,)* $(Op::$r,)*];

            /// The handler names a filesystem table may define, in table order.
            pub const HANDLERS: &'static [Op] = &[$(Op::$h,)*];

            /// The name in logs; for a handler op, its name in the filesystem table.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Op::$h => $hname,)*
                    $(Op::$r => $rname,)*
                }
            }

            /// The handler that serves this operation: itself for a handler op; for a
            /// request, the handler behind it (`lookup` is answered by `getattr`), or
            /// `None` when the daemon answers it from several handlers or alone.
            pub const fn handler(self) -> Option<Op> {
                match self {
                    $(Op::$h => Some(Op::$h),)*
                    $(Op::$r => $served,)*
                }
            }
        }
    };
}

ops! {
    handlers {
        Getattr = "getattr",
        Fgetattr = "fgetattr",
        Readlink = "readlink",
        Mknod = "mknod",
        Mkdir = "mkdir",
        Unlink = "unlink",
        Rmdir = "rmdir",
        Symlink = "symlink",
        Rename = "rename",
        Link = "link",
        Chmod = "chmod",
        Chown = "chown",
        Truncate = "truncate",
        Ftruncate = "ftruncate",
        Utimens = "utimens",
        Open = "open",
        Read = "read",
        Write = "write",
        Flush = "flush",
        Release = "release",
        Fsync = "fsync",
        Opendir = "opendir",
        Readdir = "readdir",
        Releasedir = "releasedir",
        Fsyncdir = "fsyncdir",
        Statfs = "statfs",
        Setxattr = "setxattr",
        Getxattr = "getxattr",
        Listxattr = "listxattr",
        Removexattr = "removexattr",
        Access = "access",
        Create = "create",
        Init = "init",
        Destroy = "destroy",
        Lock = "lock",
        Flock = "flock",
        Fallocate = "fallocate",
        Lseek = "lseek",
        CopyFileRange = "copy_file_range",
    }
    requests {
        Lookup = "lookup" => Some(Op::Getattr),
        Forget = "forget" => None,
        Setattr = "setattr" => None,
        Getlk = "getlk" => Some(Op::Lock),
        Setlk = "setlk" => Some(Op::Lock),
        StatEntry = "stat_entry" => Some(Op::Readdir),
        Tmpfile = "tmpfile" => Some(Op::Create),
    }
}

impl Op {
    /// The handler op called `name` in a filesystem table.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::HANDLERS.iter().copied().find(|op| op.name() == name)
    }

    /// A dense index over `Op::ALL` (for per-op tables).
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Who serves an operation of a mount: shown by `-d` as `via …`, and read once at mount
/// to choose what the kernel forwards (a Lua `lock` handler turns on POSIX lock
/// forwarding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServedBy {
    /// A Lua handler.
    Lua,
    /// A native backend (the passthrough), without entering Lua.
    Native,
    /// No handler: the libfuse default answers.
    Default,
    /// The daemon itself, from several handlers or none (setattr, forget).
    Daemon,
}

impl ServedBy {
    pub const fn label(self) -> &'static str {
        match self {
            ServedBy::Lua => "lua",
            ServedBy::Native => "native",
            ServedBy::Default => "default",
            ServedBy::Daemon => "daemon",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(op.index(), i);
            assert!(seen.insert(op.name()), "{} twice", op.name());
        }
        for op in Op::HANDLERS {
            assert_eq!(Op::from_name(op.name()), Some(*op));
            assert_eq!(op.handler(), Some(*op));
        }
        assert_eq!(Op::HANDLERS.len(), 39);
        assert_eq!(Op::from_name("lookup"), None, "requests are not handlers");
        assert_eq!(Op::Lookup.handler(), Some(Op::Getattr));
        assert_eq!(Op::Setattr.handler(), None);
    }
}
