//! The command line: `flu mount`, `flu unmount`, `flu run`, and `flu SCRIPT args…`
//! (the shebang form, `#!/usr/bin/env flu`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "flu", version, about = "Run FUSE filesystems written in Lua")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Mount the filesystem a Lua script defines, and serve it in the background.
    Mount(MountArgs),
    /// Unmount a flu (or any FUSE) mount: the same as `fusermount3 -u DIR`.
    Unmount(UnmountArgs),
    /// Show the numbers of a mount: nodes, open files, threads, requests per operation.
    Stats(StatsArgs),
    /// Load a mounted script again and switch to its handlers without unmounting
    /// (flu.state and open files are kept; a script that fails to load changes nothing).
    Reload(ReloadArgs),
    /// Load a script without mounting and report what is wrong with it: unknown or
    /// misspelled handler names, handlers that are no functions, and what getattr('/')
    /// and readdir('/') return. Exits 1 on any error (warnings alone: 0).
    #[command(
        after_help = "Examples:\n  flu check myfs.lua\n  flu check examples/passthrough.lua -- /srv/data"
    )]
    Check(CheckArgs),
    /// Write flu's LuaLS annotations (the flu and fs modules, handlers, stat tables,
    /// fi, modes, errno) into DIR/.flu-types/, and a .luarc.json in DIR that uses them.
    #[command(after_help = "Examples:\n  flu types .\n  flu types ~/src/myfs --force")]
    Types(TypesArgs),
    /// Run a script as `lua` would, with `flu` and `fs` requirable; `flu.main(argv, fs)`
    /// mounts as Flu scripts expect.
    Run(RunArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct LogArgs {
    /// More log output (-v debug, -vv trace).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log level: error, warn, info, debug or trace (default info).
    #[arg(long = "log-level", value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Write the daemon's log (and the script's output) to FILE.
    #[arg(long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MountArgs {
    /// The Lua script defining the filesystem.
    pub script: PathBuf,
    /// The directory to mount on.
    pub mountpoint: PathBuf,
    /// Mount options, comma separated (ro, allow_other, default_permissions,
    /// attr_timeout=1, use_ino, …); may be repeated.
    #[arg(short = 'o', value_name = "OPTS")]
    pub options: Vec<String>,
    /// Stay in the foreground.
    #[arg(short = 'f', long = "foreground")]
    pub foreground: bool,
    /// Log every operation with its arguments, result and latency; implies -f, as in
    /// libfuse (a detached daemon's output would go to its log, not your terminal).
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,
    /// Serve on one thread.
    #[arg(short = 's')]
    pub single_thread: bool,
    /// Number of threads serving requests (Lua calls are serialized; native
    /// passthrough work runs in parallel).
    #[arg(long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Interrupt a handler that runs Lua code longer than SECS seconds (the caller gets
    /// EIO); 0 never interrupts. Default 30. A caller interrupted by a signal gets EINTR
    /// at once, whatever the timeout.
    #[arg(long = "handler-timeout", value_name = "SECS")]
    pub handler_timeout: Option<f64>,
    /// Write the daemon's process id to FILE once mounted (checked before mounting:
    /// an unwritable FILE fails the mount).
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// The most memory the script's Lua state may use (bytes, or with a K, M or G
    /// suffix, powers of 1024: 512M); a handler call that needs more fails with ENOMEM.
    /// 0: no limit. Default 1G.
    #[arg(long = "lua-memory-limit", value_name = "BYTES", value_parser = parse_size)]
    pub lua_memory_limit: Option<usize>,
    /// Reload the script when it, or a module it loaded from its own directory,
    /// changes on disk (as `flu reload DIR` would).
    #[arg(long = "watch")]
    pub watch: bool,
    #[command(flatten)]
    pub log: LogArgs,
    /// Arguments for the script (its `...` and `arg`), after `--`.
    #[arg(last = true)]
    pub script_args: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct UnmountArgs {
    /// The mountpoint.
    pub mountpoint: PathBuf,
    /// Detach now even if busy (lazy unmount).
    #[arg(short = 'z', long = "lazy")]
    pub lazy: bool,
}

#[derive(Args, Debug)]
pub struct ReloadArgs {
    /// The mountpoint.
    pub mountpoint: PathBuf,
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// The mountpoint.
    pub mountpoint: PathBuf,
    /// Print the daemon's JSON answer as it is.
    #[arg(long = "json")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The Lua script to check.
    pub script: PathBuf,
    /// Arguments for the script (its `...` and `arg`), after `--`.
    #[arg(last = true)]
    pub script_args: Vec<OsString>,
}

#[derive(Args, Debug)]
pub struct TypesArgs {
    /// The directory of your scripts (the editor's workspace).
    pub dir: PathBuf,
    /// Replace an existing .luarc.json.
    #[arg(long = "force")]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The script to run.
    pub script: PathBuf,
    /// Its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<OsString>,
}

const SUBCOMMANDS: &[&str] = &[
    "mount", "unmount", "stats", "reload", "run", "check", "types", "help",
];

/// A size in bytes: a number, optionally followed by K, M or G (also k, Ki, KiB, MiB, …;
/// all powers of 1024).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let number: usize = digits.parse().map_err(|_| {
        format!("'{text}' is not a size (a number of bytes, or with K, M or G: 512M)")
    })?;
    let shift = match suffix.trim_end_matches(['B', 'b']).trim_end_matches('i') {
        "" => 0,
        "k" | "K" => 10,
        "m" | "M" => 20,
        "g" | "G" => 30,
        _ => {
            return Err(format!(
                "'{text}': unknown size suffix '{suffix}' (K, M or G)"
            ))
        }
    };
    number
        .checked_mul(1usize << shift)
        .ok_or_else(|| format!("'{text}' is too large"))
}

/// The subcommand a mistyped word was probably meant to be: within two edits of it.
pub fn suggest_subcommand(word: &str) -> Option<&'static str> {
    SUBCOMMANDS
        .iter()
        .copied()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance (insertions, deletions, substitutions), on chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev_diag + usize::from(ca != *cb);
            prev_diag = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(prev_diag + 1);
        }
    }
    row[b.len()]
}

/// `flu SCRIPT args…` is `flu run SCRIPT args…`.
pub fn normalize_args(mut argv: Vec<OsString>) -> Vec<OsString> {
    if let Some(first) = argv.get(1) {
        let s = first.to_string_lossy();
        if !s.starts_with('-') && !SUBCOMMANDS.contains(&s.as_ref()) {
            argv.insert(1, OsString::from("run"));
        }
    }
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let argv = normalize_args(args.iter().map(OsString::from).collect());
        Cli::try_parse_from(argv).expect("parses")
    }

    #[test]
    fn mount_with_options_and_script_args() {
        let cli = parse(&[
            "flu",
            "mount",
            "fs.lua",
            "/mnt",
            "-o",
            "ro,allow_other",
            "-f",
            "--",
            "/srv",
            "-x",
        ]);
        let Command::Mount(m) = cli.command else {
            panic!("not mount")
        };
        assert_eq!(m.script, PathBuf::from("fs.lua"));
        assert_eq!(m.options, vec!["ro,allow_other"]);
        assert!(m.foreground);
        assert_eq!(
            m.script_args,
            vec![OsString::from("/srv"), OsString::from("-x")]
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("2Ki"), Ok(2048));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn typos_of_subcommands() {
        assert_eq!(suggest_subcommand("mout"), Some("mount"));
        assert!(suggest_subcommand("umount").is_some());
        assert_eq!(suggest_subcommand("rn"), Some("run"));
        assert_eq!(suggest_subcommand("hellofs.lua"), None);
    }

    #[test]
    fn shebang_form_runs_the_script() {
        let cli = parse(&["flu", "./hello.lua", "/mnt", "-f"]);
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.script, PathBuf::from("./hello.lua"));
        assert_eq!(r.args, vec![OsString::from("/mnt"), OsString::from("-f")]);
    }
}
