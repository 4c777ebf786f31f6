#!/usr/bin/env flu
-- httpfs: a JSON web API as a read-only tree of files, fetched with flu.http.get and
-- cached for a while.
--
--   python3 examples/httpfs_server.py --port 8000 &      (a small API to try it on)
--   flu mount examples/httpfs.lua /tmp/api -- http://127.0.0.1:8000/ [TTL]
--   ls /tmp/api /tmp/api/users                (objects and arrays are directories)
--   cat /tmp/api/users/alice/email            (strings, numbers, true/false/null are files)
--   cat /tmp/api/slow/answer                  (the server takes 2 s; `ls /tmp/api` does not wait)
--   flu unmount /tmp/api
--
-- How paths become requests: a directory is the JSON document at its URL — `/` is the
-- base URL, `/users/alice` is BASE .. "users/alice" (each name percent-encoded). The
-- document must be an object (its keys are the names) or an array (names 1, 2, …). A
-- member holding an object or array is a subdirectory, fetched from its own URL when it
-- is looked at (the REST convention: the API serves nested resources at nested paths). A
-- member holding anything else is a file: the value as text and a newline (a string as
-- it is, a number as written, true, false, null). Names that cannot be file names (empty,
-- `.`, `..`, or holding `/`) are left out.
--
-- Errors: an HTTP 404 is ENOENT (no such file: also a directory its parent lists whose
-- own URL answers 404); another HTTP error, no answer, or a body that is not a JSON
-- object or array is EIO, and the log says which. Errors are cached as answers are.
--
-- Caching: each document is kept TTL seconds (default 10) and fetched again after that.
-- When a directory is fetched, its subdirectories are prefetched in the background
-- (flu.spawn), so walking the tree rarely waits. The kernel's own caching of names and
-- attributes is the mount's (-o attr_timeout=…, entry_timeout=…).
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"): the setup line starts the
-- test server on a free port (it forks once it listens; flu test stops it afterwards).
-- flu test setup: python3 {scriptdir}/httpfs_server.py --port {port} --background
-- flu test: -- http://127.0.0.1:{port}/

local flu = require 'flu'
local errno = flu.errno

local base, ttl = ...
if not base or not base:match("^https?://") then
	error("usage: flu mount httpfs.lua MOUNTPOINT -- http://HOST:PORT/PATH/ [TTL]", 0)
end
if not base:match("/$") then base = base .. "/" end
local TTL = tonumber(ttl) or 10
local TIMEOUT = 10      -- seconds one request may take
local PREFETCH = 16     -- subdirectories prefetched per fetched directory

local DIR = tonumber("40555", 8)
local FILE = tonumber("100444", 8)

---------------------------------------------------------------------------------------
-- A small JSON decoder. Objects decode to { json = "object", keys = {...}, map = {...} }
-- (keys in document order), arrays to { json = "array", items = {...} }, strings to
-- Lua strings, numbers and true/false/null to { json = "scalar", text = "..." } (as
-- written, so 1.50 stays 1.50).

local decode
do
	local escapes = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }

	local function fail(s, i, what) error(string.format("JSON: %s at byte %d", what, i), 0) end
	local function skip(s, i) return s:find("[^ \t\r\n]", i) or #s + 1 end

	local value

	local function str(s, i) -- s:sub(i, i) == '"'
		local out, j = {}, i + 1
		while true do
			local k = s:find('["\\]', j)
			if not k then fail(s, i, "unterminated string") end
			out[#out + 1] = s:sub(j, k - 1)
			if s:sub(k, k) == '"' then return table.concat(out), k + 1 end
			local e = s:sub(k + 1, k + 1)
			if e == "u" then
				local cp = tonumber(s:sub(k + 2, k + 5), 16) or fail(s, k, "bad \\u escape")
				j = k + 6
				if cp >= 0xD800 and cp <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
					local lo = tonumber(s:sub(j + 2, j + 5), 16)
					if lo and lo >= 0xDC00 and lo <= 0xDFFF then
						cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
						j = j + 6
					end
				end
				out[#out + 1] = utf8.char(cp)
			else
				out[#out + 1] = escapes[e] or fail(s, k, "bad escape")
				j = k + 2
			end
		end
	end

	function value(s, i)
		i = skip(s, i)
		local c = s:sub(i, i)
		if c == "{" then
			local obj = { json = "object", keys = {}, map = {} }
			i = skip(s, i + 1)
			if s:sub(i, i) == "}" then return obj, i + 1 end
			while true do
				if s:sub(i, i) ~= '"' then fail(s, i, "expected a key") end
				local k, v
				k, i = str(s, i)
				i = skip(s, i)
				if s:sub(i, i) ~= ":" then fail(s, i, "expected ':'") end
				v, i = value(s, i + 1)
				if obj.map[k] == nil then obj.keys[#obj.keys + 1] = k end
				obj.map[k] = v
				i = skip(s, i)
				c = s:sub(i, i)
				if c == "}" then return obj, i + 1 end
				if c ~= "," then fail(s, i, "expected ',' or '}'") end
				i = skip(s, i + 1)
			end
		elseif c == "[" then
			local arr = { json = "array", items = {} }
			i = skip(s, i + 1)
			if s:sub(i, i) == "]" then return arr, i + 1 end
			while true do
				local v
				v, i = value(s, i)
				arr.items[#arr.items + 1] = v
				i = skip(s, i)
				c = s:sub(i, i)
				if c == "]" then return arr, i + 1 end
				if c ~= "," then fail(s, i, "expected ',' or ']'") end
				i = i + 1
			end
		elseif c == '"' then
			return str(s, i)
		end
		local lit = s:match("^true", i) or s:match("^false", i) or s:match("^null", i)
			or s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
		if not lit or lit == "" or lit == "-" then fail(s, i, "unexpected character") end
		return { json = "scalar", text = lit }, i + #lit
	end

	function decode(s)
		local v, i = value(s, 1)
		if skip(s, i) <= #s then fail(s, i, "trailing characters") end
		return v
	end
end

---------------------------------------------------------------------------------------
-- Fetching documents, with a TTL cache. cache[key] = { at = time, doc = document }
-- or { at = time, err = errno }; key is the path below the base ("" for the root).

local cache, inflight = {}, {}

local function url_of(parts)
	local enc = {}
	for i, p in ipairs(parts) do
		enc[i] = p:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)
	end
	return base .. table.concat(enc, "/")
end

local function is_container(v) return type(v) == "table" and (v.json == "object" or v.json == "array") end

local prefetch

-- GET one document; the cache entry for it.
local function get(parts)
	local url = url_of(parts)
	local r, err = flu.http.get(url, { timeout = TIMEOUT })
	if not r then
		flu.log.warn(string.format("GET %s: %s", url, err))
		return { err = errno.EIO }
	elseif r.status == 404 then
		return { err = errno.ENOENT }
	elseif r.status >= 300 then
		flu.log.warn(string.format("GET %s: HTTP %d", url, r.status))
		return { err = errno.EIO }
	end
	local ok, doc = pcall(decode, r.body)
	if ok and is_container(doc) then return { doc = doc } end
	flu.log.warn(string.format("GET %s: %s", url, ok and "not a JSON object or array" or doc))
	return { err = errno.EIO }
end

-- Start fetching a document in the background, unless that is under way. The fetch is
-- a task of its own (flu.spawn), not part of the request that wanted it: a request
-- that is interrupted ends where it waits, and would leave its fetch unfinished and
-- marked in flight; a task always gets to the end (an answer or the timeout).
local function start_fetch(key, parts)
	if inflight[key] then return end
	inflight[key] = true
	flu.spawn(function()
		local ok, c = pcall(get, parts)
		c = ok and c or { err = errno.EIO }
		c.at = os.time()
		cache[key] = c
		inflight[key] = nil
		if c.doc then prefetch(parts, c.doc) end
	end)
end

local function fresh(c) return c and os.time() - c.at < TTL end

-- The document of the directory parts[1..n]: its cache entry, fetched if needed.
local function fetch(parts, n)
	local key = table.concat(parts, "/", 1, n)
	if fresh(cache[key]) then return cache[key] end
	start_fetch(key, { table.unpack(parts, 1, n) })
	while inflight[key] do flu.sleep(0.02) end -- gives the Lua lock up while waiting
	return cache[key] or { err = errno.EIO }
end

-- The names of a document's members, and the member called `name`.
local function good_name(k) return k ~= "" and k ~= "." and k ~= ".." and not k:find("[/%z]") end

local function names(doc)
	local out = {}
	if doc.json == "array" then
		for i = 1, #doc.items do out[i] = tostring(i) end
	else
		for _, k in ipairs(doc.keys) do
			if good_name(k) then out[#out + 1] = k end
		end
	end
	return out
end

local function member(doc, name)
	if doc.json == "array" then
		local i = name:match("^[1-9]%d*$") and tonumber(name)
		return i and doc.items[i]
	end
	return good_name(name) and doc.map[name] or nil
end

-- In the background: fetch the subdirectories of a directory just fetched.
function prefetch(parts, doc)
	local started = 0
	for _, name in ipairs(names(doc)) do
		if started >= PREFETCH then break end
		local child = { table.unpack(parts) }
		child[#child + 1] = name
		local key = table.concat(child, "/")
		if is_container(member(doc, name)) and not fresh(cache[key]) and not inflight[key] then
			started = started + 1
			start_fetch(key, child)
		end
	end
end

---------------------------------------------------------------------------------------
-- Paths to nodes: a directory { dir = parts } or a file { text = "..." }.

local function text_of(v)
	if type(v) == "string" then return v .. "\n" end
	return v.text .. "\n"
end

local function resolve(path)
	local parts = {}
	for p in path:gmatch("[^/]+") do parts[#parts + 1] = p end
	if #parts == 0 then return { dir = parts } end
	-- The parent directory's document says what the last name is.
	local c = fetch(parts, #parts - 1)
	if c.err then error(c.err) end
	local v = member(c.doc, parts[#parts])
	if v == nil then error(errno.ENOENT) end
	if is_container(v) then
		-- A directory is there when its own URL answers (a 404 there is ENOENT).
		local own = fetch(parts, #parts)
		if own.err then error(own.err) end
		return { dir = parts }
	end
	return { text = text_of(v), at = c.at }
end

-- A directory's own document (its listing).
local function listing(parts)
	local c = fetch(parts, #parts)
	if c.err then error(c.err) end
	return names(c.doc)
end

---------------------------------------------------------------------------------------
-- The handlers.

local fs = {}

function fs.getattr(path)
	local node = resolve(path)
	if node.dir then return { mode = DIR } end
	return { mode = FILE, size = #node.text, mtime = node.at }
end

function fs.readdir(path, filler)
	local node = resolve(path)
	if not node.dir then error(errno.ENOTDIR) end
	local list = listing(node.dir)
	filler(".")
	filler("..")
	for _, name in ipairs(list) do filler(name) end
end

function fs.open(path, fi)
	if fi.flags.wronly or fi.flags.rdwr then error(errno.EROFS) end
	if resolve(path).dir then error(errno.EISDIR) end
end

function fs.read(path, size, offset)
	local node = resolve(path)
	if node.dir then error(errno.EISDIR) end
	return node.text:sub(offset + 1, offset + size)
end

return fs
