#!/usr/bin/env flu
-- gitfs: a git repository's branches, commits and trees as read-only files, read
-- through the `git` command (flu.exec, no shell) and cached in Lua.
--
--   flu mount examples/gitfs.lua /tmp/git -- /path/to/repo
--   cat /tmp/git/HEAD                        (the commit HEAD names)
--   ls /tmp/git/branches                     (one directory per branch, NAME.log beside it)
--   cat /tmp/git/branches/main/README.md     (a file as committed on the branch's tip)
--   cat /tmp/git/branches/main.log           (the branch's last 50 commits, one a line)
--   ls /tmp/git/commits                      (the 100 newest commits of all branches)
--   cat /tmp/git/commits/SHA/src/main.rs     (any commit, by its full id, also unlisted)
--   flu unmount /tmp/git
--
-- A branch named `feature/x` is the directory branches/feature/x. Names are bytes: a
-- file or branch whose name is not UTF-8 shows as it is (git is asked for -z output).
-- GITFS_GIT=/path/to/git chooses the git program (the tests use a slow one).
--
-- For `flu test` (docs/guide.md, "Testing your filesystem"): the setup lines turn the
-- test's {tmpdir} into a repository with one commit of its files.
-- flu test setup: git -C {tmpdir} init -q
-- flu test setup: git -C {tmpdir} add -A
-- flu test setup: git -C {tmpdir} -c user.name=flu -c user.email=flu@localhost -c commit.gpgsign=false commit -q -m 'flu test'
-- flu test: -- {tmpdir}
--
-- What it shows (docs/guide.md, "Slow data sources"):
--   * every `git` runs through flu.exec: while one request waits for git, the others
--     are served (the handler gives the Lua lock up while it waits);
--   * what cannot change is cached forever: a tree or blob id names the same content
--     for good, so listings, sizes and contents are asked of git once, and the kernel
--     may cache paths below /commits for an hour;
--   * what changes (the branches, HEAD) is re-read by a timer every REFRESH seconds,
--     which tells the kernel (flu.notify) to forget the branches that moved.

local flu = require 'flu'
local errno = flu.errno

local repo = ...
if not repo or repo == "" then
	error("usage: flu mount gitfs.lua MOUNTPOINT -- REPOSITORY", 0)
end
local GIT = os.getenv("GITFS_GIT") or "git"

local REFRESH = 2         -- seconds between re-reads of the branches
local FOREVER = 3600      -- what the kernel may cache of immutable paths
local LOG_LENGTH = 50     -- commits in a branch's .log
local COMMITS_LISTED = 100
local BLOB_CACHE = 64 << 20 -- bytes of file contents kept
local GIT_TIMEOUT = 60    -- seconds a git command may run (then it is killed: EIO)

local DIR = tonumber("40555", 8)
local FILE = tonumber("100444", 8)
local EXEC = tonumber("100555", 8)
local LINK = tonumber("120777", 8)

-- Run git on the repository: its stdout, or nil and a message. In a handler or timer
-- this yields: other requests are served while git runs.
local function git(...)
	local r, err = flu.exec({ GIT, "-C", repo, ... }, { max_output = 1 << 30, timeout = GIT_TIMEOUT })
	if not r then return nil, err end
	if r.status ~= 0 then
		return nil, string.format("git %s: %s", (...), (r.stderr or ""):gsub("%s+$", ""))
	end
	return r.stdout
end

-- As git(), but a failure is logged and answers EIO.
local function git_or_eio(...)
	local out, err = git(...)
	if not out then
		flu.log.warn(err)
		error(errno.EIO)
	end
	return out
end

-- Before mounting (a plain, blocking call here): is it a repository at all?
do
	local _, err = git("rev-parse", "--git-dir")
	if err then error(string.format("gitfs: %q is not a git repository (%s)", repo, err), 0) end
end

---------------------------------------------------------------------------------------
-- What changes: refs, re-read by the timer.

local refs = { branches = {}, names = {}, head = nil, commits = {} }

local function read_refs()
	local out = git("for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/heads")
	if not out then return nil end
	local branches, names = {}, {}
	-- Ref names hold no newline, blank or control character (git forbids them).
	for sha, name in out:gmatch("(%x+) ([^\n]+)\n") do
		branches[name] = sha
		names[#names + 1] = name
	end
	local head = git("rev-parse", "--verify", "-q", "HEAD")
	local listed = git("rev-list", "--all", "--max-count=" .. COMMITS_LISTED) or ""
	local commits = {}
	for sha in listed:gmatch("%x+") do commits[#commits + 1] = sha end
	return { branches = branches, names = names, head = head, commits = commits }
end
refs = read_refs() or refs

---------------------------------------------------------------------------------------
-- What never changes: commits, trees, blobs (cached by id).

local commit_cache = {} -- commit id -> { tree = id, time = seconds }
local tree_cache = {}   -- tree id -> { names = {...}, entries = { name -> entry } }
local blob_cache, blob_bytes = {}, 0

local function commit(sha)
	local c = commit_cache[sha]
	if c then return c end
	local out = git("log", "-1", "--format=%T %ct", sha, "--")
	local tree, time = (out or ""):match("^(%x+) (%d+)")
	if not tree then return nil end
	c = { tree = tree, time = tonumber(time) }
	commit_cache[sha] = c
	return c
end

local function tree(sha)
	local t = tree_cache[sha]
	if t then return t end
	-- `<mode> <type> <id> <size>\t<name>\0`, the size `-` for trees, padded with blanks.
	local out = git_or_eio("ls-tree", "-z", "-l", sha)
	t = { names = {}, entries = {} }
	for record in out:gmatch("([^%z]+)%z") do
		local mode, kind, id, size, name = record:match("^(%d+) (%a+) (%x+) +(%S+)\t(.*)$")
		if name then
			t.names[#t.names + 1] = name
			t.entries[name] = { mode = mode, kind = kind, id = id, size = tonumber(size) or 0 }
		end
	end
	tree_cache[sha] = t
	return t
end

local function blob(id)
	local data = blob_cache[id]
	if data then return data end
	data = git_or_eio("cat-file", "blob", id)
	if blob_bytes + #data > BLOB_CACHE then blob_cache, blob_bytes = {}, 0 end
	blob_cache[id] = data
	blob_bytes = blob_bytes + #data
	return data
end

---------------------------------------------------------------------------------------
-- Paths to nodes. A node is { kind = 'dir' | 'file' | 'link', ... }:
--   dir:  list() -> names, mtime, timeout
--   file: size, mtime, timeout, content() -> bytes (or blob = id), exec
--   link: blob = id

local function split(path)
	local parts = {}
	for part in path:gmatch("[^/]+") do parts[#parts + 1] = part end
	return parts
end

local function text_file(content, timeout)
	return { kind = "file", size = #content, timeout = timeout, content = function() return content end }
end

-- The node at parts[i..] inside the tree of commit `sha`.
local function in_commit(sha, parts, i, timeout)
	local c = commit(sha)
	if not c then error(errno.ENOENT) end
	local node = { kind = "dir", tree = c.tree }
	for j = i, #parts do
		if node.kind ~= "dir" then error(errno.ENOTDIR) end
		if not node.tree then error(errno.ENOENT) end -- a submodule: empty
		local e = tree(node.tree).entries[parts[j]]
		if not e then error(errno.ENOENT) end
		if e.kind == "tree" then
			node = { kind = "dir", tree = e.id }
		elseif e.kind == "commit" then
			node = { kind = "dir" } -- a submodule's commit is not in this repository
		elseif e.mode == "120000" then
			node = { kind = "link", blob = e.id, size = e.size }
		else
			node = { kind = "file", blob = e.id, size = e.size, exec = e.mode == "100755" }
		end
	end
	node.mtime, node.timeout = c.time, timeout
	if node.kind == "dir" then
		local id = node.tree
		node.list = function() return id and tree(id).names or {} end
	end
	return node
end

-- The branch names under a prefix (`""` or `"feature/"`): the next component of each.
local function branch_children(prefix)
	local seen, names = {}, {}
	for _, name in ipairs(refs.names) do
		if name:sub(1, #prefix) == prefix then
			local rest = name:sub(#prefix + 1)
			local first = rest:match("^[^/]+")
			if not rest:find("/") then
				names[#names + 1] = first .. ".log"
			end
			if first and not seen[first] then
				seen[first] = true
				names[#names + 1] = first
			end
		end
	end
	return names
end

-- The history below a commit never changes either: one `git log` per branch tip.
local log_cache = {}
local function branch_log(sha)
	local text = log_cache[sha]
	if not text then
		text = git_or_eio("log", "-n", tostring(LOG_LENGTH), "--format=%H %s", sha, "--")
		log_cache[sha] = text
	end
	return text_file(text, REFRESH)
end

local function resolve(path)
	local parts = split(path)
	local top = parts[1]
	if not top then
		return { kind = "dir", timeout = FOREVER, list = function() return { "HEAD", "branches", "commits" } end }
	elseif top == "HEAD" and #parts == 1 then
		if not refs.head then error(errno.ENOENT) end
		return text_file(refs.head, REFRESH)
	elseif top == "commits" then
		if #parts == 1 then
			return { kind = "dir", timeout = REFRESH, list = function() return refs.commits end }
		end
		if not parts[2]:match("^%x+$") or (#parts[2] ~= 40 and #parts[2] ~= 64) then
			error(errno.ENOENT)
		end
		return in_commit(parts[2]:lower(), parts, 3, FOREVER)
	elseif top == "branches" then
		if #parts == 1 then
			return { kind = "dir", timeout = REFRESH, list = function() return branch_children("") end }
		end
		-- Git forbids a branch `a` beside a branch `a/b`: the first prefix of the path
		-- that names a branch is the branch; the rest is a path in its tree.
		local name = ""
		for i = 2, #parts do
			name = (i == 2) and parts[i] or (name .. "/" .. parts[i])
			local sha = refs.branches[name]
			if sha then return in_commit(sha, parts, i + 1, REFRESH) end
			local logged = refs.branches[name:match("^(.*)%.log$") or ""]
			if logged and i == #parts then return branch_log(logged) end
		end
		local prefix = name .. "/"
		local children = branch_children(prefix)
		if #children == 0 then error(errno.ENOENT) end
		return { kind = "dir", timeout = REFRESH, list = function() return branch_children(prefix) end }
	end
	error(errno.ENOENT)
end

---------------------------------------------------------------------------------------
-- The handlers.

local fs = {}

function fs.getattr(path)
	local node = resolve(path)
	local st = { mtime = node.mtime, attr_timeout = node.timeout, entry_timeout = node.timeout }
	if node.kind == "dir" then
		st.mode = DIR
	elseif node.kind == "link" then
		st.mode, st.size = LINK, node.size
	else
		st.mode, st.size = node.exec and EXEC or FILE, node.size
	end
	return st
end

function fs.readdir(path, filler)
	local node = resolve(path)
	if node.kind ~= "dir" then error(errno.ENOTDIR) end
	filler(".")
	filler("..")
	for _, name in ipairs(node.list()) do filler(name) end
end

function fs.open(path, fi)
	if fi.flags.wronly or fi.flags.rdwr then error(errno.EROFS) end
	local node = resolve(path)
	if node.kind == "dir" then error(errno.EISDIR) end
end

function fs.read(path, size, offset)
	local node = resolve(path)
	local data = node.blob and blob(node.blob) or node.content()
	return data:sub(offset + 1, offset + size)
end

function fs.readlink(path)
	local node = resolve(path)
	if node.kind ~= "link" then error(errno.EINVAL) end
	return blob(node.blob)
end

---------------------------------------------------------------------------------------
-- Every REFRESH seconds: re-read the refs (git runs without stalling the mount), and
-- tell the kernel to forget what moved. A path nobody looked at is not known to the
-- kernel: notify answers nil, err then, which is fine.

local function forget_branch(name)
	local dir, base = name:match("^(.*)/([^/]+)$")
	dir, base = dir and ("/branches/" .. dir) or "/branches", base or name
	flu.notify.inval_entry(dir, base)
	flu.notify.inval_entry(dir, base .. ".log")
	flu.notify.inval_inode(dir)
end

local refreshing = false
flu.every(REFRESH, function()
	if refreshing then return end -- the last refresh still waits for git
	refreshing = true
	local new = read_refs()
	refreshing = false
	if not new then return end
	local old = refs
	refs = new
	for name, sha in pairs(new.branches) do
		if old.branches[name] ~= sha then forget_branch(name) end
	end
	for name in pairs(old.branches) do
		if not new.branches[name] then forget_branch(name) end
	end
	if old.head ~= new.head then flu.notify.inval_inode("/HEAD") end
	if table.concat(old.commits, " ") ~= table.concat(new.commits, " ") then
		flu.notify.inval_inode("/commits")
	end
end)

return fs
