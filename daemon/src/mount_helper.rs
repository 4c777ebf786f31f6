//! `mount.fuse.flu`: the helper mount(8) runs for `mount -t fuse.flu SCRIPT DIR` and for
//! fstab lines and systemd mount units of type `fuse.flu`. It is the flu binary under
//! that name (a symlink, `/sbin/mount.fuse.flu`): mount(8) calls it as
//! `mount.fuse.flu SCRIPT DIR [-sfnv] [-o OPTS] [-t TYPE]`, and it becomes
//! `flu mount SCRIPT DIR -o OPTS …`, which returns once the filesystem is mounted.
//!
//! The options are translated: mount(8)'s and fstab's own (`defaults`, `noauto`,
//! `nofail`, `_netdev`, `x-systemd.…`, …) are dropped, the flags of `flu mount` that an
//! fstab line cannot give on a command line come as options ([`HELPER_OPTIONS`]:
//! `script_arg=`, `log_file=`, …), and the rest are flu's own `-o` options. The mount
//! is named as the fstab line names it (type `fuse.flu`, source SCRIPT), so that
//! `mount -a` and systemd see it as mounted.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::mount_options::table;

/// The name mount(8) looks for: `mount.` + the type.
pub const HELPER_NAME: &str = "mount.fuse.flu";

/// Whether the program was started as the mount helper.
pub fn is_helper(argv0: &OsStr) -> bool {
    Path::new(argv0).file_name() == Some(OsStr::new(HELPER_NAME))
}

/// An option only the helper takes: it becomes a flag of `flu mount`.
pub struct HelperOption {
    pub name: &'static str,
    /// The value's placeholder; None for a bare word.
    pub value: Option<&'static str>,
    /// The `flu mount` flag it becomes; `--` for a script argument.
    pub flag: &'static str,
    pub meaning: &'static str,
}

/// The helper's own options, in the order `-o help` lists them.
pub static HELPER_OPTIONS: &[HelperOption] = &[
    HelperOption {
        name: "script_arg",
        value: Some("ARG"),
        flag: "--",
        meaning: "one argument for the script; repeat it for more, in order",
    },
    HelperOption {
        name: "log_file",
        value: Some("FILE"),
        flag: "--log-file",
        meaning: "the daemon's log (else syslog)",
    },
    HelperOption {
        name: "log_level",
        value: Some("LEVEL"),
        flag: "--log-level",
        meaning: "error, warn, info, debug or trace",
    },
    HelperOption {
        name: "pid_file",
        value: Some("FILE"),
        flag: "--pid-file",
        meaning: "write the daemon's pid there",
    },
    HelperOption {
        name: "threads",
        value: Some("N"),
        flag: "--threads",
        meaning: "threads serving requests",
    },
    HelperOption {
        name: "handler_timeout",
        value: Some("SECS"),
        flag: "--handler-timeout",
        meaning: "interrupt a Lua handler running longer",
    },
    HelperOption {
        name: "lua_memory_limit",
        value: Some("BYTES"),
        flag: "--lua-memory-limit",
        meaning: "the most memory the Lua state may use",
    },
    HelperOption {
        name: "watch",
        value: None,
        flag: "--watch",
        meaning: "reload the script when it changes on disk",
    },
];

/// Options that mount(8), fstab or systemd act on and the filesystem must not see.
fn is_mount8_option(name: &str) -> bool {
    matches!(
        name,
        "defaults"
            | "rw"
            | "auto"
            | "noauto"
            | "user"
            | "users"
            | "nouser"
            | "owner"
            | "group"
            | "nofail"
            | "_netdev"
            | "comment"
            | "loop"
    ) || name.starts_with("x-")
}

/// Unless the options say otherwise, the mount shows as fstab wrote it: type
/// `fuse.flu` (`subtype=flu`) and source SCRIPT (`fsname=SCRIPT`, when the path can
/// travel in an option list), so that `mount -a`, findmnt and systemd recognise the
/// fstab line in /proc/mounts.
fn name_like_fstab(options: &mut Vec<String>, script: &OsStr) {
    let given = |name: &str| options.iter().any(|o| o.starts_with(&format!("{name}=")));
    let (has_subtype, has_fsname) = (given("subtype"), given("fsname"));
    if !has_subtype {
        options.push("subtype=flu".into());
    }
    let safe = script.to_str().filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_graphic() && c != ',' && c != '\\')
    });
    if let (false, Some(path)) = (has_fsname, safe) {
        options.push(format!("fsname={path}"));
    }
}

/// What the helper does.
#[derive(Debug, PartialEq, Eq)]
pub enum HelperRun {
    /// Run flu with this argv (`flu mount …`).
    Mount(Vec<OsString>),
    /// `-f`: mount(8)'s fake mode; the command line was checked, nothing is mounted.
    Fake(Vec<OsString>),
}

/// Translate mount(8)'s call into `flu mount`'s.
pub fn translate(argv: &[OsString]) -> Result<HelperRun, String> {
    let mut positional = Vec::new();
    let mut option_lists = Vec::new();
    let (mut fake, mut sloppy) = (false, false);
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-o") => {
                let list = args.next().ok_or("-o needs a value")?;
                let list = list
                    .to_str()
                    .ok_or_else(|| format!("mount options {list:?} are not UTF-8"))?;
                option_lists.push(list.to_string());
            }
            Some("-t") => {
                args.next().ok_or("-t needs a type")?;
            }
            Some("-N") => return Err("-N (mount in another namespace) is not supported".into()),
            Some(flags) if flags.starts_with('-') && flags.len() > 1 => {
                for c in flags[1..].chars() {
                    match c {
                        'f' => fake = true,
                        's' => sloppy = true,
                        'n' | 'v' => {}
                        _ => {
                            return Err(format!(
                                "unknown option -{c} (mount(8) passes -s, -f, -n, -v, -o, -t)"
                            ))
                        }
                    }
                }
            }
            _ => positional.push(arg.clone()),
        }
    }
    let [script, dir] = <[OsString; 2]>::try_from(positional).map_err(|p| {
        format!(
            "usage: {HELPER_NAME} SCRIPT DIR [-o OPTIONS] (as mount(8) calls it); got {} operands",
            p.len()
        )
    })?;
    let mut flu_options = Vec::new();
    let mut flags: Vec<OsString> = Vec::new();
    let mut script_args: Vec<OsString> = Vec::new();
    for opt in option_lists
        .iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
    {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (opt, None),
        };
        if opt.is_empty() || is_mount8_option(name) {
            continue;
        }
        if let Some(h) = HELPER_OPTIONS.iter().find(|h| h.name == name) {
            match (h.value, value) {
                (Some(_), Some(v)) if h.flag == "--" => script_args.push(v.into()),
                (Some(_), Some(v)) => flags.extend([h.flag.into(), v.into()]),
                (None, None) => flags.push(h.flag.into()),
                (Some(p), None) => return Err(format!("option {name} needs a value: {name}={p}")),
                (None, Some(_)) => return Err(format!("option {name} takes no value")),
            }
            continue;
        }
        if sloppy && table::lookup(name).is_none() {
            eprintln!("{HELPER_NAME}: ignoring unknown option {opt:?} (sloppy mount)");
            continue;
        }
        flu_options.push(opt.to_string());
    }
    name_like_fstab(&mut flu_options, &script);
    let mut out: Vec<OsString> = vec!["flu".into(), "mount".into(), script, dir];
    if !flu_options.is_empty() {
        out.extend(["-o".into(), flu_options.join(",").into()]);
    }
    out.extend(flags);
    if !script_args.is_empty() {
        out.push("--".into());
        out.extend(script_args);
    }
    Ok(if fake {
        HelperRun::Fake(out)
    } else {
        HelperRun::Mount(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn recognises_its_name() {
        assert!(is_helper(OsStr::new("/sbin/mount.fuse.flu")));
        assert!(is_helper(OsStr::new("mount.fuse.flu")));
        assert!(!is_helper(OsStr::new("/usr/bin/flu")));
        assert!(!is_helper(OsStr::new("mount.fuse3")));
    }

    #[test]
    fn what_mount8_passes_becomes_flu_mount() {
        // What util-linux 2.38 passes for `mount -t fuse.flu -o allow_other,user,noauto,
        // nofail,_netdev,x-systemd.automount,ro`: `user` expanded, x-* and noauto gone.
        let run = translate(&os(&[
            "/sbin/mount.fuse.flu",
            "/etc/flu/hello.lua",
            "/mnt/hello",
            "-o",
            "ro,noexec,nosuid,nodev,allow_other,nofail,_netdev,user,x-systemd.automount",
        ]))
        .unwrap();
        assert_eq!(
            run,
            HelperRun::Mount(os(&[
                "flu",
                "mount",
                "/etc/flu/hello.lua",
                "/mnt/hello",
                "-o",
                "ro,noexec,nosuid,nodev,allow_other,subtype=flu,fsname=/etc/flu/hello.lua",
            ]))
        );
        // `defaults` arrives as `rw`; only the names are left.
        let run = translate(&os(&["mount.fuse.flu", "a.lua", "/m", "-o", "rw"])).unwrap();
        assert_eq!(
            run,
            HelperRun::Mount(os(&[
                "flu",
                "mount",
                "a.lua",
                "/m",
                "-o",
                "subtype=flu,fsname=a.lua"
            ]))
        );
        // Names given, or a source that cannot be an option value, are left alone.
        let run = translate(&os(&[
            "mount.fuse.flu",
            "my fs.lua",
            "/m",
            "-o",
            "subtype=x",
        ]))
        .unwrap();
        assert_eq!(
            run,
            HelperRun::Mount(os(&["flu", "mount", "my fs.lua", "/m", "-o", "subtype=x"]))
        );
        let run = translate(&os(&["mount.fuse.flu", "a,b", "/m", "-o", "fsname=n"])).unwrap();
        assert_eq!(
            run,
            HelperRun::Mount(os(&[
                "flu",
                "mount",
                "a,b",
                "/m",
                "-o",
                "fsname=n,subtype=flu"
            ]))
        );
    }

    #[test]
    fn helper_options_become_flags_and_script_arguments() {
        let run = translate(&os(&[
            "mount.fuse.flu",
            "-n",
            "/etc/flu/view.lua",
            "/mnt/view",
            "-t",
            "fuse.flu",
            "-o",
            "script_arg=/srv/data,log_file=/var/log/view.log,watch,attr_timeout=5",
            "-o",
            "script_arg=--verbose=2,threads=2",
        ]))
        .unwrap();
        assert_eq!(
            run,
            HelperRun::Mount(os(&[
                "flu",
                "mount",
                "/etc/flu/view.lua",
                "/mnt/view",
                "-o",
                "attr_timeout=5,subtype=flu,fsname=/etc/flu/view.lua",
                "--log-file",
                "/var/log/view.log",
                "--watch",
                "--threads",
                "2",
                "--",
                "/srv/data",
                "--verbose=2",
            ]))
        );
    }

    #[test]
    fn fake_sloppy_and_refusals() {
        let fake = translate(&os(&["mount.fuse.flu", "-fv", "a.lua", "/m"])).unwrap();
        assert!(matches!(fake, HelperRun::Fake(_)));
        let sloppy =
            translate(&os(&["mount.fuse.flu", "-s", "a", "/m", "-o", "bogus,ro"])).unwrap();
        assert_eq!(
            sloppy,
            HelperRun::Mount(os(&[
                "flu",
                "mount",
                "a",
                "/m",
                "-o",
                "ro,subtype=flu,fsname=a"
            ]))
        );
        // Without -s an unknown option reaches flu mount, which refuses it by name.
        let strict = translate(&os(&["mount.fuse.flu", "a", "/m", "-o", "bogus"])).unwrap();
        assert_eq!(
            strict,
            HelperRun::Mount(os(&[
                "flu",
                "mount",
                "a",
                "/m",
                "-o",
                "bogus,subtype=flu,fsname=a"
            ]))
        );
        assert!(translate(&os(&["mount.fuse.flu", "a"])).is_err());
        assert!(translate(&os(&["mount.fuse.flu", "a", "/m", "-N", "1"])).is_err());
        assert!(translate(&os(&["mount.fuse.flu", "a", "/m", "-o", "watch=1"])).is_err());
        assert!(translate(&os(&["mount.fuse.flu", "a", "/m", "-o", "log_file"])).is_err());
        assert!(translate(&os(&["mount.fuse.flu", "a", "/m", "-q"])).is_err());
    }

    #[test]
    fn helper_options_do_not_shadow_mount_options() {
        for h in HELPER_OPTIONS {
            assert!(table::lookup(h.name).is_none(), "{}", h.name);
            assert!(!is_mount8_option(h.name), "{}", h.name);
        }
    }
}
