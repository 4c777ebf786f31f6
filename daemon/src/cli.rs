//! The command line: `flu mount`, `flu unmount`, `flu stats`, `flu list`, `flu reload`,
//! `flu test`, `flu run`, and `flu SCRIPT args…` (the shebang form, `#!/usr/bin/env flu`);
//! each subcommand's help ends with examples.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "flu",
    version,
    about = "Run FUSE filesystems written in Lua",
    override_usage = "flu <COMMAND>\n       flu SCRIPT [ARGS]...    (the same as flu run SCRIPT [ARGS]...)",
    after_help = "flu SCRIPT [ARGS]... is flu run SCRIPT [ARGS]...: so a script that starts with \
`#!/usr/bin/env flu` and is executable runs as `./script.lua ARGS...`.

Examples:
  flu mount examples/hellofs.lua /tmp/hello
  flu examples/hellofs.lua /tmp/hello
  ./examples/hellofs.lua /tmp/hello
  flu mount examples/passthrough.lua /tmp/view -o ro -- /srv/data
  flu mount -o help
  flu unmount /tmp/hello"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Mount the filesystem a Lua script defines, and serve it in the background.
    #[command(after_help = "Examples:
  flu mount examples/hellofs.lua /tmp/hello
  flu mount examples/passthrough.lua /tmp/view -o ro,allow_other -- /srv/data
  flu mount myfs.lua /tmp/x -f -d
  flu mount myfs.lua /tmp/x --log-file /tmp/myfs.log --watch
  flu mount -o help")]
    Mount(MountArgs),
    /// Unmount a flu (or any FUSE) mount: the same as `fusermount3 -u DIR`.
    #[command(after_help = "Examples:
  flu unmount /tmp/hello
  flu unmount -z /tmp/hello")]
    Unmount(UnmountArgs),
    /// Show the numbers of a mount: nodes, open files, threads, Lua memory, handler
    /// timeouts, and per operation requests, errors by errno and latency percentiles.
    #[command(after_help = "Examples:
  flu stats /tmp/hello
  flu stats /tmp/hello --json")]
    Stats(StatsArgs),
    /// List the running flu mounts of this user: mountpoint, daemon pid, uptime, script.
    #[command(after_help = "Examples:
  flu list
  flu list --json")]
    List(ListArgs),
    /// Load a mounted script again and switch to its handlers without unmounting
    /// (flu.state and open files are kept; a script that fails to load changes nothing).
    #[command(after_help = "Examples:
  flu reload /tmp/hello
  kill -HUP $(cat /run/myfs.pid)")]
    Reload(ReloadArgs),
    /// Mount a script in a temporary directory, run a conformance battery chosen from
    /// its handlers, print the results and unmount (exit 1 when a check fails).
    Test(TestArgs),
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
    #[command(after_help = "Examples:
  flu run examples/hellofs.lua /tmp/hello -f
  flu examples/hellofs.lua /tmp/hello
  ./examples/hellofs.lua /tmp/hello -o ro")]
    Run(RunArgs),
    /// Print a shell completion script for bash, zsh or fish.
    #[command(after_help = "Examples:
  flu completions bash > ~/.local/share/bash-completion/completions/flu
  flu completions zsh > ~/.zfunc/_flu
  flu completions fish > ~/.config/fish/completions/flu.fish")]
    Completions(CompletionsArgs),
    /// Print flu's manual page (roff), or write a page per subcommand into a directory.
    #[command(after_help = "Examples:
  flu man | man -l -
  sudo flu man --dir /usr/local/share/man/man1")]
    Man(ManArgs),
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
    /// Mount options, comma separated (ro, allow_other, uid=, umask=, attr_timeout=,
    /// …); may be repeated. `-o help` lists them all with their defaults.
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
    /// Threads kept serving requests (default: the CPUs, between 2 and 8; more start
    /// while requests wait in the kernel's queue, and leave when it is empty). Lua calls are serialized; native
    /// passthrough work runs in parallel.
    #[arg(long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Interrupt a handler that runs Lua code longer than SECS seconds (the caller gets
    /// EIO); 0 never interrupts. Default 30. A caller interrupted by a signal gets EINTR
    /// at once, whatever the timeout.
    #[arg(long = "handler-timeout", value_name = "SECS")]
    pub handler_timeout: Option<f64>,
    /// How many Lua calls may be under way at once: running, waiting for the Lua lock,
    /// or waiting for slow work (flu.sleep, flu.exec, flu.http give the lock up while
    /// they wait); beyond it, new requests wait for one to finish. Default 256.
    #[arg(long = "max-pending", value_name = "N")]
    pub max_pending: Option<usize>,
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
pub struct ListArgs {
    /// Print a JSON array of the mounts.
    #[arg(long = "json")]
    pub json: bool,
}

#[derive(Args, Debug)]
#[command(
    after_help = "The script's leading comments may give its arguments, commands to run before mounting, and the checks it fails on purpose:\n  -- flu test: -- {tmpdir}\n  -- flu test setup: git -C {tmpdir} init -q\n  -- flu test expects failure: statfs (every statfs answers EIO)\n({tmpdir} is a temporary directory flu test fills with a few files and removes; {port} a free loopback port; {scriptdir} the script's directory.)\n\nExamples:\n  flu test examples/hellofs.lua\n  flu test examples/passthrough.lua -- /srv/data\n  flu test myfs.lua --json --timeout 5"
)]
pub struct TestArgs {
    /// The Lua script to test.
    pub script: PathBuf,
    /// Print one JSON object with the same rows instead of the table.
    #[arg(long = "json")]
    pub json: bool,
    /// Give up on a check after SECS seconds (it fails, the rest are not run, and the
    /// mount is still unmounted).
    #[arg(long = "timeout", value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// More mount options, as for `flu mount -o` (the test always adds
    /// direct_io,attr_timeout=0,entry_timeout=0,negative_timeout=0).
    #[arg(short = 'o', value_name = "OPTS")]
    pub options: Vec<String>,
    /// Print the daemon's output (its log and the script's prints) after the results.
    #[arg(long = "show-log")]
    pub show_log: bool,
    /// Arguments for the script, after `--` (instead of the ones its header gives).
    #[arg(last = true)]
    pub script_args: Vec<OsString>,
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

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write flu.1 and a page per subcommand (flu-mount.1, …) into DIR instead of
    /// printing flu.1.
    #[arg(long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const SUBCOMMANDS: &[&str] = &[
    "mount",
    "unmount",
    "stats",
    "list",
    "reload",
    "test",
    "run",
    "check",
    "types",
    "completions",
    "man",
    "help",
];

/// Whether this is `flu mount … -o help` (also `-ohelp`, `-o ro,help`): answered before
/// clap parses, since the list of options needs no script or mountpoint.
pub fn wants_mount_option_help(argv: &[OsString]) -> bool {
    if argv.get(1).is_none_or(|a| a != "mount") {
        return false;
    }
    let has_help = |list: &str| list.split(',').any(|o| o.trim() == "help");
    let mut args = argv[2..].iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        match arg.as_ref() {
            "--" => return false,
            "-o" => {
                if args.next().is_some_and(|list| has_help(&list)) {
                    return true;
                }
            }
            a => {
                if let Some(list) = a.strip_prefix("-o") {
                    if has_help(list.strip_prefix('=').unwrap_or(list)) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

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
    fn test_with_options_and_script_args() {
        let cli = parse(&[
            "flu",
            "test",
            "fs.lua",
            "--json",
            "--timeout",
            "2.5",
            "-o",
            "ro",
            "--",
            "/srv",
        ]);
        let Command::Test(t) = cli.command else {
            panic!("not test")
        };
        assert_eq!(t.script, PathBuf::from("fs.lua"));
        assert!(t.json && !t.show_log);
        assert_eq!(t.timeout, 2.5);
        assert_eq!(t.options, vec!["ro"]);
        assert_eq!(t.script_args, vec![OsString::from("/srv")]);
        let Command::Test(t) = parse(&["flu", "test", "fs.lua"]).command else {
            panic!("`test` is a subcommand, not a script")
        };
        assert_eq!(t.timeout, 10.0);
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
    fn mount_option_help_needs_no_script() {
        let argv = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_mount_option_help(&argv(&[
            "flu", "mount", "-o", "help"
        ])));
        assert!(wants_mount_option_help(&argv(&["flu", "mount", "-ohelp"])));
        assert!(wants_mount_option_help(&argv(&[
            "flu", "mount", "a.lua", "/m", "-o", "ro,help"
        ])));
        assert!(!wants_mount_option_help(&argv(&[
            "flu", "mount", "a.lua", "/m", "-o", "ro"
        ])));
        assert!(!wants_mount_option_help(&argv(&[
            "flu", "mount", "a", "/m", "--", "-o", "help"
        ])));
        assert!(!wants_mount_option_help(&argv(&[
            "flu", "run", "-o", "help"
        ])));
    }

    #[test]
    fn every_subcommand_help_ends_with_examples() {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        cmd.build();
        let mut commands: Vec<&clap::Command> = cmd.get_subcommands().collect();
        commands.push(&cmd);
        for c in commands.into_iter().filter(|c| c.get_name() != "help") {
            let after = c
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let examples = after
                .split_once("Examples:\n")
                .map(|(_, e)| e)
                .unwrap_or_else(|| panic!("{}: no Examples: block", c.get_name()));
            assert!(!examples.is_empty(), "{}", c.get_name());
            for line in examples.lines() {
                assert!(
                    line.starts_with("  ") && line.len() > 2,
                    "{}: {line:?}",
                    c.get_name()
                );
            }
        }
        let top = cmd.render_help().to_string();
        assert!(
            top.contains("flu SCRIPT [ARGS]..."),
            "the shorthand is in the usage"
        );
        assert!(SUBCOMMANDS.iter().all(|s| cmd.find_subcommand(s).is_some()));
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
