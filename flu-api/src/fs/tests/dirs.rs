//! `fs.dir` iteration: odd names, entry methods, d_type shortcuts, errors.

use super::env;

#[test]
fn list_with_odd_names() {
    env().run(
        r#"
        local names = {'plain', 'with space', 'new\nline', '\xff\xfe latin1 \xe9', 'sub'}
        for i = 1, 4 do writefile(T .. '/' .. names[i], names[i]) end
        assert(fs.mkdir(T .. '/sub'))
        assert(fs.mksymlink(T .. '/link', 'sub'))
        local seen, n = {}, 0
        for name, d in fs.dir(T) do
            if not name then error(d) end
            seen[name] = d:attr('type', false)
            n = n + 1
            eq(d:name(), name)
            eq(d:dir(), T)
            eq(d:path(), T .. '/' .. name)
            if name ~= 'sub' and name ~= 'link' then
                eq(readfile(d:path()), name, 'byte-exact name round trip')
                eq(d:attr('size'), #name)
                eq(d:is('file'), true)
            end
        end
        eq(n, 6)
        for i = 1, 4 do eq(seen[names[i]], 'file', names[i]) end
        eq(seen.sub, 'dir')
        eq(seen.link, 'symlink')
        "#,
    );
}

#[test]
fn entry_attributes_and_symlinks() {
    env().run(
        r#"
        writefile(T .. '/f', 'xyz')
        assert(fs.mksymlink(T .. '/l', 'f'))
        assert(fs.mksymlink(T .. '/dangling', 'nowhere'))
        for name, d in fs.dir(T) do
            assert(name, d)
            if name == 'l' then
                eq(d:attr('type'), 'file', 'deref by default')
                eq(d:attr('type', false), 'symlink')
                eq(d:is('symlink'), true)
                eq(d:is('file'), true)
                eq(d:is('file', false), false)
                eq(d:attr(false).target, 'f')
                eq(d:attr().size, 3)
                eq(d:attr('inode'), fs.attr(T .. '/f', 'inode'))
            elseif name == 'dangling' then
                eq(d:is('symlink'), true)
                eq(d:is('file'), false, 'dangling link: target does not exist')
                fails('not_found', 2, d:attr('size'))
            else
                eq(d:attr('inode', false), fs.attr(T .. '/f', 'inode'))
                eq(d:attr().type, 'file')
            end
        end
        "#,
    );
}

#[test]
fn dot_dirs_next_close_and_break() {
    env().run(
        r#"
        writefile(T .. '/a', ''); writefile(T .. '/b', '')
        local seen = {}
        for name in fs.dir(T, true) do seen[name] = true end
        assert(seen['.'] and seen['..'] and seen.a and seen.b)

        -- explicit d:next()
        local it, d = fs.dir(T)
        local n1 = d:next()
        local n2 = d:next()
        eq(d:next(), nil)
        eq(d:closed(), true, 'closed at the end')
        eq(d:next(), nil)
        assert((n1 == 'a' and n2 == 'b') or (n1 == 'b' and n2 == 'a'))

        it, d = fs.dir(T)
        assert(d:next())
        eq(d:close(), true)
        eq(d:closed(), true)
        eq(d:next(), nil)
        raises('closed', function() return d:attr('size') end)

        -- break closes the directory through the generic for's closing value
        local saved
        for name, dd in fs.dir(T) do saved = dd; break end
        eq(saved:closed(), true)
        "#,
    );
}

#[test]
fn errors_arrive_as_one_false_iteration() {
    env().run(
        r#"
        writefile(T .. '/file', '')
        for _, p in ipairs{{T .. '/missing', 'not_found', 2}, {T .. '/file', 'not_a_dir', 20}} do
            local calls = 0
            for name, err, code in fs.dir(p[1]) do
                calls = calls + 1
                eq(name, false); eq(err, p[2]); eq(code, p[3])
            end
            eq(calls, 1)
        end
        "#,
    );
}
