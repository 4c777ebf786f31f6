//! The request buffer of a serving thread: room for the largest request (max_write plus
//! headers, over a megabyte), mapped straight from the kernel and unmapped when the
//! thread ends.
//!
//! Why not a `Vec`: after glibc's malloc has freed one mapped block that large it raises
//! its mmap threshold, and from then on such buffers come from the heap arenas, zeroed by
//! calloc — every page of the megabyte resident at once — and stay with the arena after
//! the thread retires. Serving threads come and go with load (`workers`), so the
//! daemon's RSS grew with each burst (the load test, tests/load.rs, saw +40 % on a second
//! identical run). A private anonymous mapping holds only the pages requests touched,
//! and gives all of them back when dropped.

use std::io;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

pub struct RequestBuffer {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer owns its mapping exclusively (like a Box<[u8]>): nothing else
// refers to it, so it may move to, and be used from, another thread.
unsafe impl Send for RequestBuffer {}

impl RequestBuffer {
    /// `len` zeroed bytes (len > 0).
    pub fn new(len: usize) -> io::Result<RequestBuffer> {
        let len = len.max(1);
        // SAFETY: a fresh private anonymous mapping: no address hint, no fd; the result
        // is checked against MAP_FAILED before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(RequestBuffer { ptr, len })
    }

    /// The start of the mapping, for buffers the kernel also writes (a ring entry):
    /// reading and writing through it is the caller's to make sound.
    pub fn raw(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Deref for RequestBuffer {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` is a live, readable mapping of `len` bytes (zero-filled by the
        // kernel), owned by self and only reachable through it.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for RequestBuffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for RequestBuffer {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping `new` made; no slice of it outlives self.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zeroed_writable_buffer() {
        let mut b = RequestBuffer::new((1 << 20) + 4096).unwrap();
        assert_eq!(b.len(), (1 << 20) + 4096);
        assert!(b.iter().step_by(4096).all(|&x| x == 0));
        b[0] = 1;
        let last = b.len() - 1;
        b[last] = 2;
        assert_eq!((b[0], b[last]), (1, 2));
    }
}
