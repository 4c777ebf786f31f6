//! Mounting and unmounting a FUSE filesystem, without libfuse or fuser.
//!
//! Two ways in, as libfuse does it:
//!
//! - **directly** (euid 0, no `auto_unmount`): open `/dev/fuse` and call mount(2) with
//!   `fd=N,rootmode=…,user_id=…,group_id=…` plus the kernel options;
//! - **through `fusermount3`** (then `fusermount`), the setuid helper: it mounts, then
//!   hands the `/dev/fuse` fd back over a socketpair (`_FUSE_COMMFD`, `SCM_RIGHTS`). With
//!   `auto_unmount` it stays alive, watching its end of the socket, and unmounts when our
//!   end closes (the daemon died).
//!
//! Unmounting mirrors the way in: umount2(2) when we mounted directly, `fusermount3 -u`
//! otherwise. [`Unmounter::abort_connection`] aborts a stuck connection through fusectl.
//!
//! Errors are plain OS errors (`raw_os_error()` is always set); what the helper printed is
//! logged (tracing, target `flu::mount`) since an `io::Error` cannot carry both an errno
//! and a message.

use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::Mode;

/// The helpers, in the order they are tried.
const HELPERS: [&str; 2] = ["fusermount3", "fusermount"];
/// The environment variable that tells the helper which fd is its socket.
const COMMFD_ENV: &str = "_FUSE_COMMFD";
/// Where fusectl is normally mounted.
const FUSECTL: &str = "/sys/fs/fuse/connections";
/// Options flu sets itself; `kernel` may not set them (they would override ours).
const RESERVED: [&str; 7] = [
    "fd",
    "rootmode",
    "user_id",
    "group_id",
    "fsname",
    "subtype",
    "auto_unmount",
];

/// What to mount.
#[derive(Clone, Debug, Default)]
pub struct MountSpec {
    /// Absolute, existing directory.
    pub mountpoint: PathBuf,
    /// The source shown in /proc/mounts and df (`fsname=`), e.g. "flu:hello.lua".
    pub fsname: String,
    /// The filesystem type becomes `fuse.<subtype>` when given (else `fuse`). An empty
    /// subtype counts as none.
    pub subtype: Option<String>,
    /// Mount flags by their names: ro, rw, nosuid, suid, nodev, dev, noexec, exec,
    /// noatime, atime, nodiratime, sync, async, dirsync (defaults like libfuse: nosuid,nodev
    /// unless "suid"/"dev" are given). Later names win.
    pub flags: Vec<String>,
    /// Options the FUSE kernel module takes: "default_permissions", "allow_other",
    /// "max_read=N", "blksize=N" (as "name" or "name=value").
    pub kernel: Vec<String>,
    /// fusermount3's auto_unmount: the mount disappears when the daemon dies.
    pub auto_unmount: bool,
}

/// A live mount and its /dev/fuse connection.
///
/// Dropping a `Mount` does not unmount (the session decides); it closes the fd (unless it
/// was taken) and, with `auto_unmount`, the socket to the watching fusermount3, which then
/// unmounts if the connection is gone. So with `auto_unmount`, keep the `Mount` alive as
/// long as the filesystem is served.
#[derive(Debug)]
pub struct Mount {
    fd: Option<OwnedFd>,
    /// Our end of fusermount3's socket, kept open while it watches (auto_unmount only);
    /// only ever closed, by dropping it.
    #[cfg_attr(not(test), allow(dead_code))]
    socket: Option<UnixStream>,
    unmounter: Unmounter,
}

/// How a mount is taken down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// umount2(2): we mounted it ourselves, as root.
    Syscall,
    /// The helper that mounted it (`fusermount3` or `fusermount`).
    Helper(&'static str),
}

/// A handle another thread can use to unmount.
#[derive(Clone, Debug)]
pub struct Unmounter {
    mountpoint: PathBuf,
    via: Via,
}

/// A spec checked and turned into what mount(2) and the helper take.
#[derive(Debug)]
struct Prepared {
    /// Canonical mountpoint.
    mountpoint: PathBuf,
    rootmode: u32,
    fsname: String,
    subtype: Option<String>,
    flags: MsFlags,
    /// The flag names as given (the helper parses them itself, with the same defaults).
    flag_names: Vec<String>,
    kernel: Vec<String>,
    auto_unmount: bool,
}

fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Reject what would inject options into a comma separated list.
fn check_value(what: &str, value: &str) -> io::Result<()> {
    if value.contains(',') || value.contains('\0') {
        tracing::warn!(target: "flu::mount", "mount option {what} {value:?} contains ',' or NUL");
        return Err(errno(Errno::EINVAL));
    }
    Ok(())
}

/// Apply one flag name to `flags`.
fn apply_flag(flags: MsFlags, name: &str) -> Option<MsFlags> {
    let (bit, set) = match name {
        "ro" => (MsFlags::MS_RDONLY, true),
        "rw" => (MsFlags::MS_RDONLY, false),
        "nosuid" => (MsFlags::MS_NOSUID, true),
        "suid" => (MsFlags::MS_NOSUID, false),
        "nodev" => (MsFlags::MS_NODEV, true),
        "dev" => (MsFlags::MS_NODEV, false),
        "noexec" => (MsFlags::MS_NOEXEC, true),
        "exec" => (MsFlags::MS_NOEXEC, false),
        "noatime" => (MsFlags::MS_NOATIME, true),
        "atime" => (MsFlags::MS_NOATIME, false),
        "nodiratime" => (MsFlags::MS_NODIRATIME, true),
        "sync" => (MsFlags::MS_SYNCHRONOUS, true),
        "async" => (MsFlags::MS_SYNCHRONOUS, false),
        "dirsync" => (MsFlags::MS_DIRSYNC, true),
        _ => return None,
    };
    let mut flags = flags;
    flags.set(bit, set);
    Some(flags)
}

/// Check a spec's options (everything that does not touch the system).
fn check_options(spec: &MountSpec) -> io::Result<(MsFlags, Vec<String>, Option<String>)> {
    check_value("fsname", &spec.fsname)?;
    let subtype = spec.subtype.clone().filter(|s| !s.is_empty());
    if let Some(s) = &subtype {
        check_value("subtype", s)?;
    }
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    for name in &spec.flags {
        check_value("flag", name)?;
        flags = apply_flag(flags, name).ok_or_else(|| {
            tracing::warn!(target: "flu::mount", "unknown mount flag {name:?}");
            errno(Errno::EINVAL)
        })?;
    }
    let mut kernel = Vec::with_capacity(spec.kernel.len());
    for opt in &spec.kernel {
        check_value("option", opt)?;
        let name = opt.split_once('=').map_or(opt.as_str(), |(n, _)| n);
        if name.is_empty() || RESERVED.contains(&name) {
            tracing::warn!(target: "flu::mount", "mount option {opt:?} is not allowed here");
            return Err(errno(Errno::EINVAL));
        }
        kernel.push(opt.clone());
    }
    Ok((flags, kernel, subtype))
}

fn prepare(spec: &MountSpec) -> io::Result<Prepared> {
    let (flags, kernel, subtype) = check_options(spec)?;
    let mp = &spec.mountpoint;
    if !mp.is_absolute() || mp.as_os_str().as_bytes().contains(&0) {
        tracing::warn!(target: "flu::mount", "mountpoint {} is not an absolute path", mp.display());
        return Err(errno(Errno::EINVAL));
    }
    let mountpoint = mp.canonicalize()?;
    let meta = std::fs::metadata(&mountpoint)?;
    if !meta.is_dir() {
        return Err(errno(Errno::ENOTDIR));
    }
    Ok(Prepared {
        mountpoint,
        rootmode: meta.mode() & libc::S_IFMT,
        fsname: spec.fsname.clone(),
        subtype,
        flags,
        flag_names: spec.flags.clone(),
        kernel,
        auto_unmount: spec.auto_unmount,
    })
}

impl Mount {
    /// Mount: as root (euid 0) and without auto_unmount, directly with mount(2) on a fresh
    /// /dev/fuse fd; otherwise (or when mount(2) says EPERM) through `fusermount3` (then
    /// `fusermount`). Errors are OS errors: EINVAL for a bad option or a relative
    /// mountpoint, ENOENT when neither helper exists (or the mountpoint does not), ENODEV
    /// without FUSE in the kernel, EPERM/EACCES when not allowed.
    pub fn new(spec: &MountSpec) -> io::Result<Mount> {
        let p = prepare(spec)?;
        if !p.auto_unmount && nix::unistd::geteuid().is_root() {
            match mount_direct(&p) {
                Ok(fd) => {
                    return Ok(Mount {
                        fd: Some(fd),
                        socket: None,
                        unmounter: Unmounter {
                            mountpoint: p.mountpoint,
                            via: Via::Syscall,
                        },
                    })
                }
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                    tracing::debug!(target: "flu::mount", "mount(2) not permitted, trying fusermount3");
                }
                Err(e) => return Err(e),
            }
        }
        mount_helper(&p)
    }

    /// The /dev/fuse fd of the connection.
    ///
    /// # Panics
    /// After [`Mount::take_fd`].
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd
            .as_ref()
            .map(|fd| fd.as_fd())
            .expect("Mount::fd called after Mount::take_fd")
    }

    /// Take the fd out (the caller's session owns it from then on); the Mount still knows
    /// how to unmount.
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fd.take()
    }

    pub fn mountpoint(&self) -> &Path {
        &self.unmounter.mountpoint
    }

    /// A handle another thread can use to unmount.
    pub fn unmounter(&self) -> Unmounter {
        self.unmounter.clone()
    }
}

/// Open /dev/fuse and mount(2) it.
fn mount_direct(p: &Prepared) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::open("/dev/fuse", OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|e| {
            tracing::warn!(target: "flu::mount", "cannot open /dev/fuse: {e}");
            match e {
                // No device node: the kernel has no FUSE (modprobe fuse).
                Errno::ENOENT | Errno::ENXIO => errno(Errno::ENODEV),
                e => errno(e),
            }
        })?;
    let mut data = format!(
        "fd={},rootmode={:o},user_id={},group_id={}",
        fd.as_raw_fd(),
        p.rootmode,
        nix::unistd::getuid(),
        nix::unistd::getgid()
    );
    for k in &p.kernel {
        data.push(',');
        data.push_str(k);
    }
    let fstype = match &p.subtype {
        Some(s) => format!("fuse.{s}"),
        None => "fuse".to_string(),
    };
    let source = if p.fsname.is_empty() {
        p.subtype.clone().unwrap_or_else(|| "fuse".to_string())
    } else {
        p.fsname.clone()
    };
    let mount = |source: &str, fstype: &str| {
        nix::mount::mount(
            Some(source),
            &p.mountpoint,
            Some(fstype),
            p.flags,
            Some(data.as_str()),
        )
    };
    match mount(&source, &fstype) {
        Ok(()) => Ok(fd),
        // Kernels without "fuse.<subtype>" types: the subtype goes into the source.
        Err(Errno::ENODEV) if p.subtype.is_some() => {
            let subtype = p.subtype.as_deref().unwrap_or_default();
            mount(&format!("{subtype}#{source}"), "fuse")
                .map(|()| fd)
                .map_err(errno)
        }
        Err(e) => Err(errno(e)),
    }
}

/// The `-o` list for the helper.
fn helper_options(p: &Prepared) -> String {
    // The helper unescapes backslashes in fsname= and subtype=.
    let escape = |s: &str| s.replace('\\', "\\\\");
    let mut opts: Vec<String> = p.flag_names.clone();
    opts.extend(p.kernel.iter().cloned());
    if !p.fsname.is_empty() {
        opts.push(format!("fsname={}", escape(&p.fsname)));
    }
    if let Some(s) = &p.subtype {
        opts.push(format!("subtype={}", escape(s)));
    }
    if p.auto_unmount {
        opts.push("auto_unmount".to_string());
    }
    opts.join(",")
}

/// Run the first helper that exists with `args`; `comm` is passed (inheritable) to it.
fn spawn_helper(
    args: &[&OsStr],
    comm: Option<BorrowedFd<'_>>,
) -> io::Result<(&'static str, Child)> {
    spawn_first(&HELPERS, args, comm)
}

/// [`spawn_helper`] over a given list of helpers.
fn spawn_first(
    helpers: &[&'static str],
    args: &[&OsStr],
    comm: Option<BorrowedFd<'_>>,
) -> io::Result<(&'static str, Child)> {
    for &helper in helpers {
        let mut cmd = Command::new(helper);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(comm) = comm {
            let raw: RawFd = comm.as_raw_fd();
            cmd.env(COMMFD_ENV, raw.to_string());
            // SAFETY: the closure runs in the forked child before exec and only calls
            // fcntl(2), which is async-signal-safe; it allocates nothing and takes no locks.
            unsafe {
                cmd.pre_exec(move || {
                    // SAFETY: `raw` is open in the child (inherited from the parent, where
                    // `comm` is borrowed for the duration of the spawn); clearing FD_CLOEXEC
                    // on it touches no memory.
                    if libc::fcntl(raw, libc::F_SETFD, 0) == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        match cmd.spawn() {
            Ok(child) => return Ok((helper, child)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!(target: "flu::mount", "cannot run {helper}: {e}");
                return Err(e);
            }
        }
    }
    tracing::error!(target: "flu::mount", "fusermount3 was not found (nor fusermount): install fuse3");
    Err(errno(Errno::ENOENT))
}

/// The errno a helper's complaint stands for.
fn helper_errno(stderr: &str) -> i32 {
    let s = stderr.to_ascii_lowercase();
    let phrases: [(&str, i32); 8] = [
        ("user_allow_other", libc::EPERM),
        ("no write access", libc::EACCES),
        ("modprobe fuse", libc::ENODEV),
        ("fuse device not found", libc::ENODEV),
        ("unknown option", libc::EINVAL),
        ("not found in /etc/mtab", libc::EINVAL),
        ("not a directory", libc::ENOTDIR),
        ("not mounted", libc::EINVAL),
    ];
    if let Some(&(_, e)) = phrases.iter().find(|(p, _)| s.contains(p)) {
        return e;
    }
    // "…: mount failed: Permission denied" and the like: the strerror text.
    let errnos = [
        Errno::EPERM,
        Errno::EACCES,
        Errno::ENODEV,
        Errno::ENOENT,
        Errno::ENOTDIR,
        Errno::EBUSY,
        Errno::EINVAL,
        Errno::ENOTCONN,
        Errno::ENOMEM,
        Errno::EROFS,
        Errno::ELOOP,
        Errno::ENAMETOOLONG,
    ];
    errnos
        .iter()
        .find(|e| s.contains(&e.desc().to_ascii_lowercase()))
        .map_or(libc::EIO, |e| *e as i32)
}

/// What a finished helper says: Ok on success, else its errno (the text is logged).
fn helper_result(helper: &str, child: Child) -> io::Result<()> {
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stderr = stderr.trim();
    if out.status.success() {
        if !stderr.is_empty() {
            tracing::debug!(target: "flu::mount", "{helper}: {stderr}");
        }
        return Ok(());
    }
    tracing::warn!(target: "flu::mount", "{helper} failed ({}): {stderr}", out.status);
    Err(io::Error::from_raw_os_error(helper_errno(stderr)))
}

/// Mount through fusermount3 (or fusermount).
fn mount_helper(p: &Prepared) -> io::Result<Mount> {
    // Both ends close-on-exec; the child's end is made inheritable in the child only.
    let (ours, theirs) = UnixStream::pair()?;
    let opts = helper_options(p);
    let args: [&OsStr; 4] = [
        OsStr::new("-o"),
        OsStr::new(&opts),
        OsStr::new("--"),
        p.mountpoint.as_os_str(),
    ];
    let (helper, child) = spawn_helper(&args, Some(theirs.as_fd()))?;
    // Only the child may hold its end, or we would never see EOF when it exits.
    drop(theirs);
    let fd = match receive_fd(&ours) {
        Ok(Some(fd)) => fd,
        Ok(None) | Err(_) => {
            drop(ours);
            helper_result(helper, child)?;
            tracing::warn!(target: "flu::mount", "{helper} exited without passing the /dev/fuse fd");
            return Err(errno(Errno::EIO));
        }
    };
    let unmounter = Unmounter {
        mountpoint: p.mountpoint.clone(),
        via: Via::Helper(helper),
    };
    if !p.auto_unmount {
        drop(ours);
        if let Err(e) = helper_result(helper, child) {
            tracing::warn!(target: "flu::mount", "{helper} passed the fd but then failed: {e}");
        }
        return Ok(Mount {
            fd: Some(fd),
            socket: None,
            unmounter,
        });
    }
    // The helper stays until our socket closes: a thread logs what it says and reaps it.
    watch_helper(helper, child)?;
    Ok(Mount {
        fd: Some(fd),
        socket: Some(ours),
        unmounter,
    })
}

/// Log an auto_unmount helper's stderr and reap it when it exits.
fn watch_helper(helper: &'static str, mut child: Child) -> io::Result<()> {
    let stderr = child.stderr.take();
    std::thread::Builder::new()
        .name(format!("{helper}-watch"))
        .spawn(move || {
            if let Some(stderr) = stderr {
                for line in BufReader::new(stderr).lines() {
                    match line {
                        Ok(line) => tracing::warn!(target: "flu::mount", "{helper}: {line}"),
                        Err(_) => break,
                    }
                }
            }
            match child.wait() {
                Ok(status) => tracing::debug!(target: "flu::mount", "{helper} exited: {status}"),
                Err(e) => tracing::debug!(target: "flu::mount", "waiting for {helper}: {e}"),
            }
        })
        .map(drop)
}

/// Receive the fd the helper sends (`SCM_RIGHTS`); `None` when it closed the socket
/// without sending one.
fn receive_fd(socket: &UnixStream) -> io::Result<Option<OwnedFd>> {
    /// A control buffer aligned for `cmsghdr`, with room for a few fds.
    #[repr(C)]
    union Control {
        _align: libc::cmsghdr,
        bytes: [u8; 128],
    }
    let mut control = Control { bytes: [0; 128] };
    let mut byte = [0u8; 1];
    loop {
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: byte.len(),
        };
        // SAFETY: msghdr is plain data; all-zero is a valid value (null pointers, zero
        // lengths), and the fields that matter are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = std::ptr::addr_of_mut!(control).cast();
        msg.msg_controllen = std::mem::size_of::<Control>() as _;
        // SAFETY: `msg` points at `iov` (one byte of `byte`) and at `control`, both live and
        // writable for the call; MSG_CMSG_CLOEXEC makes received fds close-on-exec.
        let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut fds = Vec::new();
        // SAFETY: `msg` was filled in by recvmsg; CMSG_FIRSTHDR only reads its control fields.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !cmsg.is_null() {
            // SAFETY: a non-null header from CMSG_FIRSTHDR/CMSG_NXTHDR lies inside `control`
            // (which is aligned for cmsghdr), and recvmsg wrote it.
            let hdr = unsafe { &*cmsg };
            if hdr.cmsg_level == libc::SOL_SOCKET && hdr.cmsg_type == libc::SCM_RIGHTS {
                // SAFETY: CMSG_LEN is arithmetic on its argument.
                let header = unsafe { libc::CMSG_LEN(0) } as usize;
                let count = (hdr.cmsg_len as usize).saturating_sub(header)
                    / std::mem::size_of::<libc::c_int>();
                // SAFETY: CMSG_DATA points just past the header of `cmsg`, inside `control`.
                let data = unsafe { libc::CMSG_DATA(cmsg) }.cast::<libc::c_int>();
                for i in 0..count {
                    // SAFETY: the kernel wrote `count` ints after the header (cmsg_len
                    // says so); read_unaligned because the data need not be int-aligned.
                    let raw = unsafe { data.add(i).read_unaligned() };
                    if raw >= 0 {
                        // SAFETY: SCM_RIGHTS installed `raw` in our table for us alone;
                        // nothing else owns it.
                        fds.push(unsafe { OwnedFd::from_raw_fd(raw) });
                    }
                }
            }
            // SAFETY: `cmsg` is a valid header of `msg`; CMSG_NXTHDR stays within
            // msg_controllen and returns null at the end.
            cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
        }
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            tracing::warn!(target: "flu::mount", "control message from the helper was truncated");
        }
        // Extra fds (there should be none) are closed when `fds` drops.
        let fd = fds.into_iter().next();
        if fd.is_some() || n == 0 {
            return Ok(fd);
        }
        // Data without an fd: keep reading until the fd or EOF.
    }
}

impl Unmounter {
    /// Unmount: umount2(mountpoint, 0) when we mounted directly (root), else
    /// `fusermount3 -u <mountpoint>` (then `fusermount -u`). EBUSY is returned as such.
    pub fn unmount(&self) -> io::Result<()> {
        self.unmount_with(false)
    }

    /// Lazy: umount2(MNT_DETACH) as root, `fusermount3 -u -z` otherwise.
    pub fn unmount_lazy(&self) -> io::Result<()> {
        self.unmount_with(true)
    }

    fn unmount_with(&self, lazy: bool) -> io::Result<()> {
        match self.via {
            Via::Syscall => {
                let flags = if lazy {
                    MntFlags::MNT_DETACH
                } else {
                    MntFlags::empty()
                };
                nix::mount::umount2(&self.mountpoint, flags).map_err(errno)
            }
            Via::Helper(_) => {
                let mut args: Vec<&OsStr> = vec![OsStr::new("-u")];
                if lazy {
                    args.push(OsStr::new("-z"));
                }
                args.push(OsStr::new("--"));
                args.push(self.mountpoint.as_os_str());
                let (helper, child) = spawn_helper(&args, None)?;
                helper_result(helper, child)
            }
        }
    }

    /// Abort the FUSE connection of this mount (for a stuck daemon): write "1" to
    /// /sys/fs/fuse/connections/<dev minor>/abort, the minor being the device of the
    /// mount at our mountpoint in /proc/self/mountinfo. ENOENT when fusectl is not mounted
    /// there; EINVAL when our mountpoint carries no FUSE mount.
    pub fn abort_connection(&self) -> io::Result<()> {
        self.abort_in(Path::new(FUSECTL))
    }

    /// [`Unmounter::abort_connection`], mounting fusectl first when it is missing and
    /// we may (root): a stuck connection must be abortable on any machine.
    pub fn abort_connection_anyhow(&self) -> io::Result<()> {
        match self.abort_connection() {
            Err(e)
                if e.raw_os_error() == Some(libc::ENOENT) && nix::unistd::geteuid().is_root() =>
            {
                nix::mount::mount(
                    Some("fusectl"),
                    FUSECTL,
                    Some("fusectl"),
                    MsFlags::empty(),
                    None::<&str>,
                )
                .map_err(errno)?;
                self.abort_connection()
            }
            r => r,
        }
    }

    /// The device number of the FUSE mount at our mountpoint (what `st_dev` of any file
    /// in it is), from /proc/self/mountinfo: reading it sends no request to the mount.
    pub fn device(&self) -> io::Result<u64> {
        let entry = self.fuse_entry()?;
        Ok(libc::makedev(entry.major, entry.minor))
    }

    /// The FUSE mount on top of our mountpoint.
    fn fuse_entry(&self) -> io::Result<MountInfo> {
        let text = std::fs::read_to_string("/proc/self/mountinfo")?;
        // The last entry for a path is the mount on top.
        let entry = parse_mountinfo(&text)
            .filter(|e| e.mount_point == self.mountpoint)
            .last()
            .ok_or_else(|| errno(Errno::EINVAL))?;
        if entry.fstype != "fuse" && !entry.fstype.starts_with("fuse.") {
            tracing::warn!(target: "flu::mount", "{} is a {} mount, not FUSE", self.mountpoint.display(), entry.fstype);
            return Err(errno(Errno::EINVAL));
        }
        Ok(entry)
    }

    /// [`Unmounter::abort_connection`] with fusectl mounted at `fusectl`.
    fn abort_in(&self, fusectl: &Path) -> io::Result<()> {
        let entry = self.fuse_entry()?;
        let abort = fusectl.join(entry.minor.to_string()).join("abort");
        let mut f = std::fs::OpenOptions::new().write(true).open(&abort)?;
        f.write_all(b"1")
    }
}

/// One line of /proc/self/mountinfo (the parts we use).
#[derive(Debug)]
struct MountInfo {
    major: u32,
    minor: u32,
    mount_point: PathBuf,
    /// Per-mount options (ro, nosuid, …).
    #[cfg_attr(not(test), allow(dead_code))]
    options: String,
    fstype: String,
    #[cfg_attr(not(test), allow(dead_code))]
    source: String,
    /// Superblock options (user_id=, default_permissions, …).
    #[cfg_attr(not(test), allow(dead_code))]
    super_options: String,
}

/// Undo mountinfo's octal escapes (`\040` for a space, …).
fn unescape(field: &str) -> OsString {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    OsString::from_vec(out)
}

fn parse_mountinfo(text: &str) -> impl Iterator<Item = MountInfo> + '_ {
    text.lines().filter_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        let (major, minor) = l.get(2)?.split_once(':')?;
        Some(MountInfo {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
            mount_point: PathBuf::from(unescape(l.get(4)?)),
            options: l.get(5)?.to_string(),
            fstype: unescape(r.first()?).to_string_lossy().into_owned(),
            source: unescape(r.get(1)?).to_string_lossy().into_owned(),
            super_options: r.get(2).map_or_else(String::new, |s| s.to_string()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const FUSE_INIT: u32 = 26;

    fn mountinfo(mp: &Path) -> Option<MountInfo> {
        let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        parse_mountinfo(&text)
            .filter(|e| e.mount_point == mp)
            .last()
    }

    fn is_mounted(mp: &Path) -> bool {
        mountinfo(mp).is_some()
    }

    /// A fresh directory under /tmp; on drop, detaches whatever is still mounted on it and
    /// removes it.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = PathBuf::from(format!(
                "/tmp/flu-mount-test-{}-{tag}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir(&dir).expect("create temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            for _ in 0..8 {
                if !is_mounted(&self.0) {
                    break;
                }
                let _ = nix::mount::umount2(&self.0, MntFlags::MNT_DETACH);
            }
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    /// Read the kernel's FUSE_INIT from `fd` (waiting at most 5 s) and answer it.
    fn answer_init(fd: BorrowedFd<'_>) {
        let fl = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL).expect("F_GETFL");
        let fl = OFlag::from_bits_retain(fl) | OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(fl)).expect("F_SETFL");
        let mut buf = vec![0u8; (1 << 20) + 4096];
        let deadline = Instant::now() + Duration::from_secs(5);
        let n = loop {
            match nix::unistd::read(fd, &mut buf) {
                Ok(n) => break n,
                Err(Errno::EAGAIN) | Err(Errno::EINTR) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("no FUSE_INIT within 5 s: {e}"),
            }
        };
        assert!(n >= 48, "short request: {n} bytes");
        let u32_at = |o: usize| u32::from_ne_bytes(buf[o..o + 4].try_into().expect("4 bytes"));
        let len = u32_at(0);
        let opcode = u32_at(4);
        let unique = u64::from_ne_bytes(buf[8..16].try_into().expect("8 bytes"));
        assert_eq!(len as usize, n, "header len");
        assert_eq!(opcode, FUSE_INIT, "first request is FUSE_INIT");
        assert_eq!(u32_at(40), 7, "init_in.major");

        let mut reply = Vec::with_capacity(80);
        reply.extend_from_slice(&80u32.to_ne_bytes()); // out_header.len
        reply.extend_from_slice(&0i32.to_ne_bytes()); // error
        reply.extend_from_slice(&unique.to_ne_bytes());
        reply.extend_from_slice(&7u32.to_ne_bytes()); // major
        reply.extend_from_slice(&31u32.to_ne_bytes()); // minor
        reply.extend_from_slice(&0u32.to_ne_bytes()); // max_readahead
        reply.extend_from_slice(&0u32.to_ne_bytes()); // flags
        reply.extend_from_slice(&0u16.to_ne_bytes()); // max_background
        reply.extend_from_slice(&0u16.to_ne_bytes()); // congestion_threshold
        reply.extend_from_slice(&4096u32.to_ne_bytes()); // max_write
        reply.extend_from_slice(&1u32.to_ne_bytes()); // time_gran
        reply.extend_from_slice(&1u16.to_ne_bytes()); // max_pages
        reply.extend_from_slice(&0u16.to_ne_bytes()); // map_alignment
        reply.extend_from_slice(&0u32.to_ne_bytes()); // flags2
        reply.extend_from_slice(&0u32.to_ne_bytes()); // max_stack_depth
        reply.extend_from_slice(&[0u8; 24]); // unused
        assert_eq!(reply.len(), 80);
        let written = nix::unistd::write(fd, &reply).expect("write FUSE_INIT reply");
        assert_eq!(written, reply.len());
    }

    /// After the mount is gone, the connection reads ENODEV.
    fn assert_disconnected(fd: BorrowedFd<'_>) {
        let mut buf = vec![0u8; (1 << 20) + 4096];
        assert_eq!(nix::unistd::read(fd, &mut buf), Err(Errno::ENODEV));
    }

    fn has(options: &str, want: &str) -> bool {
        options.split(',').any(|o| o == want)
    }

    fn spec(dir: &Path, fsname: &str) -> MountSpec {
        MountSpec {
            mountpoint: dir.to_path_buf(),
            fsname: fsname.to_string(),
            subtype: Some("flutest".to_string()),
            flags: vec!["ro".to_string(), "noexec".to_string()],
            kernel: vec![
                "default_permissions".to_string(),
                "allow_other".to_string(),
                "max_read=65536".to_string(),
            ],
            auto_unmount: false,
        }
    }

    fn check_entry(dir: &Path, fsname: &str) {
        let e = mountinfo(dir).expect("mounted");
        assert_eq!(e.source, fsname);
        assert_eq!(e.fstype, "fuse.flutest");
        for o in ["ro", "nosuid", "nodev", "noexec"] {
            assert!(has(&e.options, o), "{o} in {}", e.options);
        }
        for o in [
            "default_permissions",
            "allow_other",
            "user_id=0",
            "group_id=0",
        ] {
            assert!(has(&e.super_options, o), "{o} in {}", e.super_options);
        }
        assert!(
            has(&e.super_options, "max_read=65536"),
            "max_read in {}",
            e.super_options
        );
    }

    fn wait_unmounted(dir: &Path, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if !is_mounted(dir) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        !is_mounted(dir)
    }

    #[test]
    fn direct_mount_and_unmount() {
        let dir = TempDir::new("direct");
        let fsname = "flu:direct test.lua";
        let mount = Mount::new(&spec(&dir.0, fsname)).expect("mount");
        assert_eq!(mount.unmounter().via, Via::Syscall, "root mounts directly");
        assert!(mount.socket.is_none());
        assert_eq!(mount.mountpoint(), dir.0.as_path());
        answer_init(mount.fd());
        check_entry(&dir.0, fsname);

        let u = mount.unmounter();
        std::thread::spawn(move || u.unmount())
            .join()
            .expect("unmount thread")
            .expect("unmount");
        assert!(!is_mounted(&dir.0), "gone after unmount");
        assert_disconnected(mount.fd());
        // A second unmount finds nothing to unmount.
        assert_eq!(
            mount.unmounter().unmount().map_err(|e| e.raw_os_error()),
            Err(Some(libc::EINVAL))
        );
    }

    #[test]
    fn direct_lazy_unmount_and_take_fd() {
        let dir = TempDir::new("lazy");
        let mut mount = Mount::new(&spec(&dir.0, "flu:lazy")).expect("mount");
        let fd = mount.take_fd().expect("fd");
        assert!(mount.take_fd().is_none());
        answer_init(fd.as_fd());
        assert!(is_mounted(&dir.0));
        mount.unmounter().unmount_lazy().expect("lazy unmount");
        assert!(!is_mounted(&dir.0));
        assert_disconnected(fd.as_fd());
    }

    #[test]
    fn abort_connection_through_fusectl() {
        let dir = TempDir::new("abort");
        let ctl = TempDir::new("fusectl");
        let mount = Mount::new(&spec(&dir.0, "flu:abort")).expect("mount");
        answer_init(mount.fd());
        // fusectl is not mounted on this machine's /sys/fs/fuse/connections: mount the
        // (single, shared) instance on a temp dir of our own.
        nix::mount::mount(
            Some("fusectl"),
            &ctl.0,
            Some("fusectl"),
            MsFlags::empty(),
            None::<&str>,
        )
        .expect("mount fusectl");
        let u = mount.unmounter();
        let aborted = u.abort_in(&ctl.0);
        nix::mount::umount2(&ctl.0, MntFlags::empty()).expect("unmount fusectl");
        aborted.expect("abort");
        // The connection is dead: the device reads ENODEV while still mounted.
        assert!(is_mounted(&dir.0));
        assert_disconnected(mount.fd());
        u.unmount().expect("unmount");
        assert!(!is_mounted(&dir.0));
        // Nothing FUSE on a plain directory.
        let plain = Unmounter {
            mountpoint: ctl.0.clone(),
            via: Via::Syscall,
        };
        assert_eq!(
            plain.abort_in(&ctl.0).map_err(|e| e.raw_os_error()),
            Err(Some(libc::EINVAL))
        );
    }

    #[test]
    fn helper_mount_and_unmount() {
        let dir = TempDir::new("helper");
        let fsname = "flu:helper\\x.lua";
        let p = prepare(&spec(&dir.0, fsname)).expect("prepare");
        let mount = mount_helper(&p).expect("mount through fusermount3");
        assert_eq!(mount.unmounter().via, Via::Helper("fusermount3"));
        assert!(
            mount.socket.is_none(),
            "no socket kept without auto_unmount"
        );
        answer_init(mount.fd());
        check_entry(&dir.0, fsname);
        mount.unmounter().unmount().expect("fusermount3 -u");
        assert!(!is_mounted(&dir.0));
        assert_disconnected(mount.fd());
        assert_eq!(
            mount.unmounter().unmount().map_err(|e| e.raw_os_error()),
            Err(Some(libc::EINVAL)),
            "fusermount3 -u on what is not mounted"
        );
    }

    #[test]
    fn helper_lazy_unmount() {
        let dir = TempDir::new("helperlazy");
        let p = prepare(&spec(&dir.0, "flu:helperlazy")).expect("prepare");
        let mount = mount_helper(&p).expect("mount through fusermount3");
        answer_init(mount.fd());
        assert!(is_mounted(&dir.0));
        mount.unmounter().unmount_lazy().expect("fusermount3 -u -z");
        assert!(!is_mounted(&dir.0));
    }

    #[test]
    fn auto_unmount_when_the_daemon_dies() {
        let dir = TempDir::new("auto");
        let fsname = "flu:auto.lua";
        let mut s = spec(&dir.0, fsname);
        s.auto_unmount = true;
        let mount = Mount::new(&s).expect("mount");
        assert_eq!(mount.unmounter().via, Via::Helper("fusermount3"));
        let sock = mount.socket.as_ref().expect("socket kept");
        let flags = nix::fcntl::fcntl(sock, nix::fcntl::FcntlArg::F_GETFD).expect("F_GETFD");
        assert!(flags & libc::FD_CLOEXEC != 0, "socket is close-on-exec");
        answer_init(mount.fd());
        check_entry(&dir.0, fsname);
        // While the socket is open, the mount stays.
        std::thread::sleep(Duration::from_millis(200));
        assert!(is_mounted(&dir.0), "still mounted while we live");
        drop(mount);
        assert!(
            wait_unmounted(&dir.0, Duration::from_secs(5)),
            "fusermount3 unmounted after our fd and socket closed"
        );
    }

    #[test]
    fn injection_and_bad_options_are_refused() {
        let dir = TempDir::new("inject");
        let einval = |s: &MountSpec| {
            assert_eq!(
                Mount::new(s).map(drop).map_err(|e| e.raw_os_error()),
                Err(Some(libc::EINVAL)),
                "{s:?}"
            );
        };
        let base = spec(&dir.0, "flu:ok");
        einval(&MountSpec {
            fsname: "flu:x,allow_other".into(),
            ..base.clone()
        });
        einval(&MountSpec {
            fsname: "flu:x\0".into(),
            ..base.clone()
        });
        einval(&MountSpec {
            subtype: Some("a,b".into()),
            ..base.clone()
        });
        einval(&MountSpec {
            kernel: vec!["max_read=1,allow_other".into()],
            ..base.clone()
        });
        einval(&MountSpec {
            kernel: vec!["user_id=5".into()],
            ..base.clone()
        });
        einval(&MountSpec {
            kernel: vec!["".into()],
            ..base.clone()
        });
        einval(&MountSpec {
            flags: vec!["ro,suid".into()],
            ..base.clone()
        });
        einval(&MountSpec {
            flags: vec!["bogus".into()],
            ..base.clone()
        });
        einval(&MountSpec {
            auto_unmount: true,
            fsname: "a,b".into(),
            ..base.clone()
        });
        einval(&MountSpec {
            mountpoint: PathBuf::from("relative/dir"),
            ..base.clone()
        });
        assert!(!is_mounted(&dir.0), "nothing was mounted");
        assert_eq!(
            Mount::new(&MountSpec {
                mountpoint: dir.0.join("missing"),
                ..base
            })
            .map(drop)
            .map_err(|e| e.raw_os_error()),
            Err(Some(libc::ENOENT))
        );
    }

    #[test]
    fn flags_follow_libfuse_defaults() {
        let flags = |names: &[&str]| {
            check_options(&MountSpec {
                flags: names.iter().map(|s| s.to_string()).collect(),
                ..MountSpec::default()
            })
            .map(|(f, _, _)| f)
            .expect("valid")
        };
        assert_eq!(flags(&[]), MsFlags::MS_NOSUID | MsFlags::MS_NODEV);
        assert_eq!(flags(&["suid", "dev"]), MsFlags::empty());
        assert_eq!(
            flags(&["ro", "rw", "noatime", "sync", "dirsync", "dev"]),
            MsFlags::MS_NOSUID
                | MsFlags::MS_NOATIME
                | MsFlags::MS_SYNCHRONOUS
                | MsFlags::MS_DIRSYNC
        );
        assert_eq!(
            flags(&["noexec", "exec", "nodiratime"]),
            flags(&["nodiratime"])
        );
    }

    #[test]
    fn helper_options_list() {
        let p = Prepared {
            mountpoint: PathBuf::from("/m"),
            rootmode: libc::S_IFDIR,
            fsname: "flu:a\\b".into(),
            subtype: Some("t".into()),
            flags: MsFlags::empty(),
            flag_names: vec!["ro".into()],
            kernel: vec!["allow_other".into()],
            auto_unmount: true,
        };
        assert_eq!(
            helper_options(&p),
            "ro,allow_other,fsname=flu:a\\\\b,subtype=t,auto_unmount"
        );
    }

    #[test]
    fn missing_helper_is_enoent() {
        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        let r = spawn_first(
            &["flu-no-such-helper-3", "flu-no-such-helper"],
            &[OsStr::new("-h")],
            Some(theirs.as_fd()),
        );
        assert_eq!(
            r.map(drop).map_err(|e| e.raw_os_error()),
            Err(Some(libc::ENOENT))
        );
        drop(ours);
    }

    #[test]
    fn helper_complaints_map_to_errnos() {
        let cases = [
            ("fusermount3: option allow_other only allowed if 'user_allow_other' is set in /etc/fuse.conf", libc::EPERM),
            ("fusermount3: mount failed: Permission denied", libc::EACCES),
            ("fusermount3: mount failed: Operation not permitted", libc::EPERM),
            ("fusermount3: fuse device not found, try 'modprobe fuse' first", libc::ENODEV),
            ("fusermount3: failed to unmount /x: Device or resource busy", libc::EBUSY),
            ("fusermount3: entry for /x not found in /etc/mtab", libc::EINVAL),
            ("fusermount3: failed to access mountpoint /x: No such file or directory", libc::ENOENT),
            ("something else entirely", libc::EIO),
        ];
        for (text, want) in cases {
            assert_eq!(helper_errno(text), want, "{text}");
        }
    }

    #[test]
    fn mountinfo_lines() {
        let text = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
                    99 27 0:57 / /tmp/a\\040b rw,nosuid,nodev,relatime shared:1 - fuse.flu flu:x\\040y.lua rw,user_id=0,group_id=0\n";
        let v: Vec<MountInfo> = parse_mountinfo(text).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].minor, 57);
        assert_eq!(v[1].mount_point, PathBuf::from("/tmp/a b"));
        assert_eq!(v[1].fstype, "fuse.flu");
        assert_eq!(v[1].source, "flu:x y.lua");
        assert!(has(&v[1].super_options, "user_id=0"));
        assert_eq!(unescape("a\\134b\\"), OsString::from("a\\b\\"));
    }
}
