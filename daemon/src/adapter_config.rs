//! `AdapterConfig`: the knobs of the FUSE adapter and path layer, filled by the CLI from
//! `-o` options. Defaults follow libfuse's high-level API, which Flu scripts were written
//! against.

use std::time::Duration;

/// How the adapter answers the kernel. See each field; `Default` gives libfuse's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterConfig {
    /// How long the kernel may cache attributes (`-o attr_timeout=`, default 1 s).
    pub attr_timeout: Duration,
    /// How long the kernel may cache a name → node mapping (`-o entry_timeout=`, 1 s).
    pub entry_timeout: Duration,
    /// How long the kernel may cache "no such name" (`-o negative_timeout=`, default 0:
    /// lookups that fail answer ENOENT and are not cached).
    pub negative_timeout: Duration,
    /// Use the implementation's `st_ino` as node id (and so as the inode number users
    /// see) when it is free; hard links then share one node (`-o use_ino`, off).
    pub use_ino: bool,
    /// Log every operation with its arguments, result and latency at info level
    /// (`-d`, off).
    pub debug: bool,
    /// Let the kernel use READDIRPLUS (in its adaptive mode), answering attributes of
    /// directory entries together with the listing (on).
    pub readdirplus: bool,
    /// Send reads and writes of files whose handle has a backing file descriptor
    /// straight to that file in the kernel, when the kernel offers it (on).
    pub kernel_passthrough: bool,
    /// Let the kernel cache writes (`-o writeback_cache`, off).
    pub writeback_cache: bool,
    /// Open every file with direct I/O, bypassing the page cache (`-o direct_io`, off).
    pub direct_io: bool,
    /// Keep the page cache of every file across opens (`-o kernel_cache`, off).
    pub kernel_cache: bool,
    /// Send POSIX record locks (fcntl) to the implementation's getlk/setlk instead of
    /// letting the kernel handle them locally (off: only useful for network-like
    /// filesystems, and an implementation without lock handlers would make every lock
    /// fail).
    pub posix_locks: bool,
    /// Ask the kernel for POSIX ACL semantics (`FUSE_POSIX_ACL`, with `FUSE_DONT_MASK`
    /// so that a default ACL can replace the umask on create): on whenever the kernel
    /// checks permissions itself (`default_permissions`); off, a script's own `access`
    /// keeps deciding.
    pub posix_acl: bool,
    /// Largest write the kernel may send in one request (1 MiB).
    pub max_write: u32,
    /// Largest file size (`-o max_file_size=`, none): writes, truncates and
    /// allocations beyond it answer EFBIG before the implementation sees them.
    pub max_file_size: Option<u64>,
    /// Owner, group and permissions every reply shows instead of the implementation's
    /// (`-o uid=`, `gid=`, `umask=`; none).
    pub attr_override: AttrOverride,
}

/// What libfuse's high-level API does with `-o uid=N,gid=N,umask=M`: every attribute
/// reply (getattr, lookup, create, readdirplus, setattr) shows `uid` as owner, `gid` as
/// group, and permissions `0777 & !umask` in place of the implementation's (the file
/// type is kept; setuid, setgid and sticky bits go). The implementation is not told:
/// chown and chmod still reach it, and the reply shows the override again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttrOverride {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub umask: Option<u32>,
}

impl Default for AdapterConfig {
    fn default() -> AdapterConfig {
        AdapterConfig {
            attr_timeout: Duration::from_secs(1),
            entry_timeout: Duration::from_secs(1),
            negative_timeout: Duration::ZERO,
            use_ino: false,
            debug: false,
            readdirplus: true,
            kernel_passthrough: true,
            writeback_cache: false,
            direct_io: false,
            kernel_cache: false,
            posix_locks: false,
            posix_acl: false,
            max_write: 1 << 20,
            max_file_size: None,
            attr_override: AttrOverride::default(),
        }
    }
}
