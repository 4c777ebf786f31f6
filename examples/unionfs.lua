-- unionfs: an overlay of directories with the semantics of Linux overlayfs, served
-- natively (no Lua on any request).
--
--   flu mount examples/unionfs.lua /mnt -- UPPER LOWER1 [LOWER2 ...]
--
-- Reads fall through to the first layer that has a name (UPPER first); directories
-- present in several layers merge; writing a lower file (or chmod, truncate, ...) copies
-- it up to UPPER first; removing a lower name leaves a whiteout in UPPER. UPPER keeps
-- whiteouts as overlayfs does (0/0 character devices, `trusted.overlay.opaque`
-- directories), so after unmounting the same directories mount with
--   mount -t overlay overlay -o lowerdir=LOWER1:LOWER2,upperdir=UPPER,workdir=W /mnt
-- (docs/guide.md, "Unions").
--
-- For `flu test`: an empty upper over a lower with a file and a directory in it.
-- flu test setup: mkdir -p {tmpdir}/upper {tmpdir}/lower/dir
-- flu test setup: sh -c 'echo lower > {tmpdir}/lower/dir/file'
-- flu test: -- {tmpdir}/upper {tmpdir}/lower

local flu = require 'flu'

local layers = {...}
if #layers < 2 then
  error('usage: flu mount unionfs.lua MOUNTPOINT -- UPPER LOWER1 [LOWER2 ...]', 0)
end
return flu.union(layers)
