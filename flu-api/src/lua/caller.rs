//! Who the running handler serves: the request context `flu.get_context()` and the
//! native functions read, kept in one app data cell of the Lua state so that publishing
//! it for each call allocates nothing.

use std::cell::Cell;

use mlua::Lua;

use crate::operations::RequestContext;

/// The caller of the handler running now (the default context between calls).
struct Caller(Cell<RequestContext>);

/// Publish `ctx` as the current caller of `lua`'s handlers.
pub fn set(lua: &Lua, ctx: RequestContext) {
    if let Some(c) = lua.app_data_ref::<Caller>() {
        c.0.set(ctx);
        return;
    }
    lua.set_app_data(Caller(Cell::new(ctx)));
}

/// The current caller, if one was ever published.
pub fn get(lua: &Lua) -> Option<RequestContext> {
    lua.app_data_ref::<Caller>().map(|c| c.0.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_published_caller_is_read_back() {
        let lua = Lua::new();
        assert!(get(&lua).is_none());
        let ctx = RequestContext {
            uid: 5,
            gid: 6,
            pid: 7,
            ..RequestContext::default()
        };
        set(&lua, ctx);
        assert_eq!(get(&lua).map(|c| (c.uid, c.gid, c.pid)), Some((5, 6, 7)));
        set(&lua, RequestContext::default());
        assert_eq!(get(&lua).map(|c| c.pid), Some(0));
    }
}
