//! The stat hand-off (`stat_handoff.rs`): a Lua getattr that returns `base.getattr`'s
//! result unchanged gets exactly what the native getattr gives, without the table; every
//! other shape of handler gets (and may change) the table.

use std::path::Path;
use std::sync::Arc;

use super::stat_handoff::HANDED_OFF;
use super::tests::load;
use super::Script;
use crate::operations::{Fh, Operations, RequestContext};
use crate::stat::Stat;
use crate::test_support::TempDir;

/// A passthrough of a new directory holding the file `f` (5 bytes) whose getattr and
/// fgetattr are `function(p, fi) <handler> end`, `base` being the passthrough.
fn mount_with(handler: &str) -> (TempDir, Script, Arc<dyn Operations>) {
    let root = TempDir::new("lua-stat-handoff");
    std::fs::write(root.join("f"), b"12345").unwrap();
    let source = format!(
        "local base = require('flu').passthrough(...)\n\
         local fs = setmetatable({{}}, {{__index = base}})\n\
         function fs.getattr(p, fi) {handler} end\n\
         fs.fgetattr = fs.getattr\n\
         return fs"
    );
    let (script, ops) = load(&source, &[root.path().to_str().unwrap()]);
    (root, script, ops)
}

/// getattr of `/f` (through an open handle if `fh`): what it answered, and whether the
/// stat was handed off.
fn getattr_of(ops: &Arc<dyn Operations>, fh: bool) -> (Stat, bool) {
    let c = RequestContext::default();
    let handle = fh.then(|| Fh(ops.open(&c, Path::new("/f"), libc::O_RDONLY).unwrap().fh));
    let before = HANDED_OFF.get();
    let st = ops.getattr(&c, Path::new("/f"), handle).unwrap();
    (st, HANDED_OFF.get() > before)
}

fn getattr_through(handler: &str, fh: bool) -> (Stat, bool) {
    let (_root, _script, ops) = mount_with(handler);
    getattr_of(&ops, fh)
}

#[test]
fn a_tail_call_hands_the_native_stat_over() {
    for (handler, fh) in [
        ("return base.getattr(p, fi)", false),
        ("return base.getattr(p, fi)", true),
        // A chain of tail calls still returns the native's result.
        (
            "local function g(...) return base.getattr(...) end return g(p, fi)",
            false,
        ),
        (
            "if p == '/nothing' then return nil end return base.getattr(p)",
            false,
        ),
        // The driver resumed after a wait is still the one whose result is read.
        (
            "require('flu').sleep(0.001) return base.getattr(p, fi)",
            false,
        ),
    ] {
        let (st, handed) = getattr_through(handler, fh);
        assert!(handed, "{handler}");
        assert_eq!(st.size, 5, "{handler}");
        assert_eq!(st.mode & libc::S_IFMT, libc::S_IFREG, "{handler}");
        assert_eq!((st.attr_timeout, st.entry_timeout), (None, None));
    }
}

#[test]
fn handed_off_stats_equal_the_table_round_trip() {
    // Odd calls return the native's result straight, even ones through a local.
    let (_root, _script, ops) = mount_with(
        "n = (n or 0) + 1 if n % 2 == 0 then local st = base.getattr(p, fi) return st end \
         return base.getattr(p, fi)",
    );
    for fh in [false, true] {
        let (handed, was_handed) = getattr_of(&ops, fh);
        let (table, was_table) = getattr_of(&ops, fh);
        assert!(was_handed && !was_table);
        assert_eq!(handed, table);
    }
}

#[test]
fn results_lua_can_see_or_change_are_tables() {
    for (handler, size) in [
        ("local st = base.getattr(p, fi) st.size = 7 return st", 7),
        ("local st = base.getattr(p, fi) return st", 5),
        // Parentheses make it an ordinary call (one result kept).
        ("return (base.getattr(p, fi))", 5),
        ("local ok, st = pcall(base.getattr, p, fi) return st", 5),
        ("return select(1, base.getattr(p, fi))", 5),
        ("return (function(...) return ... end)(base.getattr(p, fi))", 5),
        ("local st = base.getattr(p, fi) assert(type(st) == 'table' and st.size == 5) return base.getattr(p, fi)", 5),
    ] {
        let (st, handed) = getattr_through(handler, false);
        assert_eq!(st.size, size, "{handler}");
        let tail_at_end = handler.ends_with("return base.getattr(p, fi)");
        assert_eq!(handed, tail_at_end, "{handler}");
    }
    // A native getattr nested inside another call of the script is never handed off.
    let (st, handed) = getattr_through(
        "local t = {} for i = 1, 2 do t[i] = base.getattr(p, fi) end return t[2]",
        false,
    );
    assert!(!handed && st.size == 5);
}

#[test]
fn errors_reach_the_daemon_as_before() {
    let root = TempDir::new("lua-stat-handoff-missing");
    for (handler, handed) in [
        // Handed off: no error raised through the shim and the message handler.
        ("return base.getattr(p, fi)", true),
        // Raised, as a script calling base.getattr sees it.
        ("local st = base.getattr(p, fi) return st", false),
        (
            "local ok, e = pcall(base.getattr, p, fi) assert(not ok) error(e)",
            false,
        ),
    ] {
        let source = format!(
            "local base = require('flu').passthrough(...)\n\
             return setmetatable({{getattr = function(p, fi) {handler} end}}, {{__index = base}})"
        );
        let (_s, ops) = load(&source, &[root.path().to_str().unwrap()]);
        let before = HANDED_OFF.get();
        let e = ops
            .getattr(&RequestContext::default(), Path::new("/missing"), None)
            .unwrap_err();
        assert_eq!(e, crate::errno::Errno::ENOENT, "{handler}");
        assert_eq!(HANDED_OFF.get() > before, handed, "{handler}");
    }
}
