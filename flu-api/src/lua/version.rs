//! Which Lua flu runs: the release of the interpreter linked into the binary
//! (`Lua 5.4.9`), for `flu --version`.

use std::ffi::{c_char, CStr};

extern "C" {
    /// Lua's identification string, `"$LuaVersion: Lua 5.4.9  Copyright (C) … $$LuaAuthors: … $"`
    /// (lapi.c; declared in lua.h).
    static lua_ident: [c_char; 0];
}

/// The interpreter's release, `Lua 5.4.9`; `Lua 5.4` (the `_VERSION` every script
/// sees) if the release cannot be read.
pub fn lua_version() -> String {
    // SAFETY: lua_ident is a NUL-terminated constant char array defined by the Lua
    // library linked into this binary (mlua's vendored Lua); it lives for the whole
    // program and nothing writes to it.
    let ident = unsafe { CStr::from_ptr(lua_ident.as_ptr()) };
    release_from_ident(&ident.to_string_lossy()).unwrap_or_else(|| {
        mlua::Lua::new()
            .globals()
            .get::<String>("_VERSION")
            .unwrap_or_else(|_| "Lua".into())
    })
}

/// `Lua 5.4.9` out of lua_ident.
fn release_from_ident(ident: &str) -> Option<String> {
    let rest = ident.strip_prefix("$LuaVersion: ")?;
    let mut words = rest.split_whitespace();
    let (lua, release) = (words.next()?, words.next()?);
    (lua == "Lua" && release.split('.').all(|n| n.parse::<u32>().is_ok()))
        .then(|| format!("Lua {release}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linked_release_matches_what_scripts_see() {
        let v = lua_version();
        let scripts_see: String = mlua::Lua::new().globals().get("_VERSION").unwrap();
        assert!(v.starts_with(&scripts_see), "{v} vs {scripts_see}");
        assert_eq!(v.matches('.').count(), 2, "a full release: {v}");
    }

    #[test]
    fn reads_the_ident_string() {
        assert_eq!(
            release_from_ident("$LuaVersion: Lua 5.4.9  Copyright (C) 1994-2025 Lua.org, PUC-Rio $$LuaAuthors: R. $"),
            Some("Lua 5.4.9".into())
        );
        assert_eq!(release_from_ident("garbage"), None);
    }
}
