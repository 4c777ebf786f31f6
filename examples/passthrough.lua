-- passthrough: mirror a directory, in pure Lua on the portable `fs` module.
--
--   flu mount examples/passthrough.lua /mnt -- /srv/data
--   flu mount examples/passthrough.lua /mnt -o use_ino -- /srv/data   (real inode numbers)
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"): a scratch copy to mirror
-- flu test: -- {tmpdir}
--
-- Every operation on /mnt/x is done on /srv/data/x. This is the template for overlays,
-- loggers, filters and other filesystems that keep their data in a real directory.
-- (flu.passthrough(root) does the same natively, in Rust and faster; this script shows
-- how to build one yourself.) The patterns that matter:
--
-- * Errors pass through: every `fs` call returns `nil, message, code` on failure, and a
--   handler that returns those three values makes the caller's syscall fail with that
--   errno. So most handlers are one line: `return fs.something(...)`.
-- * Open files live in `fi.fh`: open/create put the `fs` file object there, and read,
--   write, fgetattr, ftruncate, fsync... use it, so a file unlinked while open keeps
--   working, exactly as on the directory below.
-- * Symlinks are never followed: attributes, ownership, times and xattrs use
--   deref = false (lstat semantics), so a link is shown and changed as a link.
-- * Times are exact: getattr returns fs.attr's table, whose *_ns times flu reads to
--   the nanosecond.

local flu = require 'flu'
local fs = require 'fs'

local root = ...
if not root then error('usage: flu mount passthrough.lua MOUNTPOINT -- DIRECTORY', 0) end
if root:sub(1, 1) ~= '/' then root = fs.cd() .. '/' .. root end -- absolute, once
root = root:gsub('/+$', '')
assert(fs.is(root .. '/', 'dir'), root .. ' is not a directory')

local PERMS = 4095   -- 0o7777, the permission bits of a mode

-- The backing path of a path in the mount ('/' is the root itself).
local function real(path) return root .. path end

-- The open fs file of a handle, if the call came with one.
local function file_of(fi)
  if fi and fs.isfile(fi.fh) then return fi.fh end
end

-- Change attributes through the open file if there is one, else by path.
local function set_attr(path, fi, t, deref)
  local f = file_of(fi)
  if f then return f:attr(t) end
  return fs.attr(real(path), t, deref)
end

-- After creating p: the kernel sends the mode with the caller's umask already
-- applied, but creating also applies the daemon's own umask; give back what that took.
-- And a daemon running as root (e.g. for -o allow_other) creates as root: hand new
-- files to the calling user (the group stays the directory's in a setgid directory).
local running_as_root = fs.attr('/proc/self', 'uid') == 0
local function created(p, mode)
  local ctx = flu.get_context()
  if running_as_root and (ctx.uid ~= 0 or ctx.gid ~= 0) then
    local setgid_dir = (fs.attr(p:match('^(.*)/') .. '/', 'perms') or 0) & 1024 ~= 0
    local ok, err, code = fs.attr(p, {uid = ctx.uid, gid = setgid_dir and -1 or ctx.gid}, false)
    if not ok then return nil, err, code end
  end
  if mode then
    local want = mode & 511   -- the rwx bits asked for
    local have, err, code = fs.attr(p, 'perms', false)
    if not have then return nil, err, code end
    if have & want ~= want then return fs.attr(p, {perms = have | want}) end
  end
  return true
end

local P = {}

-- Attributes ----------------------------------------------------------------------------

-- An fs attribute table is a stat table as it is (mode, inode, the exact *_ns times),
-- and a failure's nil, message, code is the error: no conversion needed.
function P.getattr(path, fi)
  local f = file_of(fi)
  if f then return f:attr() end
  return fs.attr(real(path), false)   -- lstat: never follow a symlink
end

function P.fgetattr(path, fi) return P.getattr(path, fi) end

function P.chmod(path, mode, fi) return set_attr(path, fi, {perms = mode & PERMS}) end

-- uid or gid -1 means "leave unchanged"; fs.attr understands it the same way.
function P.chown(path, uid, gid, fi) return set_attr(path, fi, {uid = uid, gid = gid}, false) end

function P.truncate(path, size, fi) return set_attr(path, fi, {size = size}) end

function P.ftruncate(path, size, fi) return fi.fh:truncate(size) end

-- atime/mtime are {sec=, nsec=} tables, or nil for "leave this one alone".
function P.utimens(path, atime, mtime, fi)
  return set_attr(path, fi, {atime = atime, mtime = mtime}, false)
end

function P.access(path, mask) return fs.access(real(path), mask) end

function P.statfs(path) return fs.statvfs(real(path)) end

-- Names ---------------------------------------------------------------------------------

function P.readlink(path, size) return fs.readlink(real(path)) end

function P.mknod(path, mode, rdev)
  local p = real(path)
  local ok, err, code = fs.mknod(p, mode.number, nil, rdev)
  if not ok then return nil, err, code end
  return created(p, mode)
end

function P.mkdir(path, mode)
  local p = real(path)
  local ok, err, code = fs.mkdir(p, mode & PERMS)
  if not ok then return nil, err, code end
  return created(p, mode)
end

function P.symlink(target, path)          -- target first, as in Flu
  local p = real(path)
  local ok, err, code = fs.mksymlink(p, target)
  if not ok then return nil, err, code end
  return created(p)
end

function P.unlink(path) return fs.remove(real(path)) end
function P.rmdir(path) return fs.remove(real(path)) end

-- flags: nil, {noreplace=true} or {exchange=true}, as fs.move takes them.
function P.rename(from, to, flags) return fs.move(real(from), real(to), flags) end

function P.link(from, to) return fs.mkhardlink(real(to), real(from)) end

-- Files ---------------------------------------------------------------------------------

-- fi.flags is the set of open flags ({rdwr=true, append=true, ...}); fs.open takes it
-- as is, so O_APPEND, O_TRUNC, O_EXCL... behave as on the directory below.
function P.open(path, fi)
  local f, err, code = fs.open(real(path), {flags = fi.flags})
  if not f then return nil, err, code end
  fi.fh = f
end

function P.create(path, mode, fi)
  local p = real(path)
  local f, err, code = fs.open(p, {flags = fi.flags, perms = mode & PERMS})
  if not f then return nil, err, code end
  local ok
  ok, err, code = created(p, mode)
  if not ok then f:close(); return nil, err, code end
  fi.fh = f
end

function P.read(path, size, offset, fi) return fi.fh:read(size, offset) end

function P.write(path, data, offset, fi) return fi.fh:write(data, offset) end

-- No flush: writes go straight to the backing file, so there is nothing buffered to
-- flush at close, and without a flush handler the kernel does not ask (one round trip
-- less per close).

function P.fsync(path, datasync, fi) return fi.fh:sync(datasync) end

function P.release(path, fi) return fi.fh:close() end

-- mode: FALLOC_FL_* bits as a number (0 = allocate and extend).
function P.fallocate(path, mode, offset, length, fi)
  return fi.fh:allocate(offset, length, mode)
end

-- SEEK_DATA / SEEK_HOLE ('data' / 'hole'), so sparse files stay sparse when copied.
function P.lseek(path, offset, whence, fi) return fi.fh:seek(whence, offset) end

-- Directories ---------------------------------------------------------------------------

-- What each directory looked like at its last open: its listing below changes only with
-- its mtime, ctime or size, so while those stay the same the kernel may answer listings
-- from its cache (fi.cache_readdir) across opens (fi.keep_cache). Changes through the
-- mount drop the kernel's cache at once; changes made below it, at the next open. (On
-- a filesystem with coarse times, vfat's 2 seconds, two changes within one tick would
-- look like none: leave both off there.)
local seen, seen_count = {}, 0

local function unchanged_since_last_open(dh)
  local a = dh:attr('', false)
  if not a then return false end
  local key = a.dev .. ':' .. a.inode
  local version = a.mtime_ns .. ':' .. a.ctime_ns .. ':' .. a.size
  local same = seen[key] == version
  if not seen[key] then
    if seen_count >= 8192 then seen, seen_count = {}, 0 end -- bounded memory
    seen_count = seen_count + 1
  end
  seen[key] = version
  return same
end

-- An open directory handle (fs.opendir) in fi.fh; listing it needs no path.
function P.opendir(path, fi)
  local dh, err, code = fs.opendir(real(path))
  if not dh then return nil, err, code end
  fi.fh = dh
  fi.cache_readdir = true
  fi.keep_cache = unchanged_since_last_open(dh)
end

function P.readdir(path, filler, fi)
  filler('.')
  filler('..')
  for name, d, code in fi.fh:dir() do
    if not name then return nil, d, code end
    -- The entry's type (from the listing itself, no stat) is all a plain directory read
    -- needs; the daemon asks getattr for the few entries `ls -l`-style reads want.
    filler(name, d:attr('type', false))
  end
end

function P.releasedir(path, fi) return fi.fh:close() end

function P.fsyncdir(path, datasync, fi)
  local f, err, code = fs.open(real(path), {flags = 'rdonly directory'})
  if not f then return nil, err, code end
  local ok
  ok, err, code = f:sync(datasync)
  f:close()
  return ok, err, code
end

-- Extended attributes (of a symlink itself, never its target) ---------------------------
-- Through the open file when the call comes with one (fi): the daemon passes the handle
-- of a file that lost its name (fgetxattr on an unlinked file), which its old path would
-- not reach.

function P.setxattr(path, name, value, flags, fi)
  local how = flags.create and 'create' or flags.replace and 'replace' or nil
  local f = file_of(fi)
  if f then return f:setxattr(name, value, how) end
  return fs.setxattr(real(path), name, value, how, false)
end

function P.getxattr(path, name, fi)
  local f = file_of(fi)
  if f then return f:getxattr(name) end
  return fs.getxattr(real(path), name, false)
end

function P.listxattr(path, fi)
  local f = file_of(fi)
  if f then return f:listxattr() end
  return fs.listxattr(real(path), false)
end

function P.removexattr(path, name, fi)
  local f = file_of(fi)
  if f then return f:removexattr(name) end
  return fs.removexattr(real(path), name, false)
end

return P
