-- Probes for Flu compatibility. Handlers write what they saw, one line per call, to the
-- report file named by the first script argument; the tests read that file.
local flu = require 'flu'
local errno = flu.errno

local report_path = assert(..., "usage: flu mount compat.lua DIR -- REPORT_FILE")

local function note(fmt, ...)
	local f = assert(io.open(report_path, "a"))
	f:write(fmt:format(...), "\n")
	f:close()
end

local function b(v) return tostring(v == true) end

local MODE_FLAGS = {'dir', 'reg', 'rusr', 'wusr', 'xusr', 'rgrp', 'wgrp', 'xgrp', 'roth',
	'woth', 'xoth'}

-- "name=true name=false ... number=N band=N pairs=N" for a mode argument
local function describe_mode(mode)
	local parts = {}
	for _, flag in ipairs(MODE_FLAGS) do
		parts[#parts + 1] = flag .. "=" .. b(mode[flag])
	end
	local count = 0
	for _ in pairs(mode) do count = count + 1 end
	parts[#parts + 1] = ("number=%d band=%d pairs=%d"):format(mode.number, mode & 511, count)
	return table.concat(parts, " ")
end

local TOKEN_SIZE = 8
local opens = 0
local nodes = {} -- created by create/mkdir: path -> {kind, mode, uid, gid}

local fs = {}

function fs.getattr(path)
	if path == "/" then
		return {mode = {dir = true, rusr = true, wusr = true, xusr = true, rgrp = true,
			wgrp = true, xgrp = true, roth = true, woth = true, xoth = true}, nlink = 2}
	elseif path == "/probe" then
		return {mode = {reg = true, rusr = true, wusr = true, rgrp = true, wgrp = true,
			roth = true, woth = true}, size = 0}
	elseif path == "/token" then
		return {mode = {reg = true, rusr = true, rgrp = true, roth = true}, size = TOKEN_SIZE}
	end
	local node = nodes[path]
	if not node then error(errno.ENOENT) end
	return {mode = node.mode, uid = node.uid, gid = node.gid, size = 0,
		nlink = node.mode.dir and 2 or 1}
end

function fs.readdir(path, filler, fi)
	filler(".")
	filler("..")
	filler("probe")
	filler("token")
	for p in pairs(nodes) do filler(p:sub(2)) end
end

function fs.open(path, fi)
	local f = fi.flags
	note("open %s fh=%s wronly=%s O_WRONLY=%s rdonly=%s O_RDONLY=%s rdwr=%s O_RDWR=%s",
		path, tostring(fi.fh), b(f.wronly), b(f.O_WRONLY), b(f.rdonly), b(f.O_RDONLY),
		b(f.rdwr), b(f.O_RDWR))
	if path == "/token" then
		opens = opens + 1
		-- any Lua value may live in fi.fh for the life of the handle
		fi.fh = {token = ("tok-%04d"):format(opens), reads = 0}
	end
end

function fs.read(path, size, offset, fi)
	if path ~= "/token" then return "" end
	if type(fi.fh) ~= 'table' then error(errno.EBADF) end
	fi.fh.reads = fi.fh.reads + 1
	return fi.fh.token:sub(offset + 1, offset + size)
end

function fs.write(path, data, offset, fi)
	return #data
end

function fs.truncate(path, size, fi)
end

function fs.release(path, fi)
	if path == "/token" then
		note("release %s type=%s token=%s reads=%d", path, type(fi.fh),
			tostring(type(fi.fh) == 'table' and fi.fh.token), type(fi.fh) == 'table' and fi.fh.reads or -1)
	end
end

function fs.create(path, mode, fi)
	local ctx = flu.get_context()
	note("create %s uid=%d gid=%d pid=%d", path, ctx.uid, ctx.gid, ctx.pid)
	note("create-mode %s %s", path, describe_mode(mode))
	local m = {}
	for k in pairs(mode) do m[k] = true end
	nodes[path] = {mode = m, uid = ctx.uid, gid = ctx.gid}
end

function fs.mkdir(path, mode)
	local ctx = flu.get_context()
	note("mkdir-mode %s %s", path, describe_mode(mode))
	local m = {dir = true}
	for k in pairs(mode) do m[k] = true end
	nodes[path] = {mode = m, uid = ctx.uid, gid = ctx.gid}
end

function fs.utimens(path, atime, mtime)
end

return flu.main({"compat", ...}, fs)
