//! `flu.union{upper, lower1, lower2, …}`: a handler table over the native [`Union`]
//! backend. A layer is a directory path (the native passthrough over it, as
//! `flu.passthrough(path)` makes it) or a handler table: one of native functions
//! (`flu.passthrough`, another union, a composition) is its backend, called without Lua;
//! one of Lua handlers is served by the script (`crate::lua::compose::backend_of`). The
//! union table's functions are the union's own, so the daemon serves them natively.

use std::sync::Arc;

use mlua::{Lua, Table, Value};

use super::module::BackendFactory;
use super::ops::native_table;
use crate::operations::Operations;
use crate::union::Union;

/// The unions `flu.union` made in this Lua state (app data): one cannot be an upper, it
/// keeps no whiteouts of its own (a 0/0 device made through it is refused, as by
/// overlayfs). As a lower it is a layer like any other.
#[derive(Default)]
struct Unions(Vec<Arc<dyn Operations>>);

fn is_union(lua: &Lua, b: &Arc<dyn Operations>) -> bool {
    lua.app_data_ref::<Unions>()
        .is_some_and(|u| u.0.iter().any(|x| Arc::ptr_eq(x, b)))
}

/// The backend layer `n` (1-based) stands for.
fn layer_backend(
    lua: &Lua,
    n: usize,
    value: Value,
    passthrough: BackendFactory,
) -> mlua::Result<Arc<dyn Operations>> {
    match value {
        Value::String(path) => passthrough(lua, &path.as_bytes(), &Value::Nil)
            .map_err(|e| mlua::Error::runtime(format!("flu.union: layer {n}: {e}"))),
        Value::Table(t) => {
            // A table of native functions is their backend; a table of Lua handlers is
            // served by the script, in its own setting (as a composition's branch).
            let b = super::compose::backend_of(lua, &t)
                .map_err(|e| mlua::Error::runtime(format!("flu.union: layer {n}: {e}")))?;
            if n == 1 && is_union(lua, &b) {
                return Err(mlua::Error::runtime(
                    "flu.union: layer 1, the upper, cannot be a flu.union table (it keeps \
                     no whiteouts); a union is fine as a lower",
                ));
            }
            Ok(b)
        }
        other => Err(mlua::Error::runtime(format!(
            "flu.union: layer {n} must be a directory path or a handler table, got {}",
            other.type_name()
        ))),
    }
}

/// Add `flu.union` to the `flu` module table.
pub(super) fn install(lua: &Lua, flu: &Table, passthrough: BackendFactory) -> mlua::Result<()> {
    let union = lua.create_function(move |lua, layers: Table| {
        let mut backends = Vec::new();
        for (k, value) in layers.sequence_values::<Value>().enumerate() {
            backends.push(layer_backend(lua, k + 1, value?, passthrough)?);
        }
        if backends.len() < 2 {
            return Err(mlua::Error::runtime(
                "flu.union: give an upper layer and at least one lower: flu.union{upper, lower1, …}",
            ));
        }
        let upper = backends.remove(0);
        let union: Arc<dyn Operations> = Arc::new(Union::new(upper, backends));
        if lua.app_data_ref::<Unions>().is_none() {
            lua.set_app_data(Unions::default());
        }
        if let Some(mut u) = lua.app_data_mut::<Unions>() {
            u.0.push(union.clone());
        }
        native_table(lua, union)
    })?;
    flu.set("union", union)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::Path;

    use crate::lua::tests::{load, try_load};
    use crate::operations::RequestContext;
    use crate::test_support::TempDir;

    #[test]
    fn union_of_a_path_and_a_passthrough_table_is_native() {
        let (upper, lower) = (TempDir::new("lua-union-up"), TempDir::new("lua-union-lo"));
        std::fs::write(lower.join("f"), b"lower").unwrap();
        let args = [
            upper.path().to_str().unwrap(),
            lower.path().to_str().unwrap(),
        ];
        let (_s, ops) = load(
            "local flu = require 'flu'\n\
             local up, lo = ...\n\
             return flu.union{up, flu.passthrough(lo)}",
            &args,
        );
        let c = RequestContext::default();
        assert_eq!(
            ops.served_by(crate::op::Op::Unlink),
            crate::op::ServedBy::Native
        );
        assert!(ops.getattr(&c, Path::new("/f"), None).is_ok());
        ops.unlink(&c, Path::new("/f")).unwrap();
        let m = std::fs::symlink_metadata(upper.join("f")).unwrap();
        assert!(m.file_type().is_char_device() && m.rdev() == 0);
        assert!(lower.join("f").exists());
    }

    #[test]
    fn a_union_is_a_lower_but_not_an_upper() {
        let dirs: Vec<TempDir> = (0..3).map(|_| TempDir::new("lua-union-nest")).collect();
        std::fs::write(dirs[2].join("deep"), b"deep").unwrap();
        let args: Vec<&str> = dirs.iter().map(|d| d.path().to_str().unwrap()).collect();
        let (_s, ops) = load(
            "local flu = require 'flu'\n\
             local a, b, c = ...\n\
             return flu.union{a, flu.union{b, c}}",
            &args,
        );
        let c = RequestContext::default();
        assert!(ops.getattr(&c, Path::new("/deep"), None).is_ok());
        ops.unlink(&c, Path::new("/deep")).unwrap();
        assert!(ops.getattr(&c, Path::new("/deep"), None).is_err());
        assert!(dirs[2].join("deep").exists(), "lowers untouched");
        let e = load_error(
            "local flu = require 'flu'\n\
             local a, b, c = ...\n\
             return flu.union{flu.union{a, b}, c}",
            &args,
        );
        assert!(e.contains("the upper, cannot be a flu.union table"), "{e}");
    }

    fn load_error(source: &str, args: &[&str]) -> String {
        match try_load(source, args) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("the script ran"),
        }
    }

    #[test]
    fn bad_layers_and_too_few_layers_are_clear_errors() {
        let d = TempDir::new("lua-union-d");
        let d = d.path().to_str().unwrap();
        let e = load_error("return require('flu').union{..., 42}", &[d]);
        assert!(
            e.contains(
                "flu.union: layer 2 must be a directory path or a handler table, got integer"
            ),
            "{e}"
        );
        let e = load_error("return require('flu').union{...}", &[d]);
        assert!(e.contains("at least one lower"), "{e}");
        let e = load_error("return require('flu').union{..., '/no/such/dir'}", &[d]);
        assert!(e.contains("flu.union: layer 2:"), "{e}");
    }
}
