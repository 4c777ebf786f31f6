-- For flu check: getattr returns a stat table with a field of the wrong type (an error).
local fs = {}

function fs.getattr(path)
  return { mode = 'directory', size = true }
end

function fs.readdir(path, filler) end
return fs
