//! Mount options (`-o ro,allow_other,attr_timeout=2,…`): split into what mount(2),
//! the FUSE kernel module and fusermount3 take (a `MountSpec`), who may use the mount,
//! and the adapter's own settings. Which options exist is [`table::OPTIONS`]; `-o help`
//! prints it ([`help::options_help`]).

pub mod help;
pub mod table;

use std::path::Path;
use std::time::Duration;

use std::path::PathBuf;

use crate::session::{Access, MountSpec};

use crate::adapter_config::AdapterConfig;

/// Everything `-o` can say.
#[derive(Debug, Clone, Default)]
pub struct MountOptions {
    /// Mount flags by name (`ro`, `noexec`, …), later ones winning.
    pub flags: Vec<String>,
    /// Options of the FUSE kernel module (`default_permissions`, `allow_other`, …).
    pub kernel: Vec<String>,
    pub fsname: Option<String>,
    pub subtype: Option<String>,
    pub auto_unmount: bool,
    pub access: Access,
    pub adapter: AdapterConfig,
    /// Serve over FUSE over io_uring where the kernel offers it (`-o io_uring`).
    pub io_uring: bool,
    /// How long a serving thread watches for the next request before it sleeps
    /// (`-o spin=USEC`); None: the default for this machine.
    pub spin: Option<Duration>,
    /// `-o help`: print the options instead of mounting.
    pub help: bool,
    /// `nodefault_permissions` was given: shared mounts do not get default_permissions.
    no_default_permissions: bool,
}

fn seconds(name: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("option {name}= takes a number of seconds, got '{value}'"))
}

/// A size in bytes, with an optional k/M/G/T suffix (powers of 1024).
fn bytes(name: &str, value: &str) -> Result<u64, String> {
    let bad = || {
        format!("option {name}= takes a number of bytes (k/M/G/T suffixes allowed), got '{value}'")
    };
    let (digits, shift) = match value.char_indices().last() {
        Some((i, 'k' | 'K')) => (&value[..i], 10),
        Some((i, 'm' | 'M')) => (&value[..i], 20),
        Some((i, 'g' | 'G')) => (&value[..i], 30),
        Some((i, 't' | 'T')) => (&value[..i], 40),
        _ => (value, 0),
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(1u64 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(bad)
}

/// A value that can travel in a mount option list as it is.
fn option_safe(value: &str) -> Result<&str, String> {
    if value.is_empty() || value.chars().any(|c| !c.is_ascii_graphic() || c == '\\') {
        return Err(format!(
            "mount option value '{}' must be printable ASCII without spaces or backslashes",
            value.escape_debug()
        ));
    }
    Ok(value)
}

impl MountOptions {
    /// Parse one or more comma separated option lists; later options win.
    ///
    /// A mount other users may enter (`allow_other`, `allow_root`) gets
    /// `default_permissions` unless `nodefault_permissions` is given: the kernel then
    /// checks every access against the attributes getattr reports, as it would on a
    /// local filesystem, instead of trusting the script to check.
    pub fn parse<S: AsRef<str>>(lists: &[S]) -> Result<MountOptions, String> {
        let mut o = MountOptions::default();
        for list in lists {
            for opt in list
                .as_ref()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                o.apply(opt)?;
            }
        }
        let shared = o.access != Access::Owner;
        if shared && !o.no_default_permissions && !o.has_kernel("default_permissions") {
            o.kernel.push("default_permissions".into());
        }
        // ACLs are part of the kernel's permission checks: only with them.
        o.adapter.posix_acl = o.has_kernel("default_permissions");
        // fusermount only cleans up after a dead daemon for mounts root may enter.
        if o.auto_unmount && !shared {
            o.access = Access::RootAndOwner;
        }
        // The kernel lets nobody but the owner in without allow_other; allow_root is
        // allow_other for the kernel and a filter in the session.
        if o.access != Access::Owner && !o.has_kernel("allow_other") {
            o.kernel.push("allow_other".into());
        }
        Ok(o)
    }

    /// The source /proc/mounts and `df` show, unless `-o fsname=` gave one:
    /// `flu:SCRIPTNAME`, so that flu mounts can be told apart (fuser's default is
    /// `/dev/fuse`, the same for every FUSE mount).
    pub fn set_default_fsname(&mut self, script: &Path) {
        if self.fsname.is_some() {
            return;
        }
        let name = script
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        // Commas would split the option list fusermount3 gets; spaces and control
        // characters have no place in a mount source.
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != ',' && c != '\\' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.fsname = Some(format!("flu:{name}"));
    }

    fn has_kernel(&self, name: &str) -> bool {
        self.kernel.iter().any(|k| k == name)
    }

    /// What to mount on `mountpoint`.
    pub fn spec(&self, mountpoint: PathBuf) -> MountSpec {
        MountSpec {
            mountpoint,
            fsname: self.fsname.clone().unwrap_or_else(|| "flu".into()),
            subtype: self.subtype.clone(),
            flags: self.flags.clone(),
            kernel: self.kernel.clone(),
            auto_unmount: self.auto_unmount,
        }
    }

    /// One option, as the table says.
    fn apply(&mut self, opt: &str) -> Result<(), String> {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (opt, None),
        };
        let spec = table::lookup(name)
            .ok_or_else(|| format!("unknown mount option '{opt}' (-o help lists them)"))?;
        match (spec.takes, value) {
            (table::Takes::Nothing, None) => (spec.apply)(self, name, ""),
            (table::Takes::Value(_), Some(v)) => (spec.apply)(self, name, v),
            (table::Takes::Nothing, Some(_)) => {
                Err(format!("mount option '{name}' takes no value, got '{opt}'"))
            }
            (table::Takes::Value(p), None) => {
                Err(format!("mount option '{name}' needs a value: {name}={p}"))
            }
        }
    }
}

/// A user id, or a user's name (`-o uid=`).
fn user_id(value: &str) -> Result<u32, String> {
    if let Ok(id) = value.parse::<u32>() {
        return Ok(id);
    }
    match nix::unistd::User::from_name(value) {
        Ok(Some(user)) => Ok(user.uid.as_raw()),
        Ok(None) => Err(format!(
            "option uid= takes a user id or name; no user '{value}'"
        )),
        Err(e) => Err(format!("option uid={value}: cannot look the user up: {e}")),
    }
}

/// A group id, or a group's name (`-o gid=`).
fn group_id(value: &str) -> Result<u32, String> {
    if let Ok(id) = value.parse::<u32>() {
        return Ok(id);
    }
    match nix::unistd::Group::from_name(value) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        Ok(None) => Err(format!(
            "option gid= takes a group id or name; no group '{value}'"
        )),
        Err(e) => Err(format!("option gid={value}: cannot look the group up: {e}")),
    }
}

/// Permission bits to take away, in octal (`-o umask=022`).
fn umask(value: &str) -> Result<u32, String> {
    u32::from_str_radix(value, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| {
            format!("option umask= takes octal permission bits (0 to 777), got '{value}'")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_acl_and_adapter_options() {
        let o = MountOptions::parse(&["ro,allow_other", "attr_timeout=2.5,use_ino,fsname=myfs"])
            .unwrap();
        assert_eq!(o.flags, ["ro"]);
        assert_eq!(o.access, Access::All);
        assert!(o.has_kernel("allow_other"));
        assert_eq!(o.adapter.attr_timeout, Duration::from_millis(2500));
        assert!(o.adapter.use_ino);
        assert_eq!(o.fsname.as_deref(), Some("myfs"));
    }

    #[test]
    fn mounts_are_named_after_the_script() {
        let mut o = MountOptions::parse(&["subtype=lua"]).unwrap();
        assert_eq!(o.subtype.as_deref(), Some("lua"));
        o.set_default_fsname(Path::new("/x/my fs,1.lua"));
        assert_eq!(o.fsname.as_deref(), Some("flu:my_fs_1.lua"));
        let mut o = MountOptions::parse(&["fsname=mine"]).unwrap();
        o.set_default_fsname(Path::new("a.lua"));
        assert_eq!(o.fsname.as_deref(), Some("mine"));
        let spec = o.spec(PathBuf::from("/mnt"));
        assert_eq!(
            (spec.fsname.as_str(), spec.mountpoint),
            ("mine", PathBuf::from("/mnt"))
        );
    }

    #[test]
    fn shared_mounts_get_default_permissions() {
        let o = MountOptions::parse(&["allow_other"]).unwrap();
        assert!(o.has_kernel("default_permissions"));
        assert!(o.adapter.posix_acl);
        let o = MountOptions::parse(&["allow_other,nodefault_permissions"]).unwrap();
        assert!(!o.has_kernel("default_permissions"));
        assert!(!o.adapter.posix_acl);
        let o = MountOptions::parse(&["ro"]).unwrap();
        assert!(!o.has_kernel("default_permissions"));
        let o = MountOptions::parse(&["allow_root"]).unwrap();
        assert_eq!(o.access, Access::RootAndOwner);
        assert!(
            o.has_kernel("allow_other"),
            "root needs the kernel to let others in"
        );
        let o = MountOptions::parse(&["auto_unmount"]).unwrap();
        assert!(o.auto_unmount);
        assert_eq!(o.access, Access::RootAndOwner);
    }

    #[test]
    fn spin_takes_microseconds() {
        assert_eq!(MountOptions::parse(&["ro"]).unwrap().spin, None);
        let o = MountOptions::parse(&["spin=0"]).unwrap();
        assert_eq!(o.spin, Some(Duration::ZERO));
        let o = MountOptions::parse(&["spin=30,spin=250"]).unwrap();
        assert_eq!(
            o.spin,
            Some(Duration::from_micros(250)),
            "the last one wins"
        );
        for bad in ["spin=", "spin=-1", "spin=1.5", "spin=2000000", "spin=fast"] {
            let e = MountOptions::parse(&[bad]).unwrap_err();
            assert!(
                e.contains("spin=") && e.contains("microseconds"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn sizes_take_suffixes() {
        let o = MountOptions::parse(&["max_file_size=64M"]).unwrap();
        assert_eq!(o.adapter.max_file_size, Some(64 << 20));
        assert_eq!(bytes("x", "1000"), Ok(1000));
        assert_eq!(bytes("x", "2k"), Ok(2048));
        assert!(bytes("x", "0").is_err());
        assert!(bytes("x", "12Q").is_err());
        assert!(bytes("x", "99999999999T").is_err(), "overflow");
    }

    /// A value each placeholder accepts.
    fn sample(placeholder: &str) -> &'static str {
        match placeholder {
            "SECS" => "2.5",
            "BYTES" => "64k",
            "USER" | "GROUP" => "0",
            "OCTAL" => "022",
            "NAME" => "x",
            "USEC" => "30",
            other => panic!("no sample value for {other}: add one"),
        }
    }

    #[test]
    fn every_listed_option_is_accepted_and_nothing_else() {
        let mut names: Vec<&str> = table::OPTIONS.iter().map(|o| o.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), table::OPTIONS.len(), "a name listed twice");
        for o in table::OPTIONS {
            let opt = match o.takes {
                table::Takes::Nothing => o.name.to_string(),
                table::Takes::Value(p) => format!("{}={}", o.name, sample(p)),
            };
            assert!(
                MountOptions::parse(&[&opt]).is_ok(),
                "{opt} is listed but refused"
            );
            let wrong = match o.takes {
                table::Takes::Nothing => format!("{}=1", o.name),
                table::Takes::Value(_) => o.name.to_string(),
            };
            assert!(MountOptions::parse(&[&wrong]).is_err(), "{wrong} accepted");
        }
        // What flu accepted before the table existed is still accepted.
        for old in [
            "ro",
            "rw",
            "dev",
            "nodev",
            "suid",
            "nosuid",
            "exec",
            "noexec",
            "atime",
            "noatime",
            "sync",
            "async",
            "dirsync",
            "default_permissions",
            "nodefault_permissions",
            "auto_unmount",
            "allow_other",
            "allow_root",
            "nodiratime",
            "use_ino",
            "debug",
            "readdir_ino",
            "direct_io",
            "kernel_cache",
            "auto_cache",
            "writeback_cache",
            "no_writeback_cache",
            "passthrough",
            "nopassthrough",
            "readdirplus",
            "noreaddirplus",
            "posix_locks",
            "large_read",
            "big_writes",
            "hard_remove",
            "nonempty",
        ] {
            assert!(table::lookup(old).is_some(), "{old}");
        }
        for unknown in ["bogus", "uid2=1", "max_reads=4096", "fd=3", "user_id=0"] {
            assert!(MountOptions::parse(&[unknown]).is_err(), "{unknown}");
        }
    }

    #[test]
    fn uid_gid_umask_and_max_read() {
        let o = MountOptions::parse(&["uid=1234,gid=root,umask=027,max_read=8k"]).unwrap();
        let over = o.adapter.attr_override;
        assert_eq!(
            (over.uid, over.gid, over.umask),
            (Some(1234), Some(0), Some(0o027))
        );
        assert_eq!(o.kernel, ["max_read=8192"]);
        let o = MountOptions::parse(&["max_read=4096", "max_read=65536"]).unwrap();
        assert_eq!(o.kernel, ["max_read=65536"], "the later one wins");
        assert_eq!(
            MountOptions::parse(&["uid=root"])
                .unwrap()
                .adapter
                .attr_override
                .uid,
            Some(0)
        );
        for bad in [
            "umask=8",
            "umask=1777",
            "uid=no-such-user-x",
            "gid=no-such-group-x",
            "max_read=0",
        ] {
            let e = MountOptions::parse(&[bad]).unwrap_err();
            let name = bad.split('=').next().unwrap();
            assert!(e.contains(name), "{bad}: {e}");
        }
        assert!(MountOptions::parse(&["help"]).unwrap().help);
    }

    #[test]
    fn errors_name_the_option() {
        assert!(MountOptions::parse(&["bogus"])
            .unwrap_err()
            .contains("'bogus'"));
        assert!(MountOptions::parse(&["attr_timeout=x"])
            .unwrap_err()
            .contains("attr_timeout"));
        assert!(
            MountOptions::parse(&["nopassthrough"]).is_ok_and(|o| !o.adapter.kernel_passthrough)
        );
        assert!(
            MountOptions::parse(&["fsname=a\\b"]).is_err(),
            "a backslash in a value"
        );
    }
}
