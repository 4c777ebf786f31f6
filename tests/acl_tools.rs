//! setfacl and getfacl (the `acl` package) over the passthrough mounted with
//! `-o allow_other,default_permissions`, as root and as another user: the same script
//! runs in a plain tmpfs directory and in the mount, and prints the same. It covers a
//! named user's entry updating the group mode bits and granting access, a default ACL
//! replacing the umask on create, chmod narrowing the mask, removal, and a non-owner's
//! setfacl refused.

mod common;

use std::path::Path;

use common::*;

/// Runs as root in the directory under test; `$AS_NOBODY` runs a command as uid/gid
/// 65534 without groups.
const SCRIPT: &str = r#"
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
umask 022
chmod 755 .
echo data > f
setfacl -m u:nobody:rw f; echo "setfacl f: $?"
stat -c '%n %A' f
getfacl -n f
$AS_NOBODY sh -c 'echo by-nobody >> f'; echo "nobody appends: $?"
cat f
chmod 640 f; getfacl -n f
$AS_NOBODY sh -c 'cat f' 2>&1 | sed 's/^.*: //'
$AS_NOBODY setfacl -m u:nobody:rwx f 2>&1 | sed 's/^setfacl: //'
setfacl -b f; stat -c '%n %A' f; getfacl -n f
mkdir d; chmod 777 d
setfacl -d -m u:nobody:rwx,g::rwx,o::rwx d; echo "setfacl -d: $?"
getfacl -n d
$AS_NOBODY sh -c 'umask 077; echo x > d/x; mkdir d/y; mkfifo d/p'
stat -c '%n %A %U' d/x d/y d/p
getfacl -n d/x d/y
mkdir e; chmod 777 e
$AS_NOBODY sh -c 'umask 077; echo x > e/x; mkdir e/y'
stat -c '%n %A' e/x e/y
getfacl -n e/x
$AS_NOBODY sh -c 'setfacl -m u:root:rwx e/x; getfacl -n e/x; stat -c "%n %A" e/x'
"#;

fn run(dir: &Path) -> String {
    let r = sh_run(dir, SCRIPT);
    assert!(
        r.ok(),
        "the ACL script failed in {}: {}",
        dir.display(),
        r.stderr
    );
    r.stdout
}

fn compare(script: &str) {
    if !is_root() {
        eprintln!("SKIPPED: acting as another user needs root");
        return;
    }
    let plain = TempDir::new("acl-plain");
    let expected = run(plain.path());
    let backing = TempDir::new("acl-backing");
    let Some(m) = mount_with(
        &test_script(script),
        MountOptions::new()
            .opt("allow_other")
            .opt("default_permissions")
            .arg(backing.path()),
    ) else {
        return;
    };
    let got = run(&m.dir);
    assert!(m.daemon_alive());
    m.unmount();
    assert_eq!(expected, got, "setfacl/getfacl through {script}");
    // What the mount left is what the plain run left.
    assert_eq!(run_listing(plain.path()), run_listing(backing.path()));
}

/// Modes and ACLs of everything the script made, as getfacl prints them.
fn run_listing(dir: &Path) -> String {
    sh(
        dir,
        "getfacl -n -R . 2>&1; find . -mindepth 1 -printf '%P %m %u\\n' | sort",
    )
}

#[test]
fn setfacl_getfacl_native() {
    compare("native_passthrough.lua");
}

#[test]
fn setfacl_getfacl_lua() {
    compare("lua_passthrough_overridden.lua");
}
