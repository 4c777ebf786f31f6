//! Every `-o` option flu accepts, in one table: its name, the value it takes, what it
//! means, its default, and how it changes [`MountOptions`]. The parser looks options up
//! here and `flu mount -o help` prints this table, so what is listed is what is accepted.

use super::{bytes, option_safe, seconds, MountOptions};
use crate::session::Access;
use std::time::Duration;

/// What follows the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// A bare word: `ro`.
    Nothing,
    /// `name=VALUE`; the placeholder help shows (`SECS`, `BYTES`, …).
    Value(&'static str),
}

/// Sections of `-o help`, in the order printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Flags,
    Access,
    Attributes,
    Caching,
    Names,
    Compat,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Flags,
        Group::Access,
        Group::Attributes,
        Group::Caching,
        Group::Names,
        Group::Compat,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Flags => "Mount flags (as for mount(8))",
            Group::Access => "Who may use the mount",
            Group::Attributes => "Attributes every reply shows",
            Group::Caching => "Caching and I/O",
            Group::Names => "Names",
            Group::Compat => "Accepted for compatibility with libfuse; no effect",
        }
    }
}

type Apply = fn(&mut MountOptions, &str, &str) -> Result<(), String>;

/// One option. `apply` gets the name and the value (empty for a bare word).
pub struct OptionSpec {
    pub name: &'static str,
    pub takes: Takes,
    pub group: Group,
    pub meaning: &'static str,
    pub default: &'static str,
    pub apply: Apply,
}

const fn spec(
    name: &'static str,
    takes: Takes,
    group: Group,
    meaning: &'static str,
    default: &'static str,
    apply: Apply,
) -> OptionSpec {
    OptionSpec {
        name,
        takes,
        group,
        meaning,
        default,
        apply,
    }
}

/// A mount(2) flag, named as mount(8) names it.
const fn flag(name: &'static str, meaning: &'static str, default: &'static str) -> OptionSpec {
    spec(
        name,
        Takes::Nothing,
        Group::Flags,
        meaning,
        default,
        |o, n, _| {
            o.flags.push(n.into());
            Ok(())
        },
    )
}

/// An option libfuse takes that has no effect in flu.
const fn ignored(name: &'static str, meaning: &'static str) -> OptionSpec {
    spec(
        name,
        Takes::Nothing,
        Group::Compat,
        meaning,
        "-",
        |_, _, _| Ok(()),
    )
}

use Takes::{Nothing, Value};

/// The options, in the order `-o help` lists them.
pub static OPTIONS: &[OptionSpec] = &[
    flag("ro", "read-only: writes fail with EROFS", "rw"),
    flag("rw", "read-write", "rw"),
    flag("nosuid", "ignore setuid and setgid bits", "nosuid"),
    flag("suid", "honour setuid and setgid bits (root only)", "nosuid"),
    flag("nodev", "do not open device files", "nodev"),
    flag("dev", "open device files (root only)", "nodev"),
    flag("noexec", "do not run programs from the mount", "exec"),
    flag("exec", "allow running programs", "exec"),
    flag("noatime", "do not update access times", "relatime"),
    flag("atime", "update access times", "relatime"),
    flag("nodiratime", "do not update access times of directories", "off"),
    flag("sync", "all I/O synchronous", "async"),
    flag("async", "I/O asynchronous", "async"),
    flag("dirsync", "directory changes synchronous", "off"),
    spec(
        "allow_other",
        Nothing,
        Group::Access,
        "let every user in (needs root, or user_allow_other in /etc/fuse.conf); implies default_permissions",
        "owner only",
        |o, _, _| {
            o.access = Access::All;
            Ok(())
        },
    ),
    spec(
        "allow_root",
        Nothing,
        Group::Access,
        "let the owner and root in; implies default_permissions",
        "owner only",
        |o, _, _| {
            o.access = Access::RootAndOwner;
            Ok(())
        },
    ),
    spec(
        "default_permissions",
        Nothing,
        Group::Access,
        "the kernel checks permissions against the attributes getattr reports",
        "off (on with allow_other/allow_root)",
        |o, n, _| {
            if !o.has_kernel(n) {
                o.kernel.push(n.into());
            }
            Ok(())
        },
    ),
    spec(
        "nodefault_permissions",
        Nothing,
        Group::Access,
        "no kernel permission checks even with allow_other: the script checks",
        "off",
        |o, _, _| {
            o.no_default_permissions = true;
            o.kernel.retain(|k| k != "default_permissions");
            Ok(())
        },
    ),
    spec(
        "auto_unmount",
        Nothing,
        Group::Access,
        "fusermount3 unmounts when the daemon dies (implies allow_root)",
        "off",
        |o, _, _| {
            o.auto_unmount = true;
            Ok(())
        },
    ),
    spec(
        "uid",
        Value("USER"),
        Group::Attributes,
        "every file shows this owner (a user id or name)",
        "the script's uid",
        |o, _, v| {
            o.adapter.attr_override.uid = Some(super::user_id(v)?);
            Ok(())
        },
    ),
    spec(
        "gid",
        Value("GROUP"),
        Group::Attributes,
        "every file shows this group (a group id or name)",
        "the script's gid",
        |o, _, v| {
            o.adapter.attr_override.gid = Some(super::group_id(v)?);
            Ok(())
        },
    ),
    spec(
        "umask",
        Value("OCTAL"),
        Group::Attributes,
        "every file shows permissions 0777 minus these bits (umask=022: rwxr-xr-x)",
        "the script's mode",
        |o, _, v| {
            o.adapter.attr_override.umask = Some(super::umask(v)?);
            Ok(())
        },
    ),
    spec(
        "attr_timeout",
        Value("SECS"),
        Group::Caching,
        "how long the kernel caches attributes",
        "1",
        |o, n, v| {
            o.adapter.attr_timeout = seconds(n, v)?;
            Ok(())
        },
    ),
    spec(
        "entry_timeout",
        Value("SECS"),
        Group::Caching,
        "how long the kernel caches a name",
        "1",
        |o, n, v| {
            o.adapter.entry_timeout = seconds(n, v)?;
            Ok(())
        },
    ),
    spec(
        "negative_timeout",
        Value("SECS"),
        Group::Caching,
        "how long the kernel caches \"no such name\"",
        "0",
        |o, n, v| {
            o.adapter.negative_timeout = seconds(n, v)?;
            Ok(())
        },
    ),
    spec(
        "direct_io",
        Nothing,
        Group::Caching,
        "open every file with fi.direct_io (no page cache)",
        "off",
        |o, _, _| {
            o.adapter.direct_io = true;
            Ok(())
        },
    ),
    spec(
        "kernel_cache",
        Nothing,
        Group::Caching,
        "open every file with fi.keep_cache (page cache kept across opens)",
        "off",
        |o, _, _| {
            o.adapter.kernel_cache = true;
            Ok(())
        },
    ),
    spec(
        "writeback_cache",
        Nothing,
        Group::Caching,
        "let the kernel cache writes",
        "off",
        |o, _, _| {
            o.adapter.writeback_cache = true;
            Ok(())
        },
    ),
    spec(
        "no_writeback_cache",
        Nothing,
        Group::Caching,
        "undo writeback_cache",
        "-",
        |o, _, _| {
            o.adapter.writeback_cache = false;
            Ok(())
        },
    ),
    spec(
        "io_uring",
        Nothing,
        Group::Caching,
        "take requests over FUSE over io_uring where the kernel offers it (Linux 6.14+, \
         enable_uring=Y), else over /dev/fuse",
        "off",
        |o, _, _| {
            o.io_uring = true;
            Ok(())
        },
    ),
    spec(
        "no_io_uring",
        Nothing,
        Group::Caching,
        "undo io_uring",
        "-",
        |o, _, _| {
            o.io_uring = false;
            Ok(())
        },
    ),
    spec(
        "spin",
        Value("USEC"),
        Group::Caching,
        "after answering, one serving thread watches for the next request this many \
         microseconds before it sleeps (a sleeping thread costs a wakeup per request), \
         less often while watches see nothing; 0: never",
        "30, or 0 on one CPU",
        |o, n, v| {
            let us: u64 = v
                .parse()
                .ok()
                .filter(|us| *us <= 1_000_000)
                .ok_or_else(|| format!("option {n}= takes microseconds (0 to 1000000), got '{v}'"))?;
            o.spin = Some(Duration::from_micros(us));
            Ok(())
        },
    ),
    spec(
        "passthrough",
        Nothing,
        Group::Caching,
        "FUSE kernel passthrough for native passthrough files (Linux 6.9+, CAP_SYS_ADMIN)",
        "on",
        |o, _, _| {
            o.adapter.kernel_passthrough = true;
            Ok(())
        },
    ),
    spec(
        "nopassthrough",
        Nothing,
        Group::Caching,
        "no kernel passthrough",
        "-",
        |o, _, _| {
            o.adapter.kernel_passthrough = false;
            Ok(())
        },
    ),
    spec(
        "readdirplus",
        Nothing,
        Group::Caching,
        "answer attributes together with directory listings",
        "on",
        |o, _, _| {
            o.adapter.readdirplus = true;
            Ok(())
        },
    ),
    spec(
        "noreaddirplus",
        Nothing,
        Group::Caching,
        "plain directory listings",
        "-",
        |o, _, _| {
            o.adapter.readdirplus = false;
            Ok(())
        },
    ),
    spec(
        "posix_locks",
        Nothing,
        Group::Caching,
        "send fcntl record locks to the script's lock handler",
        "on when the script has a Lua lock handler",
        |o, _, _| {
            o.adapter.posix_locks = true;
            Ok(())
        },
    ),
    spec(
        "use_ino",
        Nothing,
        Group::Caching,
        "show the script's st_ino as inode number; hard links share a node",
        "off; on with the native passthrough's getattr",
        |o, _, _| {
            o.adapter.use_ino = true;
            Ok(())
        },
    ),
    spec(
        "max_read",
        Value("BYTES"),
        Group::Caching,
        "largest read the kernel sends in one request (at least 4096)",
        "none",
        |o, n, v| {
            let n = u32::try_from(bytes(n, v)?)
                .map_err(|_| format!("option max_read= is at most 4G, got '{v}'"))?;
            o.kernel.retain(|k| !k.starts_with("max_read="));
            o.kernel.push(format!("max_read={n}"));
            Ok(())
        },
    ),
    spec(
        "max_write",
        Value("BYTES"),
        Group::Caching,
        "largest write the kernel sends in one request",
        "1048576",
        |o, n, v| {
            o.adapter.max_write = u32::try_from(bytes(n, v)?)
                .map_err(|_| format!("option max_write= is at most 4G, got '{v}'"))?;
            Ok(())
        },
    ),
    spec(
        "max_file_size",
        Value("BYTES"),
        Group::Caching,
        "writes and truncates beyond this size fail with EFBIG",
        "none",
        |o, n, v| {
            o.adapter.max_file_size = Some(bytes(n, v)?);
            Ok(())
        },
    ),
    spec(
        "debug",
        Nothing,
        Group::Caching,
        "log every operation (as -d; implies -f)",
        "off",
        |o, _, _| {
            o.adapter.debug = true;
            Ok(())
        },
    ),
    spec(
        "fsname",
        Value("NAME"),
        Group::Names,
        "the source /proc/mounts and df show",
        "flu:SCRIPTNAME",
        |o, _, v| {
            o.fsname = Some(option_safe(v)?.to_string());
            Ok(())
        },
    ),
    spec(
        "subtype",
        Value("NAME"),
        Group::Names,
        "the type becomes fuse.NAME",
        "none (type fuse)",
        |o, _, v| {
            o.subtype = Some(option_safe(v)?.to_string());
            Ok(())
        },
    ),
    spec(
        "help",
        Nothing,
        Group::Names,
        "print this list and exit",
        "-",
        |o, _, _| {
            o.help = true;
            Ok(())
        },
    ),
    ignored("readdir_ino", "libfuse's inode numbers in readdir (flu's are stable)"),
    ignored("auto_cache", "libfuse's cache invalidation on mtime change"),
    ignored("large_read", "Linux 2.4 only"),
    ignored("big_writes", "always on (see max_write)"),
    ignored("hard_remove", "libfuse's handling of unlinked open files"),
    ignored("nonempty", "mounting over a non-empty directory is allowed"),
];

/// The option named `name`.
pub fn lookup(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}
