-- A deliberately broken filesystem for tests/flu_test_command.rs: readdir lists the
-- name "twice" two times, so `flu test` must fail readdir ("'twice' listed 2 times").
local flu = require 'flu'

local fs = {}

function fs.getattr(path)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	if path ~= "/twice" and path ~= "/once" then error(flu.errno.ENOENT) end
	return { mode = 'file', size = 0 }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	filler("twice")
	filler("once")
	filler("twice") -- the fault
end

return fs
