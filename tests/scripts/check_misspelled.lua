-- For flu check: a sound filesystem with one misspelled handler (a warning, exit 0).
local fs = {}
function fs.getattr(path)
  if path == '/' then return { mode = 'directory' } end
  return nil, 'ENOENT'
end
function fs.readdir(path, filler) end
function fs.raedlink(path) return 'target' end
return fs
