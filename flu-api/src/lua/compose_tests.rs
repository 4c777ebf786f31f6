//! `flu.compose` from Lua, without a kernel: which compositions are served with no Lua
//! in the way, Lua branches served through the script's filesystem (also from inside a
//! handler of its own), and the messages of compositions that cannot be made.

use std::path::Path;
use std::sync::Arc;

use super::tests::try_load as load;
use crate::op::{Op, ServedBy};
use crate::operations::{Fh, Operations, RequestContext};
use crate::test_support::TempDir;

fn read(ops: &Arc<dyn Operations>, path: &str) -> Vec<u8> {
    let c = RequestContext::default();
    let p = Path::new(path);
    let o = ops.open(&c, p, libc::O_RDONLY).unwrap();
    let data = ops.read(&c, p, Fh(o.fh), 0, 100).unwrap();
    ops.release(&c, p, Fh(o.fh), libc::O_RDONLY, false).unwrap();
    data
}

const MEMO: &str = r#"
    local flu = require 'flu'
    local memo = {}
    function memo.getattr(path)
      if path == '/' then return {mode = tonumber('40755', 8)} end
      if path == '/m' then return {mode = tonumber('100644', 8), size = 4} end
      error(flu.errno.ENOENT)
    end
    function memo.open(path, fi) fi.fh = 41 end
    function memo.read(path, size, offset, fi) return 'fh' .. fi.fh end
"#;

#[test]
fn native_branches_only_are_served_with_no_lua_in_the_way() {
    let a = TempDir::new("compose-a");
    let b = TempDir::new("compose-b");
    std::fs::write(a.join("f"), "a").unwrap();
    std::fs::write(b.join("g"), "b").unwrap();
    let (_s, ops) = load(
        "local flu = require 'flu'; local a, b = ...
         return flu.compose{['/'] = flu.passthrough(a), ['/b'] = flu.passthrough(b)}",
        &[a.path().to_str().unwrap(), b.path().to_str().unwrap()],
    )
    .unwrap();
    // A LuaFilesystem would say how much memory its state uses.
    assert_eq!(ops.memory_used(), None);
    assert_eq!(ops.served_by(Op::Read), ServedBy::Native);
    assert_eq!(read(&ops, "/f"), b"a");
    assert_eq!(read(&ops, "/b/g"), b"b");
}

#[test]
fn lua_branches_are_served_by_the_script_with_their_own_handles() {
    let a = TempDir::new("compose-lua");
    std::fs::write(a.join("f"), "a").unwrap();
    let source = format!(
        "{MEMO}
         local dir = ...
         return flu.compose{{['/'] = flu.passthrough(dir), ['/memo'] = memo}}"
    );
    let (_s, ops) = load(&source, &[a.path().to_str().unwrap()]).unwrap();
    assert!(ops.memory_used().is_some(), "served through the script");
    assert_eq!(ops.served_by(Op::Read), ServedBy::Lua);
    assert_eq!(read(&ops, "/memo/m"), b"fh41");
    assert_eq!(read(&ops, "/f"), b"a");
}

#[test]
fn an_override_reaches_a_lua_branch_from_inside_its_handler() {
    let source = format!(
        "{MEMO}
         local composed = flu.compose{{['/'] = memo, ['/inner'] = flu.compose{{['/'] = memo}}}}
         local fs = setmetatable({{}}, {{__index = composed}})
         function fs.read(path, size, offset, fi)
           return composed.read(path, size, offset, fi):upper()
         end
         return fs"
    );
    let (_s, ops) = load(&source, &[]).unwrap();
    assert_eq!(read(&ops, "/m"), b"FH41");
    assert_eq!(read(&ops, "/inner/m"), b"FH41");
}

#[test]
fn compositions_that_cannot_be_made_say_why() {
    let message = |source: &str| match load(source, &[]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded: {source}"),
    };
    let m = message("return require('flu').compose('x')");
    assert!(m.contains("table of mount point"), "{m}");
    let m = message("return require('flu').compose{['/a'] = 'dir'}");
    assert!(m.contains("'/a' must be a handler table"), "{m}");
    let m = message("return require('flu').compose{[1] = {}}");
    assert!(m.contains("mount points are paths"), "{m}");
    let m = message("return require('flu').compose{['a'] = {}}");
    assert!(m.contains("absolute path"), "{m}");
    let m = message("return require('flu').compose{['/a'] = {}, ['/a/'] = {}}");
    assert!(m.contains("given twice"), "{m}");
    let m = message("return require('flu').compose{}");
    assert!(m.contains("at least one"), "{m}");
}

/// What a trivial Lua getattr costs in-process, directly and as a composition's branch
/// (printed, not asserted: `cargo test --release -p flu-api lua::compose_tests::costs --
/// --ignored --nocapture`).
#[test]
#[ignore]
fn costs() {
    let trivial = "local flu = require 'flu'
        local st = {mode = tonumber('100644', 8), size = 1, ino = 2, nlink = 1}
        local fs = {getattr = function(path) return st end}";
    let (_a, plain) = load(&format!("{trivial}\nreturn fs"), &[]).unwrap();
    let (_b, composed) =
        load(&format!("{trivial}\nreturn flu.compose{{['/'] = fs}}"), &[]).unwrap();
    let c = RequestContext::default();
    let n = 100_000u32;
    for (name, ops, path) in [("plain", &plain, "/f"), ("composed", &composed, "/f")] {
        let start = std::time::Instant::now();
        for _ in 0..n {
            ops.getattr(&c, Path::new(path), None).unwrap();
        }
        let ns = start.elapsed().as_nanos() / u128::from(n);
        println!("trivial Lua getattr, {name}: {ns} ns");
    }
}
