-- A deliberately broken filesystem for tests/flu_test_command.rs: read ignores its
-- offset and always answers from the start of the file, so `flu test` must fail
-- read-offsets ("got the bytes of offset 0").
local flu = require 'flu'

local CONTENT = "0123456789abcdefghijklmnopqrstuvwxyz\n"

local fs = {}

function fs.getattr(path)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	if path ~= "/data" then error(flu.errno.ENOENT) end
	return { mode = 'file', size = #CONTENT }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	filler("data")
end

function fs.read(path, size, offset)
	return CONTENT:sub(1, size) -- the fault: offset is ignored
end

return fs
