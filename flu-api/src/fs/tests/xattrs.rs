//! Extended attributes on tmpfs (`/dev/shm`), which supports `user.*` on this kernel.

use super::env_in;

#[test]
fn xattr_round_trip() {
    env_in("/dev/shm").run(
        r#"
        local p = T .. '/x'
        writefile(p, '')
        local v = '\0\1\2\255 binary'
        eq(fs.setxattr(p, 'user.test', v), true)
        eq(fs.getxattr(p, 'user.test'), v)
        eq(fs.setxattr(p, 'user.empty', ''), true)
        eq(fs.getxattr(p, 'user.empty'), '')
        local names = assert(fs.listxattr(p))
        table.sort(names)
        eq(#names, 2); eq(names[1], 'user.empty'); eq(names[2], 'user.test')
        fails('already_exists', 17, fs.setxattr(p, 'user.test', 'x', 'create'))
        fails('ENODATA', 61, fs.setxattr(p, 'user.none', 'x', 'replace'))
        eq(fs.setxattr(p, 'user.test', 'new', 'replace'), true)
        eq(fs.getxattr(p, 'user.test'), 'new')
        fails('ENODATA', 61, fs.getxattr(p, 'user.none'))
        eq(fs.removexattr(p, 'user.test'), true)
        fails('ENODATA', 61, fs.removexattr(p, 'user.test'))
        fails('not_found', 2, fs.getxattr(T .. '/none', 'user.a'))
        raises("'create' or 'replace'", fs.setxattr, p, 'user.a', 'v', 'sometimes')

        -- big values
        local big = ('z'):rep(60000)
        assert(fs.setxattr(p, 'user.big', big))
        eq(fs.getxattr(p, 'user.big'), big)

        -- file methods and file objects as the target
        local f = assert(fs.open(p))
        eq(f:setxattr('user.f', 'fv'), true)
        eq(f:getxattr('user.f'), 'fv')
        eq(fs.getxattr(f, 'user.f'), 'fv')
        local found = false
        for _, n in ipairs(f:listxattr()) do found = found or n == 'user.f' end
        assert(found)
        eq(f:removexattr('user.f'), true)
        f:close()

        -- deref=false: user.* xattrs are not allowed on symlinks themselves
        assert(fs.mksymlink(T .. '/l', 'x'))
        eq(fs.getxattr(T .. '/l', 'user.big'), big, 'follows by default')
        local ok, msg = fs.setxattr(T .. '/l', 'user.a', 'v', nil, false)
        eq(ok, nil); assert(msg == 'EPERM' or msg == 'EOPNOTSUPP', msg)
        "#,
    );
}
