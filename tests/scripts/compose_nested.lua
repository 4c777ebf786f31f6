-- A composition inside a composition, overridden in Lua on top: a memory branch that
-- keeps its own fi.fh values, a passthrough inside the inner composition and one deep
-- in the outer, a busy branch whose read holds the Lua lock, and a branch whose
-- handlers notify with their own paths.
local flu = require 'flu'
local errno = flu.errno
local root = ...

local DIR, FILE = tonumber("40755", 8), tonumber("100644", 8)

-- Hands out fi.fh = 7000 + n; read answers the fh it was given, so a test sees that the
-- branch gets its own handle back.
local handles = { n = 0 }
local memo = {}
function memo.getattr(path)
	if path == "/" then return { mode = DIR, nlink = 2 } end
	if path == "/fh" then return { mode = FILE, size = 4 } end
	error(errno.ENOENT)
end
function memo.readdir(path, filler)
	filler(".") filler("..") filler("fh")
end
function memo.open(path, fi)
	handles.n = handles.n + 1
	fi.fh = 7000 + handles.n
end
function memo.read(path, size, offset, fi)
	return tostring(fi.fh):sub(offset + 1, offset + size)
end

-- read of /spin runs Lua for a while without yielding: the Lua lock is held meanwhile.
local busy = {}
function busy.getattr(path)
	if path == "/" then return { mode = DIR, nlink = 2 } end
	if path == "/spin" then return { mode = FILE, size = 5 } end
	error(errno.ENOENT)
end
function busy.readdir(path, filler) filler(".") filler("..") filler("spin") end
function busy.read(path, size, offset)
	local deadline = os.clock() + 2
	while os.clock() < deadline do end
	return ("done\n"):sub(offset + 1, offset + size)
end

-- Its clock file is cached for an hour; writing /tick bumps it and notifies "/clock",
-- which only works if flu adds the branch's prefix.
local clock = { n = 0 }
local live = {}
function live.getattr(path)
	if path == "/" then return { mode = DIR, nlink = 2 } end
	if path == "/clock" then
		return { mode = FILE, size = #tostring(clock.n), attr_timeout = 3600, entry_timeout = 3600 }
	end
	if path == "/tick" then return { mode = FILE, size = 0 } end
	error(errno.ENOENT)
end
function live.readdir(path, filler) filler(".") filler("..") filler("clock") filler("tick") end
function live.read(path, size, offset)
	if path == "/clock" then return tostring(clock.n):sub(offset + 1, offset + size) end
	return ""
end
function live.truncate() end
function live.open(path, fi) end
function live.write(path, data)
	clock.n = clock.n + 1
	flu.notify.inval_inode("/clock")
	return #data
end

local top = {}
function top.getattr(path)
	if path == "/" then return { mode = DIR, nlink = 2 } end
	error(errno.ENOENT)
end
function top.readdir(path, filler) filler(".") filler("..") end

local inner = flu.compose{
	['/'] = memo,
	['/pt'] = flu.passthrough(root),
}
local outer = flu.compose{
	['/'] = top,
	['/in'] = inner,
	['/a/b/deep'] = flu.passthrough(root),
	['/busy'] = busy,
	['/live'] = live,
}

-- On top, in Lua: one file of its own, the rest from the composition (calling into its
-- Lua branches from inside a handler).
local fs = setmetatable({}, { __index = outer })
function fs.getattr(path, fi)
	if path == "/hello" then return { mode = FILE, size = 6 } end
	return outer.getattr(path, fi)
end
function fs.read(path, size, offset, fi)
	if path == "/hello" then return ("hello\n"):sub(offset + 1, offset + size) end
	return outer.read(path, size, offset, fi)
end
return fs
