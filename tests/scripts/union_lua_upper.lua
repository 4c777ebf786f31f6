-- A union whose upper is a table of Lua handlers (examples/luafs.lua, in memory) over a
-- real directory: copies and whiteouts land in the Lua table, the directory stays as it
-- was. Arguments: the lower directory, the examples directory.
local lower, examples = ...
package.path = examples .. '/?.lua;' .. package.path
local flu = require 'flu'
return flu.union{require 'luafs', lower}
