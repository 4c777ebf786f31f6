-- Returns no filesystem table and never calls flu.main.
local x = 1 + 1
return x
