-- logfs: a passthrough that logs every operation, its arguments, result and time.
--
--   flu mount examples/logfs.lua /mnt/logged -- /srv/data --log-file /tmp/logfs.log
--
-- Every handler of the native passthrough is wrapped in Lua, so this shows the cost
-- of going through Lua for everything; override fewer handlers to keep native speed.

local flu = require 'flu'

local root = ...
if not root then error('usage: flu mount logfs.lua MOUNTPOINT -- ROOT', 0) end

local base = flu.passthrough(root)
local fs = {}

-- Scalars print as they are; tables (fi, modes, times) are summarized.
local function show(v)
  local t = type(v)
  if t == 'string' then
    return #v > 40 and ('<' .. #v .. ' bytes>') or string.format('%q', v)
  elseif t == 'table' then
    if v.sec then return tostring(v) end
    if v.number then return string.format('0%o', v.number) end
    return 'table'
  end
  return tostring(v)
end

local clock = os.clock
for name, handler in pairs(base) do
  fs[name] = function(...)
    local args = table.pack(...)
    local shown = {}
    for i = 1, args.n do shown[i] = show(args[i]) end
    local t0 = clock()
    local results = table.pack(pcall(handler, ...))
    local ms = (clock() - t0) * 1000
    if results[1] then
      flu.log.info(string.format('%s(%s) ok %.3f ms', name, table.concat(shown, ', '), ms))
      return table.unpack(results, 2, results.n)
    end
    flu.log.info(string.format('%s(%s) -> %s %.3f ms', name, table.concat(shown, ', '), tostring(results[2]), ms))
    error(results[2], 0)
  end
end

return fs
