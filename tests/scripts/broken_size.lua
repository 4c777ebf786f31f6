-- A deliberately broken filesystem for tests/flu_test_command.rs: getattr reports the
-- wrong size for both files (one byte too many for /more, one too few for /less), so
-- `flu test` must fail read-size and name both files.
local flu = require 'flu'

local CONTENT = "Hello World!\n" -- 13 bytes
local SIZES = { ["/more"] = #CONTENT + 1, ["/less"] = #CONTENT - 1 }

local fs = {}

function fs.getattr(path)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	local size = SIZES[path]
	if not size then error(flu.errno.ENOENT) end
	return { mode = 'file', size = size }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	filler("more")
	filler("less")
end

function fs.read(path, size, offset)
	return CONTENT:sub(offset + 1, offset + size)
end

return fs
