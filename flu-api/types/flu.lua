---@meta flu
-- LuaLS annotations for `require 'flu'` (docs/api.md, "The flu module"). Shipped with
-- flu in flu-api/types/; `flu types DIR` writes them where an editor finds them.

---Every Linux errno name, and the aliases ENOATTR, ENOTSUP, EWOULDBLOCK, EDEADLOCK.
---@class flu.ErrnoTable
---@field EPERM flu.Errno 1: Operation not permitted
---@field ENOENT flu.Errno 2: No such file or directory
---@field ESRCH flu.Errno 3: No such process
---@field EINTR flu.Errno 4: Interrupted system call
---@field EIO flu.Errno 5: Input/output error
---@field ENXIO flu.Errno 6: No such device or address
---@field E2BIG flu.Errno 7: Argument list too long
---@field ENOEXEC flu.Errno 8: Exec format error
---@field EBADF flu.Errno 9: Bad file descriptor
---@field ECHILD flu.Errno 10: No child processes
---@field EAGAIN flu.Errno 11: Resource temporarily unavailable
---@field EWOULDBLOCK flu.Errno 11: Resource temporarily unavailable
---@field ENOMEM flu.Errno 12: Cannot allocate memory
---@field EACCES flu.Errno 13: Permission denied
---@field EFAULT flu.Errno 14: Bad address
---@field ENOTBLK flu.Errno 15: Block device required
---@field EBUSY flu.Errno 16: Device or resource busy
---@field EEXIST flu.Errno 17: File exists
---@field EXDEV flu.Errno 18: Invalid cross-device link
---@field ENODEV flu.Errno 19: No such device
---@field ENOTDIR flu.Errno 20: Not a directory
---@field EISDIR flu.Errno 21: Is a directory
---@field EINVAL flu.Errno 22: Invalid argument
---@field ENFILE flu.Errno 23: Too many open files in system
---@field EMFILE flu.Errno 24: Too many open files
---@field ENOTTY flu.Errno 25: Inappropriate ioctl for device
---@field ETXTBSY flu.Errno 26: Text file busy
---@field EFBIG flu.Errno 27: File too large
---@field ENOSPC flu.Errno 28: No space left on device
---@field ESPIPE flu.Errno 29: Illegal seek
---@field EROFS flu.Errno 30: Read-only file system
---@field EMLINK flu.Errno 31: Too many links
---@field EPIPE flu.Errno 32: Broken pipe
---@field EDOM flu.Errno 33: Numerical argument out of domain
---@field ERANGE flu.Errno 34: Numerical result out of range
---@field EDEADLK flu.Errno 35: Resource deadlock avoided
---@field EDEADLOCK flu.Errno 35: Resource deadlock avoided
---@field ENAMETOOLONG flu.Errno 36: File name too long
---@field ENOLCK flu.Errno 37: No locks available
---@field ENOSYS flu.Errno 38: Function not implemented
---@field ENOTEMPTY flu.Errno 39: Directory not empty
---@field ELOOP flu.Errno 40: Too many levels of symbolic links
---@field ENOMSG flu.Errno 42: No message of desired type
---@field EIDRM flu.Errno 43: Identifier removed
---@field ECHRNG flu.Errno 44: Channel number out of range
---@field EL2NSYNC flu.Errno 45: Level 2 not synchronized
---@field EL3HLT flu.Errno 46: Level 3 halted
---@field EL3RST flu.Errno 47: Level 3 reset
---@field ELNRNG flu.Errno 48: Link number out of range
---@field EUNATCH flu.Errno 49: Protocol driver not attached
---@field ENOCSI flu.Errno 50: No CSI structure available
---@field EL2HLT flu.Errno 51: Level 2 halted
---@field EBADE flu.Errno 52: Invalid exchange
---@field EBADR flu.Errno 53: Invalid request descriptor
---@field EXFULL flu.Errno 54: Exchange full
---@field ENOANO flu.Errno 55: No anode
---@field EBADRQC flu.Errno 56: Invalid request code
---@field EBADSLT flu.Errno 57: Invalid slot
---@field EBFONT flu.Errno 59: Bad font file format
---@field ENOSTR flu.Errno 60: Device not a stream
---@field ENOATTR flu.Errno 61: No data available
---@field ENODATA flu.Errno 61: No data available
---@field ETIME flu.Errno 62: Timer expired
---@field ENOSR flu.Errno 63: Out of streams resources
---@field ENONET flu.Errno 64: Machine is not on the network
---@field ENOPKG flu.Errno 65: Package not installed
---@field EREMOTE flu.Errno 66: Object is remote
---@field ENOLINK flu.Errno 67: Link has been severed
---@field EADV flu.Errno 68: Advertise error
---@field ESRMNT flu.Errno 69: Srmount error
---@field ECOMM flu.Errno 70: Communication error on send
---@field EPROTO flu.Errno 71: Protocol error
---@field EMULTIHOP flu.Errno 72: Multihop attempted
---@field EDOTDOT flu.Errno 73: RFS specific error
---@field EBADMSG flu.Errno 74: Bad message
---@field EOVERFLOW flu.Errno 75: Value too large for defined data type
---@field ENOTUNIQ flu.Errno 76: Name not unique on network
---@field EBADFD flu.Errno 77: File descriptor in bad state
---@field EREMCHG flu.Errno 78: Remote address changed
---@field ELIBACC flu.Errno 79: Can not access a needed shared library
---@field ELIBBAD flu.Errno 80: Accessing a corrupted shared library
---@field ELIBSCN flu.Errno 81: .lib section in a.out corrupted
---@field ELIBMAX flu.Errno 82: Attempting to link in too many shared libraries
---@field ELIBEXEC flu.Errno 83: Cannot exec a shared library directly
---@field EILSEQ flu.Errno 84: Invalid or incomplete multibyte or wide character
---@field ERESTART flu.Errno 85: Interrupted system call should be restarted
---@field ESTRPIPE flu.Errno 86: Streams pipe error
---@field EUSERS flu.Errno 87: Too many users
---@field ENOTSOCK flu.Errno 88: Socket operation on non-socket
---@field EDESTADDRREQ flu.Errno 89: Destination address required
---@field EMSGSIZE flu.Errno 90: Message too long
---@field EPROTOTYPE flu.Errno 91: Protocol wrong type for socket
---@field ENOPROTOOPT flu.Errno 92: Protocol not available
---@field EPROTONOSUPPORT flu.Errno 93: Protocol not supported
---@field ESOCKTNOSUPPORT flu.Errno 94: Socket type not supported
---@field ENOTSUP flu.Errno 95: Operation not supported
---@field EOPNOTSUPP flu.Errno 95: Operation not supported
---@field EPFNOSUPPORT flu.Errno 96: Protocol family not supported
---@field EAFNOSUPPORT flu.Errno 97: Address family not supported by protocol
---@field EADDRINUSE flu.Errno 98: Address already in use
---@field EADDRNOTAVAIL flu.Errno 99: Cannot assign requested address
---@field ENETDOWN flu.Errno 100: Network is down
---@field ENETUNREACH flu.Errno 101: Network is unreachable
---@field ENETRESET flu.Errno 102: Network dropped connection on reset
---@field ECONNABORTED flu.Errno 103: Software caused connection abort
---@field ECONNRESET flu.Errno 104: Connection reset by peer
---@field ENOBUFS flu.Errno 105: No buffer space available
---@field EISCONN flu.Errno 106: Transport endpoint is already connected
---@field ENOTCONN flu.Errno 107: Transport endpoint is not connected
---@field ESHUTDOWN flu.Errno 108: Cannot send after transport endpoint shutdown
---@field ETOOMANYREFS flu.Errno 109: Too many references: cannot splice
---@field ETIMEDOUT flu.Errno 110: Connection timed out
---@field ECONNREFUSED flu.Errno 111: Connection refused
---@field EHOSTDOWN flu.Errno 112: Host is down
---@field EHOSTUNREACH flu.Errno 113: No route to host
---@field EALREADY flu.Errno 114: Operation already in progress
---@field EINPROGRESS flu.Errno 115: Operation now in progress
---@field ESTALE flu.Errno 116: Stale file handle
---@field EUCLEAN flu.Errno 117: Structure needs cleaning
---@field ENOTNAM flu.Errno 118: Not a XENIX named type file
---@field ENAVAIL flu.Errno 119: No XENIX semaphores available
---@field EISNAM flu.Errno 120: Is a named type file
---@field EREMOTEIO flu.Errno 121: Remote I/O error
---@field EDQUOT flu.Errno 122: Disk quota exceeded
---@field ENOMEDIUM flu.Errno 123: No medium found
---@field EMEDIUMTYPE flu.Errno 124: Wrong medium type
---@field ECANCELED flu.Errno 125: Operation canceled
---@field ENOKEY flu.Errno 126: Required key not available
---@field EKEYEXPIRED flu.Errno 127: Key has expired
---@field EKEYREVOKED flu.Errno 128: Key has been revoked
---@field EKEYREJECTED flu.Errno 129: Key was rejected by service
---@field EOWNERDEAD flu.Errno 130: Owner died
---@field ENOTRECOVERABLE flu.Errno 131: State not recoverable
---@field ERFKILL flu.Errno 132: Operation not possible due to RF-kill
---@field EHWPOISON flu.Errno 133: Memory page has hardware error

---HTTP/1.1 and HTTPS requests (the Lua lock is given up while they wait, in a handler).
---@class flu.http
local http = {}

---One request; nil and a message when no answer came.
---@param t flu.HttpRequest
---@return flu.HttpResponse|nil response
---@return string? err
function http.request(t) end

---`flu.http.request` with method GET and the fields of `opts`.
---@param url string
---@param opts? flu.HttpRequest
---@return flu.HttpResponse|nil response
---@return string? err
function http.get(url, opts) end

---@class flu.log
local log = {}

---Log at trace level (shown with -vv). Arguments are joined with spaces.
---@param ... any
function log.trace(...) end

---Log at debug level (shown with -v).
---@param ... any
function log.debug(...) end

---Log at info level (the default level).
---@param ... any
function log.info(...) end

---Log at warn level.
---@param ... any
function log.warn(...) end

---Log at error level.
---@param ... any
function log.error(...) end

---Tell the kernel what changed behind its back. Each returns true, or nil and a sentence.
---@class flu.notify
local notify = {}

---Drop the kernel's cached attributes of `path`, and its data from `offset` (default 0)
---for `length` bytes (default 0: to the end); a negative offset drops the attributes only.
---@param path string
---@param offset? integer
---@param length? integer
---@return true|nil ok
---@return string? err
function notify.inval_inode(path, offset, length) end

---Drop the kernel's cached lookup of `name` in directory `dir`.
---@param dir string
---@param name string
---@return true|nil ok
---@return string? err
function notify.inval_entry(dir, name) end

---Tell the kernel that `name` in `dir` is gone.
---@param dir string
---@param name string
---@return true|nil ok
---@return string? err
function notify.delete(dir, name) end

---@class flu
---@field errno flu.ErrnoTable every errno value, by name
---@field log flu.log
---@field notify flu.notify
---@field http flu.http
---@field state table kept across reloads
---@field fs fs the portable fs module, as `require 'fs'`
---@field VERSION string flu's version
---@field FUSE_USE_VERSION integer 26, the libfuse API Flu scripts were written for
local flu = {}

---Mount `fs` as libfuse's fuse_main would with the command line `argv`, serve it, and
---return true after unmount (or nil and a message). Call it from the main chunk.
---@param argv string[]
---@param fs flu.Filesystem
---@return true|nil ok
---@return string? err
function flu.main(argv, fs) end

---Whether `v` is an errno value.
---@param v any
---@return boolean
function flu.iserrno(v) end

---The caller of the current request; fills and returns `t` when given.
---@param t? table
---@return flu.Context
function flu.get_context(t) end

---A handler table doing every operation natively on the directory `root` (override
---some handlers in Lua and keep the rest native).
---@param root string
---@param opts? {kernel_passthrough?: boolean, create_as_caller?: boolean}
---@return flu.Filesystem
function flu.passthrough(root, opts) end

---One tree made of several filesystems, each mounted at a path: `{['/'] = memfs,
---['/real'] = flu.passthrough(dir)}`. Each operation goes to the longest matching mount
---point, whose handlers see paths relative to it; mount points cannot be removed or
---renamed (EBUSY), names do not move between filesystems (EXDEV). Native branches stay
---native. The result is a handler table (it nests, and may be overridden).
---@param mounts table<string, flu.Filesystem>
---@return flu.Filesystem
function flu.compose(mounts) end

---An overlay of layers with the semantics of Linux overlayfs: `layers[1]` is the upper
---(writes copy files up to it, removals of lower names leave whiteouts in it), the rest
---the lowers, top to bottom. A layer is a directory path or a handler table
---(`flu.passthrough(dir)`, a table of Lua handlers; a lower may also be a `flu.union`
---table). Native layers are served natively.
---@param layers (string|flu.Filesystem)[]
---@return flu.Filesystem
function flu.union(layers) end

---Any accepted mode (set, predefined string, octal string, number) as a number.
---@param v flu.ModeValue
---@return integer
function flu.mode(v) end

---A mode set for number `n`, like those handlers receive.
---@param n integer
---@return flu.ModeSet
function flu.modeset(n) end

---Run `fn(timer)` once after `seconds`.
---@param seconds number
---@param fn fun(timer: flu.Timer)
---@return flu.Timer
function flu.after(seconds, fn) end

---Run `fn(timer)` every `seconds` (at least 1 ms).
---@param seconds number
---@param fn fun(timer: flu.Timer)
---@return flu.Timer
function flu.every(seconds, fn) end

---Wait `seconds` (at most an hour). In a handler, a timer callback or a task, the Lua
---lock is given up meanwhile: other requests are served. Elsewhere it blocks.
---@param seconds number
function flu.sleep(seconds) end

---@class flu.ExecOptions
---@field stdin? string written to the program's standard input
---@field cwd? string the directory it runs in
---@field env? table<string, string|false> variables to set (false: remove)
---@field timeout? number seconds; past it the program is killed and the call fails
---@field max_output? integer bytes kept of each of stdout and stderr (default 16 MiB)

---@class flu.ExecResult
---@field status? integer the exit status
---@field signal? integer the signal that ended the program
---@field stdout string
---@field stderr string
---@field truncated? true an output went past max_output

---Run a program without a shell and wait for it (giving the Lua lock up in a handler).
---Options may also be named fields of `argv`: `flu.exec{'git', 'log', cwd = repo}`.
---@param argv (string|number)[]|flu.ExecOptions
---@param opts? flu.ExecOptions
---@return flu.ExecResult|nil result
---@return string? err the program could not start, timed out or was cancelled
function flu.exec(argv, opts) end

---@class flu.HttpRequest
---@field url string
---@field method? string default GET
---@field headers? table<string, string>
---@field body? string
---@field timeout? number seconds for the whole exchange (default 30)
---@field max_body? integer the longest body accepted (default 64 MiB)

---@class flu.HttpResponse
---@field status integer any HTTP status (a 404 is an answer)
---@field headers table<string, string> names in lower case
---@field body string


---Run `fn(...)` in the background, in a coroutine of its own (its slow calls give the
---Lua lock up); errors are logged. Before the mount serves, it starts when it does.
---@param fn fun(...)
---@param ... any
function flu.spawn(fn, ...) end

return flu
