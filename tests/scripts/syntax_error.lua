-- This script does not compile: the error is on line 4.
local fs = {}
function fs.getattr(path)
	return {mode = 'file' size = 1}
end
return fs
