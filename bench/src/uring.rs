//! FUSE over io_uring for the `-uring` targets: the fuse module's `enable_uring` is set
//! for the run (root only) and put back as it was when the run ends.

use std::sync::Mutex;

const PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

/// The value before the run, when the run changed it.
static OLD: Mutex<Option<String>> = Mutex::new(None);

/// Let FUSE connections use io_uring for this run; why not, when the kernel cannot.
pub fn enable() -> Result<(), String> {
    let old = std::fs::read_to_string(PARAM)
        .map_err(|_| "this kernel has no FUSE over io_uring (CONFIG_FUSE_IO_URING)".to_string())?;
    let old = old.trim().to_string();
    if old == "Y" {
        return Ok(());
    }
    std::fs::write(PARAM, "Y").map_err(|e| format!("cannot set {PARAM}: {e}"))?;
    *OLD.lock().unwrap_or_else(|p| p.into_inner()) = Some(old);
    Ok(())
}

/// Put `enable_uring` back (called once the mounts are gone).
pub fn restore() {
    if let Some(old) = OLD.lock().unwrap_or_else(|p| p.into_inner()).take() {
        if let Err(e) = std::fs::write(PARAM, &old) {
            eprintln!("flu-bench: cannot put {PARAM} back to {old}: {e}");
        }
    }
}
