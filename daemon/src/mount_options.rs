//! Mount options (`-o ro,allow_other,attr_timeout=2,…`): split into what mount(2),
//! the FUSE kernel module and fusermount3 take (a `MountSpec`), who may use the mount,
//! and the adapter's own settings.

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
        let mut no_default_permissions = false;
        for list in lists {
            for opt in list
                .as_ref()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if opt == "nodefault_permissions" {
                    no_default_permissions = true;
                    o.kernel.retain(|k| k != "default_permissions");
                    continue;
                }
                o.apply(opt)?;
            }
        }
        let shared = o.access != Access::Owner;
        if shared && !no_default_permissions && !o.has_kernel("default_permissions") {
            o.kernel.push("default_permissions".into());
        }
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

    fn apply(&mut self, opt: &str) -> Result<(), String> {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (opt, None),
        };
        let a = &mut self.adapter;
        match (name, value) {
            ("ro", None) => self.flags.push(name.into()),
            ("rw", None) => self.flags.push(name.into()),
            ("dev", None) => self.flags.push(name.into()),
            ("nodev", None) => self.flags.push(name.into()),
            ("suid", None) => self.flags.push(name.into()),
            ("nosuid", None) => self.flags.push(name.into()),
            ("exec", None) => self.flags.push(name.into()),
            ("noexec", None) => self.flags.push(name.into()),
            ("atime", None) => self.flags.push(name.into()),
            ("noatime", None) => self.flags.push(name.into()),
            ("sync", None) => self.flags.push(name.into()),
            ("async", None) => self.flags.push(name.into()),
            ("dirsync", None) => self.flags.push(name.into()),
            ("default_permissions", None) => {
                if !self.kernel.iter().any(|k| k == name) {
                    self.kernel.push(name.into())
                }
            }
            ("auto_unmount", None) => self.auto_unmount = true,
            ("allow_other", None) => self.access = Access::All,
            ("allow_root", None) => self.access = Access::RootAndOwner,
            ("nodiratime", None) => self.flags.push(name.into()),
            ("fsname", Some(v)) => self.fsname = Some(option_safe(v)?.to_string()),
            // The type becomes `fuse.X`.
            ("subtype", Some(v)) => self.subtype = Some(option_safe(v)?.to_string()),
            ("attr_timeout", Some(v)) => a.attr_timeout = seconds(name, v)?,
            ("entry_timeout", Some(v)) => a.entry_timeout = seconds(name, v)?,
            ("negative_timeout", Some(v)) => a.negative_timeout = seconds(name, v)?,
            ("use_ino", None) => a.use_ino = true,
            ("debug", None) => a.debug = true,
            ("readdir_ino", None) => {}
            ("direct_io", None) => a.direct_io = true,
            ("kernel_cache", None) => a.kernel_cache = true,
            ("auto_cache", None) => {}
            ("writeback_cache", None) => a.writeback_cache = true,
            ("no_writeback_cache", None) => a.writeback_cache = false,
            ("passthrough", None) => a.kernel_passthrough = true,
            ("nopassthrough", None) => a.kernel_passthrough = false,
            ("readdirplus", None) => a.readdirplus = true,
            ("noreaddirplus", None) => a.readdirplus = false,
            ("posix_locks", None) => a.posix_locks = true,
            ("max_file_size", Some(v)) => a.max_file_size = Some(bytes(name, v)?),
            ("max_write", Some(v)) => {
                a.max_write = v
                    .parse()
                    .map_err(|_| format!("option max_write= takes a number of bytes, got '{v}'"))?
            }
            ("large_read" | "big_writes" | "hard_remove" | "nonempty", None) => {}
            (_, Some(_)) | (_, None) => return Err(format!("unknown mount option '{opt}'")),
        }
        Ok(())
    }
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
        let o = MountOptions::parse(&["allow_other,nodefault_permissions"]).unwrap();
        assert!(!o.has_kernel("default_permissions"));
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
    fn sizes_take_suffixes() {
        let o = MountOptions::parse(&["max_file_size=64M"]).unwrap();
        assert_eq!(o.adapter.max_file_size, Some(64 << 20));
        assert_eq!(bytes("x", "1000"), Ok(1000));
        assert_eq!(bytes("x", "2k"), Ok(2048));
        assert!(bytes("x", "0").is_err());
        assert!(bytes("x", "12Q").is_err());
        assert!(bytes("x", "99999999999T").is_err(), "overflow");
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
