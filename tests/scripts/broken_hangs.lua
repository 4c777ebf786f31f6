-- A filesystem whose read never returns (a busy loop holding the Lua lock), for
-- tests/flu_test_command.rs: `flu test --timeout` must give up on the check, fail it,
-- and still unmount.
local flu = require 'flu'

local fs = {}

function fs.getattr(path)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	if path ~= "/slow" then error(flu.errno.ENOENT) end
	return { mode = 'file', size = 10 }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	filler("slow")
end

function fs.read(path, size, offset)
	local n = 0
	while true do n = n + 1 end
end

return fs
