-- Every handler of the native passthrough overridden by a Lua function that calls the
-- original: each op goes through Lua (arguments and results converted both ways).
-- Argument: the backing directory.
local flu = require('flu')
local base = flu.passthrough(...)
local fs = {}
for name, f in pairs(base) do
  fs[name] = function(...)
    return f(...)
  end
end
return fs
