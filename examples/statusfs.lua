#!/usr/bin/env flu
-- statusfs: live status files, cached by the kernel for an hour and invalidated the
-- moment they change, so readers always see fresh data and never wait for the script.
--
--   flu mount examples/statusfs.lua /tmp/status
--   cat /tmp/status/time /tmp/status/loadavg; sleep 2; cat /tmp/status/time
--   echo 'hello' > /tmp/status/note         (a file a writer sets; readers see it at once)
--   ls /tmp/status/events                   (one file per minute the mount has run)
--   flu reload /tmp/status                  (after editing this file: same mount, new code)
--   flu unmount /tmp/status
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"):
-- flu test: --
--
-- What it shows:
--   * stat tables carry `attr_timeout`/`entry_timeout`: the kernel may cache for an hour;
--   * a timer (flu.every) refreshes the files and calls flu.notify.inval_inode, so the
--     next read or stat asks again; a new name is announced with flu.notify.inval_entry;
--   * flu.state keeps the counters across `flu reload`, so editing the script while it
--     is mounted loses nothing.

local flu = require 'flu'
local errno = flu.errno

local CACHE = 3600 -- seconds the kernel may keep what it learned

-- Kept across reloads: when the mount started, what was written to /note, the events.
local state = flu.state
state.started = state.started or os.time()
state.note = state.note or "write something here\n"
state.events = state.events or {}
state.refreshes = state.refreshes or 0

local function first_line(path)
	local f = io.open(path, "r")
	if not f then return "unknown\n" end
	local line = f:read("l") or "unknown"
	f:close()
	return line .. "\n"
end

-- What each file holds now (refreshed by the timer, not by readers).
local files = {}
local function refresh()
	state.refreshes = state.refreshes + 1
	files.time = os.date("!%Y-%m-%dT%H:%M:%SZ") .. "\n"
	files.uptime = string.format("%d s mounted\n", os.time() - state.started)
	files.loadavg = first_line("/proc/loadavg")
	files.refreshes = tostring(state.refreshes) .. "\n"
end
refresh()

local DIR = tonumber("40755", 8)
local FILE = tonumber("100444", 8)
local NOTE = tonumber("100644", 8)

local fs = {}

function fs.getattr(path)
	if path == "/" or path == "/events" then
		return { mode = DIR, nlink = 2, attr_timeout = CACHE, entry_timeout = CACHE }
	end
	if path == "/note" then
		return { mode = NOTE, size = #state.note, attr_timeout = CACHE, entry_timeout = CACHE }
	end
	local event = path:match("^/events/(.+)$")
	if event then
		if not state.events[event] then error(errno.ENOENT) end
		return { mode = FILE, size = #state.events[event], entry_timeout = CACHE }
	end
	local content = files[path:sub(2)]
	if not content then error(errno.ENOENT) end
	return { mode = FILE, size = #content, attr_timeout = CACHE, entry_timeout = CACHE }
end

function fs.readdir(path, filler)
	filler(".")
	filler("..")
	if path == "/events" then
		for name in pairs(state.events) do filler(name) end
		return
	end
	if path ~= "/" then error(errno.ENOTDIR) end
	for name in pairs(files) do filler(name) end
	filler("note")
	filler("events")
end

-- Content that changes behind the kernel's back must not stay in its page cache past an
-- invalidation: keep_cache is off (the default), so each open reads what is current.
function fs.read(path, size, offset)
	local content
	if path == "/note" then
		content = state.note
	else
		content = files[path:sub(2)] or state.events[path:match("^/events/(.+)$") or ""]
	end
	if not content then error(errno.ENOENT) end
	return content:sub(offset + 1, offset + size)
end

function fs.open(path, fi)
	if path ~= "/note" and (fi.flags.wronly or fi.flags.rdwr) then error(errno.EACCES) end
end

function fs.truncate(path, size)
	if path ~= "/note" then error(errno.EACCES) end
	state.note = state.note:sub(1, size)
end

function fs.write(path, data, offset)
	if path ~= "/note" then error(errno.EACCES) end
	state.note = state.note:sub(1, offset) .. data .. state.note:sub(offset + #data + 1)
	-- Inside a handler the notification is sent after this reply: it cannot deadlock.
	flu.notify.inval_inode("/note")
	return #data
end

-- Every second: new values, and the kernel is told to forget the old ones. A file that
-- nobody has looked at yet is unknown to the kernel (nil, err): nothing to drop.
flu.every(1, function()
	refresh()
	for name in pairs(files) do flu.notify.inval_inode("/" .. name) end
	local minute = os.date("!%Y%m%d-%H%M")
	if not state.events[minute] then
		state.events[minute] = string.format("mounted for %d s at %s\n", os.time() - state.started, minute)
		flu.notify.inval_entry("/events", minute)
		flu.notify.inval_inode("/events")
	end
end)

-- Called after `flu reload` switched to this version of the script.
function fs.reload(old)
	flu.log.info("statusfs reloaded; " .. state.refreshes .. " refreshes so far")
end

return fs
