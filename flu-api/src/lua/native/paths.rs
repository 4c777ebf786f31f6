//! Native functions that act on a path: attributes, names, statfs, extended
//! attributes and access. Those that take `fi` use its native handle when it has one.

use std::os::unix::ffi::OsStrExt;

use mlua::Value;

use super::args::{arg, ctx, handle_of, int_arg, optional_id, path_arg, time_arg};
use super::{answer, Raw, RENAME_FLAGS, XATTR_FLAGS};
use crate::lua::sets::{bits_from_lua, mode_from_lua};
use crate::lua::stat::{stat_to_lua, statfs_to_lua};
use crate::operations::Fh;

/// The native functions that act on a path, by handler name.
pub(super) fn raw_functions() -> Vec<(&'static str, Raw)> {
    vec![
        ("getattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let c = ctx(lua);
            let fi = arg(&a, 1);
            let r = match handle_of(&fi) {
                Some(h) => b.getattr(&c, &p, Some(Fh(h.fh))),
                None => b.getattr(&c, &p, None),
            };
            match r {
                Ok(st) => answer(lua, Ok(stat_to_lua(lua, &st)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("fgetattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let c = ctx(lua);
            let r = b.getattr(&c, &p, handle_of(&arg(&a, 1)).map(|h| Fh(h.fh)));
            match r {
                Ok(st) => answer(lua, Ok(stat_to_lua(lua, &st)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("readlink", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let r = b.readlink(&ctx(lua), &p).map(|t| lua.create_string(t));
            match r {
                Ok(s) => answer(lua, Ok(s?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("mknod", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let rdev = int_arg(&arg(&a, 2), "rdev").unwrap_or(0) as u64;
            answer(lua, b.mknod(&ctx(lua), &p, mode, rdev))
        }),
        ("mkdir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            answer(lua, b.mkdir(&ctx(lua), &p, mode))
        }),
        ("unlink", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            answer(lua, b.unlink(&ctx(lua), &p))
        }),
        ("rmdir", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            answer(lua, b.rmdir(&ctx(lua), &p))
        }),
        ("symlink", |lua, b, a| {
            let target = path_arg(&arg(&a, 0), "target")?;
            let p = path_arg(&arg(&a, 1), "path")?;
            answer(lua, b.symlink(&ctx(lua), &target, &p))
        }),
        ("rename", |lua, b, a| {
            let from = path_arg(&arg(&a, 0), "old")?;
            let to = path_arg(&arg(&a, 1), "new")?;
            let flags = bits_from_lua(&arg(&a, 2), RENAME_FLAGS) as u32;
            answer(lua, b.rename(&ctx(lua), &from, &to, flags))
        }),
        ("link", |lua, b, a| {
            let from = path_arg(&arg(&a, 0), "old")?;
            let to = path_arg(&arg(&a, 1), "new")?;
            answer(lua, b.link(&ctx(lua), &from, &to))
        }),
        ("chmod", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mode = mode_from_lua(&arg(&a, 1)).map_err(mlua::Error::runtime)?;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.chmod(&ctx(lua), &p, mode & 0o7777, fh))
        }),
        ("chown", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let uid = optional_id(&arg(&a, 1));
            let gid = optional_id(&arg(&a, 2));
            let fh = handle_of(&arg(&a, 3)).map(|h| Fh(h.fh));
            answer(lua, b.chown(&ctx(lua), &p, uid, gid, fh))
        }),
        ("truncate", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let size = int_arg(&arg(&a, 1), "size")?.max(0) as u64;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.truncate(&ctx(lua), &p, size, fh))
        }),
        ("ftruncate", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let size = int_arg(&arg(&a, 1), "size")?.max(0) as u64;
            let fh = handle_of(&arg(&a, 2)).map(|h| Fh(h.fh));
            answer(lua, b.truncate(&ctx(lua), &p, size, fh))
        }),
        ("utimens", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let atime = time_arg(&arg(&a, 1))?;
            let mtime = time_arg(&arg(&a, 2))?;
            let fh = handle_of(&arg(&a, 3)).map(|h| Fh(h.fh));
            answer(lua, b.utimens(&ctx(lua), &p, atime, mtime, fh))
        }),
        ("statfs", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path").unwrap_or_else(|_| "/".into());
            match b.statfs(&ctx(lua), &p) {
                Ok(s) => answer(lua, Ok(statfs_to_lua(lua, &s)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("setxattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            let Value::String(value) = arg(&a, 2) else {
                return Err(mlua::Error::runtime(
                    "bad argument 'value' (string expected)",
                ));
            };
            let flags = bits_from_lua(&arg(&a, 3), XATTR_FLAGS) as i32;
            answer(
                lua,
                b.setxattr(&ctx(lua), &p, name.as_os_str(), &value.as_bytes(), flags),
            )
        }),
        ("getxattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            match b.getxattr(&ctx(lua), &p, name.as_os_str()) {
                Ok(v) => answer(lua, Ok(lua.create_string(v)?)),
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("listxattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            match b.listxattr(&ctx(lua), &p) {
                Ok(names) => {
                    let t = lua.create_table()?;
                    for n in names {
                        t.raw_push(lua.create_string(n.as_bytes())?)?;
                    }
                    answer(lua, Ok(t))
                }
                Err(e) => answer::<()>(lua, Err(e)),
            }
        }),
        ("removexattr", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let name = path_arg(&arg(&a, 1), "name")?;
            answer(lua, b.removexattr(&ctx(lua), &p, name.as_os_str()))
        }),
        ("access", |lua, b, a| {
            let p = path_arg(&arg(&a, 0), "path")?;
            let mask = int_arg(&arg(&a, 1), "mask").unwrap_or(0) as i32;
            answer(lua, b.access(&ctx(lua), &p, mask))
        }),
    ]
}
