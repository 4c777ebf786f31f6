//! The read checks, on up to 20 regular files of the tree: the bytes read match the
//! size stat gives, reads at offsets give the bytes of the whole file at those offsets
//! (a read that ignores its offset is caught here, as `direct_io` sends each read as
//! asked), reads at and past the end give nothing.
//!
//! A file whose content changes while it is read (a live status file) is read up to
//! three times; a fault is reported only when no attempt agrees.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::checks::{failed, plural, quoted, summarize, Check, CheckResult, Ctx};

/// Files up to this size are read whole; of larger ones only the end is read.
pub const READ_LIMIT: u64 = 1 << 20;
/// Attempts at reading a file that may change meanwhile.
const ATTEMPTS: usize = 3;

pub const CHECKS: &[Check] = &[
    Check {
        name: "read-size",
        expected: "bytes read = size stat gives",
        needs: &[&["read"]],
        writes: false,
        applies: needs_file,
        run: read_size,
    },
    Check {
        name: "read-offsets",
        expected: "a read at an offset gives the file's bytes there",
        needs: &[&["read"]],
        writes: false,
        applies: needs_file,
        run: read_offsets,
    },
    Check {
        name: "read-past-eof",
        expected: "0 bytes at and past the end",
        needs: &[&["read"]],
        writes: false,
        applies: needs_file,
        run: read_past_eof,
    },
];

/// The read checks (and ENOTDIR's) need a regular file in the tree.
pub fn needs_file(ctx: &Ctx) -> Option<String> {
    ctx.tree
        .files()
        .is_empty()
        .then(|| "no regular file in the tree to read".into())
}

/// Run `attempt` up to three times; the first success, or the last fault.
fn settled(mut attempt: impl FnMut() -> Result<(), String>) -> Result<(), String> {
    let mut last = Ok(());
    for _ in 0..ATTEMPTS {
        last = attempt();
        if last.is_ok() {
            break;
        }
    }
    last
}

/// Each file the tree holds through `check`; a summary, or the faults.
fn over_files(
    ctx: &Ctx,
    what: &str,
    check: impl Fn(&str, &Path) -> Result<(), String>,
) -> CheckResult {
    let files = ctx.tree.files();
    if files.is_empty() {
        return Err("no regular file found to read (the walk found none)".into());
    }
    let faults: Vec<String> = files
        .iter()
        .filter_map(|(path, _)| settled(|| check(&ctx.shown(path), path)).err())
        .collect();
    if !faults.is_empty() {
        return Err(summarize(&faults));
    }
    Ok(format!("{} {what}", plural(files.len(), "file", "files")))
}

fn open_read(p: &str, path: &Path) -> Result<File, String> {
    File::open(path).map_err(|e| failed(format!("open {p}"), e))
}

fn size_of(p: &str, path: &Path) -> Result<u64, String> {
    std::fs::symlink_metadata(path)
        .map(|m| m.len())
        .map_err(|e| failed(format!("stat {p}"), e))
}

/// Read from offset 0 until end of file, `max` bytes at most: the bytes, and whether
/// the end was reached.
pub fn read_until_eof(f: &File, max: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut limited = f.take(max + 1);
    limited.read_to_end(&mut out)?;
    let ended = out.len() as u64 <= max;
    out.truncate(max as usize);
    Ok((out, ended))
}

/// One read of `n` bytes at `offset`: what a single pread gives (with `direct_io`,
/// exactly what the handler answered).
fn read_once(f: &File, offset: u64, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    loop {
        match f.read_at(&mut buf, offset) {
            Ok(k) => {
                buf.truncate(k);
                return Ok(buf);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `n` bytes read from `f` at `offset` (fewer at the end).
fn read_at(f: &File, offset: u64, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    let mut got = 0;
    while got < n {
        match f.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

fn read_size(ctx: &Ctx) -> CheckResult {
    over_files(ctx, "read to their size", |p, path| {
        let size = size_of(p, path)?;
        let f = open_read(p, path)?;
        if size > READ_LIMIT {
            // Only the end: the last bytes are there, and nothing after them.
            let tail = read_at(&f, size - 16, 16).map_err(|e| failed(format!("read {p}"), e))?;
            let after = read_at(&f, size, 16).map_err(|e| failed(format!("read {p}"), e))?;
            return match (tail.len(), after.len()) {
                (16, 0) => Ok(()),
                (t, 0) => Err(format!(
                    "{p}: size {size} but only {} bytes read",
                    size - 16 + t as u64
                )),
                (_, a) => Err(format!("{p}: size {size} but {a} more bytes read after it")),
            };
        }
        let max = size + 64 * 1024;
        let (bytes, ended) = read_until_eof(&f, max).map_err(|e| failed(format!("read {p}"), e))?;
        if !ended {
            return Err(format!(
                "{p}: size {size} but reading did not end after {max} bytes (does read ignore its offset?)"
            ));
        }
        if bytes.len() as u64 != size {
            return Err(format!("{p}: size {size} but {} bytes read", bytes.len()));
        }
        Ok(())
    })
}

/// The offsets `read-offsets` tries in a file of `size` bytes.
pub fn probe_offsets(size: u64) -> Vec<u64> {
    let mut offsets = vec![1, size / 3, size / 2, size.saturating_sub(1)];
    offsets.extend([4095, 4096 + 7, 65536 + 1, 131072 + 3]);
    offsets.retain(|o| *o > 0 && *o < size);
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

/// What went wrong with a read at `offset` that gave `got` instead of `whole[offset..]`:
/// `None` when it is right.
pub fn offset_fault(whole: &[u8], offset: usize, len: usize, got: &[u8]) -> Option<String> {
    let end = (offset + len).min(whole.len());
    let want = &whole[offset.min(end)..end];
    if got == want {
        return None;
    }
    if got.len() != want.len() && want.starts_with(got) {
        return Some(format!(
            "read of {len} bytes at offset {offset}: got {} bytes, expected {}",
            got.len(),
            want.len()
        ));
    }
    let found = (!got.is_empty())
        .then(|| whole.windows(got.len()).position(|w| w == got))
        .flatten();
    Some(match found {
        Some(at) => format!("read at offset {offset}: got the bytes of offset {at}"),
        None => format!(
            "read at offset {offset}: got {}, expected {}",
            quoted(got),
            quoted(want)
        ),
    })
}

fn read_offsets(ctx: &Ctx) -> CheckResult {
    over_files(ctx, "agree at every offset", |p, path| {
        let size = size_of(p, path)?;
        if size < 2 {
            return Ok(());
        }
        let f = open_read(p, path)?;
        // The reference: from offset 0, no further than the size says (a read that
        // ignores its offset never reaches the end otherwise).
        let whole = read_at(&f, 0, size.min(READ_LIMIT) as usize)
            .map_err(|e| failed(format!("read {p}"), e))?;
        for offset in probe_offsets(whole.len() as u64) {
            let len = 100;
            let got = read_once(&f, offset, len)
                .map_err(|e| failed(format!("read {p} at offset {offset}"), e))?;
            if let Some(fault) = offset_fault(&whole, offset as usize, len, &got) {
                return Err(format!("{p}: {fault}"));
            }
        }
        Ok(())
    })
}

fn read_past_eof(ctx: &Ctx) -> CheckResult {
    over_files(ctx, "end at their size", |p, path| {
        let size = size_of(p, path)?;
        let f = open_read(p, path)?;
        for (offset, what) in [(size, "(the size)"), (size + 4096, "(past the end)")] {
            let got = read_once(&f, offset, 10)
                .map_err(|e| failed(format!("read {p} at offset {offset}"), e))?;
            if !got.is_empty() {
                return Err(format!(
                    "{p}: read of 10 bytes at offset {offset} {what} gave {} bytes, expected 0 (end of file)",
                    got.len()
                ));
            }
        }
        if size > 0 {
            let got = read_once(&f, size - 1, 10)
                .map_err(|e| failed(format!("read {p} at offset {}", size - 1), e))?;
            if got.len() != 1 {
                return Err(format!(
                    "{p}: read of 10 bytes at offset {} (the last byte) gave {} bytes, expected 1",
                    size - 1,
                    got.len()
                ));
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_faults() {
        let whole = b"Hello World!\n";
        assert_eq!(offset_fault(whole, 5, 100, b" World!\n"), None);
        assert_eq!(
            offset_fault(whole, 5, 100, b"Hello Wo"),
            Some("read at offset 5: got the bytes of offset 0".into())
        );
        assert_eq!(
            offset_fault(whole, 5, 100, b" Wo"),
            Some("read of 100 bytes at offset 5: got 3 bytes, expected 8".into())
        );
        assert_eq!(
            offset_fault(whole, 5, 2, b"zz"),
            Some("read at offset 5: got \"zz\", expected \" W\"".into())
        );
        assert_eq!(
            offset_fault(whole, 5, 2, b""),
            Some("read of 2 bytes at offset 5: got 0 bytes, expected 2".into())
        );
    }

    #[test]
    fn offsets_within_the_file() {
        assert_eq!(probe_offsets(13), [1, 4, 6, 12]);
        assert!(probe_offsets(1).is_empty());
        let big = probe_offsets(150_000);
        assert!(big.contains(&(65536 + 1)) && big.contains(&(131072 + 3)));
        assert!(big.iter().all(|o| *o < 150_000));
    }
}
