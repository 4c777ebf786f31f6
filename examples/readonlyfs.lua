-- readonlyfs: a read-only view of a directory. Every change fails with EROFS;
-- reads stay on the native passthrough (only open and access go through Lua, to look
-- at the flags; read, getattr, readdir, getxattr, ... never enter Lua).
--
--   flu mount examples/readonlyfs.lua /mnt/ro -- /srv/data
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"): a scratch directory to show
-- flu test: -- {tmpdir}
--
-- (`-o ro` on any flu mount does the same in the kernel; this example shows how an
-- overlay refuses operations itself. statfs stays native: FUSE cannot pass a read-only
-- flag to the kernel, whose statvfs f_flag comes from the mount options, so add
-- `-o ro` too if programs must see ST_RDONLY.)

local flu = require 'flu'
local EROFS = flu.errno.EROFS

local root = ...
if not root then error('usage: flu mount readonlyfs.lua MOUNTPOINT -- ROOT', 0) end

local base = flu.passthrough(root)
local fs = setmetatable({}, {__index = base})

local function refuse() error(EROFS) end
for _, name in ipairs {
  'mknod', 'mkdir', 'unlink', 'rmdir', 'symlink', 'rename', 'link', 'chmod', 'chown',
  'truncate', 'ftruncate', 'utimens', 'write', 'create', 'setxattr', 'removexattr',
  'fallocate', 'copy_file_range',
} do
  fs[name] = refuse
end

function fs.open(path, fi)
  local f = fi.flags
  if f.wronly or f.rdwr or f.trunc or f.append then error(EROFS) end
  return base.open(path, fi)
end

local W_OK = 2
function fs.access(path, mask)
  if mask & W_OK ~= 0 then error(EROFS) end
  return base.access(path, mask)
end

return fs
