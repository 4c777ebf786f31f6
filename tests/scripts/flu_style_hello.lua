#!/usr/bin/env flu
-- A script exactly as Flu users wrote them: `local args = {...}; flu.main(args, fs)`
-- without `return`, string modes, numeric times, and the result of flu.main unused.
local flu = require 'flu'
local errno = flu.errno

local content = "flu style\n"
local fs = {}

function fs.getattr(path, st)
	if path == "/" then
		return {mode = 'directory', nlink = 2, modification = 1000000000}
	elseif path == "/file" then
		return {mode = 'file', size = #content, access = 1000000000.25,
			modification = 1000000000, change = 1000000000}
	end
	error(errno.ENOENT)
end

function fs.readdir(path, filler, fi)
	assert(path == "/", errno.ENOENT)
	filler(".")
	filler("..")
	filler("file")
end

function fs.read(path, size, offset, fi)
	return content:sub(offset + 1, offset + size)
end

local args = {"flu_style_hello", ...}
flu.main(args, fs)
