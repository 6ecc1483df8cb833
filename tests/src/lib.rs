//! Integration tests for the whole toolchain live in `tests/*.rs`; this crate has no library code.
