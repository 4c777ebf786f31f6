//! Resource limits and other users: forgotten files are collected, EACCES as nobody.

use super::{env, run_as_nobody, run_in_child};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// 100,000 opens without close: the GC (plus the collect-and-retry on EMFILE) keeps
/// the descriptor count bounded. 100,000 is far above the usual soft limit, so every
/// open succeeding already shows the files were closed.
#[test]
fn forgotten_files_are_collected() {
    let env = env();
    let before = open_fds();
    let max: i64 = env
        .lua
        .load(
            r#"
            local p = T .. '/f'
            writefile(p, 'x')
            local max = 0
            for i = 1, 100000 do
                local f, err = fs.open(p)
                assert(f, err)
                if i % 1000 == 0 then max = math.max(max, f.fd) end
            end
            for i = 1, 1000 do local it, d = fs.dir(T); d:next() end
            return max
            "#,
        )
        .eval()
        .unwrap();
    // Lua's own collector keeps this near 9,000 here; without finalizers closing the
    // files it would reach 100,000 (or fail at the descriptor limit).
    assert!(max < 15_000, "fd numbers grew to {max}");
    env.lua.gc_collect().unwrap();
    env.lua.gc_collect().unwrap();
    let after = open_fds();
    // Other tests run in parallel and hold a few descriptors of their own.
    assert!(
        after < before + 200,
        "{before} fds before, {after} after collecting"
    );
}

/// With a descriptor limit of 64 the collector alone cannot keep up: opening must
/// collect garbage and retry when it hits EMFILE.
#[test]
fn emfile_triggers_a_collection() {
    let env = env();
    env.run("writefile(T .. '/f', 'x')");
    let low_limit = || {
        let lim = libc::rlimit {
            rlim_cur: 64,
            rlim_max: 64,
        };
        // Descriptors inherited from tests running in parallel would eat into the
        // limit: the child needs none of them.
        // SAFETY: plain syscalls in the single-threaded child.
        unsafe {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0
        }
    };
    let ok = run_in_child(
        &env,
        low_limit,
        r#"
        collectgarbage('stop')   -- only the EMFILE retry may collect
        for i = 1, 5000 do
            local f, err = fs.open(T .. '/f')
            assert(f, err)
            assert(f.fd < 64)
        end
        for i = 1, 500 do
            local dh = assert(fs.opendir(T))
            for name, e in fs.dir(T) do assert(name, e) end   -- closed by the loop itself
            local it, d = fs.dir(T)                            -- forgotten, open
        end
        "#,
    );
    assert!(ok, "opening past the descriptor limit failed (see stderr)");
}

#[test]
fn access_denied_as_another_user() {
    let env = env();
    env.run(
        r#"
        assert(fs.attr(T, {perms = '0755'}))   -- let nobody in
        writefile(T .. '/secret', 's')
        assert(fs.attr(T .. '/secret', {perms = '0600'}))
        assert(fs.mkdir(T .. '/closed', false, '0700'))
        "#,
    );
    let ok = run_as_nobody(
        &env,
        r#"
        fails('access_denied', 13, fs.open(T .. '/secret'))
        fails('access_denied', 13, fs.mkdir(T .. '/new'))
        fails('access_denied', 13, fs.remove(T .. '/secret'))
        fails('access_denied', 13, fs.attr(T .. '/closed/x'))
        for name, err, code in fs.dir(T .. '/closed') do
            eq(name, false); eq(err, 'access_denied'); eq(code, 13)
        end
        fails('EPERM', 1, fs.attr(T .. '/secret', {perms = '0644'}))
        "#,
    );
    assert!(ok, "checks as uid 65534 failed (see stderr)");
}
