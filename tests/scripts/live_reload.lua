-- A template: the test copies it to a private directory with @VERSION@ replaced, and
-- rewrites it there to reload. Files (all read straight from the handlers, never cached):
--   /version  the version of the table serving reads
--   /loads    how many times the script ran (kept in flu.state)
--   /handle   the fi.fh its open set, and which version's read served it
--   /events   init, reload(old) and release calls, in order (kept in flu.state)
-- and a timer that logs "tick VERSION".
local flu = require 'flu'
local errno = flu.errno
local VERSION = '@VERSION@'

flu.state.loads = (flu.state.loads or 0) + 1
flu.state.events = flu.state.events or {}
local events = flu.state.events

local DIR, FILE = tonumber('40755', 8), tonumber('100644', 8)

local function content(path, fi)
	if path == '/version' then return VERSION .. '\n' end
	if path == '/loads' then return tostring(flu.state.loads) .. '\n' end
	if path == '/events' then return table.concat(events, '\n') .. '\n' end
	if path == '/handle' then
		return 'fh=' .. tostring(fi and fi.fh) .. ' read by ' .. VERSION .. '\n'
	end
end

local fs = {}

function fs.init()
	table.insert(events, VERSION .. ' init')
end

function fs.getattr(path)
	if path == '/' then return { mode = DIR, nlink = 2 } end
	if not content(path) then error(errno.ENOENT) end
	return { mode = FILE, size = 4096, attr_timeout = 0 }
end

function fs.readdir(path, filler)
	filler('.')
	filler('..')
	for _, name in ipairs({ 'version', 'loads', 'handle', 'events' }) do filler(name) end
end

function fs.open(path, fi)
	if path == '/handle' then
		flu.state.next_fh = (flu.state.next_fh or 41) + 1
		fi.fh = flu.state.next_fh
		fi.opened_by = VERSION
	end
	fi.direct_io = true
end

function fs.read(path, size, offset, fi)
	local c = content(path, fi)
	if not c then error(errno.ENOENT) end
	return c:sub(offset + 1, offset + size)
end

function fs.release(path, fi)
	if path == '/handle' then
		table.insert(events, VERSION .. ' released fh=' .. tostring(fi.fh)
			.. ' opened by ' .. tostring(fi.opened_by))
	end
end

function fs.reload(old)
	flu.state.reloads = (flu.state.reloads or 0) + 1
	table.insert(events, VERSION .. ' reload(old) #' .. flu.state.reloads
		.. ' old is another table=' .. tostring(old ~= fs)
		.. ' old has read=' .. tostring(type(old.read) == 'function'))
end

flu.every(0.1, function() flu.log.info('tick ' .. VERSION) end)

return fs
