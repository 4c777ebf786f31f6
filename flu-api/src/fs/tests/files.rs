//! File objects: modes, I/O, seeking, errors, closing.

use super::env;

#[test]
fn modes_and_io() {
    env().run(
        r#"
        local p = T .. '/f'
        local f = assert(fs.open(p, 'w'))
        eq(f:write('hello world'), 11)
        eq(f:tell(), 11)
        eq(f:close(), true)
        eq(f:close(), true, 'close is idempotent')
        eq(f:closed(), true)
        eq(f.fd, nil)
        raises('closed file', function() return f:read(1) end)

        f = assert(fs.open(p))            -- default 'r'
        eq(type(f.fd), 'number')
        eq(f:read(5), 'hello')
        eq(f:read(1, 10), 'd', 'pread')
        eq(f:read(100, 11), '', 'pread at EOF')
        eq(f:read(100), ' world')
        eq(f:read(10), '', 'EOF')
        fails('EBADF', 9, f:write('x'))    -- read-only
        f:close()

        f = assert(fs.open(p, 'a'))
        f:write('!')
        f:close()
        eq(readfile(p), 'hello world!')

        f = assert(fs.open(p, 'r+'))
        eq(f:write('J', 0), 1, 'pwrite')
        eq(f:tell(), 0, 'pwrite keeps the position')
        eq(f:read_all(), 'Jello world!')
        f:close()

        f = assert(fs.open(p, 'w+'))
        eq(f:read_all(), '', 'w+ truncates')
        f:close()
        f = assert(fs.open(p, 'a+'))
        f:write('abc')
        eq(f:seek('set'), 0)
        eq(f:read(3), 'abc')
        f:close()
        raises('invalid open mode', fs.open, p, 'rw')
        "#,
    );
}

#[test]
fn all_bytes_round_trip() {
    env().run(
        r#"
        local t = {}
        for i = 0, 255 do t[#t + 1] = string.char(i) end
        local s = table.concat(t):rep(300)    -- 76,800 bytes, more than one chunk
        local p = T .. '/bytes'
        writefile(p, s)
        eq(readfile(p), s)
        eq(fs.attr(p, 'size'), #s)
        local f = assert(fs.open(p))
        eq(f:read(256, 256), table.concat(t))
        eq(f:read(1e9), s, 'a huge n reads to EOF')
        f:close()
        "#,
    );
}

#[test]
fn seek_tell_truncate_sync() {
    env().run(
        r#"
        local f = assert(fs.open(T .. '/s', 'w+'))
        f:write('0123456789')
        eq(f:seek('set', 3), 3)
        eq(f:seek(), 3, 'default is cur, 0')
        eq(f:seek(2), 5, "luapower's f:seek(offset) is relative to cur")
        eq(f:seek('cur', -1), 4)
        eq(f:seek('end'), 10)
        eq(f:seek('end', -2), 8)
        eq(f:read(2), '89')
        fails('EINVAL', 22, f:seek('set', -1))
        raises('invalid whence', function() return f:seek('middle') end)
        f:seek('set', 4)
        eq(f:truncate(), true, 'truncate at the position')
        eq(f:attr('size'), 4)
        eq(f:truncate(100), true)
        eq(f:attr'size', 100)
        eq(f:sync(), true)
        eq(f:sync(true), true)
        eq(f:allocate(0, 8192), true)
        eq(f:attr'size', 8192)
        eq(f:allocate(0, 16384, 'keep_size'), true)
        eq(f:attr'size', 8192)
        raises('unknown fallocate mode', function() return f:allocate(0, 1, 'bogus') end)
        raises('negative size', function() return f:read(-1) end)
        f:close()
        "#,
    );
}

#[test]
fn open_options_and_errors() {
    env().run(
        r#"
        local p = T .. '/o'
        local f = assert(fs.open(p, {flags = 'wronly creat excl', perms = '0640'}))
        eq(f:attr('perms'), tonumber('640', 8))
        eq(fs.isfile(f), true)
        eq(fs.isfile({}), false)
        eq(fs.isfile(nil), false)
        f:close()
        fails('already_exists', 17, fs.open(p, {flags = 'wronly creat excl'}))
        f = assert(fs.open(p, {mode = 'w', perms = 'rw-------'}))
        f:close()
        fails('not_found', 2, fs.open(T .. '/missing'))
        fails('is_a_dir', 21, fs.open(T, 'w'))
        fails('not_a_dir', 20, fs.open(p .. '/x'))
        assert(fs.mksymlink(T .. '/ln', p))
        fails('symlink_loop', 40, fs.open(T .. '/ln', {flags = 'rdonly nofollow'}))
        assert(fs.mksymlink(T .. '/loop1', T .. '/loop2'))
        assert(fs.mksymlink(T .. '/loop2', T .. '/loop1'))
        fails('symlink_loop', 40, fs.open(T .. '/loop1'))
        fails('EINVAL', 22, fs.open(T .. '/nul\0byte'))
        raises('unknown open flag', fs.open, p, {flags = 'rdwr frobnicate'})
        raises('invalid permissions', fs.open, p, {flags = 'rdonly', perms = 'rwz'})
        f = assert(fs.open(p, {flags = 2}))   -- a number: O_RDWR
        eq(f:write('x'), 1)
        f:close()
        "#,
    );
}

#[test]
fn to_be_closed_and_tostring() {
    env().run(
        r#"
        local saved
        do
            local f <close> = assert(fs.open(T .. '/c', 'w'))
            saved = f
            assert(tostring(f):find('fs.file (fd', 1, true))
        end
        eq(saved:closed(), true)
        eq(tostring(saved), 'fs.file (closed)')
        "#,
    );
}

#[test]
fn seek_data_and_hole() {
    // tmpfs reports real holes (a generic filesystem would say: data everywhere).
    super::env_in("/dev/shm").run(
        r#"
        local f = assert(fs.open(T .. '/sparse', 'w+'))
        f:write('x', 1048576)
        eq(f:seek('hole', 0), 0)
        eq(f:seek('data', 0), 1048576)
        eq(f:seek('hole', 1048576), 1048577, 'the end of the file is a hole')
        fails('ENXIO', 6, f:seek('data', 1048577))
        raises('invalid whence', function() return f:seek('holes') end)
        f:close()
        "#,
    );
}
