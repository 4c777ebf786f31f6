//! What `flu --version` says: flu's version, the Lua release it runs, and whether
//! kernel passthrough (FUSE_PASSTHROUGH) can work here, as far as that can be known
//! without mounting: the kernel release (6.9 or later), its config when readable,
//! the privilege (CAP_SYS_ADMIN) the backing-file ioctl needs, and /dev/fuse. The
//! kernel itself answers only at mount time (FUSE_INIT).

use std::path::Path;

/// The version line after `flu `: `0.1.0 (Lua 5.4.9; kernel passthrough: …)`.
pub fn long_version() -> String {
    format!(
        "{} ({}; kernel passthrough: {})",
        env!("CARGO_PKG_VERSION"),
        flu_api::lua::lua_version(),
        probe().describe()
    )
}

/// What this machine says about kernel passthrough.
#[derive(Debug, PartialEq, Eq)]
pub struct Probe {
    /// The kernel release, `6.18.4-…` (None if unreadable).
    pub release: Option<String>,
    /// CONFIG_FUSE_PASSTHROUGH from /boot/config-RELEASE: Some(true) when set, None
    /// when the file is not there.
    pub config: Option<bool>,
    /// Whether this process holds CAP_SYS_ADMIN.
    pub cap_sys_admin: bool,
    /// Whether /dev/fuse exists.
    pub dev_fuse: bool,
}

/// CAP_SYS_ADMIN's bit in the capability sets of /proc/self/status.
const CAP_SYS_ADMIN: u32 = 21;

fn probe() -> Probe {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string());
    let config = release.as_ref().and_then(|r| {
        let text = std::fs::read_to_string(format!("/boot/config-{r}")).ok()?;
        Some(
            text.lines()
                .any(|l| l.trim() == "CONFIG_FUSE_PASSTHROUGH=y"),
        )
    });
    let cap_sys_admin = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| effective_caps(&s))
        .is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0);
    Probe {
        release,
        config,
        cap_sys_admin,
        dev_fuse: Path::new("/dev/fuse").exists(),
    }
}

/// The `CapEff:` mask of /proc/self/status.
fn effective_caps(status: &str) -> Option<u64> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

/// `(major, minor)` of a release such as `6.18.4-amd64`.
fn major_minor(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl Probe {
    /// `available (…)`, `probably available (…)` or `not available (why)`.
    pub fn describe(&self) -> String {
        let Some(release) = &self.release else {
            return "unknown (the kernel release is unreadable)".into();
        };
        let short = major_minor(release).map(|(a, b)| format!("Linux {a}.{b}"));
        let short = short.as_deref().unwrap_or(release);
        match major_minor(release) {
            Some(v) if v < (6, 9) => {
                return format!("not available ({short}; it needs Linux 6.9 or later)")
            }
            None => return format!("unknown (kernel release {release:?} not understood)"),
            Some(_) => {}
        }
        if self.config == Some(false) {
            return format!("not available ({short} built without CONFIG_FUSE_PASSTHROUGH)");
        }
        if !self.dev_fuse {
            return format!("not available ({short} but no /dev/fuse)");
        }
        if !self.cap_sys_admin {
            return format!(
                "not available to this user ({short}; it needs CAP_SYS_ADMIN: mount as root)"
            );
        }
        match self.config {
            Some(_) => format!("available ({short}, CONFIG_FUSE_PASSTHROUGH=y, CAP_SYS_ADMIN)"),
            None => format!(
                "probably available ({short}, CAP_SYS_ADMIN; the kernel config is not readable, the mount log says for sure)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(release: &str, config: Option<bool>, cap: bool) -> Probe {
        Probe {
            release: Some(release.into()),
            config,
            cap_sys_admin: cap,
            dev_fuse: true,
        }
    }

    #[test]
    fn says_why_not() {
        let old = probe("6.1.0-18-amd64", Some(true), true).describe();
        assert!(old.starts_with("not available (Linux 6.1;"), "{old}");
        let unset = probe("6.12.9", Some(false), true).describe();
        assert!(unset.contains("without CONFIG_FUSE_PASSTHROUGH"), "{unset}");
        let user = probe("6.12.9", Some(true), false).describe();
        assert!(user.starts_with("not available to this user"), "{user}");
        let no_fuse = Probe {
            dev_fuse: false,
            ..probe("6.9.0", None, true)
        };
        assert!(no_fuse.describe().contains("no /dev/fuse"));
        assert!(Probe {
            release: None,
            ..probe("", None, true)
        }
        .describe()
        .starts_with("unknown"));
    }

    #[test]
    fn says_how_sure_it_is() {
        assert_eq!(
            probe("6.9.0-rc1", Some(true), true).describe(),
            "available (Linux 6.9, CONFIG_FUSE_PASSTHROUGH=y, CAP_SYS_ADMIN)"
        );
        assert!(probe("6.18.44-x", None, true)
            .describe()
            .starts_with("probably available (Linux 6.18, CAP_SYS_ADMIN;"));
    }

    #[test]
    fn reads_the_capability_mask() {
        let status = "Name:\tflu\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(effective_caps(status), Some(0x1ff_ffff_ffff));
        assert_eq!(effective_caps("Name: x\n"), None);
        assert_eq!(major_minor("10.2"), Some((10, 2)));
        assert_eq!(major_minor("x"), None);
    }
}
