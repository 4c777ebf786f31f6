-- For the -o uid=,gid=,umask=,max_read= tests: everything is owned by 4242:4343 with
-- a setuid bit; /big holds 4 MiB of 'x', and its reads record the largest size the
-- kernel asked for, which /largest_read shows (16 bytes, space padded).
local flu = require 'flu'
local errno = flu.errno

local BIG = 4 * 1024 * 1024
local largest = 0

local fs = {}

function fs.getattr(path)
	local owner = {uid = 4242, gid = 4343}
	if path == '/' then
		return {mode = '044750', nlink = 2, uid = owner.uid, gid = owner.gid}
	elseif path == '/big' then
		return {mode = '0104644', nlink = 1, size = BIG, uid = owner.uid, gid = owner.gid}
	elseif path == '/largest_read' then
		return {mode = '0100444', nlink = 1, size = 16, uid = owner.uid, gid = owner.gid}
	end
	error(errno.ENOENT)
end

function fs.readdir(path, filler)
	assert(path == '/', errno.ENOENT)
	filler('.')
	filler('..')
	filler('big')
	filler('largest_read')
end

function fs.read(path, size, offset)
	if path == '/largest_read' then
		return string.format('%-16d', largest):sub(offset + 1, offset + size)
	end
	assert(path == '/big', errno.ENOENT)
	if size > largest then largest = size end
	if offset >= BIG then return '' end
	return string.rep('x', math.min(size, BIG - offset))
end

return fs
