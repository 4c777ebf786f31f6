-- Per-reply cache lifetimes under a mount with long ones (-o attr_timeout=60,...).
-- A timer grows /fast (its stat table says attr_timeout = 0) and /slow (no field) every
-- 0.1 s, without any invalidation. A write to /ctl removes /e0 (entry_timeout = 0) and
-- /e60 (no field), again without telling the kernel.
local flu = require 'flu'
local errno = flu.errno

local DIR, FILE = tonumber('40755', 8), tonumber('100644', 8)
local files = { ctl = '', fast = '', slow = '', e0 = 'e0\n', e60 = 'e60\n' }
local removed = 'no'

local fs = {}

function fs.getattr(path)
	if path == '/' then return { mode = DIR, nlink = 2 } end
	if path == '/removed' then return { mode = FILE, size = 4096, attr_timeout = 0 } end
	local c = files[path:sub(2)]
	if not c then error(errno.ENOENT) end
	local st = { mode = FILE, size = #c }
	if path == '/fast' then st.attr_timeout = 0 end
	if path == '/e0' then st.entry_timeout = 0 end
	return st
end

function fs.readdir(path, filler)
	filler('.')
	filler('..')
	for name in pairs(files) do filler(name) end
end

function fs.open(path, fi)
	if path == '/removed' then fi.direct_io = true end
end

function fs.read(path, size, offset)
	local c
	if path == '/removed' then c = removed .. '\n' else c = files[path:sub(2)] end
	if not c then error(errno.ENOENT) end
	return c:sub(offset + 1, offset + size)
end

function fs.truncate(path, size) end

function fs.write(path, data, offset)
	if path ~= '/ctl' then error(errno.EACCES) end
	flu.after(0, function()
		files.e0 = nil
		files.e60 = nil
		removed = 'yes'
	end)
	return #data
end

flu.every(0.1, function()
	files.fast = files.fast .. 'f'
	files.slow = files.slow .. 's'
end)

return fs
