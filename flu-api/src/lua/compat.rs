//! Compatibility with the Lua versions Flu scripts were written for (5.1–5.3, LuaJIT),
//! where it is safe: the globals `unpack` and `loadstring`, `math.pow`, `table.getn`,
//! `string.gfind`, `setfenv`/`getfenv` and `module` (through the `_ENV` upvalue),
//! `math.random` taking float bounds such as `2^64-1`, and the `bit` (LuaJIT/BitOp) and
//! `bit32` (Lua 5.2) modules, all defined only where Lua 5.4 lacks them.
//! docs/migration.md lists them, and what is left to change by hand.

use mlua::Lua;

const PRELUDE: &str = r#"
local M = math
unpack = unpack or table.unpack
loadstring = loadstring or load
M.pow = M.pow or function(x, y) return x ^ y end
table.getn = table.getn or function(t) return #t end
string.gfind = string.gfind or string.gmatch

-- LuaJIT and Lua 5.1 take float bounds (`math.random(0, 2^64-1)`): 5.4 refuses floats
-- with no integer representation. Bounds are rounded down and clamped to the integers.
do
  local random, tointeger, floor = M.random, M.tointeger, M.floor
  local maxi, mini = M.maxinteger, M.mininteger
  local function bound(x)
    if type(x) ~= 'number' or tointeger(x) then return x end
    if x ~= x then error("bad argument to 'random' (number is NaN)", 3) end
    if x >= 2^63 then return maxi elseif x < -2^63 then return mini end
    return tointeger(floor(x))
  end
  M.random = function(m, n, ...)
    if m == nil then return random() end
    if n == nil then return random(bound(m)) end
    return random(bound(m), bound(n), ...)
  end
end

-- setfenv/getfenv (Lua 5.1) through the function's `_ENV` upvalue.
if debug then
  local getupvalue, upvaluejoin, getinfo = debug.getupvalue, debug.upvaluejoin, debug.getinfo
  local function env_of(f)
    for i = 1, 255 do
      local name, value = getupvalue(f, i)
      if name == '_ENV' then return i, value end
      if name == nil then return nil end
    end
  end
  local function func(f, level)
    if type(f) == 'function' then return f end
    local info = getinfo((f or 1) + level, 'f')
    if not info then error("bad argument #1 (invalid level)", 3) end
    return info.func
  end
  getfenv = getfenv or function(f)
    local _, env = env_of(func(f, 2))
    return env or _G
  end
  setfenv = setfenv or function(f, t)
    local fn = func(f, 2)
    local i = env_of(fn)
    if i then upvaluejoin(fn, i, function() return t end, 1) end
    return fn
  end
  -- module(name, ...) (Lua 5.1): the module's table, also the caller's environment.
  module = module or function(name, ...)
    local t = package.loaded[name]
    if type(t) ~= 'table' then
      -- As 5.1: also reachable as the global of that (dotted) name.
      t = _G
      for part in name:gmatch('[^.]+') do
        if type(t[part]) ~= 'table' then t[part] = {} end
        t = t[part]
      end
      package.loaded[name] = t
    end
    t._NAME, t._M, t._PACKAGE = name, t, name:match('^(.*)%.[^.]*$') or ''
    for _, option in ipairs({...}) do option(t) end
    setfenv(2, t)
    return t
  end
  package.seeall = package.seeall or function(t)
    local mt = getmetatable(t) or {}
    mt.__index = _G
    setmetatable(t, mt)
  end
end

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

    /// LuaJIT/5.1 habits that fail under plain 5.4 work with the shims.
    #[test]
    fn lua51_habits_work() {
        // SAFETY: the debug library, as scripts get it.
        let lua = unsafe { Lua::unsafe_new_with(mlua::StdLib::ALL, mlua::LuaOptions::default()) };
        install(&lua).unwrap();
        let ok: bool = lua
            .load(
                r#"
                local r = math.random(0, 2^64 - 1)
                assert(math.type(r) == 'integer')
                assert(math.random(1.0, 3.0) <= 3 and math.random(5) <= 5 and math.random() < 1)
                local words = {}
                for w in string.gfind('a bb c', '%a+') do words[#words + 1] = w end
                assert(#words == 3 and table.getn(words) == 3)
                local env = { x = 42 }
                local function f() return x end
                setfenv(f, env)
                assert(f() == 42 and getfenv(f) == env)
                local chunk = load([[
                  module('mymod', package.seeall)
                  function hello() return tostring(1) end
                ]])
                chunk()
                assert(mymod.hello() == '1' and mymod._NAME == 'mymod')
                return true
            "#,
            )
            .eval()
            .unwrap();
        assert!(ok);
    }
}
