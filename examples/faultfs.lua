-- faultfs: a passthrough that injects errors or latency, to test how programs
-- handle I/O failures.
--
--   flu mount examples/faultfs.lua /mnt/faulty -- ROOT RULE...
--
-- A RULE is  [OP:]PATTERN=ACTION[@PROBABILITY]
--   OP          a handler name (read, write, open, getattr, ...); all handlers if absent
--               (a lowercase word before the first ':' must name a handler)
--   PATTERN     a Lua pattern matched against the path ('%.log$', '^/db/')
--   ACTION      an errno name (EIO, ENOSPC, EACCES, ...) or delay:MILLISECONDS
--   PROBABILITY between 0 and 1 (default 1: always)
-- A bad rule stops the mount with a message saying what is wrong with it.
--
-- Examples:
--   flu mount examples/faultfs.lua /mnt/f -- /srv/data 'read:%.db$=EIO'
--   flu mount examples/faultfs.lua /mnt/f -- /srv/data 'write:.=ENOSPC@0.1' 'open:^/slow/=delay:200'
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"): a scratch directory, and one rule, so
-- that statfs fails on purpose while every other check passes through:
-- flu test: -- {tmpdir} 'statfs:.=EIO'
-- flu test expects failure: statfs (the rule statfs:.=EIO makes every statfs fail)
--
-- Handlers no rule names stay native (full speed). A delay waits without holding the
-- Lua lock: other requests, delayed or not, are served meanwhile.

local flu = require 'flu'

local args = table.pack(...)
local root = args[1]
if not root then error('usage: flu mount faultfs.lua MOUNTPOINT -- ROOT RULE...', 0) end

local base = flu.passthrough(root)
local fs = setmetatable({}, {__index = base})

local function bad(spec, why)
  error('bad rule ' .. spec .. ': ' .. why .. ' (expected [OP:]PATTERN=ACTION[@PROBABILITY])', 0)
end

local rules = {}
for i = 2, args.n do
  local spec = args[i]
  local target, action = spec:match('^(.-)=([^=]+)$')
  if not target then bad(spec, 'no =ACTION') end
  local op, pattern = target:match('^(%l[%l_]*):(.*)$')
  if op and base[op] == nil then bad(spec, 'no handler named ' .. op) end
  if not op then pattern = target end
  if not pcall(string.find, '', pattern) then bad(spec, 'invalid Lua pattern ' .. pattern) end
  local what, p = action:match('^(.-)@(.*)$')
  local probability = 1
  if what then
    probability = tonumber(p)
    if not probability or probability < 0 or probability > 1 then
      bad(spec, 'probability ' .. p .. ' is not a number between 0 and 1')
    end
  else
    what = action
  end
  local rule = {op = op, pattern = pattern, probability = probability}
  local ms = what:match('^delay:(%d+)$')
  if ms then
    rule.delay = tonumber(ms) / 1000
  elseif flu.errno[what] then
    rule.errno = flu.errno[what]
  else
    bad(spec, 'unknown action ' .. what .. ' (an errno name like EIO, or delay:MS)')
  end
  rules[#rules + 1] = rule
end

-- flu.sleep waits without holding the Lua lock: other handlers run meanwhile.
local sleep = flu.sleep

-- The path argument's position: first for every handler but symlink (target, path).
local function path_of(op, ...)
  if op == 'symlink' then return (select(2, ...)) end
  return (...)
end

local function wrap(op)
  local handler = base[op]
  fs[op] = function(...)
    local path = path_of(op, ...)
    for _, r in ipairs(rules) do
      if (r.op == nil or r.op == op) and type(path) == 'string' and path:find(r.pattern)
         and math.random() < r.probability then
        if r.delay then sleep(r.delay) else
          flu.log.info(string.format('faultfs: %s %s -> %s', op, path, r.errno.name))
          error(r.errno)
        end
      end
    end
    return handler(...)
  end
end

local wrapped = {}
for _, r in ipairs(rules) do
  if r.op then
    wrapped[r.op] = true
  else
    for name in pairs(base) do wrapped[name] = true end
  end
end
-- Releasing must never fail, or handles would leak.
wrapped.release, wrapped.releasedir, wrapped.init, wrapped.destroy = nil, nil, nil, nil
for op in pairs(wrapped) do wrap(op) end

return fs
