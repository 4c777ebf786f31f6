//! libfuse's `fuse_main` command line, as Flu scripts pass it to `flu.main(argv, fs)`:
//! `{progname, mountpoint, "-o", "opts", "-f", "-d", "-s"}`.

use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct FuseArgs {
    pub mountpoint: Option<PathBuf>,
    pub options: Vec<String>,
    pub foreground: bool,
    pub debug: bool,
    pub single_thread: bool,
    pub help: bool,
    pub version: bool,
}

/// Parse argv (argv[0] is the program name).
pub fn parse_fuse_args(argv: &[OsString]) -> Result<FuseArgs, String> {
    let mut a = FuseArgs::default();
    let mut it = argv
        .iter()
        .skip(1)
        .map(|s| s.to_string_lossy().into_owned());
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-o" => a
                .options
                .push(it.next().ok_or("missing argument after -o")?),
            "-f" => a.foreground = true,
            "-d" | "-odebug" => {
                a.debug = true;
                a.foreground = true;
            }
            "-s" => a.single_thread = true,
            "-h" | "--help" => a.help = true,
            "-V" | "--version" => a.version = true,
            s if s.starts_with("-o") => a.options.push(s[2..].to_string()),
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'")),
            s => {
                if a.mountpoint.is_some() {
                    return Err(format!("invalid argument '{s}' (mountpoint given twice)"));
                }
                a.mountpoint = Some(PathBuf::from(s));
            }
        }
    }
    // libfuse takes `-o debug` too.
    for list in &mut a.options {
        let (debug, rest): (Vec<&str>, Vec<&str>) = list.split(',').partition(|o| *o == "debug");
        if !debug.is_empty() {
            a.debug = true;
            a.foreground = true;
        }
        *list = rest.join(",");
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn fuse_main_style() {
        let a = parse_fuse_args(&argv(&[
            "hellofs",
            "/mnt",
            "-o",
            "ro,debug",
            "-s",
            "-oallow_other",
        ]))
        .unwrap();
        assert_eq!(a.mountpoint, Some(PathBuf::from("/mnt")));
        assert_eq!(a.options, vec!["ro".to_string(), "allow_other".to_string()]);
        assert!(a.debug && a.foreground && a.single_thread);
        assert!(parse_fuse_args(&argv(&["x", "-q"])).is_err());
        assert!(parse_fuse_args(&argv(&["x", "/a", "/b"])).is_err());
        assert_eq!(parse_fuse_args(&argv(&["x"])).unwrap().mountpoint, None);
    }
}
