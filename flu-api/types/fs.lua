---@meta fs
-- LuaLS annotations for `require 'fs'` (also `flu.fs`), the portable filesystem module
-- (docs/fs.md). Functions that fail return `nil, message, code`: a luapower-style
-- message ('not_found', 'access_denied', …) and the errno number.

---@alias fs.Type 'file'|'dir'|'symlink'|'blockdev'|'chardev'|'pipe'|'socket'|'unknown'

---open(2) flags as words ('rdwr creat excl'), an array of words, a set or a number.
---@alias fs.Flags string|string[]|table<string, boolean>|integer

---Permissions: a number, '0644', 'rw-r--r--' or 'u=rw,go=r'.
---@alias fs.Perms integer|string

---@class fs.OpenOptions
---@field flags? fs.Flags
---@field mode? string an fopen mode, combined with flags
---@field perms? fs.Perms for a created file (default 0666 minus the umask)

---Attributes (fs.attr, f:attr, d:attr, dh:attr).
---@class fs.Attrs
---@field type fs.Type
---@field size integer
---@field perms integer
---@field mode integer
---@field uid integer
---@field gid integer
---@field dev integer
---@field inode integer
---@field nlink integer
---@field rdev integer
---@field blksize integer
---@field blocks integer
---@field atime number
---@field mtime number
---@field ctime number
---@field atime_ns integer
---@field mtime_ns integer
---@field ctime_ns integer
---@field target? string a symlink's target (deref = false)

---Attributes to change (fs.attr(path, t)).
---@class fs.AttrChanges
---@field size? integer
---@field perms? fs.Perms
---@field uid? integer
---@field gid? integer
---@field atime? number|flu.Time|'now'
---@field mtime? number|flu.Time|'now'
---@field atime_ns? integer
---@field mtime_ns? integer

---An open file.
---@class fs.File
---@field fd integer? the descriptor (nil once closed)
local File = {}
---@param n integer
---@param offset? integer
---@return string|nil data
---@return string? err
---@return integer? code
function File:read(n, offset) end
---@return string|nil data
---@return string? err
---@return integer? code
function File:read_all() end
---@param s string
---@param offset? integer
---@return integer|nil written
---@return string? err
---@return integer? code
function File:write(s, offset) end
---@param whence? 'set'|'cur'|'end'|'data'|'hole'|integer
---@param offset? integer
---@return integer|nil position
---@return string? err
---@return integer? code
function File:seek(whence, offset) end
---@return integer position
function File:tell() end
---@param size? integer
---@return true|nil ok
---@return string? err
---@return integer? code
function File:truncate(size) end
---@param datasync? boolean
---@return true|nil ok
---@return string? err
---@return integer? code
function File:sync(datasync) end
---@return true
function File:flush() end
---@param options? table
---@return fs.Map|nil map
---@return string? err
---@return integer? code
function File:map(options) end
---@param offset integer
---@param len integer
---@param mode? string|integer
---@return true|nil ok
---@return string? err
---@return integer? code
function File:allocate(offset, len, mode) end
---@param name? string|fs.AttrChanges
---@return any
---@return string? err
---@return integer? code
function File:attr(name) end
---@param name string
---@return string|nil value
---@return string? err
---@return integer? code
function File:getxattr(name) end
---@param name string
---@param value string
---@param flags? 'create'|'replace'
---@return true|nil ok
---@return string? err
---@return integer? code
function File:setxattr(name, value, flags) end
---@return string[]|nil names
---@return string? err
---@return integer? code
function File:listxattr() end
---@param name string
---@return true|nil ok
---@return string? err
---@return integer? code
function File:removexattr(name) end
---@return true
function File:close() end
---@return boolean
function File:closed() end

---A directory being listed (fs.dir's second value).
---@class fs.DirEntry
local DirEntry = {}
---@return string|false|nil name
---@return fs.DirEntry|string|nil d
---@return integer? code
function DirEntry:next() end
---@return string
function DirEntry:name() end
---@return string
function DirEntry:dir() end
---@return string
function DirEntry:path() end
---@param name? string|boolean
---@param deref? boolean
---@return any
---@return string? err
---@return integer? code
function DirEntry:attr(name, deref) end
---@param type fs.Type
---@param deref? boolean
---@return boolean|nil
function DirEntry:is(type, deref) end
function DirEntry:close() end
---@return boolean
function DirEntry:closed() end

---A directory handle: names resolve relative to it (*at calls).
---@class fs.DirHandle
---@field fd integer?
local DirHandle = {}
---@param name string
---@param mode? string|fs.OpenOptions
---@return fs.File|nil f
---@return string? err
---@return integer? code
function DirHandle:open(name, mode) end
---@param name string
---@return fs.DirHandle|nil dh
---@return string? err
---@return integer? code
function DirHandle:opendir(name) end
---@param name? string
---@param dot_dirs? boolean
---@return fun(): string|false|nil, fs.DirEntry|string|nil, integer?
---@return fs.DirEntry
function DirHandle:dir(name, dot_dirs) end
---@param name string
---@param what? string|fs.AttrChanges|boolean
---@param deref? boolean
---@return any
---@return string? err
---@return integer? code
function DirHandle:attr(name, what, deref) end
---@param name string
---@param type? fs.Type
---@param deref? boolean
---@return boolean|nil
---@return string? err
---@return integer? code
function DirHandle:is(name, type, deref) end
---@param name string
---@param recursive? boolean|fs.Perms
---@param perms? fs.Perms
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:mkdir(name, recursive, perms) end
---@param name string
---@param recursive? boolean
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:remove(name, recursive) end
---@param old string
---@param dh2_or_new fs.DirHandle|string
---@param new_or_opt? string|table
---@param opt? table|string
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:move(old, dh2_or_new, new_or_opt, opt) end
---@param link string
---@param target string
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:mksymlink(link, target) end
---@param link string
---@param target string
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:mkhardlink(link, target) end
---@param name string
---@return string|nil target
---@return string? err
---@return integer? code
function DirHandle:readlink(name) end
---@param name string
---@param perms? fs.Perms
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:mkfifo(name, perms) end
---@param name string
---@param type string|integer
---@param perms? fs.Perms
---@param rdev? integer|{major: integer, minor: integer}
---@return true|nil ok
---@return string? err
---@return integer? code
function DirHandle:mknod(name, type, perms, rdev) end
---@return flu.Statfs|nil
---@return string? err
---@return integer? code
function DirHandle:statvfs() end
---@return true
function DirHandle:close() end
---@return boolean
function DirHandle:closed() end

---A memory map.
---@class fs.Map
---@field size integer
---@field file? fs.File
---@field name? string
local Map = {}
---@param offset? integer
---@param n? integer
---@return string
function Map:read(offset, n) end
---@param offset integer
---@param s string
---@return true
function Map:write(offset, s) end
---@param async? boolean
---@param offset? integer
---@param n? integer
---@return true
function Map:flush(async, offset, n) end
---@return true
function Map:free() end
---@return boolean
function Map:freed() end
---@return true|nil ok
---@return string? err
---@return integer? code
function Map:unlink() end

---@class fs
local fs = {}

---Open a file: an fopen mode ('r', 'r+', 'w', 'w+', 'a', 'a+') or options.
---@param path string
---@param mode? string|fs.OpenOptions
---@return fs.File|nil f
---@return string? err
---@return integer? code
function fs.open(path, mode) end

---Whether `x` is a file object.
---@param x any
---@return boolean
function fs.isfile(x) end

---Iterate over a directory: `for name, d in fs.dir(path) do … end`; an error arrives
---as one `false, message, code` iteration.
---@param path? string
---@param dot_dirs? boolean
---@return fun(): string|false|nil, fs.DirEntry|string|nil, integer?
---@return fs.DirEntry
function fs.dir(path, dot_dirs) end

---Attributes of `path`: all (a table), one (`name`), or change them (`t`).
---@param path string
---@param what? string|fs.AttrChanges|boolean
---@param deref? boolean
---@return any
---@return string? err
---@return integer? code
function fs.attr(path, what, deref) end

---Whether `path` exists (and is of `type`).
---@param path string
---@param type? fs.Type
---@param deref? boolean
---@return boolean|nil
---@return string? err
---@return integer? code
function fs.is(path, type, deref) end

---@param path string
---@param recursive? boolean|fs.Perms
---@param perms? fs.Perms
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.mkdir(path, recursive, perms) end

---@param path string
---@param recursive? boolean
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.remove(path, recursive) end

---Atomic rename; opt `{noreplace=true}`, `{exchange=true}` or a string.
---@param old string
---@param new string
---@param opt? table|string
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.move(old, new, opt) end

---@param link string
---@param target string
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.mksymlink(link, target) end

---@param link string
---@param target string
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.mkhardlink(link, target) end

---@param path string
---@return string|nil target
---@return string? err
---@return integer? code
function fs.readlink(path) end

---@param path string
---@param perms? fs.Perms
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.mkfifo(path, perms) end

---@param path string
---@param type string|integer 'file', 'pipe', 'chardev', 'blockdev', 'socket' or a mode
---@param perms? fs.Perms
---@param rdev? integer|{major: integer, minor: integer}
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.mknod(path, type, perms, rdev) end

---Whether the process may access `path` ('rwx' letters or a number; nil: existence).
---@param path string
---@param mode? string|integer
---@param deref? boolean
---@return boolean|nil
---@return string? err
---@return integer? code
function fs.access(path, mode, deref) end

---@param p string|fs.File
---@return flu.Statfs|nil
---@return string? err
---@return integer? code
function fs.statvfs(p) end

---@param p string|fs.File
---@param offset integer
---@param len integer
---@param mode? string|integer
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.fallocate(p, offset, len, mode) end

---Change the current directory when `path` is given; the current directory.
---@param path? string
---@return string|nil dir
---@return string? err
---@return integer? code
function fs.cd(path) end

---@return string
function fs.homedir() end

---@return string
function fs.tmpdir() end

---@return string
function fs.exepath() end

---@return string
function fs.exedir() end

---@param p string|fs.File
---@param name string
---@param deref? boolean
---@return string|nil value
---@return string? err
---@return integer? code
function fs.getxattr(p, name, deref) end

---@param p string|fs.File
---@param name string
---@param value string
---@param flags? 'create'|'replace'
---@param deref? boolean
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.setxattr(p, name, value, flags, deref) end

---@param p string|fs.File
---@param deref? boolean
---@return string[]|nil names
---@return string? err
---@return integer? code
function fs.listxattr(p, deref) end

---@param p string|fs.File
---@param name string
---@param deref? boolean
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.removexattr(p, name, deref) end

---Open a directory handle for *at operations relative to it.
---@param path string
---@return fs.DirHandle|nil dh
---@return string? err
---@return integer? code
function fs.opendir(path) end

---Whether `x` is a directory handle.
---@param x any
---@return boolean
function fs.isdirhandle(x) end

---Map a file, shared memory or anonymous memory (docs/fs.md, Memory mapping).
---@param options string|fs.File|{path?: string, file?: fs.File, name?: string, access?: string, size?: integer, offset?: integer, perms?: fs.Perms}
---@param access? string
---@param size? integer
---@param offset? integer
---@return fs.Map|nil map
---@return string? err
---@return integer? code
function fs.map(options, access, size, offset) end

---A ring buffer's memory: `size` bytes mapped `times` (default 2) times back to back.
---@param options {size: integer, times?: integer}
---@return fs.Map|nil map
---@return string? err
---@return integer? code
function fs.mirror_map(options) end

---The page size.
---@return integer
function fs.pagesize() end

---`size` rounded up ('r', the default) or down ('l') to a multiple of the page size.
---@param size integer
---@param dir? 'r'|'l'
---@return integer
function fs.aligned_size(size, dir) end

---Remove a named map's shared memory (/dev/shm/NAME).
---@param name string
---@return true|nil ok
---@return string? err
---@return integer? code
function fs.unlink_mapfile(name) end

---The descriptor of a Lua io file or an fs file.
---@param file file*|fs.File
---@return integer
function fs.fileno(file) end

---An fs file on an open descriptor (owned unless `{own = false}`).
---@param fd integer
---@param opts? {own?: boolean}
---@return fs.File|nil f
---@return string? err
---@return integer? code
function fs.wrap_fd(fd, opts) end

---An fs file on a duplicate of a Lua io file's descriptor.
---@param io_file file*
---@return fs.File|nil f
---@return string? err
---@return integer? code
function fs.wrap_file(io_file) end

return fs
