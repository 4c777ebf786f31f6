//! `flu types DIR [--force]`: write flu's LuaLS annotation files into `DIR/.flu-types/`
//! and a `.luarc.json` in DIR that points the language server at them. An existing
//! `.luarc.json` is left alone unless it is `--force`d (or already names the files).

use std::path::Path;

use flu_api::lua::ANNOTATION_FILES;

use crate::cli::TypesArgs;

/// The directory under DIR that holds the annotation files.
pub const TYPES_DIR: &str = ".flu-types";

/// What `.luarc.json` says: Lua 5.4, and the annotation files as a library. The path is
/// relative to DIR, the workspace the language server opens.
const LUARC: &str = r#"{
  "$schema": "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json",
  "runtime.version": "Lua 5.4",
  "workspace.library": [".flu-types"],
  "workspace.checkThirdParty": false
}
"#;

pub fn types_command(args: TypesArgs) -> Result<(), String> {
    let dir = &args.dir;
    let types = dir.join(TYPES_DIR);
    std::fs::create_dir_all(&types)
        .map_err(|e| format!("cannot create {}: {e}", types.display()))?;
    for (name, text) in ANNOTATION_FILES {
        let path = types.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!(
        "wrote {} annotation files to {}",
        ANNOTATION_FILES.len(),
        types.display()
    );
    write_luarc(&dir.join(".luarc.json"), args.force)
}

fn write_luarc(path: &Path, force: bool) -> Result<(), String> {
    match std::fs::read_to_string(path) {
        Ok(existing) if !force => {
            if existing.contains(TYPES_DIR) {
                println!(
                    "{} already names {TYPES_DIR}: left as it is",
                    path.display()
                );
                return Ok(());
            }
            return Err(format!(
                "{} exists and was left as it is: add \"{TYPES_DIR}\" to its \"workspace.library\" and set \"runtime.version\" to \"Lua 5.4\", or run again with --force to replace it",
                path.display()
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    std::fs::write(path, LUARC).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
