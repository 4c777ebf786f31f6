//! `flu unmount DIR`: `fusermount3 -u DIR` (with `-z`, a lazy unmount).

use std::process::Command;

use crate::cli::UnmountArgs;

pub fn unmount_command(args: UnmountArgs) -> Result<(), String> {
    let mut cmd = Command::new("fusermount3");
    cmd.arg(if args.lazy { "-uz" } else { "-u" })
        .arg(&args.mountpoint);
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(_) => Err(format!("could not unmount {}", args.mountpoint.display())),
        // Without fusermount3, root can unmount directly.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let flags = if args.lazy {
                nix::mount::MntFlags::MNT_DETACH
            } else {
                nix::mount::MntFlags::empty()
            };
            nix::mount::umount2(&args.mountpoint, flags)
                .map_err(|e| format!("could not unmount {}: {e}", args.mountpoint.display()))
        }
        Err(e) => Err(format!("cannot run fusermount3: {e}")),
    }
}
