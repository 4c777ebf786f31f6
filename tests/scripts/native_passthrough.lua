-- The native passthrough backend, unchanged: every op is served in Rust, no Lua runs.
-- Argument: the backing directory.
return require('flu').passthrough(...)
