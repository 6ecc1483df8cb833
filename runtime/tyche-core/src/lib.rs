//! Shared vocabulary of the whole toolchain: source files, spans and
//! diagnostics kept as data.
//!
//! Every phase — lexer, parser, type checker, lowering, interpreter and
//! inference — reports problems as [`Diagnostic`] values that point into a
//! [`SourceMap`] by [`Span`]. Only [`render`] touches codespan-reporting, so
//! changing how messages look is one place.

mod diagnostic;
mod source;
pub mod suggest;

pub use diagnostic::{render, render_all, Diagnostic, Label, Severity};
pub use source::{FileId, SourceMap, Span};
