#!/usr/bin/env flu
-- hellofs: the smallest useful filesystem. One read-only file, /hello.
--
--   flu mount examples/hellofs.lua /tmp/hello     (flu's way)
--   flu examples/hellofs.lua /tmp/hello           (Flu's way: flu.main parses argv)
--   cat /tmp/hello/hello
--   flu unmount /tmp/hello
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"):
-- flu test: --
--
-- Written in the style of the original Flu: handlers are plain functions (no self),
-- errors are errno values thrown with error()/assert(), modes are sets of flags.

local flu = require 'flu'
local errno = flu.errno

local greeting = "Hello World!\n"

-- Build a Flu mode set from a list of flag names.
local function set(flags)
	local s = {}
	for _, flag in ipairs(flags) do s[flag] = true end
	return s
end

local hellofs = {}

function hellofs.getattr(path)
	if path == "/" then
		return {
			mode = set{'dir', 'rusr', 'wusr', 'xusr', 'rgrp', 'xgrp', 'roth', 'xoth'},
			nlink = 2,
		}
	elseif path == "/hello" then
		return {
			mode = set{'reg', 'rusr', 'rgrp', 'roth'},
			nlink = 1,
			size = #greeting,
		}
	end
	error(errno.ENOENT)
end

function hellofs.readdir(path, filler, fi)
	assert(path == "/", errno.ENOENT)
	filler(".")
	filler("..")
	filler("hello")
end

function hellofs.open(path, fi)
	assert(path == "/hello", errno.ENOENT)
	-- read-only file: refuse any open that could write
	if fi.flags.wronly or fi.flags.rdwr then
		error(errno.EACCES)
	end
end

function hellofs.read(path, size, offset, fi)
	assert(path == "/hello", errno.ENOENT)
	if offset >= #greeting then return "" end
	return greeting:sub(offset + 1, offset + size)
end

-- `flu mount` hands the filesystem table over; `flu run`/the shebang mounts on the
-- mountpoint found in the arguments, like Flu's flu.main did with libfuse.
return flu.main({"hellofs", ...}, hellofs)
