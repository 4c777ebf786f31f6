//! `flu mount -o help`: the option table as text, one line per option, in sections.

use super::table::{Group, OptionSpec, Takes, OPTIONS};
use crate::mount_helper::{HelperOption, HELPER_OPTIONS};

/// The heading of the helper's own options.
pub const HELPER_TITLE: &str =
    "Only in fstab, systemd units and mount -t fuse.flu (they become flu mount's flags)";

/// What a helper option becomes: `--log-file`, or a script argument.
pub fn flag_text(h: &HelperOption) -> &'static str {
    match h.flag {
        "--" => "after --",
        flag => flag,
    }
}

/// How a helper option is written: `watch`, `log_file=FILE`.
pub fn helper_usage(h: &HelperOption) -> String {
    match h.value {
        None => h.name.to_string(),
        Some(placeholder) => format!("{}={placeholder}", h.name),
    }
}

/// How an option is written: `ro`, `attr_timeout=SECS`.
pub fn usage(o: &OptionSpec) -> String {
    match o.takes {
        Takes::Nothing => o.name.to_string(),
        Takes::Value(placeholder) => format!("{}={placeholder}", o.name),
    }
}

/// One line: the option, what it means and, when it has one, its default.
fn line(o: &OptionSpec, width: usize) -> String {
    let usage = usage(o);
    let mut text = format!("  {usage:<width$}  {}", o.meaning);
    if o.default != "-" {
        text.push_str(&format!(" [default: {}]", o.default));
    }
    text
}

/// Every option flu mount takes, with its meaning and default.
pub fn options_help() -> String {
    let width = OPTIONS
        .iter()
        .map(usage)
        .chain(HELPER_OPTIONS.iter().map(helper_usage))
        .map(|u| u.len())
        .max()
        .unwrap_or(0);
    let mut out = String::from(
        "Mount options: flu mount SCRIPT DIR -o OPT[,OPT...] (repeatable; later options win)\n",
    );
    for group in Group::ALL {
        out.push('\n');
        out.push_str(group.title());
        out.push_str(":\n");
        for o in OPTIONS.iter().filter(|o| o.group == group) {
            out.push_str(&line(o, width));
            out.push('\n');
        }
    }
    out.push_str(&format!("\n{HELPER_TITLE}:\n"));
    for h in HELPER_OPTIONS {
        let usage = helper_usage(h);
        out.push_str(&format!(
            "  {usage:<width$}  {} ({})\n",
            h.meaning,
            flag_text(h)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_listed_once_with_its_meaning() {
        let help = options_help();
        for o in OPTIONS {
            let listed: Vec<&str> = help
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(&usage(o)))
                .collect();
            assert_eq!(listed.len(), 1, "{} listed {} times", o.name, listed.len());
            assert!(listed[0].contains(o.meaning), "{}", o.name);
            assert!(!o.meaning.is_empty() && !o.default.is_empty(), "{}", o.name);
        }
        for h in HELPER_OPTIONS {
            let word = helper_usage(h);
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{word} "))),
                "{word}"
            );
        }
        let option_lines = help.lines().filter(|l| l.starts_with("  ")).count();
        assert_eq!(
            option_lines,
            OPTIONS.len() + HELPER_OPTIONS.len(),
            "a line for each option, no more"
        );
    }
}
