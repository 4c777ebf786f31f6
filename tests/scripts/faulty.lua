-- Handlers with bugs: each must cost the caller EIO, log one ERROR line, and leave the
-- daemon serving. This script returns its table (no flu.main).
local flu = require 'flu'
local errno = flu.errno

local files = {
	["/ok"] = "fine\n",
	["/wrong_read"] = "xxxx\n",
	["/raise_in_read"] = "yyyy\n",
}

local fs = {}

function fs.getattr(path)
	if path == "/" then
		return {mode = {dir = true, rusr = true, wusr = true, xusr = true, rgrp = true,
			xgrp = true, roth = true, xoth = true}, nlink = 2}
	elseif path == "/raise_string" then
		error("deliberate failure in getattr")
	elseif path == "/raise_table" then
		error({reason = "a table, not a message"})
	elseif path == "/nil_index" then
		local t = nil
		return t.field
	elseif path == "/wrong_getattr" then
		return "a string, not a table"
	end
	local data = files[path]
	if not data then error(errno.ENOENT) end
	return {mode = {reg = true, rusr = true, rgrp = true, roth = true}, size = #data}
end

function fs.readdir(path, filler, fi)
	filler(".")
	filler("..")
	for name in pairs(files) do filler(name:sub(2)) end
end

function fs.open(path, fi)
	if not files[path] then error(errno.ENOENT) end
end

function fs.read(path, size, offset, fi)
	if path == "/wrong_read" then
		return 42
	elseif path == "/raise_in_read" then
		error("read exploded")
	end
	return files[path]:sub(offset + 1, offset + size)
end

return fs
