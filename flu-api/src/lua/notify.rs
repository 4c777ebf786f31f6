//! `flu.notify`: `inval_inode(path[, offset[, length]])`, `inval_entry(dir, name)` and
//! `delete(dir, name)`, each returning `true` or `nil, err`.
//!
//! Inside a handler a notification is queued and sent after that handler's reply (so
//! it can never wait on the request it is part of); from a timer it is sent at once.
//! The daemon's `Notifier` does the sending; until the mount serves there is none.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::Arc;

use mlua::{Lua, LuaString, MultiValue, Table, Value};

use crate::notify::{Delivery, Notification, Notifier, NotifyError};

/// The mount's notifier, in the Lua state's app data while the mount serves.
#[derive(Clone)]
pub struct NotifierSlot(pub Option<Arc<dyn Notifier>>);

/// Hand the state `notifier` (None: the mount is gone).
pub fn set_notifier(lua: &Lua, notifier: Option<Arc<dyn Notifier>>) {
    lua.set_app_data(NotifierSlot(notifier));
}

/// The `flu.notify` table.
pub fn create_notify_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "inval_inode",
        lua.create_function(
            |lua, (path, offset, length): (LuaString, Option<i64>, Option<i64>)| {
                let length = length.unwrap_or(0);
                if length < 0 {
                    return Err(mlua::Error::runtime(
                        "bad argument #3 to 'inval_inode' (a length of 0 or more expected)",
                    ));
                }
                send(
                    lua,
                    Notification::InvalInode {
                        path: path_of(&path),
                        offset: offset.unwrap_or(0),
                        length,
                    },
                )
            },
        )?,
    )?;
    t.set(
        "inval_entry",
        lua.create_function(|lua, (dir, name): (LuaString, LuaString)| {
            let (dir, name) = dir_and_name(&dir, &name)?;
            send(lua, Notification::InvalEntry { dir, name })
        })?,
    )?;
    t.set(
        "delete",
        lua.create_function(|lua, (dir, name): (LuaString, LuaString)| {
            let (dir, name) = dir_and_name(&dir, &name)?;
            send(lua, Notification::Delete { dir, name })
        })?,
    )?;
    Ok(t)
}

/// A notification of a composed backend names paths below its mount point: made
/// paths of the whole mount.
fn within_mount(notification: Notification) -> Notification {
    let absolute = |p: PathBuf| {
        PathBuf::from(OsString::from_vec(crate::compose::scope::absolute(
            p.as_os_str().as_bytes(),
        )))
    };
    match notification {
        Notification::InvalInode {
            path,
            offset,
            length,
        } => Notification::InvalInode {
            path: absolute(path),
            offset,
            length,
        },
        Notification::InvalEntry { dir, name } => Notification::InvalEntry {
            dir: absolute(dir),
            name,
        },
        Notification::Delete { dir, name } => Notification::Delete {
            dir: absolute(dir),
            name,
        },
    }
}

/// A path as handlers see them; one written without its leading `/` (`"status"`) means
/// the same file.
fn path_of(s: &LuaString) -> PathBuf {
    let bytes = s.as_bytes();
    let mut path = Vec::with_capacity(bytes.len() + 1);
    if bytes.first() != Some(&b'/') {
        path.push(b'/');
    }
    path.extend_from_slice(&bytes);
    PathBuf::from(OsString::from_vec(path))
}

/// A directory path and one name in it (no `/`, not empty, not `.` or `..`).
fn dir_and_name(dir: &LuaString, name: &LuaString) -> mlua::Result<(PathBuf, OsString)> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.contains(&b'/') || &*bytes == b"." || &*bytes == b".." {
        return Err(mlua::Error::runtime(format!(
            "bad argument #2 (a name in the directory expected, got '{}')",
            crate::log_escape::escape_str(&name.to_string_lossy())
        )));
    }
    Ok((path_of(dir), OsString::from_vec(bytes.to_vec())))
}

fn send(lua: &Lua, notification: Notification) -> mlua::Result<MultiValue> {
    let notification = within_mount(notification);
    let notifier = lua
        .app_data_ref::<NotifierSlot>()
        .and_then(|slot| slot.0.clone());
    let result = match notifier {
        None => Err(NotifyError::NotMounted),
        Some(n) => {
            let delivery = if super::filesystem::in_handler() {
                Delivery::AfterReply
            } else {
                Delivery::Now
            };
            n.notify(notification, delivery)
        }
    };
    match result {
        Ok(()) => Ok(MultiValue::from_iter([Value::Boolean(true)])),
        Err(e) => Ok(MultiValue::from_iter([
            Value::Nil,
            Value::String(lua.create_string(e.to_string())?),
        ])),
    }
}
