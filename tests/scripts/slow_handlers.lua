-- Handlers that wait for slow work, for tests/slow_handlers.rs:
--   /slow        getattr sleeps 2 s (flu.sleep), then answers a file (/slow-too: the
--                same, for a second caller: lookups of one name wait for each other)
--   /slowN       (N = 1..8) read sleeps 1 s, then answers "slowN\n"
--   /exec        read runs `sleep 30` with flu.exec (interrupt it: the process is killed)
--   /fastN       answered at once
--   /mem/...     an in-memory tree (files and directories) whose handlers mix yielding
--                (write and rename wait a moment), non-yielding, and the script's own
--                coroutines (read takes its bytes through coroutine.wrap)
local flu = require 'flu'
local errno = flu.errno

local fs = {}

-- The in-memory tree: path -> {dir = true} or {data = string}.
local nodes = { ['/mem'] = { dir = true } }

local function parent(path) return path:match('^(.*)/[^/]*$') end

local function children(dir)
  local names = {}
  for p in pairs(nodes) do
    if parent(p) == dir then names[#names + 1] = p:sub(#dir + 2) end
  end
  table.sort(names)
  return names
end

local function file_stat(data)
  return { mode = { reg = true, rusr = true, wusr = true }, size = #data, nlink = 1 }
end

function fs.getattr(path)
  if path == '/' then return { mode = 'directory', nlink = 2 } end
  if path == '/slow' or path == '/slow-too' then
    flu.sleep(2)
    return { mode = 'file', size = 0 }
  end
  if path:match('^/slow%d$') then return { mode = 'file', size = #path } end
  -- /exec has a size, or the kernel would not ask for its bytes.
  if path == '/exec' then return { mode = 'file', size = 100 } end
  if path:match('^/fast%d+$') then return { mode = 'file', size = 0 } end
  local n = nodes[path]
  if not n then error(errno.ENOENT) end
  if n.dir then return { mode = 'directory', nlink = 2 } end
  return file_stat(n.data)
end

function fs.readdir(path, filler)
  filler('.') filler('..')
  if path == '/' then
    filler('mem') filler('slow') filler('exec')
    for i = 1, 8 do filler('slow' .. i) end
    return
  end
  local n = nodes[path]
  if not (n and n.dir) then error(errno.ENOTDIR) end
  for _, name in ipairs(children(path)) do filler(name) end
end

function fs.open(path, fi) end

function fs.read(path, size, offset, fi)
  if path:match('^/slow%d$') then
    flu.sleep(1)
    return (path:sub(2) .. '\n'):sub(offset + 1, offset + size)
  end
  if path == '/exec' then
    local r, err = flu.exec { 'sleep', '30' }
    return r and r.stdout or err
  end
  local n = nodes[path]
  if not n or n.dir then error(errno.ENOENT) end
  -- The script's own coroutine hands the bytes over in two pieces.
  local pieces = coroutine.wrap(function()
    local wanted = n.data:sub(offset + 1, offset + size)
    local half = #wanted // 2
    coroutine.yield(wanted:sub(1, half))
    coroutine.yield(wanted:sub(half + 1))
  end)
  return pieces() .. pieces()
end

function fs.create(path, mode, fi)
  if nodes[path] then error(errno.EEXIST) end
  nodes[path] = { data = '' }
end

function fs.mknod(path) nodes[path] = { data = '' } end

function fs.write(path, buf, offset, fi)
  local n = nodes[path]
  if not n then error(errno.ENOENT) end
  -- Wait in the middle of the handler: other requests run meanwhile. The node is
  -- looked up again after the wait (it may have been renamed or removed).
  flu.sleep(0.002)
  n = nodes[path] or n
  local data = n.data
  if #data < offset then data = data .. ('\0'):rep(offset - #data) end
  n.data = data:sub(1, offset) .. buf .. data:sub(offset + #buf + 1)
  return #buf
end

function fs.truncate(path, size)
  local n = nodes[path]
  if not n then error(errno.ENOENT) end
  local data = n.data
  n.data = #data >= size and data:sub(1, size) or data .. ('\0'):rep(size - #data)
end

function fs.unlink(path)
  if not nodes[path] then error(errno.ENOENT) end
  nodes[path] = nil
end

function fs.mkdir(path)
  if nodes[path] then error(errno.EEXIST) end
  nodes[path] = { dir = true }
end

function fs.rmdir(path)
  if #children(path) > 0 then error(errno.ENOTEMPTY) end
  nodes[path] = nil
end

function fs.rename(from, to)
  local n = nodes[from]
  if not n then error(errno.ENOENT) end
  flu.sleep(0.002)
  -- Moved at once after the wait: a directory's descendants go with it.
  local moved = {}
  for p, v in pairs(nodes) do
    if p == from or p:sub(1, #from + 1) == from .. '/' then moved[p] = v end
  end
  for p, v in pairs(moved) do
    nodes[p] = nil
  end
  for p, v in pairs(moved) do
    nodes[to .. p:sub(#from + 1)] = v
  end
end

function fs.utimens() end
function fs.chmod() end

return fs
