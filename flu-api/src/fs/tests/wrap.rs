//! Descriptors from elsewhere: `fs.fileno`, `fs.wrap_fd`, `fs.wrap_file`, `f:flush`.

use super::env;

#[test]
fn fileno_of_io_files() {
    env().run(
        r#"
        local p = T .. '/io'
        local io_f = assert(io.open(p, 'w'))
        local fd = fs.fileno(io_f)
        eq(math.type(fd), 'integer')
        -- the descriptor is the file's: fstat through it sees the same inode
        eq(fs.attr(p, 'inode'), fs.attr('/proc/self/fd/' .. fd, 'inode'))
        eq(fs.fileno(io.stdin), 0)
        eq(fs.fileno(io.stdout), 1)
        eq(fs.fileno(io.stderr), 2)
        local f = assert(fs.open(p))
        eq(fs.fileno(f), f.fd, 'an fs file works too')
        f:close()
        io_f:close()
        raises('closed file', fs.fileno, io_f)
        raises('io file expected, got integer', fs.fileno, 3)
        local dh = assert(fs.opendir(T))
        raises('io file expected, got another userdata', fs.fileno, dh)
        dh:close()
        raises('closed file', fs.fileno, f)
        "#,
    );
}

#[test]
fn wrap_fd_owns_or_borrows() {
    env().run(
        r#"
        local p = T .. '/w'
        local f = assert(fs.open(p, 'w+'))
        local g = assert(fs.wrap_fd(f.fd, {own = false}))
        eq(fs.isfile(g), true)
        eq(g.fd, f.fd)
        eq(g:write('through g'), 9)
        eq(g:flush(), true)
        eq(g:close(), true)
        eq(g:closed(), true)
        -- g did not own the descriptor: f still works
        eq(f:read(100, 0), 'through g')

        raises('invalid file descriptor -1', fs.wrap_fd, -1)
        raises('invalid file descriptor', fs.wrap_fd, 1 << 40)
        f:close()
        "#,
    );
}

/// An owning wrap_fd closes the descriptor. In a (single-threaded) child: in the test
/// process another thread could be handed the closed number before `f` notices.
#[test]
fn wrap_fd_owning_closes() {
    let e = env();
    let ok = super::run_in_child(
        &e,
        || true,
        r#"
        local f = assert(fs.open(T .. '/o', 'w+'))
        f:write('through')
        local h = assert(fs.wrap_fd(f.fd))
        eq(h:read(7, 0), 'through')
        local fd = f.fd
        h:close()
        fails('EBADF', 9, f:read(1, 0))
        fails('EBADF', 9, fs.wrap_fd(fd))
        fails('EBADF', 9, f:close())  -- f reports the descriptor it no longer has
        "#,
    );
    assert!(ok);
}

#[test]
fn wrap_file_duplicates() {
    env().run(
        r#"
        local p = T .. '/wf'
        local io_f = assert(io.open(p, 'w+'))
        io_f:write('buffered ')           -- still in the stream's buffer
        local f = assert(fs.wrap_file(io_f))
        assert(f.fd ~= fs.fileno(io_f), 'a duplicate')
        -- wrap_file flushed the stream, and the two share the position
        eq(f:tell(), 9)
        eq(f:write('and direct'), 10)
        eq(f:read(100, 0), 'buffered and direct')
        eq(f:flush(), true)
        f:close()
        -- closing the fs file leaves the io file working
        io_f:seek('set', 0)
        eq(io_f:read('a'), 'buffered and direct')
        local g = assert(fs.wrap_file(io_f))
        io_f:close()
        eq(g:read(8, 0), 'buffered', 'and the other way round')
        g:close()

        -- a read stream: the descriptor is moved back to the stream's position
        local r = assert(io.open(p))
        eq(r:read(3), 'buf')
        local h = assert(fs.wrap_file(r))
        eq(h:read(5), 'fered')
        h:close(); r:close()
        raises('closed file', fs.wrap_file, r)
        raises('io file expected, got table', fs.wrap_file, {})
        raises('closed file', function() return h:flush() end)
        "#,
    );
}
