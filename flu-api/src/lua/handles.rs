//! Open handles of a Lua filesystem: for each file or directory the kernel has open, the
//! `fi` table handed to Lua handlers (so `fi.fh` keeps any Lua value for the life of
//! the handle) and, when a native backend opened it, that backend's own handle.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mlua::{Lua, Table, UserData, UserDataFields};

use super::sets::open_flags_to_lua;
use crate::operations::Operations;

/// A native backend's handle, as a Lua value (`fi.fh` after `base.open(path, fi)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeHandle {
    pub fh: u64,
    pub backing_fd: Option<RawFd>,
}

impl UserData for NativeHandle {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("id", |_, this| Ok(this.fh));
    }
}

/// A backend handle together with the backend that issued it.
#[derive(Clone)]
pub struct NativeRef {
    pub backend: Arc<dyn Operations>,
    pub handle: NativeHandle,
}

/// One open file or directory.
#[derive(Clone, Default)]
pub struct Slot {
    pub flags: i32,
    pub fi: Option<Table>,
    pub native: Option<NativeRef>,
}

/// Slots by the fh number the kernel holds; numbers are never reused.
#[derive(Default)]
pub struct HandleTable {
    next: AtomicU64,
    slots: Mutex<HashMap<u64, Slot>>,
}

impl HandleTable {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Slot>> {
        // A panic elsewhere cannot leave the map inconsistent: keep serving.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn insert(&self, slot: Slot) -> u64 {
        let fh = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(fh, slot);
        fh
    }

    pub fn get(&self, fh: u64) -> Option<Slot> {
        self.lock().get(&fh).cloned()
    }

    /// The native part of a slot, without touching its `fi` table: cloning a Lua value
    /// takes the Lua state's lock, which native I/O must never wait for.
    pub fn native(&self, fh: u64) -> Option<NativeRef> {
        self.lock().get(&fh).and_then(|s| s.native.clone())
    }

    /// The open flags of a slot (no Lua value touched either).
    pub fn flags(&self, fh: u64) -> Option<i32> {
        self.lock().get(&fh).map(|s| s.flags)
    }

    pub fn set_fi(&self, fh: u64, fi: Table) {
        if let Some(slot) = self.lock().get_mut(&fh) {
            slot.fi = Some(fi);
        }
    }

    pub fn remove(&self, fh: u64) -> Option<Slot> {
        self.lock().remove(&fh)
    }
}

/// A fresh `fi` table, as Flu's file-info object: `flags` (a set), `fh` (0 until set),
/// and the open options a handler may set.
pub fn new_file_info(lua: &Lua, flags: i32) -> mlua::Result<Table> {
    let fi = lua.create_table_with_capacity(0, 8)?;
    fi.raw_set("flags", open_flags_to_lua(lua, flags)?)?;
    fi.raw_set("fh", 0)?;
    fi.raw_set("direct_io", false)?;
    fi.raw_set("keep_cache", false)?;
    fi.raw_set("nonseekable", false)?;
    fi.raw_set("flush", false)?;
    fi.raw_set("writepage", 0)?;
    fi.raw_set("lock_owner", 0)?;
    Ok(fi)
}
