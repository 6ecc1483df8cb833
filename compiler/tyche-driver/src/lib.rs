//! The compiler driver: source text in, a runnable model out.
//!
//! It strings the phases together — parse (with the standard-library
//! prelude), type check, lower, verify — and prepares a run: binding
//! `data` items from JSON, evaluating top-level constants, and picking the
//! model function. The `tyche` command, the REPL and the embedding API all
//! go through here, so they agree on what a program means.

mod compile;
mod data;
mod globals;
mod surgery;

pub use compile::{
    compile, compile_source, compile_source_with, compile_with, Compiled, PRELUDE, PRELUDE_NAME,
};
pub use data::{
    bind_data, data_value_from_json, data_value_from_json_at, element_span, parse_data_bytes,
    parse_data_file, value_from_json, Step,
};
pub use globals::{evaluate_globals, model, result_type};
pub use surgery::{
    apply_cli_surgery, check_addressed_surgeries, parse_address, parse_cli_edit, parse_cli_edits,
    unreached_addresses, CliEdit,
};
