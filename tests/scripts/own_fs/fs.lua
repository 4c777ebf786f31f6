-- The script's own fs module: the filesystem table itself.
local flu = require 'flu'
local fs = { own_module = true }

function fs.getattr(path)
	if path == '/' then return { mode = 'directory', nlink = 2 } end
	if path == '/hello' then return { mode = 'file', size = 6 } end
	error(flu.errno.ENOENT)
end

function fs.readdir(path, filler)
	filler('hello')
end

function fs.read(path, size, offset)
	return ('hello\n'):sub(offset + 1, offset + size)
end

return fs
