#!/usr/bin/env flu
-- luafs: a read-write filesystem kept in Lua tables, in memory.
--
--   flu mount examples/luafs.lua /tmp/luafs
--   mkdir /tmp/luafs/a; echo hi > /tmp/luafs/a/f; ls -la /tmp/luafs
--   flu unmount /tmp/luafs        (everything is gone: it lived in the daemon's memory)
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"):
-- flu test: --
--
-- The initial content comes from a plain Lua table tree (`tree` below): tables are
-- directories, strings are regular files. Each one becomes a node that also carries what
-- POSIX needs (inode number, permissions, owner, nanosecond times, link count, xattrs),
-- so cp -r, mv, rm -r, find, touch -d, truncate, dd, ln -s and the xattr tools all work.
--
-- Flu style throughout: handlers are plain functions (no self), failures are errno values
-- raised with error() or assert(), modes are Flu sets ({reg=true, rusr=true, ...}).

local flu = require 'flu'
local errno = flu.errno

-- What the filesystem holds when it is mounted.
local tree = {
	README = "This directory lives in a Lua table inside the flu daemon.\n",
	docs = {
		["hello.txt"] = "Hello from luafs!\n",
	},
}

---------------------------------------------------------------------------------------
-- Nodes

local PERMS = {'rusr', 'wusr', 'xusr', 'rgrp', 'wgrp', 'xgrp', 'roth', 'woth', 'xoth',
	'suid', 'sgid', 'svtx'}
local PERM_BITS = {rusr = 256, wusr = 128, xusr = 64, rgrp = 32, wgrp = 16, xgrp = 8,
	roth = 4, woth = 2, xoth = 1, suid = 2048, sgid = 1024, svtx = 512}
-- node kind -> the Flu mode flag of its file type
local TYPE_FLAG = {file = 'reg', dir = 'dir', link = 'lnk', fifo = 'fifo', socket = 'sock',
	chardev = 'chr', blockdev = 'blk'}

local BLOCK = 4096
-- File contents are kept in pieces of PIECE bytes (piece i holds bytes i*PIECE ..
-- (i+1)*PIECE - 1), so a write copies at most the pieces it touches, never the whole
-- file. A piece may be shorter than PIECE or missing: what is not stored, up to the
-- file's size, reads as zeros (so a file grown by truncate or a write past its end
-- takes no memory for the gap).
local PIECE = 65536
local TOTAL_BLOCKS = 1048576 -- what statfs reports: 4 GiB
local TOTAL_FILES = 1000000

local next_ino = 0
local node_count = 0
local bytes_used = 0

local function now()
	return {sec = os.time(), nsec = 0}
end

-- The permission flags of a mode, as a fresh set. A mode handed to a handler is a Flu
-- set (it also has a numeric value, mode.number); a plain number is accepted too.
local function perms_of(mode)
	local p = {}
	for _, flag in ipairs(PERMS) do
		if type(mode) == 'number' then
			if mode & PERM_BITS[flag] ~= 0 then p[flag] = true end
		elseif mode[flag] then
			p[flag] = true
		end
	end
	return p
end

local function set_of(...)
	local s = {}
	for _, flag in ipairs{...} do s[flag] = true end
	return s
end

-- uid/gid of the process making the current request
local function caller()
	local ctx = flu.get_context()
	return ctx.uid, ctx.gid
end

-- owned: false for the initial tree, which belongs to whoever mounted (uid/gid left
-- out of its stat tables, so the daemon fills them in)
local function new_node(kind, perms, owned)
	next_ino = next_ino + 1
	node_count = node_count + 1
	local uid, gid
	if owned ~= false then uid, gid = caller() end
	local t = now()
	local node = {
		kind = kind, ino = next_ino, perms = perms, uid = uid, gid = gid,
		nlink = 0, atime = t, mtime = t, ctime = t, xattrs = {},
	}
	if kind == 'dir' then
		node.entries = {}
		node.subdirs = 0
	elseif kind == 'file' then
		node.pieces = {}
		node.size = 0
		node.stored = 0 -- bytes held in pieces: what df and du count
	end
	return node
end

local function touch_content(node, size)
	node.size = size
	local t = now()
	node.mtime, node.ctime = t, t
end

-- Piece i of the file becomes `piece` (nil: not stored).
local function set_piece(node, i, piece)
	local delta = #(piece or "") - #(node.pieces[i] or "")
	node.pieces[i] = piece
	node.stored = node.stored + delta
	bytes_used = bytes_used + delta
end

-- The part of bytes offset .. stop - 1 that falls in piece i, as 0-based positions
-- within the piece: from (first) and to (one past the last).
local function within(i, offset, stop)
	local base = i * PIECE
	return math.max(offset, base) - base, math.min(stop, base + PIECE) - base
end

-- `count` bytes of the file at `offset` (0-based), cut to its size.
local function read_content(node, offset, count)
	local stop = math.min(offset + count, node.size) -- one past the last byte
	if stop <= offset then return "" end
	local parts = {}
	for i = offset // PIECE, (stop - 1) // PIECE do
		local from, to = within(i, offset, stop)
		local piece = node.pieces[i] or ""
		local part = piece
		if from > 0 or to < #piece then part = piece:sub(from + 1, to) end -- else no copy
		if #part < to - from then -- not stored: zeros
			part = part .. string.rep("\0", to - from - #part)
		end
		parts[#parts + 1] = part
	end
	return #parts == 1 and parts[1] or table.concat(parts)
end

-- Put `data` at `offset` (0-based), growing the file if it ends past the end.
local function write_content(node, offset, data)
	if #data == 0 then return end
	local stop = offset + #data
	for i = offset // PIECE, (stop - 1) // PIECE do
		local from, to = within(i, offset, stop)
		local at = i * PIECE - offset -- where piece i starts in data (0-based)
		local part = data:sub(at + from + 1, at + to)
		local piece = node.pieces[i] or ""
		if from == 0 and to >= #piece then
			set_piece(node, i, part)
		else
			if #piece < from then piece = piece .. string.rep("\0", from - #piece) end
			set_piece(node, i, piece:sub(1, from) .. part .. piece:sub(to + 1))
		end
	end
	touch_content(node, math.max(node.size, stop))
end

-- Cut or extend the file to `size` bytes (an extension reads as zeros).
local function resize_content(node, size)
	if size < node.size then
		local last = (size - 1) // PIECE -- the last piece kept (-1: none)
		local dropped = {}
		for i in pairs(node.pieces) do
			if i > last then dropped[#dropped + 1] = i end
		end
		for _, i in ipairs(dropped) do set_piece(node, i, nil) end
		local piece = node.pieces[last]
		if piece and #piece > size - last * PIECE then
			set_piece(node, last, piece:sub(1, size - last * PIECE))
		end
	end
	touch_content(node, size)
end

-- A node is gone once no directory names it and no open handle holds it.
local function forget(node)
	if node.nlink == 0 and not node.gone then
		node.gone = true
		node_count = node_count - 1
		if node.stored then bytes_used = bytes_used - node.stored end
	end
end

-- Directory entries. A directory's link count is 2 + its number of subdirectories
-- (its name in the parent, its own '.', and each subdirectory's '..').
local function add_entry(dir, name, node)
	dir.entries[name] = node
	if node.kind == 'dir' then
		dir.subdirs = dir.subdirs + 1
		node.nlink = 2
	else
		node.nlink = node.nlink + 1
	end
	local t = now()
	dir.mtime, dir.ctime = t, t
end

local function remove_entry(dir, name)
	local node = dir.entries[name]
	dir.entries[name] = nil
	if node.kind == 'dir' then
		dir.subdirs = dir.subdirs - 1
		node.nlink = 0
	else
		node.nlink = node.nlink - 1
	end
	local t = now()
	dir.mtime, dir.ctime = t, t
	node.ctime = t
	return node
end

local root = new_node('dir', set_of('rusr', 'wusr', 'xusr', 'rgrp', 'xgrp', 'roth', 'xoth'), false)
root.nlink = 2

local function load_tree(dir, t)
	for name, value in pairs(t) do
		if type(value) == 'table' then
			local sub = new_node('dir', set_of('rusr', 'wusr', 'xusr', 'rgrp', 'xgrp', 'roth', 'xoth'), false)
			add_entry(dir, name, sub)
			load_tree(sub, value)
		else
			local file = new_node('file', set_of('rusr', 'wusr', 'rgrp', 'roth'), false)
			write_content(file, 0, tostring(value))
			add_entry(dir, name, file)
		end
	end
end
load_tree(root, tree)

---------------------------------------------------------------------------------------
-- Paths

-- The node at `path`, or raises ENOENT / ENOTDIR.
local function find(path)
	local node = root
	for name in path:gmatch("[^/]+") do
		if node.kind ~= 'dir' then error(errno.ENOTDIR) end
		node = node.entries[name]
		if not node then error(errno.ENOENT) end
	end
	return node
end

-- The directory that holds `path`, and the last name of `path`.
local function parent_of(path)
	local dirpath, name = path:match("^(.*)/([^/]+)$")
	if not name then error(errno.EBUSY) end -- the root has no parent
	local dir = find(dirpath)
	if dir.kind ~= 'dir' then error(errno.ENOTDIR) end
	return dir, name
end

-- Open handles: fi.fh is a number, as in Flu; the node stays reachable through it after
-- an unlink, so an open file keeps working.
local handles = {}
local next_fh = 0

local function open_handle(fi, node)
	next_fh = next_fh + 1
	handles[next_fh] = node
	fi.fh = next_fh
end

local function node_of(path, fi)
	local node = fi and handles[fi.fh]
	return node or find(path)
end

local function stat_of(node)
	local mode = {}
	for flag in pairs(node.perms) do mode[flag] = true end
	mode[TYPE_FLAG[node.kind]] = true
	local size = 0
	if node.kind == 'file' then
		size = node.size
	elseif node.kind == 'link' then
		size = #node.target
	elseif node.kind == 'dir' then
		size = BLOCK
	end
	return {
		ino = node.ino,
		mode = mode,
		nlink = node.kind == 'dir' and 2 + node.subdirs or node.nlink,
		uid = node.uid,
		gid = node.gid,
		rdev = node.rdev or 0,
		size = size,
		blksize = BLOCK,
		blocks = ((node.stored or size) + 511) // 512, -- a file's gaps take no room
		access = node.atime,
		modification = node.mtime,
		change = node.ctime,
	}
end

-- A new, not yet named node at `path`; raises EEXIST if the name is taken.
local function create_at(path, kind, perms)
	local dir, name = parent_of(path)
	if dir.entries[name] then error(errno.EEXIST) end
	local node = new_node(kind, perms)
	add_entry(dir, name, node)
	return node
end

---------------------------------------------------------------------------------------
-- Handlers

local luafs = {}

-- The largest file: the daemon answers EFBIG to writes, truncates and allocations past
-- it before they reach Lua (a file's pieces are Lua strings: the Lua memory limit, 1 GiB
-- by default, is the practical bound well before this one).
luafs.max_file_size = TOTAL_BLOCKS * BLOCK

function luafs.getattr(path, fi)
	return stat_of(node_of(path, fi))
end

function luafs.fgetattr(path, fi)
	return stat_of(node_of(path, fi))
end

function luafs.access(path, mask)
	find(path)
end

function luafs.opendir(path, fi)
	local dir = find(path)
	if dir.kind ~= 'dir' then error(errno.ENOTDIR) end
	-- A listing here changes only through the mount, and the kernel drops a cached
	-- listing at every change made through it: let it keep listings, across opens.
	fi.cache_readdir = true
	fi.keep_cache = true
end

function luafs.readdir(path, filler, fi)
	local dir = find(path)
	if dir.kind ~= 'dir' then error(errno.ENOTDIR) end
	filler(".")
	filler("..")
	for name in pairs(dir.entries) do
		filler(name)
	end
end

function luafs.mkdir(path, mode)
	create_at(path, 'dir', perms_of(mode))
end

function luafs.rmdir(path)
	local dir, name = parent_of(path)
	local node = dir.entries[name]
	if not node then error(errno.ENOENT) end
	if node.kind ~= 'dir' then error(errno.ENOTDIR) end
	if next(node.entries) ~= nil then error(errno.ENOTEMPTY) end
	remove_entry(dir, name)
	forget(node)
end

local KIND_OF_MODE = {reg = 'file', fifo = 'fifo', sock = 'socket', chr = 'chardev', blk = 'blockdev'}

function luafs.mknod(path, mode, rdev)
	local kind = 'file'
	if type(mode) ~= 'number' then
		for flag, k in pairs(KIND_OF_MODE) do
			if mode[flag] then kind = k end
		end
	end
	local node = create_at(path, kind, perms_of(mode))
	node.rdev = rdev
end

function luafs.create(path, mode, fi)
	local dir, name = parent_of(path)
	local node = dir.entries[name]
	if node then
		if fi.flags.excl then error(errno.EEXIST) end
		if node.kind == 'dir' then error(errno.EISDIR) end
		if fi.flags.trunc then resize_content(node, 0) end
	else
		node = create_at(path, 'file', perms_of(mode))
	end
	open_handle(fi, node)
end

function luafs.open(path, fi)
	local node = find(path)
	if node.kind == 'dir' then error(errno.EISDIR) end
	if fi.flags.trunc and (fi.flags.wronly or fi.flags.rdwr) and node.kind == 'file' then
		resize_content(node, 0)
	end
	open_handle(fi, node)
end

function luafs.read(path, size, offset, fi)
	local node = node_of(path, fi)
	if node.kind ~= 'file' then error(errno.EINVAL) end
	return read_content(node, offset, size)
end

function luafs.write(path, buf, offset, fi)
	local node = node_of(path, fi)
	if node.kind ~= 'file' then error(errno.EINVAL) end
	write_content(node, offset, buf)
	return #buf
end

local function resize(node, size)
	if node.kind == 'dir' then error(errno.EISDIR) end
	if node.kind ~= 'file' then error(errno.EINVAL) end
	resize_content(node, size)
end

function luafs.truncate(path, size, fi)
	resize(node_of(path, fi), size)
end

function luafs.ftruncate(path, size, fi)
	resize(node_of(path, fi), size)
end

-- No flush, fsync or releasedir: there is nothing to write out or let go of, and a
-- handler that does nothing would still cost a round trip (without `flush`, a close
-- costs none; without `fsync`, the kernel stops asking after the first call).

function luafs.release(path, fi)
	local node = handles[fi.fh]
	handles[fi.fh] = nil
	if node then forget(node) end
end

function luafs.unlink(path)
	local dir, name = parent_of(path)
	local node = dir.entries[name]
	if not node then error(errno.ENOENT) end
	if node.kind == 'dir' then error(errno.EISDIR) end
	remove_entry(dir, name)
	for _, open in pairs(handles) do
		if open == node then return end -- still open: forgotten at release
	end
	forget(node)
end

function luafs.link(oldpath, newpath)
	local node = find(oldpath)
	if node.kind == 'dir' then error(errno.EPERM) end
	local dir, name = parent_of(newpath)
	if dir.entries[name] then error(errno.EEXIST) end
	add_entry(dir, name, node)
	node.ctime = now()
end

function luafs.symlink(target, path)
	local node = create_at(path, 'link',
		set_of('rusr', 'wusr', 'xusr', 'rgrp', 'wgrp', 'xgrp', 'roth', 'woth', 'xoth'))
	node.target = target
end

function luafs.readlink(path, size)
	local node = find(path)
	if node.kind ~= 'link' then error(errno.EINVAL) end
	return node.target
end

-- rename(old, new[, flags]); flags is a set: {noreplace=true} or {exchange=true}
function luafs.rename(oldpath, newpath, flags)
	local noreplace, exchange = false, false
	if type(flags) == 'table' then
		noreplace, exchange = flags.noreplace, flags.exchange
	elseif type(flags) == 'number' then
		noreplace, exchange = flags & 1 ~= 0, flags & 2 ~= 0
	end
	local sdir, sname = parent_of(oldpath)
	local src = sdir.entries[sname]
	if not src then error(errno.ENOENT) end
	local ddir, dname = parent_of(newpath)
	local dst = ddir.entries[dname]
	-- a directory cannot move below itself
	if src.kind == 'dir' and newpath:sub(1, #oldpath + 1) == oldpath .. "/" then
		error(errno.EINVAL)
	end
	if exchange then
		if not dst then error(errno.ENOENT) end
		if dst.kind == 'dir' and oldpath:sub(1, #newpath + 1) == newpath .. "/" then
			error(errno.EINVAL)
		end
		remove_entry(sdir, sname)
		remove_entry(ddir, dname)
		add_entry(sdir, sname, dst)
		add_entry(ddir, dname, src)
		return
	end
	if src == dst then return end -- two names of one file: nothing to do
	if dst then
		if noreplace then error(errno.EEXIST) end
		if dst.kind == 'dir' then
			if src.kind ~= 'dir' then error(errno.EISDIR) end
			if next(dst.entries) ~= nil then error(errno.ENOTEMPTY) end
		elseif src.kind == 'dir' then
			error(errno.ENOTDIR)
		end
		remove_entry(ddir, dname)
		forget(dst)
	end
	remove_entry(sdir, sname)
	add_entry(ddir, dname, src)
end

function luafs.chmod(path, mode, fi)
	local node = node_of(path, fi)
	node.perms = perms_of(mode)
	node.ctime = now()
end

-- an id of -1 leaves it unchanged
local function given(id)
	return id ~= nil and id ~= -1 and id ~= 0xFFFFFFFF
end

function luafs.chown(path, uid, gid, fi)
	local node = node_of(path, fi)
	if given(uid) then node.uid = uid end
	if given(gid) then node.gid = gid end
	node.ctime = now()
end

-- times are {sec=, nsec=} tables, kept exactly; an omitted time is nil
function luafs.utimens(path, atime, mtime, fi)
	local node = node_of(path, fi)
	if atime then node.atime = {sec = atime.sec, nsec = atime.nsec} end
	if mtime then node.mtime = {sec = mtime.sec, nsec = mtime.nsec} end
	node.ctime = now()
end

function luafs.statfs(path)
	local used = (bytes_used + BLOCK - 1) // BLOCK
	local free = math.max(TOTAL_BLOCKS - used, 0)
	local ffree = math.max(TOTAL_FILES - node_count, 0)
	return {
		bsize = BLOCK, frsize = BLOCK,
		blocks = TOTAL_BLOCKS, bfree = free, bavail = free,
		files = TOTAL_FILES, ffree = ffree, favail = ffree,
		namemax = 255,
	}
end

-- Extended attributes live in the node, so they follow renames and hard links.
-- flags is a set: {create=true} fails if the attribute exists, {replace=true} if it
-- does not.
function luafs.setxattr(path, name, value, flags)
	local node = find(path)
	local create, replace = false, false
	if type(flags) == 'table' then
		create, replace = flags.create, flags.replace
	elseif type(flags) == 'number' then
		create, replace = flags & 1 ~= 0, flags & 2 ~= 0
	end
	local exists = node.xattrs[name] ~= nil
	if create and exists then error(errno.EEXIST) end
	if replace and not exists then error(errno.ENODATA) end
	node.xattrs[name] = value
	node.ctime = now()
end

function luafs.getxattr(path, name)
	local value = find(path).xattrs[name]
	if value == nil then error(errno.ENODATA) end
	return value
end

function luafs.listxattr(path)
	local names = {}
	for name in pairs(find(path).xattrs) do
		names[#names + 1] = name
	end
	table.sort(names)
	return names
end

function luafs.removexattr(path, name)
	local node = find(path)
	if node.xattrs[name] == nil then error(errno.ENODATA) end
	node.xattrs[name] = nil
	node.ctime = now()
end

-- `flu mount` takes the table; `flu examples/luafs.lua MNT` mounts it like Flu did.
return flu.main({"luafs", ...}, luafs)
