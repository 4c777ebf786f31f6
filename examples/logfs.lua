-- logfs: a passthrough that logs every operation with its arguments and result.
--
--   flu mount examples/logfs.lua /mnt/logged --log-file /tmp/logfs.log -- /srv/data
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"): a scratch directory to log
-- flu test: -- {tmpdir}
--
-- Lines go to the daemon's log (--log-file, or stderr with -f) at info level:
--   open("/notes.txt", table) ok
--   getattr("/missing", nil) -> ENOENT (No such file or directory)
-- Every handler of the native passthrough is wrapped in Lua, so this shows the cost
-- of going through Lua for everything; override fewer handlers to keep native speed.
-- (For latencies, mount with -d: the daemon logs every operation with its duration.)

local flu = require 'flu'

local root = ...
if not root then error('usage: flu mount logfs.lua MOUNTPOINT -- ROOT', 0) end

local base = flu.passthrough(root)
local fs = {}

-- Scalars print as they are; tables (fi, modes, times) are summarized.
local function show(v)
  local t = type(v)
  if t == 'string' then
    if #v > 40 then return '<' .. #v .. ' bytes>' end
    return (string.format('%q', v):gsub('\\\n', '\\n'))
  elseif t == 'table' then
    if v.sec then return tostring(v) end
    if v.number then return string.format('0%o', v.number) end
    return 'table'
  end
  return tostring(v)
end

-- An errno prints as its name and text; any other error as it is.
local function show_error(e)
  if flu.iserrno(e) then return string.format('%s (%s)', e.name, tostring(e)) end
  return tostring(e)
end

for name, handler in pairs(base) do
  fs[name] = function(...)
    local args = table.pack(...)
    local shown = {}
    for i = 1, args.n do shown[i] = show(args[i]) end
    local results = table.pack(pcall(handler, ...))
    if results[1] then
      flu.log.info(string.format('%s(%s) ok', name, table.concat(shown, ', ')))
      return table.unpack(results, 2, results.n)
    end
    flu.log.info(string.format('%s(%s) -> %s', name, table.concat(shown, ', '), show_error(results[2])))
    error(results[2], 0)
  end
end

return fs
