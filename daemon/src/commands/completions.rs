//! `flu completions SHELL`: a completion script for the shell, generated from the
//! command-line definition, on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn completions_command(args: CompletionsArgs) -> Result<(), String> {
    print!("{}", completion_script(args.shell));
    Ok(())
}

/// The completion script for `shell`.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "flu", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap_complete::Shell;

    #[test]
    fn every_shell_completes_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = completion_script(shell);
            for sub in ["mount", "unmount", "reload", "completions"] {
                assert!(script.contains(sub), "{shell}: {sub}");
            }
        }
    }
}
