-- Two files a timer rewrites every 0.2 s (content and size grow with a counter):
-- /status is invalidated with flu.notify.inval_inode after each change, /frozen never
-- is. Both are opened with keep_cache, so only an invalidation drops their cached pages.
-- /results (never cached) shows what the notify calls returned.
local flu = require 'flu'
local errno = flu.errno

local DIR, FILE = tonumber('40755', 8), tonumber('100644', 8)
local n = 0
local files = {}
local results = { status = 'not called', never = 'not called' }

local function refresh()
	files.status = 'status ' .. n .. ' ' .. string.rep('.', n) .. '\n'
	files.frozen = 'frozen ' .. n .. ' ' .. string.rep('.', n) .. '\n'
end
refresh()

local function report()
	return 'status=' .. results.status .. '\nnever=' .. results.never .. '\n'
end

local fs = {}

function fs.getattr(path)
	if path == '/' then return { mode = DIR, nlink = 2 } end
	if path == '/results' then return { mode = FILE, size = 4096, attr_timeout = 0 } end
	local c = files[path:sub(2)]
	if not c then error(errno.ENOENT) end
	return { mode = FILE, size = #c }
end

function fs.readdir(path, filler)
	filler('.')
	filler('..')
	filler('status')
	filler('frozen')
	filler('results')
end

function fs.open(path, fi)
	if path == '/results' then fi.direct_io = true else fi.keep_cache = true end
end

function fs.read(path, size, offset)
	local c
	if path == '/results' then c = report() else c = files[path:sub(2)] end
	if not c then error(errno.ENOENT) end
	return c:sub(offset + 1, offset + size)
end

flu.every(0.2, function()
	n = n + 1
	refresh()
	local ok, err = flu.notify.inval_inode('/status')
	results.status = tostring(ok) .. ' ' .. tostring(err)
	-- Never looked up by anyone: the kernel knows nothing of it.
	ok, err = flu.notify.inval_inode('/never')
	results.never = tostring(ok) .. ' ' .. tostring(err)
end)

return fs
