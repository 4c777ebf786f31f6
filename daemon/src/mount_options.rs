//! Mount options (`-o ro,allow_other,attr_timeout=2,…`): split into what the kernel and
//! fusermount take (fuser `MountOption`s), who may use the mount, and the adapter's
//! own settings.

use std::path::Path;
use std::time::Duration;

use fuser::{MountOption, SessionACL};

use crate::adapter_config::AdapterConfig;

/// Everything `-o` can say.
#[derive(Debug, Clone)]
pub struct MountOptions {
    pub kernel: Vec<MountOption>,
    pub acl: SessionACL,
    pub adapter: AdapterConfig,
}

impl Default for MountOptions {
    fn default() -> MountOptions {
        MountOptions {
            kernel: Vec::new(),
            acl: SessionACL::Owner,
            adapter: AdapterConfig::default(),
        }
    }
}

fn seconds(name: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("option {name}= takes a number of seconds, got '{value}'"))
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
                    o.kernel.retain(|k| *k != MountOption::DefaultPermissions);
                    continue;
                }
                o.apply(opt)?;
            }
        }
        let shared = o.acl != SessionACL::Owner;
        if shared && !no_default_permissions && !o.kernel.contains(&MountOption::DefaultPermissions)
        {
            o.kernel.push(MountOption::DefaultPermissions);
        }
        // fusermount only cleans up after a dead daemon for mounts root may enter.
        if o.kernel.contains(&MountOption::AutoUnmount) && !shared {
            o.acl = SessionACL::RootAndOwner;
        }
        Ok(o)
    }

    /// The source /proc/mounts and `df` show, unless `-o fsname=` gave one:
    /// `flu:SCRIPTNAME`, so that flu mounts can be told apart (fuser's default is
    /// `/dev/fuse`, the same for every FUSE mount).
    pub fn set_default_fsname(&mut self, script: &Path) {
        if self
            .kernel
            .iter()
            .any(|k| matches!(k, MountOption::FSName(_)))
        {
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
        self.kernel.push(MountOption::FSName(format!("flu:{name}")));
    }

    fn apply(&mut self, opt: &str) -> Result<(), String> {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (opt, None),
        };
        let a = &mut self.adapter;
        match (name, value) {
            ("ro", None) => self.kernel.push(MountOption::RO),
            ("rw", None) => self.kernel.push(MountOption::RW),
            ("dev", None) => self.kernel.push(MountOption::Dev),
            ("nodev", None) => self.kernel.push(MountOption::NoDev),
            ("suid", None) => self.kernel.push(MountOption::Suid),
            ("nosuid", None) => self.kernel.push(MountOption::NoSuid),
            ("exec", None) => self.kernel.push(MountOption::Exec),
            ("noexec", None) => self.kernel.push(MountOption::NoExec),
            ("atime", None) => self.kernel.push(MountOption::Atime),
            ("noatime", None) => self.kernel.push(MountOption::NoAtime),
            ("sync", None) => self.kernel.push(MountOption::Sync),
            ("async", None) => self.kernel.push(MountOption::Async),
            ("dirsync", None) => self.kernel.push(MountOption::DirSync),
            ("default_permissions", None) => self.kernel.push(MountOption::DefaultPermissions),
            ("auto_unmount", None) => self.kernel.push(MountOption::AutoUnmount),
            ("allow_other", None) => self.acl = SessionACL::All,
            ("allow_root", None) => self.acl = SessionACL::RootAndOwner,
            ("fsname", Some(v)) => self
                .kernel
                .push(MountOption::FSName(option_safe(v)?.to_string())),
            // fuser keeps `Subtype` for fusermount only, and drops it when it mounts
            // directly (as root), leaving the type plain `fuse`; the kernel takes
            // `subtype=` itself (type `fuse.X`), and fusermount3 understands it too, so it
            // goes to both as a kernel option.
            ("subtype", Some(v)) => self
                .kernel
                .push(MountOption::CUSTOM(format!("subtype={}", option_safe(v)?))),
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
        assert!(o.kernel.contains(&MountOption::RO));
        assert_eq!(o.acl, SessionACL::All);
        assert_eq!(o.adapter.attr_timeout, Duration::from_millis(2500));
        assert!(o.adapter.use_ino);
        assert!(o.kernel.contains(&MountOption::FSName("myfs".into())));
    }

    #[test]
    fn identity() {
        let mut o = MountOptions::parse(&["subtype=lua"]).unwrap();
        assert!(o
            .kernel
            .contains(&MountOption::CUSTOM("subtype=lua".into())));
        o.set_default_fsname(Path::new("/x/my fs,1.lua"));
        assert!(o
            .kernel
            .contains(&MountOption::FSName("flu:my_fs_1.lua".into())));
        let mut o = MountOptions::parse(&["fsname=mine"]).unwrap();
        o.set_default_fsname(Path::new("a.lua"));
        assert!(!o.kernel.contains(&MountOption::FSName("flu:a.lua".into())));
    }

    #[test]
    fn shared_mounts_get_default_permissions() {
        let o = MountOptions::parse(&["allow_other"]).unwrap();
        assert!(o.kernel.contains(&MountOption::DefaultPermissions));
        let o = MountOptions::parse(&["allow_other,nodefault_permissions"]).unwrap();
        assert!(!o.kernel.contains(&MountOption::DefaultPermissions));
        let o = MountOptions::parse(&["ro"]).unwrap();
        assert!(!o.kernel.contains(&MountOption::DefaultPermissions));
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
    }
}
