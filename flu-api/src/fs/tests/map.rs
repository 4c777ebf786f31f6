//! Memory maps: `fs.map`, `f:map`, `fs.mirror_map`, named maps, `fs.pagesize`.

use super::{env, env_in};

#[test]
fn pagesize_and_aligned_size() {
    env().run(
        r#"
        eq(fs.pagesize(), 4096)
        eq(fs.aligned_size(1), 4096)
        eq(fs.aligned_size(4096), 4096)
        eq(fs.aligned_size(4097, 'r'), 8192)
        eq(fs.aligned_size(4097, 'l'), 4096)
        eq(fs.aligned_size(0), 0)
        raises('negative size', fs.aligned_size, -1)
        raises("dir must be 'l' or 'r'", fs.aligned_size, 1, 'up')
        "#,
    );
}

#[test]
fn map_read_only() {
    env().run(
        r#"
        local p = T .. '/ro'
        writefile(p, 'hello, mapped world')
        local m = assert(fs.map{path = p})
        eq(m.size, 19)
        eq(m:read(), 'hello, mapped world', 'whole map')
        eq(m:read(7, 6), 'mapped')
        eq(m:read(19, 0), '', 'empty read at the end')
        eq(m:read(7), 'mapped world', 'to the end')
        eq(m.file, nil, 'a path map keeps no file')
        raises('write to a read-only map', function() return m:write(0, 'x') end)
        eq(m:flush(), true)
        assert(tostring(m):find('fs.map (19 bytes)', 1, true))
        eq(m:free(), true)
        -- positional form
        m = assert(fs.map(p, 'r', 5))
        eq(m:read(), 'hello')
        m:free()
        "#,
    );
}

#[test]
fn map_read_write_flush_and_read_back() {
    env().run(
        r#"
        local p = T .. '/rw'
        writefile(p, ('.'):rep(8192))
        local m = assert(fs.map{path = p, access = 'rw'})
        eq(m.size, 8192)
        eq(m:write(0, 'head'), true)
        eq(m:write(8190, 'ZZ'), true, 'the last two bytes')
        eq(m:write(4096, '\0\1\255'), true, 'bytes, not text')
        eq(m:flush(), true)
        eq(m:flush(true), true, 'async')
        eq(m:flush(4096, 3), true, 'a range')
        eq(m:flush(false, 4100, 10), true, 'a range not starting on a page')
        local s = readfile(p)
        eq(#s, 8192)
        eq(s:sub(1, 4), 'head')
        eq(s:sub(8191), 'ZZ')
        eq(s:sub(4097, 4099), '\0\1\255')
        -- and the other way: a write through a file shows in the map
        local f = assert(fs.open(p, 'r+'))
        f:write('FILE', 100)
        f:close()
        eq(m:read(100, 4), 'FILE')
        m:free()

        -- 'w' creates and grows the file to offset + size
        local q = T .. '/grown'
        m = assert(fs.map{path = q, access = 'w', size = 10000, perms = '0600'})
        eq(fs.attr(q, 'size'), 10000)
        eq(fs.attr(q, 'perms'), tonumber('600', 8))
        eq(m:read(9990, 10), ('\0'):rep(10), 'new bytes are zero')
        m:write(9999, '!')
        m:free()
        eq(readfile(q):sub(-1), '!')

        -- copy on write: writable, the file never changes
        m = assert(fs.map{path = p, access = 'c'})
        m:write(0, 'COPY')
        eq(m:read(0, 4), 'COPY')
        m:free()
        eq(readfile(p):sub(1, 4), 'head')
        raises("'w' and 'c' exclude each other", fs.map, {path = p, access = 'wc'})
        raises("access 'x' (executable) is not offered", fs.map, {path = p, access = 'rx'})
        raises("invalid access letter 'q'", fs.map, {path = p, access = 'q'})
        "#,
    );
}

#[test]
fn bounds_are_errors() {
    env().run(
        r#"
        local p = T .. '/b'
        writefile(p, '0123456789')
        local m = assert(fs.map{path = p, access = 'w'})
        raises('out of bounds', function() return m:read(0, 11) end)
        raises('out of bounds', function() return m:read(10, 1) end)
        raises('out of bounds', function() return m:read(11) end)
        raises('out of bounds', function() return m:read(-1, 1) end)
        raises('out of bounds', function() return m:read(0, -1) end)
        raises('out of bounds', function() return m:read(math.maxinteger, 2) end)
        raises('out of bounds', function() return m:write(8, 'abc') end)
        raises('out of bounds', function() return m:write(-1, 'a') end)
        raises('out of bounds', function() return m:write(math.maxinteger, 'a') end)
        raises('out of bounds', function() return m:flush(0, 100) end)
        eq(m:write(7, 'abc'), true, 'exactly to the end')
        eq(m:read(), '0123456abc')
        m:free()
        "#,
    );
}

#[test]
fn use_after_free() {
    env().run(
        r#"
        local p = T .. '/u'
        writefile(p, 'abc')
        local m = assert(fs.map{path = p})
        eq(m:freed(), false)
        eq(m:free(), true)
        eq(m:free(), true, 'free is idempotent')
        eq(m:freed(), true)
        raises('map is freed', function() return m:read(0, 1) end)
        raises('map is freed', function() return m:write(0, 'x') end)
        raises('map is freed', function() return m:flush() end)
        eq(tostring(m), 'fs.map (freed)')
        eq(m.size, 3, 'the size stays readable')
        do
            local m2 <close> = assert(fs.map{path = p})
            m = m2
        end
        eq(m:freed(), true, '<close> frees')
        "#,
    );
}

#[test]
fn empty_files_size_and_offset_rules() {
    env().run(
        r#"
        local p = T .. '/empty'
        writefile(p, '')
        -- nothing to map: luapower's 'file_too_short' (EINVAL's code)
        fails('file_too_short', 22, fs.map{path = p})
        fails('file_too_short', 22, fs.map{path = p, size = 1})
        fails('file_too_short', 22, fs.map{path = p, access = 'c', size = 1})
        raises('size must be positive', fs.map, {path = p, size = 0})
        raises('size must be positive', fs.map, {path = p, size = -5})
        -- a writable map grows the file instead
        local m = assert(fs.map{path = p, access = 'w', size = 1})
        eq(fs.attr(p, 'size'), 1)
        m:free()

        local q = T .. '/paged'
        writefile(q, ('a'):rep(4096) .. ('b'):rep(100))
        raises('not a multiple of the page size (4096)', fs.map, {path = q, offset = 100})
        raises('not a multiple of the page size', fs.map, {path = q, offset = -4096})
        m = assert(fs.map{path = q, offset = 4096})
        eq(m.size, 100, 'size defaults to the rest of the file')
        eq(m:read(), ('b'):rep(100))
        m:free()
        fails('file_too_short', 22, fs.map{path = q, offset = 8192})
        fails('file_too_short', 22, fs.map{path = q, size = 4197})
        raises('addr is not supported', fs.map, {path = q, addr = 12345})
        raises('at most one of path, file and name', fs.map, {path = q, name = 'x'})
        raises('size is required', fs.map, {})
        raises('options table, path or file expected', fs.map, 42)
        fails('not_found', 2, fs.map{path = T .. '/missing'})
        fails('is_a_dir', 21, fs.map{path = T, access = 'w', size = 1})
        "#,
    );
}

#[test]
fn map_an_fs_file() {
    env().run(
        r#"
        local f = assert(fs.open(T .. '/ff', 'w+'))
        f:write(('x'):rep(5000))
        local m = assert(f:map{access = 'w'})
        eq(m.file, f, 'm.file is the file')
        eq(m.size, 5000)
        m:write(4999, 'y')
        m:flush()
        eq(f:read(1, 4999), 'y')
        local t = {access = 'r', size = 10}
        local m2 = assert(f:map(t))
        eq(t.file, nil, "the caller's table is left alone")
        eq(m2:read(), ('x'):rep(10))
        -- the mapping outlives the descriptor
        f:close()
        eq(m:read(4998, 2), 'xy')
        raises('closed file', function() return f:map() end)
        raises('path and name do not go with a file', function() return f:map{path = 'p'} end)
        m:free(); m2:free()
        f = assert(fs.open(T .. '/ff'))
        fails('access_denied', 13, f:map{access = 'w'}) -- a read-only descriptor
        m = assert(fs.map{file = f, size = 3})
        eq(m:read(), 'xxx')
        m:free()
        m = assert(fs.map(f))                              -- positional
        eq(m.size, 5000)
        m:free()
        f:close()
        "#,
    );
}

#[test]
fn anonymous_and_named_maps() {
    env().run(
        r#"
        local m = assert(fs.map{size = 10000, access = 'w'})
        eq(m:read(0, 4), '\0\0\0\0')
        m:write(9996, 'tail')
        eq(m:read(9996), 'tail')
        m:free()

        local tag = 'flu-test-' .. tostring({}):gsub('[^%w]', '')
        local a = assert(fs.map{name = tag, access = 'w', size = 8192})
        eq(a.name, tag)
        assert(a:write(0, 'shared'))
        local b = assert(fs.map{name = tag})             -- read-only, same memory
        eq(b.size, 8192)
        eq(b:read(0, 6), 'shared')
        assert(a:write(0, 'SHARED'))
        eq(b:read(0, 6), 'SHARED')
        eq(fs.is('/dev/shm/' .. tag, 'file'), true)
        eq(a:unlink(), true)
        eq(fs.is('/dev/shm/' .. tag), false)
        eq(b:read(0, 6), 'SHARED', 'maps outlive the name')
        a:free(); b:free()
        fails('not_found', 2, fs.map{name = tag})
        fails('not_found', 2, fs.unlink_mapfile(tag))
        raises('not a named', function() return assert(fs.map{size = 1}):unlink() end)

        local c = assert(fs.map{name = tag, access = 'w', size = 1})
        c:free()
        eq(fs.unlink_mapfile(tag), true)
        "#,
    );
}

#[test]
fn mirror_map_wraps_around() {
    env().run(
        r#"
        local m = assert(fs.mirror_map{size = 4096})
        eq(m.size, 4096)
        m:write(4094, 'abcd')           -- crosses the end: lands at 4094, 4095, 0, 1
        eq(m:read(0, 2), 'cd')
        eq(m:read(4094, 4), 'abcd')
        eq(m:read(4096 + 4094, 2), 'ab', 'the second copy')
        raises('out of bounds', function() return m:read(8190, 3) end)
        m:free()
        m = assert(fs.mirror_map{size = 8192, times = 3})
        m:write(0, 'x')
        eq(m:read(16384, 1), 'x')
        m:free()
        raises('not a multiple of the page size', fs.mirror_map, {size = 100})
        raises('size is required', fs.mirror_map, {})
        raises('times must be', fs.mirror_map, {size = 4096, times = 0})
        raises('path is not offered', fs.mirror_map, {size = 4096, path = '/x'})
        "#,
    );
}

/// Maps dropped without `free` are unmapped by the collector: 100 maps of a file of
/// 16 MiB, and /proc/self/maps never holds more than a few of them at once.
#[test]
fn maps_are_released_by_the_collector() {
    env_in("/dev/shm").run(
        r#"
        local p = T .. '/big'
        local f = assert(fs.open(p, 'w'))
        assert(f:truncate(16 * 1024 * 1024))     -- sparse: no memory used
        f:close()
        local function count()
            local n = 0
            for line in io.lines('/proc/self/maps') do
                if line:find(p, 1, true) then n = n + 1 end
            end
            return n
        end
        local function vmsize()
            for line in io.lines('/proc/self/status') do
                local kb = line:match('^VmSize:%s*(%d+)')
                if kb then return tonumber(kb) end
            end
        end
        local before = vmsize()
        local most = 0
        for i = 1, 100 do
            local m = assert(fs.map{path = p, access = i % 2 == 0 and 'w' or 'r'})
            m:read(i * 1000, 10)
            if i == 1 then eq(count(), 1, 'a live map shows in /proc/self/maps') end
            m = nil
            collectgarbage()
            most = math.max(most, count())
        end
        collectgarbage()
        eq(count(), 0, 'mappings left')
        assert(most <= 2, 'at most ' .. most .. ' live at once')
        -- 100 leaked maps would be 1.6 GB; allow for other tests' threads
        assert(vmsize() - before < 512 * 1024, 'VmSize grew by ' .. (vmsize() - before) .. ' kB')
        "#,
    );
}
