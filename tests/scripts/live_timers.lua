-- Timers: one that ticks until unmount, one whose callback always fails, and one that
-- cancels itself (through the timer it is given) at its third run; an flu.after timer
-- cancelled before it ran; destroy logs once.
local flu = require 'flu'
local errno = flu.errno

local fs = {}

function fs.getattr(path)
	if path == '/' then return { mode = tonumber('40755', 8), nlink = 2 } end
	error(errno.ENOENT)
end

function fs.readdir(path, filler)
	filler('.')
	filler('..')
end

flu.every(0.05, function() flu.log.info('tick') end)

local fails = 0
flu.every(0.05, function()
	fails = fails + 1
	error('oops ' .. fails)
end)

local runs = 0
local counter
counter = flu.every(0.05, function(timer)
	runs = runs + 1
	flu.log.info('counted ' .. runs .. ' same-timer=' .. tostring(timer == counter)
		.. ' active=' .. tostring(timer:active()))
	if runs == 3 then
		local first = timer:cancel()
		local second = timer:cancel()
		flu.log.info('self-cancel first=' .. tostring(first) .. ' second=' .. tostring(second)
			.. ' active=' .. tostring(timer:active()))
	end
end)

local never = flu.after(0.2, function() flu.log.info('the cancelled timer ran') end)
local was_active = never:active()
local cancelled = never:cancel()
flu.log.info('cancelled before running: active-before=' .. tostring(was_active)
	.. ' cancel=' .. tostring(cancelled) .. ' active-after=' .. tostring(never:active()))

flu.after(0.1, function(timer)
	flu.log.info('after ran once active=' .. tostring(timer:active()))
end)

function fs.destroy()
	flu.log.info('destroyed')
end

return fs
