-- Every way a handler may report an errno (DESIGN 3.3), one path each.
local flu = require 'flu'
local errno = flu.errno

local answers = {
	["/raise_enoent"] = function() error(errno.ENOENT) end,
	["/assert_eacces"] = function() assert(false, errno.EACCES) end,
	["/nil_not_found"] = function() return nil, 'not_found' end,
	["/nil_access_denied"] = function() return nil, 'access_denied' end,
	["/nil_already_exists"] = function() return nil, 'already_exists' end,
	["/nil_not_empty"] = function() return nil, 'not_empty' end,
	["/nil_disk_full"] = function() return nil, 'disk_full' end,
	["/nil_io_error"] = function() return nil, 'io_error' end,
	["/nil_name_eperm"] = function() return nil, 'EPERM' end,
	["/nil_number_28"] = function() return nil, 28 end,
	["/nil_errno_erofs"] = function() return nil, errno.EROFS end,
	["/nil_message_code_13"] = function() return nil, 'something odd happened', 13 end,
	["/raise_after_pcall"] = function()
		-- an errno caught and re-raised keeps its identity
		local ok, e = pcall(error, errno.ENOTDIR)
		error(e)
	end,
}

local fs = {}

function fs.getattr(path)
	if path == "/" then return {mode = 'directory', nlink = 2} end
	if path == "/raise_string" then error("a real bug") end
	local answer = answers[path]
	if answer then return answer() end
	error(errno.ENOENT)
end

-- errors from other handlers than getattr
function fs.mkdir(path, mode)
	if path == "/mkdir_eexist" then return nil, 'already_exists' end
	error(errno.EROFS)
end

return flu.main({"errnos", ...}, fs)
