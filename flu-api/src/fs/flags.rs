//! Parsing of the small languages scripts use to say how to open and create files:
//! open modes (`'r+'`), flag words (`'rdwr creat excl'`), and permissions (`'0644'`,
//! `'rw-r--r--'`, `'u+x go-w'`, or a number).
//!
//! Everything here is misuse-checking: a bad word raises a Lua error naming it.

use mlua::{ffi, Table, Value};

use super::error::misuse;

/// Open flags and creation permissions for `open(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OpenSpec {
    pub flags: libc::c_int,
    pub perms: libc::mode_t,
}

/// `fopen`-style mode strings, as C and Lua's `io.open` define them.
fn mode_flags(mode: &str) -> mlua::Result<libc::c_int> {
    use libc::*;
    // A trailing 'b' is accepted (and meaningless) as in C, so io.open habits work.
    let m = mode.strip_suffix('b').unwrap_or(mode);
    Ok(match m {
        "r" => O_RDONLY,
        "r+" => O_RDWR,
        "w" => O_WRONLY | O_CREAT | O_TRUNC,
        "w+" => O_RDWR | O_CREAT | O_TRUNC,
        "a" => O_WRONLY | O_CREAT | O_APPEND,
        "a+" => O_RDWR | O_CREAT | O_APPEND,
        _ => return Err(misuse(format!("invalid open mode '{mode}'"))),
    })
}

/// One `O_*` flag by name (`rdwr`, `O_RDWR` and `o_rdwr` all work).
fn flag_word(word: &str) -> Option<libc::c_int> {
    use libc::*;
    let w = word.to_ascii_lowercase();
    let w = w.strip_prefix("o_").unwrap_or(&w);
    Some(match w {
        "rdonly" => O_RDONLY,
        "wronly" => O_WRONLY,
        "rdwr" => O_RDWR,
        "creat" | "create" => O_CREAT,
        "excl" => O_EXCL,
        "nofollow" => O_NOFOLLOW,
        "trunc" => O_TRUNC,
        "append" => O_APPEND,
        "cloexec" => O_CLOEXEC,
        "noctty" => O_NOCTTY,
        "nonblock" | "ndelay" => O_NONBLOCK,
        "sync" => O_SYNC,
        "dsync" => O_DSYNC,
        "rsync" => O_RSYNC,
        "direct" => O_DIRECT,
        "directory" => O_DIRECTORY,
        "noatime" => O_NOATIME,
        "path" => O_PATH,
        "tmpfile" => O_TMPFILE,
        "largefile" => O_LARGEFILE,
        "async" => O_ASYNC,
        _ => return None,
    })
}

/// A flag word list: `'rdwr creat'` (spaces, commas or `|` between words), an array
/// `{'rdwr', 'creat'}`, a set `{rdwr=true}`, or a number.
pub(crate) fn parse_flags(v: &Value) -> mlua::Result<libc::c_int> {
    let word = |w: &str| flag_word(w).ok_or_else(|| misuse(format!("unknown open flag '{w}'")));
    match v {
        Value::Nil => Ok(0),
        Value::Integer(n) => {
            libc::c_int::try_from(*n).map_err(|_| misuse("open flags out of range"))
        }
        Value::String(s) => {
            let s = s.to_str()?;
            s.split(|c: char| c.is_whitespace() || c == ',' || c == '|')
                .filter(|w| !w.is_empty())
                .try_fold(0, |acc, w| Ok(acc | word(w)?))
        }
        Value::Table(t) => words_of_table(t),
        other => Err(misuse(format!(
            "open flags: string, table or number expected, got {}",
            other.type_name()
        ))),
    }
}

/// The flags of a flag table: an array of words, or a set of them (`{rdwr=true}`; a
/// false value leaves its word out). One pass through Lua's C API over the raw entries:
/// `fi.flags` handed to `fs.open` is read at every open of a script on the `fs` module.
fn words_of_table(t: &Table) -> mlua::Result<libc::c_int> {
    let mut acc = 0;
    let mut bad: Option<String> = None;
    let mut take = |w: &[u8], bad: &mut Option<String>| match std::str::from_utf8(w)
        .ok()
        .and_then(flag_word)
    {
        Some(f) => {
            acc |= f;
            true
        }
        None => {
            *bad = Some(format!(
                "unknown open flag '{}'",
                String::from_utf8_lossy(w)
            ));
            false
        }
    };
    // SAFETY: the closure works on its one argument (the table, stack index 1) and the
    // key and value lua_next pushes, which it pops, after asking for that room. It reads
    // strings only from values whose type is string (lua_tolstring never converts a key
    // in place, which would confuse lua_next), and the bytes live while they stay on the
    // stack, which is while `take` runs. lua_next on a table nobody changes raises
    // nothing, and the closure owns nothing that needs dropping.
    unsafe {
        t.weak_lua().upgrade().exec_raw::<()>(t, |state| {
            if ffi::lua_checkstack(state, 3) == 0 {
                ffi::luaL_error(state, c"stack overflow".as_ptr());
            }
            let bytes = |idx| {
                let mut len = 0usize;
                let p = ffi::lua_tolstring(state, idx, &mut len);
                std::slice::from_raw_parts(p.cast::<u8>(), len)
            };
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, 1) != 0 {
                let key = ffi::lua_type(state, -2);
                let value = ffi::lua_type(state, -1);
                let go_on = if key == ffi::LUA_TNUMBER
                    && ffi::lua_isinteger(state, -2) != 0
                    && value == ffi::LUA_TSTRING
                {
                    take(bytes(-1), &mut bad)
                } else if key == ffi::LUA_TSTRING {
                    ffi::lua_toboolean(state, -1) == 0 || take(bytes(-2), &mut bad)
                } else {
                    bad = Some("open flags table: expected words".into());
                    false
                };
                ffi::lua_settop(state, -2);
                if !go_on {
                    break;
                }
            }
            ffi::lua_settop(state, 0);
        })?;
    }
    match bad {
        Some(message) => Err(misuse(message)),
        None => Ok(acc),
    }
}

/// The second argument of `fs.open`: nil, a mode string, or an options table
/// `{mode=, flags=, perms=}`. Every file is opened close-on-exec: descriptors of the
/// daemon must not leak into programs a script starts.
pub(crate) fn open_spec(arg: &Value) -> mlua::Result<OpenSpec> {
    let mut spec = OpenSpec {
        flags: libc::O_RDONLY,
        perms: 0o666,
    };
    match arg {
        Value::Nil => {}
        Value::String(s) => spec.flags = mode_flags(&s.to_str()?)?,
        Value::Table(t) => spec = open_table(t)?,
        other => {
            return Err(misuse(format!(
                "open: mode string or options table expected, got {}",
                other.type_name()
            )))
        }
    }
    spec.flags |= libc::O_CLOEXEC;
    Ok(spec)
}

fn open_table(t: &Table) -> mlua::Result<OpenSpec> {
    let mode: Value = t.get("mode")?;
    let flags: Value = t.get("flags")?;
    let perms: Value = t.get("perms")?;
    let mut f = match (&mode, &flags) {
        (Value::Nil, Value::Nil) => libc::O_RDONLY,
        (Value::Nil, _) => 0,
        (Value::String(m), _) => mode_flags(&m.to_str()?)?,
        (other, _) => {
            return Err(misuse(format!(
                "open: mode must be a string, got {}",
                other.type_name()
            )))
        }
    };
    f |= parse_flags(&flags)?;
    let perms = match perms {
        Value::Nil => 0o666,
        p => parse_perms(&p, 0)?.0,
    };
    Ok(OpenSpec { flags: f, perms })
}

/// Permissions: a number, an octal string (`'0644'`, `'644'`), an `ls -l` string
/// (`'rw-r--r--'`), or chmod-style clauses (`'rwx'`, `'u+x go-w'`, `'u=rw,g=r'`).
/// Returns the mode and whether the spec was relative to `base` (did not set every
/// permission bit), so callers that change an existing file can apply `'+x'` to it.
pub(crate) fn parse_perms(v: &Value, base: u32) -> mlua::Result<(u32, bool)> {
    match v {
        Value::Integer(n) if (0..=0o7777).contains(n) => Ok((*n as u32, false)),
        Value::Number(n) if n.fract() == 0.0 && (0.0..=4095.0).contains(n) => {
            Ok((*n as u32, false))
        }
        Value::String(s) => parse_perms_str(&s.to_str()?, base),
        other => Err(misuse(format!(
            "invalid permissions {}",
            match other {
                Value::Integer(n) => n.to_string(),
                o => o.type_name().to_string(),
            }
        ))),
    }
}

fn parse_perms_str(s: &str, base: u32) -> mlua::Result<(u32, bool)> {
    let bad = || misuse(format!("invalid permissions string '{s}'"));
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        let n = u32::from_str_radix(t, 8).map_err(|_| bad())?;
        return if n <= 0o7777 {
            Ok((n, false))
        } else {
            Err(bad())
        };
    }
    if t.is_empty() {
        return Err(bad());
    }
    if let Some(n) = parse_ls_style(t) {
        return Ok((n, false));
    }
    let mut mode = base & 0o7777;
    let mut mask = 0u32;
    for clause in t.split(|c: char| c.is_whitespace() || c == ',') {
        if clause.is_empty() {
            continue;
        }
        let who_len = clause
            .find(|c: char| !matches!(c, 'u' | 'g' | 'o' | 'a'))
            .unwrap_or(clause.len());
        let (who_s, rest) = clause.split_at(who_len);
        let who = who_mask(if who_s.is_empty() { "a" } else { who_s });
        let is_op = |c: char| matches!(c, '+' | '-' | '=');
        let mut chars = rest.chars().peekable();
        if chars.peek().is_none() {
            return Err(bad());
        }
        // 'rwx' without an operator means '=' (luapower's unixperms does the same).
        let mut op = '=';
        loop {
            if let Some(&c) = chars.peek() {
                if is_op(c) {
                    op = c;
                    chars.next();
                }
            }
            let mut what = 0u32;
            while let Some(&c) = chars.peek() {
                what |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => break,
                };
                chars.next();
            }
            let what = what & who;
            match op {
                '+' => mode |= what,
                '-' => mode &= !what,
                _ => {
                    mode = (mode & !who) | what;
                    mask |= who;
                }
            }
            match chars.peek() {
                None => break,
                Some(&c) if is_op(c) => continue,
                Some(_) => return Err(bad()),
            }
        }
    }
    Ok((mode, mask & 0o777 != 0o777))
}

/// The permission bits a `[ugoa]+` prefix may touch.
fn who_mask(who: &str) -> u32 {
    who.chars().fold(0, |m, c| {
        m | match c {
            'u' => 0o4700,
            'g' => 0o2070,
            'o' => 0o1007,
            _ => 0o7777,
        }
    })
}

/// `rwxr-x--x` (with `s S t T` in the execute columns), as `ls -l` prints it.
fn parse_ls_style(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 9 {
        return None;
    }
    let mut mode = 0u32;
    for (i, &c) in b.iter().enumerate() {
        let shift = 6 - 3 * (i as u32 / 3);
        let special = [0o4000, 0o2000, 0o1000][i / 3];
        mode |= match (i % 3, c) {
            (_, b'-') => 0,
            (0, b'r') => 4 << shift,
            (1, b'w') => 2 << shift,
            (2, b'x') => 1 << shift,
            (2, b's') if i < 6 => (1 << shift) | special,
            (2, b'S') if i < 6 => special,
            (2, b't') if i == 8 => 1 | special,
            (2, b'T') if i == 8 => special,
            _ => return None,
        };
    }
    Some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlua::Lua;

    fn perms(lua: &Lua, s: &str, base: u32) -> (u32, bool) {
        let v = Value::String(lua.create_string(s).unwrap());
        parse_perms(&v, base).unwrap()
    }

    #[test]
    fn flag_tables_as_arrays_and_sets() {
        let lua = Lua::new();
        let flags = |src: &str| parse_flags(&lua.load(src).eval::<Value>().unwrap());
        use libc::{O_APPEND, O_CREAT, O_EXCL, O_RDWR, O_WRONLY};
        assert_eq!(flags("return {'rdwr', 'creat'}").unwrap(), O_RDWR | O_CREAT);
        assert_eq!(
            flags("return {wronly = true, append = 1, excl = false}").unwrap(),
            O_WRONLY | O_APPEND
        );
        assert_eq!(
            flags("return {O_RDWR = true, 'O_EXCL'}").unwrap(),
            O_RDWR | O_EXCL
        );
        assert_eq!(flags("return {}").unwrap(), 0);
        // A flag set handed to a handler has a metatable; its raw entries are read.
        assert_eq!(
            flags("return setmetatable({rdwr = true}, {__index = function() return true end})")
                .unwrap(),
            O_RDWR
        );
        for (bad, says) in [
            (
                "return {'rdwr', 'frobnicate'}",
                "unknown open flag 'frobnicate'",
            ),
            (
                "return {frobnicate = true}",
                "unknown open flag 'frobnicate'",
            ),
            ("return {true}", "expected words"),
            ("return {[1.5] = 'rdwr'}", "expected words"),
            ("return {[{}] = true}", "expected words"),
        ] {
            let e = flags(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        // A false value leaves even an unknown word out, as before.
        assert_eq!(
            flags("return {frobnicate = false, rdwr = true}").unwrap(),
            O_RDWR
        );
    }

    #[test]
    fn perms_strings() {
        let lua = Lua::new();
        assert_eq!(perms(&lua, "0644", 0), (0o644, false));
        assert_eq!(perms(&lua, "755", 0), (0o755, false));
        assert_eq!(perms(&lua, "rw-r--r--", 0), (0o644, false));
        assert_eq!(perms(&lua, "rwsr-xr-t", 0), (0o5755, false));
        assert_eq!(perms(&lua, "rwx", 0o123), (0o777, false));
        assert_eq!(perms(&lua, "rx", 0), (0o555, false));
        assert_eq!(perms(&lua, "u+x", 0o644), (0o744, true));
        assert_eq!(perms(&lua, "go-w", 0o666), (0o644, true));
        assert_eq!(perms(&lua, "u=rw,g=r", 0o777), (0o647, true));
        assert_eq!(perms(&lua, "u+x g-w o=rwx", 0o070), (0o157, true));
        assert_eq!(perms(&lua, "u+x-w", 0o600), (0o500, true));
        assert_eq!(perms(&lua, "+t", 0o777), (0o1777, true));
        for bad in ["", "0999", "zz", "u+q", "rwxrwxrwq", "07777777"] {
            let v = Value::String(lua.create_string(bad).unwrap());
            assert!(parse_perms(&v, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn open_specs() {
        let lua = Lua::new();
        let spec = |code: &str| open_spec(&lua.load(code).eval::<Value>().unwrap());
        use libc::*;
        assert_eq!(spec("nil").unwrap().flags, O_RDONLY | O_CLOEXEC);
        assert_eq!(
            spec("'w+'").unwrap().flags,
            O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC
        );
        let s = spec("{flags='rdwr creat excl', perms='0600'}").unwrap();
        assert_eq!(s.flags, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC);
        assert_eq!(s.perms, 0o600);
        let s = spec("{mode='a', flags={'nofollow'}}").unwrap();
        assert_eq!(
            s.flags,
            O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC
        );
        assert_eq!(
            spec("{flags={O_RDWR=true}}").unwrap().flags,
            O_RDWR | O_CLOEXEC
        );
        assert!(spec("'x'").is_err());
        assert!(spec("{flags='rdwr bogus'}").is_err());
        assert!(spec("42").is_err());
    }
}
