//! `flu check SCRIPT [-- args]`: load the script without mounting, print what flu-api's
//! check found (one line each, `FILE:LINE: error: …`), and fail when anything is an
//! error.

use flu_api::log_escape::escape_str;
use flu_api::lua::check::{check, CheckReport, Finding, Severity};

use super::load_script;
use crate::cli::CheckArgs;

pub fn check_command(args: CheckArgs) -> Result<(), String> {
    let shown = escape_str(&args.script.display().to_string());
    let report = match load_script(&args.script, &args.script_args) {
        Ok(script) => check(script),
        Err(message) => {
            let mut report = CheckReport::new(&args.script);
            report.push(Finding::from_message(Severity::Error, &message));
            report
        }
    };
    for finding in &report.findings {
        println!("{}", line(&shown, finding));
    }
    let (errors, warnings) = (report.errors(), report.warnings());
    if errors > 0 {
        return Err(format!(
            "{shown}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ));
    }
    let listed = match report.root_entries {
        Some(n) => format!(", readdir('/') listed {}", plural(n, "entry")),
        None => String::new(),
    };
    println!(
        "{shown}: ok ({}{listed}; {})",
        plural(report.handlers, "handler"),
        plural(warnings, "warning")
    );
    Ok(())
}

/// `FILE:LINE: error: message`; the script's name when the finding has no place. Both
/// are escaped: a script's message may hold a newline or terminal escapes.
fn line(script: &str, finding: &Finding) -> String {
    let place = match &finding.location {
        Some(location) => location.to_string(),
        None => script.to_string(),
    };
    format!(
        "{}: {}: {}",
        escape_str(&place),
        finding.severity,
        escape_str(&finding.message)
    )
}

fn plural(n: usize, word: &str) -> String {
    match (n, word) {
        (1, _) => format!("1 {word}"),
        (_, "entry") => format!("{n} entries"),
        _ => format!("{n} {word}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flu_api::lua::check::Location;

    #[test]
    fn lines_name_the_place_and_the_severity() {
        let f = Finding::error(
            "boom",
            Some(Location {
                file: "fs.lua".into(),
                line: Some(3),
            }),
        );
        assert_eq!(line("x.lua", &f), "fs.lua:3: error: boom");
        let w = Finding::warning("hm", None);
        assert_eq!(line("x.lua", &w), "x.lua: warning: hm");
        let forged = Finding::warning("a\nfs.lua:1: error: forged", None);
        assert_eq!(
            line("x.lua", &forged),
            "x.lua: warning: a\\nfs.lua:1: error: forged"
        );
        assert_eq!(plural(2, "entry"), "2 entries");
        assert_eq!(plural(1, "error"), "1 error");
        assert_eq!(plural(0, "warning"), "0 warnings");
    }
}
