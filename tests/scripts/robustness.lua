-- A filesystem whose files misbehave on purpose, for tests/robustness.rs:
--   /small   reads "hello\n"
--   /huge    read builds a 1 GiB string (fails under --lua-memory-limit)
--   /table   read grows a table until memory runs out
--   /deep    read recurses without end (stack overflow)
--   any name containing "evil" fails getattr with a message holding the path
local flu = require 'flu'
local errno = flu.errno

local files = { small = true, huge = true, table = true, deep = true }

local fs = {}

function fs.getattr(path)
	if path == "/" then return { mode = 'directory', nlink = 2 } end
	if path:find("evil", 1, true) then
		error("cannot stat " .. path)
	end
	if not files[path:sub(2)] then error(errno.ENOENT) end
	return { mode = { reg = true, rusr = true, rgrp = true, roth = true }, nlink = 1, size = 6 }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	for name in pairs(files) do filler(name) end
end

function fs.open(path, fi) end

local function recurse(n) return recurse(n + 1) + 1 end

function fs.read(path, size, offset)
	if path == "/huge" then
		return string.rep("x", 2 ^ 30)
	elseif path == "/table" then
		local t = {}
		for i = 1, math.maxinteger do t[i] = ("x"):rep(64) .. i end
		return t[1]
	elseif path == "/deep" then
		return tostring(recurse(1))
	end
	local data = "hello\n"
	return data:sub(offset + 1, offset + size)
end

return fs
