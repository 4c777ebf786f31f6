//! Mount prefixes of a composition: how a prefix is written (`/real`, `/a/b`; `/` for
//! the root), which prefix owns a path (the longest that matches whole components) and
//! the path the owning backend sees (`/real/a/b` → `/a/b`).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A prefix in its one written form: `/`, or `/` followed by components joined by one
/// `/`, none of them `.` or `..`, no trailing `/`.
pub fn normalize(prefix: &[u8]) -> Result<Vec<u8>, String> {
    if prefix.first() != Some(&b'/') {
        return Err(format!(
            "a mount point must be an absolute path (starting with '/'), got '{}'",
            String::from_utf8_lossy(prefix)
        ));
    }
    let mut out = Vec::with_capacity(prefix.len());
    for component in prefix.split(|b| *b == b'/').filter(|c| !c.is_empty()) {
        if component == b"." || component == b".." || component.contains(&0) {
            return Err(format!(
                "a mount point may not contain '.', '..' or NUL components, got '{}'",
                String::from_utf8_lossy(prefix)
            ));
        }
        out.push(b'/');
        out.extend_from_slice(component);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Ok(out)
}

/// The path below `prefix` that `path` names, when `prefix` owns it: `/` for the mount
/// point itself.
pub fn strip<'a>(prefix: &[u8], path: &'a [u8]) -> Option<&'a [u8]> {
    if prefix == b"/" {
        return Some(path);
    }
    let rest = path.strip_prefix(prefix)?;
    match rest.first() {
        None => Some(b"/"),
        Some(b'/') => Some(rest),
        Some(_) => None,
    }
}

/// `prefix` joined with a path relative to it (what a backend calls `rel`).
pub fn join(prefix: &[u8], rel: &[u8]) -> Vec<u8> {
    if prefix == b"/" {
        return rel.to_vec();
    }
    let mut out = prefix.to_vec();
    if rel != b"/" {
        out.extend_from_slice(rel);
    }
    out
}

/// Whether `ancestor` is a strict ancestor of `path` (both in written form).
pub fn is_strict_ancestor(ancestor: &[u8], path: &[u8]) -> bool {
    ancestor != path && strip(ancestor, path).is_some()
}

/// The first component of `path` below the directory `dir`, when `dir` is a strict
/// ancestor of it: the name under which `path`'s subtree appears in `dir`.
pub fn child_toward<'a>(dir: &[u8], path: &'a [u8]) -> Option<&'a OsStr> {
    if !is_strict_ancestor(dir, path) {
        return None;
    }
    let rest = strip(dir, path)?;
    let rest = rest.strip_prefix(b"/").unwrap_or(rest);
    let name = rest.split(|b| *b == b'/').next()?;
    (!name.is_empty()).then(|| OsStr::from_bytes(name))
}

pub fn bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

pub fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_have_one_written_form() {
        assert_eq!(normalize(b"/").unwrap(), b"/");
        assert_eq!(normalize(b"//").unwrap(), b"/");
        assert_eq!(normalize(b"/real/").unwrap(), b"/real");
        assert_eq!(normalize(b"/a//b").unwrap(), b"/a/b");
        assert!(normalize(b"real").is_err());
        assert!(normalize(b"/a/../b").is_err());
        assert!(normalize(b"/a/./b").is_err());
        assert!(normalize(b"").is_err());
    }

    #[test]
    fn a_prefix_owns_whole_components_only() {
        assert_eq!(strip(b"/real", b"/real"), Some(&b"/"[..]));
        assert_eq!(strip(b"/real", b"/real/a/b"), Some(&b"/a/b"[..]));
        assert_eq!(strip(b"/real", b"/reality"), None);
        assert_eq!(strip(b"/real", b"/"), None);
        assert_eq!(strip(b"/", b"/x"), Some(&b"/x"[..]));
    }

    #[test]
    fn join_undoes_strip() {
        for (prefix, path) in [
            (&b"/real"[..], &b"/real/a"[..]),
            (b"/real", b"/real"),
            (b"/", b"/x/y"),
            (b"/", b"/"),
            (b"/a/b", b"/a/b/c"),
        ] {
            let rel = strip(prefix, path).unwrap();
            assert_eq!(join(prefix, rel), path);
        }
    }

    #[test]
    fn children_toward_a_mount_point() {
        assert_eq!(child_toward(b"/", b"/a/b"), Some(OsStr::from_bytes(b"a")));
        assert_eq!(
            child_toward(b"/a", b"/a/b/c"),
            Some(OsStr::from_bytes(b"b"))
        );
        assert_eq!(child_toward(b"/a", b"/a"), None);
        assert_eq!(child_toward(b"/a", b"/ab/c"), None);
        assert!(is_strict_ancestor(b"/", b"/a"));
        assert!(!is_strict_ancestor(b"/a", b"/a"));
    }
}
