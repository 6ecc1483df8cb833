//! Fuzz target `check`: compiles arbitrary UTF-8 through
//! `tyche_driver::compile_source`, as `tyche check` does, and renders the
//! diagnostics. Any panic (including an arithmetic overflow or a stack
//! overflow) is a bug: bad input must become diagnostics (LANGUAGE.md §10).
//!
//! Run with `cargo +nightly fuzz run check` from the repository root
//! (see docs/fuzzing.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tyche_core::SourceMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Like the `tyche` binary, compile on a thread with a large stack:
    // accepted programs may nest up to the parser's limits, and sanitizer
    // builds use bigger frames. A panic there still aborts the process
    // (libfuzzer-sys installs an aborting panic hook), so it is reported.
    let text = text.to_string();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || check(&text))
        .expect("spawn")
        .join()
        .expect("no panic");
});

fn check(text: &str) {
    let mut sources = SourceMap::new();
    match tyche_driver::compile_source(&mut sources, "fuzz.ppl", text) {
        Ok(_) => {}
        Err(diags) => {
            assert!(diags.iter().any(|d| d.is_error()), "compilation failed without an error");
            let rendered = tyche_core::render_all(&diags, &sources, false);
            assert!(!rendered.is_empty());
        }
    }
}
