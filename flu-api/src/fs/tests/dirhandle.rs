//! `fs.opendir` handles and their `*at` methods.

use super::env;

#[test]
fn relative_operations() {
    env().run(
        r#"
        assert(fs.mkdir(T .. '/root'))
        local dh = assert(fs.opendir(T .. '/root'))
        eq(fs.isdirhandle(dh), true)
        eq(math.type(dh.fd), 'integer')
        local f = assert(dh:open('a', 'w'))
        f:write('A'); f:close()
        eq(readfile(T .. '/root/a'), 'A')
        eq(dh:attr('a', 'size'), 1)
        eq(dh:attr('a').type, 'file')
        eq(dh:attr('').type, 'dir', 'empty name: the directory itself')
        eq(dh:is('a', 'file'), true)
        eq(dh:is('none'), false)
        eq(dh:mkdir('sub'), true)
        eq(dh:mkdir('deep/er', true), true)
        fails('already_exists', 17, dh:mkdir('sub'))
        eq(dh:mksymlink('l', 'a'), true)
        eq(dh:readlink('l'), 'a')
        eq(dh:attr('l', 'type', false), 'symlink')
        eq(dh:mkhardlink('h', 'a'), true)
        eq(dh:attr('a', 'nlink'), 2)
        eq(dh:mkfifo('p'), true)
        eq(dh:attr('p', 'type'), 'pipe')
        eq(dh:mknod('n', 'file', '0600'), true)
        assert(dh:attr('a', {mtime_ns = 77}))
        eq(fs.attr(T .. '/root/a', 'mtime_ns'), 77)
        eq(math.type(dh:statvfs().bsize), 'integer')

        -- move within and across handles
        eq(dh:move('a', 'b'), true)
        local sub = assert(dh:opendir('sub'))
        eq(dh:move('b', sub, 'c'), true)
        eq(readfile(T .. '/root/sub/c'), 'A')
        writefile(T .. '/root/x', 'X')
        fails('already_exists', 17, sub:move('c', dh, 'x', {noreplace = true}))
        eq(sub:move('c', dh, 'x', {exchange = true}), true)
        eq(readfile(T .. '/root/x'), 'A')

        local names = {}
        for name, d in dh:dir() do assert(name, d); names[#names + 1] = name end
        eq(#names, 7)
        for name, d in dh:dir('sub') do eq(name, 'c'); eq(d:attr('size'), 1) end

        eq(dh:remove('deep', true), true)
        fails('not_empty', 39, dh:remove('sub'))
        eq(dh:remove('sub', true), true)

        -- the handle keeps working after its directory is renamed
        assert(fs.move(T .. '/root', T .. '/moved'))
        eq(dh:attr('x', 'size'), 1)
        eq(dh:readlink('l'), 'a')

        fails('not_a_dir', 20, fs.opendir(T .. '/moved/x'))
        fails('not_found', 2, fs.opendir(T .. '/none'))
        eq(sub:close(), true)
        eq(dh:close(), true); eq(dh:close(), true)
        eq(dh:closed(), true)
        raises('closed directory handle', function() return dh:attr('x') end)
        "#,
    );
}
