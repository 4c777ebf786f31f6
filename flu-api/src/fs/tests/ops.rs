//! mkdir, remove, move, links, cd, special files, statvfs, common paths.

use super::env;

#[test]
fn mkdir_and_remove() {
    env().run(
        r#"
        eq(fs.mkdir(T .. '/d'), true)
        fails('already_exists', 17, fs.mkdir(T .. '/d'))
        fails('not_found', 2, fs.mkdir(T .. '/x/y'))
        eq(fs.mkdir(T .. '/x/y/z/', true), true)
        eq(fs.is(T .. '/x/y/z', 'dir'), true)
        local ok, msg, code = fs.mkdir(T .. '/x/y', true)
        eq(ok, true); eq(msg, 'already_exists'); eq(code, 17)
        writefile(T .. '/file', '')
        fails('already_exists', 17, fs.mkdir(T .. '/file', true))
        fails('not_a_dir', 20, fs.mkdir(T .. '/file/sub', true))
        assert(fs.mkdir(T .. '/p', false, '0700'))
        eq(fs.attr(T .. '/p', 'perms'), tonumber('700', 8))
        assert(fs.mkdir(T .. '/p2', '0750'))
        eq(fs.attr(T .. '/p2', 'perms'), tonumber('750', 8))

        eq(fs.remove(T .. '/file'), true)
        fails('not_found', 2, fs.remove(T .. '/file'))
        eq(fs.remove(T .. '/d'), true, 'empty dir')
        fails('not_empty', 39, fs.remove(T .. '/x'))

        -- recursive removal never follows symlinks out of the tree
        local out = T .. '/outside'
        assert(fs.mkdir(out)); writefile(out .. '/keep', 'k')
        writefile(T .. '/x/y/z/f', 'f')
        assert(fs.mksymlink(T .. '/x/y/to_outside', out))
        assert(fs.mksymlink(T .. '/x/to_keep', out .. '/keep'))
        eq(fs.remove(T .. '/x', true), true)
        eq(fs.is(T .. '/x'), false)
        eq(readfile(out .. '/keep'), 'k')
        eq(fs.remove(T .. '/x/none', true) == nil, true)
        -- removing a symlink to a directory removes the link
        assert(fs.mksymlink(T .. '/dirlink', out))
        eq(fs.remove(T .. '/dirlink', true), true)
        eq(fs.is(out .. '/keep'), true)
        "#,
    );
}

#[test]
fn move_and_links() {
    env().run(
        r#"
        writefile(T .. '/a', 'A'); writefile(T .. '/b', 'B')
        eq(fs.move(T .. '/a', T .. '/c'), true)
        eq(fs.is(T .. '/a'), false); eq(readfile(T .. '/c'), 'A')
        fails('not_found', 2, fs.move(T .. '/a', T .. '/d'))
        fails('already_exists', 17, fs.move(T .. '/c', T .. '/b', {noreplace = true}))
        eq(fs.move(T .. '/c', T .. '/b', {exchange = true}), true)
        eq(readfile(T .. '/b'), 'A'); eq(readfile(T .. '/c'), 'B')
        eq(fs.move(T .. '/c', T .. '/b'), true, 'replaces')
        eq(readfile(T .. '/b'), 'B')
        raises('unknown move option', fs.move, T .. '/b', T .. '/c', 'sideways')

        eq(fs.mksymlink(T .. '/s', 'b'), true)
        eq(fs.readlink(T .. '/s'), 'b')
        fails('already_exists', 17, fs.mksymlink(T .. '/s', 'b'))
        fails('EINVAL', 22, fs.readlink(T .. '/b'))
        fails('not_found', 2, fs.readlink(T .. '/none'))
        local long = ('x'):rep(1000)
        assert(fs.mksymlink(T .. '/long', long))
        eq(fs.readlink(T .. '/long'), long)
        assert(fs.mksymlink(T .. '/odd', 'a\nb\xff'))
        eq(fs.readlink(T .. '/odd'), 'a\nb\xff')

        eq(fs.mkhardlink(T .. '/h', T .. '/b'), true)
        eq(fs.attr(T .. '/b', 'nlink'), 2)
        eq(fs.attr(T .. '/h', 'inode'), fs.attr(T .. '/b', 'inode'))
        fails('already_exists', 17, fs.mkhardlink(T .. '/h', T .. '/b'))
        "#,
    );
}

#[test]
fn special_files_and_statvfs() {
    env().run(
        r#"
        eq(fs.mkfifo(T .. '/fifo', '0600'), true)
        eq(fs.attr(T .. '/fifo', 'type'), 'pipe')
        eq(fs.attr(T .. '/fifo', 'perms'), tonumber('600', 8))
        eq(fs.mknod(T .. '/null', 'chardev', '0666', {major = 1, minor = 3}), true)
        local a = fs.attr(T .. '/null')
        eq(a.type, 'chardev')
        eq(a.rdev, 259)   -- makedev(1, 3)
        eq(fs.mknod(T .. '/reg', 'file'), true)
        eq(fs.attr(T .. '/reg', 'type'), 'file')
        eq(fs.mknod(T .. '/p2', tonumber('10644', 8)), true)
        eq(fs.attr(T .. '/p2', 'type'), 'pipe')
        fails('already_exists', 17, fs.mkfifo(T .. '/fifo'))
        raises('unknown type', fs.mknod, T .. '/x', 'gizmo')

        local s = assert(fs.statvfs(T))
        for _, k in ipairs{'bsize', 'frsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree',
                'favail', 'fsid', 'namemax'} do
            eq(math.type(s[k]), 'integer', k)
        end
        eq(type(s.flag), 'table')
        assert(s.namemax >= 255)
        local f = assert(fs.open(T .. '/reg'))
        eq(fs.statvfs(f).blocks, s.blocks)
        f:close()
        fails('not_found', 2, fs.statvfs(T .. '/none'))

        writefile(T .. '/alloc', '')
        eq(fs.fallocate(T .. '/alloc', 0, 4096), true)
        eq(fs.attr(T .. '/alloc', 'size'), 4096)
        "#,
    );
}

#[test]
fn cwd_and_common_paths() {
    env().run(
        r#"
        local home = assert(fs.homedir())
        eq(type(home), 'string')
        assert(#fs.tmpdir() > 0)
        assert(fs.is(fs.exedir(), 'dir'))
        assert(fs.is(fs.exepath(), 'file'))
        local cwd = assert(fs.cd())
        eq(fs.is(cwd, 'dir'), true)
        fails('not_found', 2, fs.cd(T .. '/none'))
        eq(fs.cd(), cwd, 'failed cd changes nothing')
        "#,
    );
}

/// The only test that changes the process's current directory: it restores it, and no
/// other test uses relative paths.
#[test]
fn cd_and_relative_paths() {
    env().run(
        r#"
        local cwd = fs.cd()
        local t = assert(fs.cd(T))
        eq(t, fs.attr(T) and t)
        writefile('rel', 'r')
        eq(readfile(T .. '/rel'), 'r')
        local n = 0
        for name in fs.dir() do n = n + 1; eq(name, 'rel') end
        eq(n, 1)
        assert(fs.cd(cwd))
        "#,
    );
}

#[test]
fn access_checks() {
    let e = super::env();
    e.run(
        r#"
        assert(fs.attr(T, {perms = '0755'}))   -- let nobody in
        writefile(T .. '/f', 'x')
        assert(fs.attr(T .. '/f', {perms = '0600'}))
        eq(fs.access(T .. '/f'), true, 'exists')
        eq(fs.access(T .. '/f', 'rw'), true)
        eq(fs.access(T .. '/f', 6), true)
        fails('access_denied', 13, fs.access(T .. '/f', 'x'))
        fails('not_found', 2, fs.access(T .. '/none'))
        assert(fs.mksymlink(T .. '/dangling', T .. '/none'))
        fails('not_found', 2, fs.access(T .. '/dangling'))
        eq(fs.access(T .. '/dangling', nil, false), true, 'the link itself')
        raises('invalid mode', function() return fs.access(T .. '/f', 'rq') end)
        raises('mode must be', function() return fs.access(T .. '/f', 8) end)
        "#,
    );
    // Root passes read checks; another user does not.
    assert!(super::run_as_nobody(
        &e,
        "eq(fs.access(T .. '/f'), true); fails('access_denied', 13, fs.access(T .. '/f', 'r'))"
    ));
}
