//! `flu man [--dir DIR]`: manual pages (roff) generated from the command-line
//! definition: flu.1, and flu-SUBCOMMAND.1 for each subcommand. The examples of each
//! `--help` become an EXAMPLES section, and flu-mount.1 gets a MOUNT OPTIONS section
//! from the option table.

use std::path::Path;

use clap::CommandFactory;
use roff::{bold, roman, Roff};

use crate::cli::{Cli, ManArgs};
use crate::mount_helper::HELPER_OPTIONS;
use crate::mount_options::help::{flag_text, helper_usage, usage, HELPER_TITLE};
use crate::mount_options::table::{Group, OPTIONS};

pub fn man_command(args: ManArgs) -> Result<(), String> {
    let pages = pages().map_err(|e| format!("cannot render the manual: {e}"))?;
    match args.dir {
        None => {
            let (_, top) = pages.first().ok_or("no manual page")?;
            print!("{top}");
            Ok(())
        }
        Some(dir) => write_pages(&dir, &pages),
    }
}

fn write_pages(dir: &Path, pages: &[(String, String)]) -> Result<(), String> {
    for (name, text) in pages {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {path:?}: {e}"))?;
    }
    Ok(())
}

/// Every page as (file name, roff text): flu.1 first, then one per subcommand.
pub fn pages() -> std::io::Result<Vec<(String, String)>> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![page(&cmd)?];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(page(sub)?);
    }
    Ok(pages)
}

/// One page: clap_mangen's, with the examples (and, for mount, the options) as their
/// own sections before VERSION, in place of clap_mangen's run-together EXTRA section.
fn page(cmd: &clap::Command) -> std::io::Result<(String, String)> {
    let after_help = cmd.get_after_help().map(|h| h.to_string());
    let man = clap_mangen::Man::new(cmd.clone().after_help(None::<&str>)).date("");
    let name = man.get_filename();
    let mut buf = Vec::new();
    man.render(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut extra = Roff::new();
    if let Some(after) = after_help {
        examples_section(&mut extra, &after);
    }
    if cmd.get_name() == "mount" {
        mount_options_section(&mut extra);
    }
    let extra = extra.to_roff();
    let text = match text.find(".SH VERSION") {
        Some(at) => format!("{}{extra}{}", &text[..at], &text[at..]),
        None => format!("{text}{extra}"),
    };
    Ok((name, text))
}

/// The text before `Examples:` as a paragraph, then each example line unfilled.
fn examples_section(roff: &mut Roff, after_help: &str) {
    let (notes, examples) = after_help
        .split_once("Examples:\n")
        .unwrap_or((after_help, ""));
    if !notes.trim().is_empty() {
        roff.control("SH", ["NOTES"]);
        roff.text([roman(notes.trim().replace('\n', " "))]);
    }
    if !examples.trim().is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        roff.control("nf", []);
        for line in examples.lines() {
            roff.text([roman(line.trim())]);
        }
        roff.control("fi", []);
    }
}

/// The `-o` options, as `flu mount -o help` lists them.
fn mount_options_section(roff: &mut Roff) {
    roff.control("SH", ["MOUNT OPTIONS"]);
    roff.text([roman("Given with -o, comma separated; later options win.")]);
    for group in Group::ALL {
        roff.control("SS", [group.title()]);
        for o in OPTIONS.iter().filter(|o| o.group == group) {
            roff.control("TP", []);
            roff.text([bold(usage(o))]);
            let mut meaning = o.meaning.to_string();
            if o.default != "-" {
                meaning.push_str(&format!(" [default: {}]", o.default));
            }
            roff.text([roman(meaning)]);
        }
    }
    roff.control("SS", [HELPER_TITLE]);
    for h in HELPER_OPTIONS {
        roff.control("TP", []);
        roff.text([bold(helper_usage(h))]);
        roff.text([roman(format!("{} ({})", h.meaning, flag_text(h)))]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_per_subcommand_with_examples() {
        let pages = pages().unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "flu.1");
        assert!(names.contains(&"flu-mount.1") && names.contains(&"flu-completions.1"));
        for (name, text) in &pages {
            assert!(text.contains(".SH EXAMPLES"), "{name}");
            assert!(!text.contains(".SH EXTRA"), "{name}");
        }
        let mount = &pages.iter().find(|(n, _)| n == "flu-mount.1").unwrap().1;
        assert!(mount.contains(".SH \"MOUNT OPTIONS\""));
        for o in OPTIONS {
            assert!(mount.contains(&usage(o)), "{}", o.name);
        }
        assert!(pages[0].1.contains("flu SCRIPT"), "the shorthand");
    }
}
