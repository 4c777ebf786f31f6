#!/usr/bin/env flu
-- composefs: one tree made of three filesystems, each mounted at a path of it.
--
--   mkdir -p /tmp/data /tmp/composed
--   flu mount examples/composefs.lua /tmp/composed -- /tmp/data
--   ls /tmp/composed                  (luafs's files, plus real/ and status/)
--   echo hi > /tmp/composed/real/f    (lands in /tmp/data/f, served natively)
--   cat /tmp/composed/status/time     (a live file, refreshed every second)
--   mv /tmp/composed/real/f /tmp/composed/   (EXDEV: mv copies between backends)
--   flu unmount /tmp/composed
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"):
-- flu test: -- {tmpdir}
--
-- What it shows:
--   * `/` is examples/luafs.lua, required as a module: any handler table composes;
--   * `/real` is flu.passthrough: its operations never enter Lua, and its reads and
--     writes stay in the kernel where kernel passthrough is available;
--   * `/status` is a small live tree: its handlers and its timer use paths of its own
--     (`/time`), and flu adds the `/status` prefix to its notifications;
--   * mount points show in their parent's listing, cannot be removed or renamed
--     (EBUSY), and names do not move between backends (EXDEV).

local flu = require 'flu'
local errno = flu.errno

local root = ...
if not root then
	error("usage: flu mount examples/composefs.lua MOUNTPOINT -- DIRECTORY", 0)
end

local status = {}
local now = os.date("!%Y-%m-%dT%H:%M:%SZ") .. "\n"

function status.getattr(path)
	if path == "/" then return { mode = tonumber("40555", 8), nlink = 2 } end
	if path == "/time" then
		return { mode = tonumber("100444", 8), size = #now, attr_timeout = 3600 }
	end
	error(errno.ENOENT)
end

function status.readdir(path, filler)
	if path ~= "/" then error(errno.ENOTDIR) end
	filler(".")
	filler("..")
	filler("time")
end

function status.read(path, size, offset)
	if path ~= "/time" then error(errno.ENOENT) end
	return now:sub(offset + 1, offset + size)
end

-- Made in init, the timer belongs to this branch: "/time" means /status/time.
function status.init()
	flu.every(1, function()
		now = os.date("!%Y-%m-%dT%H:%M:%SZ") .. "\n"
		flu.notify.inval_inode("/time")
	end)
end

return flu.compose{
	['/'] = require 'luafs',
	['/real'] = flu.passthrough(root),
	['/status'] = status,
}
