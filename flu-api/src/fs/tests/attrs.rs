//! `fs.attr`, `fs.is`, `f:attr`: getting every attribute, setting them, exact times.

use super::env;

#[test]
fn get_attributes() {
    env().run(
        r#"
        local p = T .. '/a'
        writefile(p, 'abc')
        local a = assert(fs.attr(p))
        eq(a.type, 'file'); eq(a.size, 3); eq(a.nlink, 1)
        for _, k in ipairs{'perms', 'mode', 'uid', 'gid', 'dev', 'inode', 'rdev', 'blksize',
                'blocks', 'atime', 'mtime', 'ctime', 'atime_ns', 'mtime_ns', 'ctime_ns'} do
            eq(type(a[k]), 'number', k)
        end
        eq(math.type(a.mtime_ns), 'integer')
        eq(a.target, nil)
        eq(fs.attr(p, 'size'), 3)
        eq(fs.attr(p, 'type'), 'file')
        eq(fs.attr(T, 'type'), 'dir')
        fails('not_found', 2, fs.attr(T .. '/nope'))
        fails('not_found', 2, fs.attr(T .. '/nope', 'size'))
        fails('not_a_dir', 20, fs.attr(p .. '/x'))
        raises("unknown attribute 'colour'", fs.attr, p, 'colour')

        assert(fs.mksymlink(T .. '/l', 'a'))
        eq(fs.attr(T .. '/l', 'type'), 'file', 'deref by default')
        eq(fs.attr(T .. '/l', 'type', false), 'symlink')
        local l = assert(fs.attr(T .. '/l', false))
        eq(l.type, 'symlink'); eq(l.target, 'a')
        eq(fs.attr(T .. '/l', 'target', false), 'a')

        eq(fs.is(p), true)
        eq(fs.is(p, 'file'), true)
        eq(fs.is(p, 'dir'), false)
        eq(fs.is(T .. '/nope'), false)
        eq(fs.is(T .. '/l', 'symlink'), true, "'symlink' does not follow")
        eq(fs.is(T .. '/l', 'file'), true)
        eq(fs.is(T .. '/l', 'file', false), false)
        raises("unknown file type 'folder'", fs.is, p, 'folder')

        local f = assert(fs.open(p))
        eq(f:attr('size'), 3)
        eq(f:attr().inode, a.inode)
        f:close()
        "#,
    );
}

#[test]
fn set_attributes_and_exact_times() {
    env().run(
        r#"
        local p = T .. '/s'
        writefile(p, 'hello')
        local o = tonumber
        eq(fs.attr(p, {perms = '0600'}), true)
        eq(fs.attr(p, 'perms'), o('600', 8))
        assert(fs.attr(p, {perms = 'u+x,g+r'}))
        eq(fs.attr(p, 'perms'), o('740', 8), 'relative perms apply to the current ones')
        assert(fs.attr(p, {perms = o('4755', 8)}))
        eq(fs.attr(p, 'perms'), o('4755', 8))

        -- nanoseconds round-trip exactly through the _ns fields
        local ns = 1700000000123456789
        assert(fs.attr(p, {atime_ns = ns, mtime_ns = ns + 1}))
        eq(fs.attr(p, 'atime_ns'), ns)
        eq(fs.attr(p, 'mtime_ns'), ns + 1)
        -- and through {sec=, nsec=}
        assert(fs.attr(p, {mtime = {sec = 1234567890, nsec = 987654321}}))
        eq(fs.attr(p, 'mtime_ns'), 1234567890987654321)
        eq(fs.attr(p, 'atime_ns'), ns, 'an omitted time is left alone')
        -- seconds with a fraction
        assert(fs.attr(p, {atime = 1.5, mtime = 100}))
        eq(fs.attr(p, 'atime_ns'), 1500000000)
        eq(fs.attr(p, 'atime'), 1.5)
        eq(fs.attr(p, 'mtime'), 100.0)
        -- before the epoch
        assert(fs.attr(p, {mtime_ns = -1}))
        eq(fs.attr(p, 'mtime_ns'), -1)
        local a = fs.attr(p)
        assert(fs.attr(p, {atime_ns = a.atime_ns, mtime_ns = a.mtime_ns}))
        eq(fs.attr(p, 'mtime_ns'), a.mtime_ns)
        local before = os.time()
        assert(fs.attr(p, {mtime = 'now'}))
        assert(fs.attr(p, 'mtime') >= before)

        assert(fs.attr(p, {size = 2}))
        eq(readfile(p), 'he')
        assert(fs.attr(p, {uid = 65534, gid = 65534}))
        eq(fs.attr(p, 'uid'), 65534); eq(fs.attr(p, 'gid'), 65534)
        assert(fs.attr(p, {gid = 0}))
        eq(fs.attr(p, 'uid'), 65534); eq(fs.attr(p, 'gid'), 0)

        -- symlinks themselves (deref=false): times and owner of the link
        assert(fs.mksymlink(T .. '/l', 's'))
        assert(fs.attr(T .. '/l', {mtime_ns = 5, uid = 1}, false))
        eq(fs.attr(T .. '/l', 'mtime_ns', false), 5)
        eq(fs.attr(T .. '/l', 'uid', false), 1)
        eq(fs.attr(p, 'uid'), 65534, 'target untouched')

        local f = assert(fs.open(p, 'r+'))
        assert(f:attr{perms = '0644', mtime_ns = 42, size = 10})
        eq(f:attr'perms', o('644', 8)); eq(f:attr'mtime_ns', 42); eq(f:attr'size', 10)
        f:close()

        fails('not_found', 2, fs.attr(T .. '/nope', {perms = '0644'}))
        raises('cannot be set', fs.attr, p, {inode = 3})
        raises('nsec out of range', fs.attr, p, {mtime = {sec = 1, nsec = 1e9}})
        raises('invalid permissions', fs.attr, p, {perms = 'abc'})
        "#,
    );
}
