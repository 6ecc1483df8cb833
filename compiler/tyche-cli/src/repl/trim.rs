//! Giving freed memory back to the system after a cancelled job.
//!
//! A cancelled `:infer` drops its particles on the worker thread, but the
//! C allocator (glibc) keeps most of what they held in its arenas: the
//! session's resident memory would stay at its peak. `malloc_trim`
//! releases the free pages of every arena. Unsafe code: one FFI call to
//! the C library, only on Linux with glibc (elsewhere a no-op).
#![allow(unsafe_code)]

/// Releases the allocator's free memory to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release_free_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: `malloc_trim` from glibc takes a padding size and only
    // returns unused pages of the allocator's own arenas; it touches no
    // memory the program holds.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() {}
