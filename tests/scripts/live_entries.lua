-- Names created and removed behind the kernel by a timer, started by a write to /ctl
-- ("create" or "delete"). Of each pair only the first name is announced to the kernel
-- (inval_entry for "new", delete for "gone"); the *_control twins never are.
-- /results (never cached) shows what the notify calls returned, and how many times
-- the kernel asked for /sentinel (a name nothing invalidates: asked again only when
-- something else on the machine drops the kernel's dentry cache).
local flu = require 'flu'
local errno = flu.errno

local DIR, FILE = tonumber('40755', 8), tonumber('100644', 8)
local files = { ctl = '', gone = 'gone\n', gone_control = 'gone control\n', sentinel = '' }
local results = {}
local sentinel_lookups = 0

local fs = {}

function fs.getattr(path)
	if path == '/' then return { mode = DIR, nlink = 2 } end
	if path == '/results' then return { mode = FILE, size = 4096, attr_timeout = 0 } end
	if path == '/sentinel' then sentinel_lookups = sentinel_lookups + 1 end
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
	if path == '/results' then fi.direct_io = true end
end

function fs.read(path, size, offset)
	local c
	if path == '/results' then
		c = table.concat(results, '\n') .. '\nsentinel lookups ' .. sentinel_lookups .. '\n'
	else
		c = files[path:sub(2)]
	end
	if not c then error(errno.ENOENT) end
	return c:sub(offset + 1, offset + size)
end

function fs.truncate(path, size)
	if path ~= '/ctl' then error(errno.EACCES) end
end

function fs.write(path, data, offset)
	if path ~= '/ctl' then error(errno.EACCES) end
	local cmd = data:match('^%s*(%a+)')
	flu.after(0.05, function()
		if cmd == 'create' then
			files.new = 'new\n'
			files.new_control = 'new control\n'
			local ok, err = flu.notify.inval_entry('/', 'new')
			table.insert(results, 'inval_entry ' .. tostring(ok) .. ' ' .. tostring(err))
		elseif cmd == 'delete' then
			files.gone = nil
			files.gone_control = nil
			local ok, err = flu.notify.delete('/', 'gone')
			table.insert(results, 'delete ' .. tostring(ok) .. ' ' .. tostring(err))
		else
			table.insert(results, 'unknown command ' .. tostring(cmd))
		end
	end)
	return #data
end

return fs
