//! Compatibility with the Lua versions Flu scripts were written for (5.1–5.3, LuaJIT):
//! the globals `unpack` and `loadstring`, `math.pow`, and the `bit` (LuaJIT/BitOp) and
//! `bit32` (Lua 5.2) modules, all defined only where Lua 5.4 lacks them.

use mlua::Lua;

const PRELUDE: &str = r#"
local M = math
unpack = unpack or table.unpack
loadstring = loadstring or load
M.pow = M.pow or function(x, y) return x ^ y end
table.getn = table.getn or function(t) return #t end

local function u32(x) return math.tointeger(x) & 0xFFFFFFFF end
local function s32(x)
  x = u32(x)
  if x >= 0x80000000 then return x - 0x100000000 end
  return x
end

-- LuaJIT's BitOp: 32-bit operations, signed results.
local bit = {
  tobit = s32,
  bnot = function(x) return s32(~u32(x)) end,
  band = function(x, ...) for _, y in ipairs{...} do x = u32(x) & u32(y) end return s32(x) end,
  bor = function(x, ...) for _, y in ipairs{...} do x = u32(x) | u32(y) end return s32(x) end,
  bxor = function(x, ...) for _, y in ipairs{...} do x = u32(x) ~ u32(y) end return s32(x) end,
  lshift = function(x, n) return s32(u32(x) << (n & 31)) end,
  rshift = function(x, n) return s32(u32(x) >> (n & 31)) end,
  arshift = function(x, n) return s32(s32(x) >> (n & 31) | (s32(x) < 0 and ~(0xFFFFFFFF >> (n & 31)) or 0)) end,
  rol = function(x, n) n = n & 31; x = u32(x) return s32((x << n) | (x >> (32 - n))) end,
  ror = function(x, n) n = n & 31; x = u32(x) return s32((x >> n) | (x << (32 - n))) end,
  bswap = function(x) x = u32(x)
    return s32(((x & 0xFF) << 24) | ((x & 0xFF00) << 8) | ((x >> 8) & 0xFF00) | (x >> 24)) end,
  tohex = function(x, n) n = n or 8
    local s = string.format('%08x', u32(x))
    if n < 0 then s = s:upper(); n = -n end
    return s:sub(-n) end,
}
-- Lua 5.2's bit32: the same operations on unsigned results.
local bit32 = {
  bnot = function(x) return u32(~u32(x)) end,
  band = function(...) local r = 0xFFFFFFFF for _, y in ipairs{...} do r = r & u32(y) end return r end,
  bor = function(...) local r = 0 for _, y in ipairs{...} do r = r | u32(y) end return r end,
  bxor = function(...) local r = 0 for _, y in ipairs{...} do r = r ~ u32(y) end return r end,
  btest = function(...) local r = 0xFFFFFFFF for _, y in ipairs{...} do r = r & u32(y) end return r ~= 0 end,
  lshift = function(x, n) if n >= 32 or n <= -32 then return 0 end
    if n < 0 then return u32(x) >> -n end return u32(u32(x) << n) end,
  rshift = function(x, n) if n >= 32 or n <= -32 then return 0 end
    if n < 0 then return u32(u32(x) << -n) end return u32(x) >> n end,
  arshift = function(x, n) return u32(bit.arshift(x, n)) end,
  lrotate = function(x, n) return u32(bit.rol(x, n)) end,
  rrotate = function(x, n) return u32(bit.ror(x, n)) end,
  extract = function(x, f, w) w = w or 1 return (u32(x) >> f) & ((1 << w) - 1) end,
  replace = function(x, v, f, w) w = w or 1 local m = ((1 << w) - 1) << f
    return u32((u32(x) & ~m) | ((u32(v) << f) & m)) end,
}
package.preload.bit = package.preload.bit or function() return bit end
package.preload.bit32 = package.preload.bit32 or function() return bit32 end
"#;

/// Install the compatibility globals and modules.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    lua.load(PRELUDE).set_name("=flu.compat").exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_lua_idioms_work() {
        let lua = Lua::new();
        install(&lua).unwrap();
        let ok: bool = lua
            .load(
                r#"
                local bit, bit32 = require 'bit', require 'bit32'
                local a, b = unpack({1, 2})
                return a == 1 and b == 2 and loadstring('return 3')() == 3 and math.pow(2, 10) == 1024
                  and bit.band(0xF0, 0x3C) == 0x30 and bit.bor(1, 2, 4) == 7 and bit.bxor(5, 1) == 4
                  and bit.bnot(0) == -1 and bit.lshift(1, 31) == -2147483648 and bit.rshift(-1, 28) == 15
                  and bit.arshift(-16, 2) == -4 and bit.tohex(255) == '000000ff' and bit.tobit(0xFFFFFFFF) == -1
                  and bit32.band(0xFF, 0x0F) == 15 and bit32.bnot(0) == 0xFFFFFFFF and bit32.rshift(0x80000000, 31) == 1
                  and bit32.extract(0xF0, 4, 4) == 15 and bit32.btest(1, 3)
            "#,
            )
            .eval()
            .unwrap();
        assert!(ok);
    }
}
