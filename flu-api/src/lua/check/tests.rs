//! Each kind of finding, from a script that has it.

use std::time::Duration;

use super::{check_within, CheckReport, Finding, Location, Severity};
use crate::lua::{default_environment, Script};
use crate::test_support::TempDir;

/// Check `source` saved as main.lua; the report and the script's path (as Lua names it).
fn check_source(source: &str, args: &[&str]) -> (CheckReport, String) {
    let dir = TempDir::new("check");
    let path = dir.join("main.lua");
    std::fs::write(&path, source).expect("write script");
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    let script = Script::load(&path, &args, &default_environment()).expect("script loads");
    let report = check_within(script, Duration::from_secs(2));
    (report, path.display().to_string())
}

fn at(file: &str, line: u32) -> Option<Location> {
    Some(Location {
        file: file.to_string(),
        line: Some(line),
    })
}

/// The one finding whose message contains `part`.
fn finding<'a>(report: &'a CheckReport, part: &str) -> &'a Finding {
    let found: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.message.contains(part))
        .collect();
    assert_eq!(found.len(), 1, "{part:?} in {:#?}", report.findings);
    found[0]
}

const GOOD: &str = r#"
local fs = {}
function fs.getattr(path)
  if path == '/' then return { mode = 'directory' } end
  if path == '/a' then return { mode = { reg = true, rusr = true }, size = 3 } end
  return nil, 'ENOENT'
end
function fs.readdir(path, filler) filler('.') filler('..') filler('a') end
return fs
"#;

#[test]
fn a_sound_script_has_no_findings() {
    let (r, _) = check_source(GOOD, &[]);
    assert_eq!(r.findings, vec![]);
    assert_eq!((r.handlers, r.root_entries), (2, Some(3)));
}

#[test]
fn misspelled_and_stray_names_are_warnings_at_their_definition() {
    let src = GOOD.replace(
        "return fs",
        "function fs.raedlink(p) end\nfunction fs.helper() end\nreturn fs",
    );
    let (r, file) = check_source(&src, &[]);
    let f = finding(&r, "'raedlink' is no handler");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("did you mean 'readlink'?"), "{f:?}");
    assert_eq!(f.location, at(&file, 9));
    let f = finding(&r, "'helper' is a function flu never calls");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(r.errors(), 0);
}

#[test]
fn no_handlers_non_functions_and_no_getattr_are_errors() {
    let (r, _) = check_source("return { data = {} }", &[]);
    assert_eq!(finding(&r, "defines no handlers").severity, Severity::Error);
    let (r, _) = check_source("return { readdir = function() end, read = 'hello' }", &[]);
    assert_eq!(
        finding(&r, "handler 'read' is a string, not a function").severity,
        Severity::Error
    );
    assert_eq!(finding(&r, "no getattr handler").severity, Severity::Error);
}

#[test]
fn load_failures_are_errors_with_their_line() {
    let (r, file) = check_source("local x = 1\nerror('no config')\nreturn {}", &[]);
    let f = finding(&r, "no config");
    assert_eq!(
        (f.severity, f.location.clone()),
        (Severity::Error, at(&file, 2))
    );
    let (r, _) = check_source("return 42", &[]);
    assert!(finding(&r, "returned no filesystem table (got number)").severity == Severity::Error);
    let (r, _) = check_source(
        "return { getattr = function() return {mode='directory'} end, max_file_size = 'big' }",
        &[],
    );
    assert_eq!(finding(&r, "max_file_size").severity, Severity::Error);
    // A syntax error fails the load itself; its message carries the position.
    let e = Finding::from_message(Severity::Error, "x/fs.lua:4: '}' expected near 'size'");
    assert_eq!(e.location, at("x/fs.lua", 4));
    assert_eq!(e.message, "'}' expected near 'size'");
}

#[test]
fn an_endless_main_chunk_is_interrupted() {
    let (r, _) = check_source("while true do end", &[]);
    assert!(finding(&r, "ran for more than").severity == Severity::Error);
}

#[test]
fn flu_main_hands_over_the_table_and_the_rest_does_not_run() {
    let src = GOOD.replace(
        "return fs",
        "local flu = require 'flu'\nflu.main({'x', ...}, fs)\nerror('resumed after flu.main')",
    );
    let (r, _) = check_source(&src, &[]);
    assert_eq!(r.findings, vec![]);
    assert_eq!(r.root_entries, Some(3));
}

#[test]
fn getattr_failures_are_errors_where_they_happen() {
    let (r, file) = check_source(
        "local fs = {}\nfunction fs.getattr(p)\n  local t = nil\n  return t.x\nend\nreturn fs",
        &[],
    );
    let f = finding(&r, "getattr('/') raised an error");
    assert!(f.message.contains("attempt to index"), "{f:?}");
    assert_eq!(f.location, at(&file, 4));

    let (r, file) = check_source(
        "local fs = {}\nfunction fs.getattr(p) return 42 end\nreturn fs",
        &[],
    );
    let f = finding(&r, "table expected, got number");
    assert_eq!(
        (f.severity, f.location.clone()),
        (Severity::Error, at(&file, 2))
    );

    let (r, _) = check_source(
        "return { getattr = function() return nil, 'ENOENT' end }",
        &[],
    );
    assert!(finding(&r, "failed with ENOENT").severity == Severity::Error);
}

#[test]
fn stat_fields_of_the_wrong_type_are_errors_and_unknown_ones_warnings() {
    let (r, file) = check_source(
        "local fs = {}\n\nfunction fs.getattr(p)\n  return { mode = 'directory', size = true }\nend\nreturn fs",
        &[],
    );
    let f = finding(&r, "field 'size' must be a number, got boolean");
    assert_eq!(
        (f.severity, f.location.clone()),
        (Severity::Error, at(&file, 3))
    );

    let (r, file) = check_source(
        "local fs = {}\nfunction fs.getattr(p)\n  return { mode = { dir = true, rusr = true, xusr = true, xuser = true }, sise = 4, colour = 1 }\nend\nreturn fs",
        &[],
    );
    let f = finding(&r, "field 'sise'");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.message.contains("did you mean 'size'?"), "{f:?}");
    assert_eq!(f.location, at(&file, 2));
    assert!(!finding(&r, "field 'colour'")
        .message
        .contains("did you mean"));
    assert!(finding(&r, "'xuser', which is no mode bit")
        .message
        .contains("'xusr'"));
    assert_eq!(r.errors(), 0, "{:#?}", r.findings);
}

/// `return fs.attr(p, false)` is a getattr answer as it is: its extra fields (`type`,
/// `perms`) are no warning while it has a `mode`; without one they are.
#[test]
fn an_fs_attr_table_returned_as_it_is_is_no_warning() {
    let (r, _) = check_source(
        "local fs = require 'fs'\nreturn {\n  getattr = function(p) return fs.attr('/', false) end,\n  readdir = function(p, filler) filler('.') filler('..') end,\n}",
        &[],
    );
    assert!(
        r.findings.iter().all(|f| !f.message.contains("ignores")),
        "{:#?}",
        r.findings
    );
    assert_eq!((r.errors(), r.warnings()), (0, 0), "{:#?}", r.findings);
    let (r, _) = check_source(
        "return { getattr = function() return { type = 'dir', perms = 493 } end }",
        &[],
    );
    assert_eq!(finding(&r, "field 'type'").severity, Severity::Warning);
    assert_eq!(finding(&r, "field 'perms'").severity, Severity::Warning);
}

#[test]
fn the_root_must_have_the_directory_type() {
    for mode in ["0644", "{ rusr = true, xusr = true }"] {
        let (r, _) = check_source(
            &format!("return {{ getattr = function() return {{ mode = {mode} }} end }}"),
            &[],
        );
        assert_eq!(
            finding(&r, "which has no file type").severity,
            Severity::Error,
            "{mode}"
        );
    }
    let (r, _) = check_source(
        "return { getattr = function() return { mode = 'file' } end }",
        &[],
    );
    assert!(finding(&r, "of type 'reg': the root must be a directory").severity == Severity::Error);
}

#[test]
fn listings_are_checked_entry_by_entry() {
    let (r, file) = check_source(
        r#"local fs = {}
function fs.getattr(p)
  if p == '/' then return { mode = 'directory' } end
  if p == '/plain' then return { mode = 420 } end
  if p == '/a' then return { mode = 'file' } end
  return nil, 'ENOENT'
end
function fs.readdir(p, filler)
  filler('a') filler('a') filler('plain') filler('ghost')
end
return fs"#,
        &[],
    );
    let f = finding(&r, "lists 'a' more than once");
    assert_eq!(
        (f.severity, f.location.clone()),
        (Severity::Error, at(&file, 8))
    );
    assert!(finding(&r, "getattr('/ghost') failed with ENOENT").severity == Severity::Error);
    assert!(finding(&r, "getattr('/plain') returned mode 0o644").severity == Severity::Warning);

    let (r, file) = check_source(
        "local fs = {}\nfunction fs.getattr(p) return { mode = 'directory' } end\nfunction fs.readdir(p, filler)\n  filler('x', 'sideways')\nend\nreturn fs",
        &[],
    );
    let f = finding(&r, "readdir('/') raised an error");
    assert!(f.message.contains("bad argument #2 to 'filler'"), "{f:?}");
    assert_eq!(f.location, at(&file, 4));

    let (r, _) = check_source(
        "return { getattr = function() return { mode = 'directory' } end }",
        &[],
    );
    assert!(finding(&r, "no readdir handler").severity == Severity::Warning);
    assert_eq!(r.errors(), 0);
}

#[test]
fn native_handlers_are_called_too() {
    let root = TempDir::new("check-native");
    std::fs::write(root.join("file"), "x").unwrap();
    let (r, _) = check_source(
        "local flu = require 'flu'\nreturn flu.passthrough((...))",
        &[root.path().to_str().unwrap()],
    );
    assert_eq!(r.findings, vec![]);
    assert_eq!(r.root_entries, Some(1));
    assert!(r.handlers > 30);
}

#[test]
fn endless_handlers_are_interrupted() {
    let (r, _) = check_source("return { getattr = function() while true do end end }", &[]);
    assert!(finding(&r, "getattr('/') raised an error")
        .message
        .contains("interrupted"));
}

#[test]
fn a_handler_waiting_forever_is_cut_short() {
    let start = std::time::Instant::now();
    let (report, _) = check_source(
        "local flu = require 'flu'\n\
         local fs = {}\n\
         function fs.getattr(path) flu.sleep(60) return {mode = 'directory'} end\n\
         return fs\n",
        &[],
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    let f = finding(&report, "did not finish within 4 s");
    assert_eq!(f.severity, Severity::Error);
}

#[test]
fn spawned_tasks_run_during_the_check() {
    // getattr waits for what a task fetches, as under a mount.
    let (report, _) = check_source(
        "local flu = require 'flu'\n\
         local fs, ready = {}, false\n\
         flu.spawn(function() flu.sleep(0.1) ready = true end)\n\
         function fs.getattr(path)\n\
           while not ready do flu.sleep(0.02) end\n\
           return {mode = 'directory'}\n\
         end\n\
         function fs.readdir(path, filler) filler('.') filler('..') end\n\
         return fs\n",
        &[],
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity != Severity::Error),
        "{:#?}",
        report.findings
    );
}
