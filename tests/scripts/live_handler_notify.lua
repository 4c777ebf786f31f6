-- Notifications sent from inside handlers, where the kernel holds locks the
-- notification needs until the handler's reply:
--   * write to /ctl changes /target, announces /made, and invalidates /ctl itself
--     (the file being written);
--   * create of a file (the kernel holds the directory's lock) announces /made_by_create.
-- /results (never cached) shows what the notify calls returned.
local flu = require 'flu'
local errno = flu.errno

local DIR, FILE = tonumber('40755', 8), tonumber('100644', 8)
local files = { ctl = '', target = 'before\n' }
local results = {}

local function record(what, ok, err)
	table.insert(results, what .. ' ' .. tostring(ok) .. ' ' .. tostring(err))
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
	for name in pairs(files) do filler(name) end
	filler('results')
end

function fs.open(path, fi)
	if path == '/results' then fi.direct_io = true else fi.keep_cache = true end
end

function fs.create(path, mode, fi)
	files[path:sub(2)] = ''
	files.made_by_create = 'made by create\n'
	record('create:inval_entry', flu.notify.inval_entry('/', 'made_by_create'))
	fi.keep_cache = true
end

function fs.read(path, size, offset)
	local c
	if path == '/results' then c = table.concat(results, '\n') .. '\n' else c = files[path:sub(2)] end
	if not c then error(errno.ENOENT) end
	return c:sub(offset + 1, offset + size)
end

function fs.truncate(path, size)
	local name = path:sub(2)
	if not files[name] then error(errno.ENOENT) end
	files[name] = files[name]:sub(1, size)
end

function fs.write(path, data, offset)
	local name = path:sub(2)
	if not files[name] then error(errno.ENOENT) end
	if path == '/ctl' then
		files.target = 'after ' .. data .. '\n'
		files.made = 'made\n'
		record('write:inval_inode(/target)', flu.notify.inval_inode('/target'))
		record('write:inval_entry(/, made)', flu.notify.inval_entry('/', 'made'))
		record('write:inval_inode(/ctl)', flu.notify.inval_inode('/ctl'))
		return #data
	end
	files[name] = files[name]:sub(1, offset) .. data .. files[name]:sub(offset + #data + 1)
	return #data
end

return fs
