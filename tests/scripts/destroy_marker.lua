-- Writes "destroyed" to the file named by the first script argument when the
-- filesystem is torn down (destroy handler).
local flu = require 'flu'
local errno = flu.errno
local marker = assert(..., "usage: flu mount destroy_marker.lua DIR -- MARKER_FILE")

local fs = {}

function fs.getattr(path)
	if path == "/" then return {mode = 'directory', nlink = 2} end
	error(errno.ENOENT)
end

function fs.readdir(path, filler, fi)
	filler(".")
	filler("..")
end

function fs.destroy()
	local f = assert(io.open(marker, "w"))
	f:write("destroyed")
	f:close()
end

return fs
