-- Flu 2010–2015's signatures: fgetattr(path, st, fi) fills the stat table it is given
-- (and returns 0), ftruncate(path, size, fi).
local flu = require 'flu'
local files = {}
local fs = {}

local function stat_of(path)
	if path == '/' then return { mode = 'directory', nlink = 2 } end
	local data = files[path]
	if not data then error(flu.errno.ENOENT) end
	return { mode = 'file', size = #data }
end

function fs.getattr(path) return stat_of(path) end

function fs.fgetattr(path, st, fi)
	for k, v in pairs(stat_of(path)) do st[k] = v end
	st.size = #files[path]
	return 0
end

function fs.create(path, mode, fi) files[path] = '' end
function fs.open(path, fi) if not files[path] then error(flu.errno.ENOENT) end end
function fs.write(path, buf, offset, fi)
	local d = files[path]
	files[path] = d:sub(1, offset) .. buf .. d:sub(offset + #buf + 1)
	return #buf
end
function fs.truncate(path, size) files[path] = files[path]:sub(1, size) end
function fs.ftruncate(path, size, fi) files[path] = files[path]:sub(1, size) end
function fs.readdir(path, filler)
	for name in pairs(files) do filler(name:sub(2)) end
end

return fs
