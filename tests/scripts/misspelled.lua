-- A handler table with a misspelled handler: it mounts, but flu says what it ignores.
local fs = {}
function fs.getatr(path) return { mode = 'directory' } end
function fs.readdir(path, filler) end
return fs
