//! Test helpers: an in-memory filesystem implementing `Operations`.

pub mod memfs;
