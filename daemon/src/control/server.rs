//! The control server: a listening socket and one thread that answers its connections,
//! one at a time (a stats answer is a few reads of atomics, a reload runs the script
//! again; a client that sends nothing is dropped after `CLIENT_TIMEOUT`). Stopped, and its socket removed, when dropped.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use super::protocol::{error_reply, Request, MAX_REQUEST};
use super::ControlError;

/// How long a client may take to send its request and read the answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a live socket at our path may take to go away (its daemon unmounted and is
/// exiting) before it counts as another daemon's.
const STALE_PATIENCE: Duration = Duration::from_secs(3);

/// Answers one request with one JSON object.
pub type Responder = Box<dyn Fn(Request) -> String + Send>;

/// See the module documentation.
pub struct ControlServer {
    path: PathBuf,
    /// The socket file's (dev, ino): removed at the end only if it is still ours.
    identity: (u64, u64),
    /// Writing to it wakes the server thread to stop.
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
}

impl ControlServer {
    /// Listen on `path` (in a private run directory) and answer with `respond`.
    ///
    /// A socket left at `path` by a daemon that is gone (nothing accepts on it) is
    /// replaced; a live one, or anything that is not a socket (a symlink is never
    /// followed), is an error.
    pub fn start(path: PathBuf, respond: Responder) -> Result<ControlServer, ControlError> {
        // A daemon whose mount just went away may still be finishing (its socket goes
        // last): give it a moment before calling the socket taken.
        let patience = std::time::Instant::now() + STALE_PATIENCE;
        loop {
            match clear_stale(&path) {
                Err(ControlError::InUse(_)) if std::time::Instant::now() < patience => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other?,
            }
        }
        let listener = UnixListener::bind(&path).map_err(|source| ControlError::Bind {
            path: path.clone(),
            source,
        })?;
        let io = |source| ControlError::Bind {
            path: path.clone(),
            source,
        };
        // In a 0700 directory of ours nobody else can swap the file before this.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        let meta = std::fs::symlink_metadata(&path).map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let (wake, woken) = UnixStream::pair().map_err(io)?;
        let thread = std::thread::Builder::new()
            .name("flu-control".into())
            .spawn(move || serve(listener, woken, respond))
            .map_err(io)?;
        Ok(ControlServer {
            path,
            identity: (meta.dev(), meta.ino()),
            wake,
            thread: Some(thread),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = (&self.wake).write_all(b"x");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.identity {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Make room for the socket at `path`: nothing there, or a stale socket (removed).
fn clear_stale(path: &Path) -> Result<(), ControlError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ControlError::Bind {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket(path.to_path_buf()));
    }
    // Checked above to be a socket itself, not a symlink, so connect follows nothing.
    match UnixStream::connect(path) {
        Err(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
            tracing::debug!(
                "replacing the stale control socket {}",
                flu_api::log_escape::Escaped(path)
            );
            std::fs::remove_file(path).map_err(|source| ControlError::Bind {
                path: path.to_path_buf(),
                source,
            })
        }
        _ => Err(ControlError::InUse(path.to_path_buf())),
    }
}

/// The server thread: wait for a connection or the wake-up, answer, repeat.
fn serve(listener: UnixListener, woken: UnixStream, respond: Responder) {
    loop {
        let mut fds = [
            libc::pollfd {
                fd: listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: woken.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call, and
        // both fds are open (owned by this function).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            tracing::error!("the control channel stopped: poll failed: {e}");
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => answer(stream, &respond),
            // Another wake-up without a connection (the client left): poll again.
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!("control channel: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Read one request line from `stream`, write one reply, close.
fn answer(mut stream: UnixStream, respond: &Responder) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
    let reply = match read_line(&mut stream) {
        Ok(line) => match Request::parse(&line) {
            Ok(request) => respond(request),
            Err(msg) => error_reply(&msg),
        },
        Err(msg) => error_reply(msg),
    };
    let _ = stream.write_all(reply.as_bytes());
    let _ = stream.write_all(b"\n");
}

/// The request line, without its newline.
fn read_line(stream: &mut UnixStream) -> Result<String, &'static str> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            buf.truncate(end);
            return String::from_utf8(buf).map_err(|_| "the request is not UTF-8");
        }
        if buf.len() >= MAX_REQUEST {
            return Err("the request line is too long");
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err("the request ended before its newline"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err("no request line in time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::json::{parse, Value};

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("flu-control-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    fn ask(path: &Path, line: &[u8]) -> Value {
        let mut s = UnixStream::connect(path).unwrap();
        s.write_all(line).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.ends_with('\n'), "{text:?}");
        parse(text.trim_end()).unwrap()
    }

    fn echo() -> Responder {
        Box::new(|r| format!("{{\"ok\":true,\"asked\":\"{r:?}\"}}"))
    }

    #[test]
    fn answers_requests_and_removes_its_socket() {
        let dir = scratch("answers");
        let path = dir.join("m.sock");
        let server = ControlServer::start(path.clone(), echo()).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let v = ask(&path, b"stats\n");
        assert_eq!(v.get("asked").and_then(Value::as_str), Some("Stats"));
        let v = ask(&path, b"frobnicate\n");
        assert_eq!(v.get("ok").and_then(Value::as_bool), Some(false));
        let v = ask(&path, b"stats"); // no newline: the client closed its side
        assert_eq!(v.get("ok").and_then(Value::as_bool), Some(false));
        drop(server);
        assert!(!path.exists(), "the socket outlived its server");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stale_socket_is_replaced_a_live_one_or_a_symlink_refused() {
        let dir = scratch("stale");
        let path = dir.join("m.sock");
        // A socket nobody listens on any more (its listener dropped, file left).
        drop(UnixListener::bind(&path).unwrap());
        let server = ControlServer::start(path.clone(), echo()).unwrap();
        assert_eq!(
            ask(&path, b"stats\n").get("ok").and_then(Value::as_bool),
            Some(true)
        );
        // The live one is not taken over.
        assert!(matches!(
            ControlServer::start(path.clone(), echo()),
            Err(ControlError::InUse(_))
        ));
        drop(server);
        // A symlink at the socket's name is neither followed nor removed.
        let target = dir.join("target");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(matches!(
            ControlServer::start(path.clone(), echo()),
            Err(ControlError::NotASocket(_))
        ));
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
