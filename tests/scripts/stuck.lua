-- Handlers that never finish on their own, for tests/interrupts.rs:
--   /spin   getattr runs Lua forever (a busy loop)
--   /nap    getattr sleeps for 30 s in flu.sleep
--   /ok     a plain file
local flu = require 'flu'

local fs = {}

function fs.getattr(path)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	if path == "/spin" then
		local n = 0
		while true do n = n + 1 end
	elseif path == "/nap" then
		flu.sleep(30)
	elseif path ~= "/ok" then
		error(flu.errno.ENOENT)
	end
	return { mode = 'file', size = 0 }
end

return fs
