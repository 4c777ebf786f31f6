//! Where `require` finds modules: the script's own directory first (`package.path`),
//! then flu's built-in `flu` and `fs`, then Debian's Lua 5.4 directories, and a last
//! word when a module exists only for another Lua version.
//!
//! flu's `flu` and `fs` come after the script's own modules: a script that ships an
//! fs.lua (as Flu filesystems in the wild do) gets it from `require 'fs'`; flu's stays
//! reachable as `flu.fs`. A script that is itself named after the module it requires
//! (an `fs.lua` doing `require 'fs'`) would load itself again and again until Lua's C
//! stack overflows: that name gets flu's module (or a clear error) instead.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use mlua::{Function, Lua, MultiValue, Table, Value};

/// Set up `package.path`, `package.cpath` and the searchers of a script at `script`.
pub(super) fn install(lua: &Lua, script: &Path, flu: Table, fs_module: Table) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    let builtin = builtin_searcher(lua, flu, fs_module)?;
    let searchers: Table = package.get("searchers")?;
    // Before Lua's own file searcher (the second): the script found as a module of its
    // own directory.
    searchers.raw_insert(2, self_searcher(lua, script, builtin.clone())?)?;
    searchers.raw_push(builtin)?;
    searchers.raw_push(other_lua_versions_searcher(lua)?)?;
    let dir = script
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = String::from_utf8_lossy(dir.as_os_str().as_bytes()).into_owned();
    let old: String = package.get("path")?;
    // Also where Debian installs Lua 5.4 modules (lua-* packages), after the defaults.
    package.set(
        "path",
        format!("{dir}/?.lua;{dir}/?/init.lua;{old};/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua"),
    )?;
    let cpath: String = package.get("cpath")?;
    let arch = std::env::consts::ARCH;
    package.set(
        "cpath",
        format!("{cpath};/usr/lib/{arch}-linux-gnu/lua/5.4/?.so;/usr/lib/lua/5.4/?.so"),
    )
}

/// The searcher of flu's own modules: a loader for `flu` and `fs`, else why not.
fn builtin_searcher(lua: &Lua, flu: Table, fs_module: Table) -> mlua::Result<Function> {
    lua.create_function(move |lua, name: mlua::LuaString| {
        let module = match &*name.as_bytes() {
            b"flu" => Value::Table(flu.clone()),
            b"fs" => Value::Table(fs_module.clone()),
            _ => {
                return Ok(MultiValue::from_vec(vec![Value::String(
                    lua.create_string("\n\tno flu built-in module of that name")?,
                )]))
            }
        };
        let loader = lua.create_function(move |_, _: MultiValue| Ok(module.clone()))?;
        Ok(MultiValue::from_vec(vec![Value::Function(loader)]))
    })
}

/// The searcher that keeps a script from loading itself as a module: when `name` is
/// found on `package.path` as the script's own file, flu's module of that name (`fs`,
/// `flu`), or a loader that says what happened. Only a name whose last part is the
/// script's file name (`fs` for fs.lua; any name for an init.lua) is searched for, so
/// other requires cost no second search of the path.
fn self_searcher(lua: &Lua, script: &Path, builtin: Function) -> mlua::Result<Function> {
    let nothing = || Ok(MultiValue::from_vec(vec![Value::Nil]));
    let (Some(identity), Some(stem)) = (file_identity(script), script.file_stem()) else {
        return lua.create_function(move |_, _: MultiValue| nothing());
    };
    let stem = stem.as_bytes().to_vec();
    let shown = script.display().to_string();
    lua.create_function(move |lua, name: mlua::LuaString| {
        let bytes = name.as_bytes();
        let last = bytes.rsplit(|&b| b == b'.').next().unwrap_or(&bytes);
        if last != stem.as_slice() && stem != b"init" {
            return nothing();
        }
        let package: Table = lua.globals().get("package")?;
        let Ok(searchpath) = package.get::<Function>("searchpath") else {
            return nothing();
        };
        let path: Value = package.get("path")?;
        let found: Option<mlua::LuaString> = searchpath.call((name.clone(), path))?;
        let Some(found) = found else {
            return nothing();
        };
        if file_identity(Path::new(std::ffi::OsStr::from_bytes(&found.as_bytes()))) != Some(identity) {
            return nothing();
        }
        let from_flu: MultiValue = builtin.call(name.clone())?;
        if matches!(from_flu.front(), Some(Value::Function(_))) {
            return Ok(from_flu);
        }
        let message = format!(
            "module '{}' is the script being mounted ({shown}): requiring it would load the script again; rename the script or the module",
            name.to_string_lossy(),
        );
        let loader = lua.create_function(move |_, _: MultiValue| -> mlua::Result<()> {
            Err(mlua::Error::runtime(message.clone()))
        })?;
        Ok(MultiValue::from_vec(vec![Value::Function(loader)]))
    })
}

/// The device and inode of the file at `path` (following symlinks, as `require` does).
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// A last `package.searchers` entry: when a module is found nowhere, say whether it
/// exists for another Lua version (Debian ships lua-posix, lua-cjson, lua-socket for
/// 5.1–5.3 only), so `require 'posix'` explains itself.
fn other_lua_versions_searcher(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, name: String| {
        let file = name.replace('.', "/");
        let arch = std::env::consts::ARCH;
        let mut found = Vec::new();
        for v in ["5.3", "5.2", "5.1"] {
            for p in [
                format!("/usr/lib/{arch}-linux-gnu/lua/{v}/{file}.so"),
                format!("/usr/local/lib/lua/{v}/{file}.so"),
                format!("/usr/share/lua/{v}/{file}.lua"),
                format!("/usr/share/lua/{v}/{file}/init.lua"),
                format!("/usr/local/share/lua/{v}/{file}.lua"),
            ] {
                if Path::new(&p).exists() {
                    found.push(format!("{p} (Lua {v})"));
                }
            }
        }
        let message = if found.is_empty() {
            String::new()
        } else {
            format!(
                "\n\tfound {name} for another Lua version: {}; flu runs Lua 5.4, which cannot load it: install a build for Lua 5.4, or use flu's fs module instead (docs/migration.md maps luaposix and LuaFileSystem calls to it)",
                found.join(", ")
            )
        };
        lua.create_string(message)
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::try_load_as;
    use crate::lua::{default_environment, Script};
    use crate::test_support::TempDir;

    #[test]
    fn a_script_named_after_a_builtin_gets_the_builtin() {
        // Before: fs.lua doing require 'fs' loaded itself until the C stack overflowed.
        let loaded = try_load_as(
            "fs.lua",
            "local fs = require 'fs'\nassert(type(fs.attr) == 'function')\nreturn {}",
            &[],
        );
        assert!(loaded.is_ok(), "{:?}", loaded.err());
    }

    #[test]
    fn a_script_requiring_itself_is_told_so() {
        let e = try_load_as("mine.lua", "local m = require 'mine'\nreturn {}", &[])
            .err()
            .expect("fails")
            .to_string();
        assert!(
            e.contains("module 'mine' is the script being mounted"),
            "{e}"
        );
    }

    #[test]
    fn a_module_shipped_beside_the_script_still_comes_first() {
        let dir = TempDir::new("lua-searchers");
        std::fs::write(dir.join("fs.lua"), "return {shipped = true}").unwrap();
        let main = dir.join("main.lua");
        std::fs::write(
            &main,
            "assert(require('fs').shipped)\nassert(require('flu').fs.attr)\nreturn {}",
        )
        .unwrap();
        let mut script = Script::load(&main, &[], &default_environment()).unwrap();
        assert!(script.run().is_ok());
    }
}
