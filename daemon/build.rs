//! Export the vendored Lua's C API from the `flu` binary, so scripts can `require` C
//! modules built for Lua 5.4 (LuaFileSystem, luaposix, …) as they could under Flu.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic");
}
