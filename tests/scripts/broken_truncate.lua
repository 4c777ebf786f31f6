-- A deliberately broken writable filesystem for tests/flu_test_command.rs: files in
-- memory, but truncate only ever grows a file (a shrink is ignored), so `flu test`
-- must fail truncate-down while the other file-writing checks pass.
local flu = require 'flu'
local errno = flu.errno

local files = {}   -- path -> node {data = string}
local handles = {} -- fi.fh -> node (an unlinked open file keeps working)
local next_fh = 0

local function node_of(path, fi)
	local node = (fi and handles[fi.fh]) or files[path]
	if not node then error(errno.ENOENT) end
	return node
end

local function handle(node, fi)
	next_fh = next_fh + 1
	handles[next_fh] = node
	fi.fh = next_fh
end

local fs = {}

function fs.getattr(path, fi)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	return { mode = 'file', size = #node_of(path, fi).data }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	for p in pairs(files) do filler(p:sub(2)) end
end

function fs.create(path, mode, fi)
	files[path] = { data = "" }
	handle(files[path], fi)
end

function fs.open(path, fi) handle(node_of(path), fi) end

function fs.release(path, fi) handles[fi.fh] = nil end

function fs.read(path, size, offset, fi)
	return node_of(path, fi).data:sub(offset + 1, offset + size)
end

function fs.write(path, data, offset, fi)
	local node = node_of(path, fi)
	local d = node.data
	if #d < offset then d = d .. string.rep("\0", offset - #d) end
	node.data = d:sub(1, offset) .. data .. d:sub(offset + #data + 1)
	return #data
end

function fs.truncate(path, size, fi)
	local node = node_of(path, fi)
	if size > #node.data then -- the fault: a smaller size is ignored
		node.data = node.data .. string.rep("\0", size - #node.data)
	end
end

function fs.unlink(path)
	if not files[path] then error(errno.ENOENT) end
	files[path] = nil
end

return fs
