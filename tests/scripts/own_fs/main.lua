-- A Flu filesystem split into modules, as published ones are: the handler table lives
-- in this directory's own fs.lua, which must win over flu's built-in `fs` module.
local flu = require 'flu'
local fs = require 'fs'
assert(fs.own_module, "require 'fs' gave flu's built-in module, not ./fs.lua")
assert(flu.fs and flu.fs.open, "flu.fs is flu's own fs module")
return fs
