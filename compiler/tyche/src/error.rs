//! [`Error`]: every failure of the API, as diagnostics plus their
//! rendering.
//!
//! Tyche reports problems as [`Diagnostic`] values (a message, a stable
//! code such as `E0503`, labelled source spans, notes). An [`Error`] keeps
//! them for programs that want to inspect them, and renders them once,
//! with file, line, column and a source excerpt, for programs that just
//! want to print them: `Display` is that rendering, exactly what
//! `tyche run` prints on standard error.

use std::fmt;
use tyche_core::{render_all, Diagnostic, SourceMap};

/// What went wrong, broadly. Finer distinctions are in the diagnostics'
/// codes ([`Error::code`]).
///
/// ```
/// let err = tyche::Program::from_source("bad.ppl", "fn model() { 1 + true }").unwrap_err();
/// assert_eq!(err.kind(), tyche::ErrorKind::Compile);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file could not be read.
    Io,
    /// The program does not parse or type check (LANGUAGE.md §2–§5).
    Compile,
    /// No such model, or the function named takes arguments.
    Model,
    /// A `data` item is unknown, missing, or bound to an ill-typed value.
    Data,
    /// An intervention, conditioning or counterfactual names no choice of
    /// the model, gives a value of the wrong type, or edits an address
    /// (`z[7]`) no run of the model reaches.
    Surgery,
    /// Inference settings that make no sense (zero particles, …).
    Options,
    /// The program failed while running: a runtime fault in a constant or
    /// the model (index out of bounds, invalid distribution parameters, an
    /// error returned by a registered Rust function), or an inference
    /// method that cannot handle the model.
    Run,
    /// A value could not be converted to the Rust type asked for
    /// ([`FromValue`](crate::FromValue)).
    Conversion,
    /// A Rust function could not be registered (bad or duplicate name).
    Function,
}

/// An error of the embedding API: the diagnostics and their rendering.
///
/// `Display` prints the rendered diagnostics (as `tyche run` would), so
/// `fn main() -> Result<(), tyche::Error>` and `eprintln!("{err}")` both
/// show file, line, column and a source excerpt.
///
/// ```
/// let err = tyche::Program::from_source("coin.ppl", "fn model() { let p ~ Beta(1.0, 1.0); q }")
///     .unwrap_err();
/// assert_eq!(err.code(), Some("E0401"));
/// assert!(err.to_string().contains("coin.ppl:1:"));
/// assert!(err.to_string().contains("did you mean `p`?"));
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    diagnostics: Vec<Diagnostic>,
    rendered: String,
}

impl Error {
    /// An error made of `diagnostics`, rendered against `sources`.
    pub(crate) fn new(kind: ErrorKind, diagnostics: Vec<Diagnostic>, sources: &SourceMap) -> Error {
        let mut rendered = render_all(&diagnostics, sources, false);
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        if errors > 1 {
            rendered.push_str(&format!(
                "error: aborting due to {errors} previous errors\n"
            ));
        }
        Error {
            kind,
            diagnostics,
            rendered,
        }
    }

    /// An error without source locations.
    pub(crate) fn plain(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, vec![Diagnostic::error(message)], &SourceMap::new())
    }

    /// The broad category of the error.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { 1.0 }").unwrap();
    /// let err = program.model("modle").unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Model);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The diagnostics, in the order they were found.
    ///
    /// ```
    /// let err = tyche::Program::from_source("m.ppl", "fn model() { x + y }").unwrap_err();
    /// assert_eq!(err.diagnostics().len(), 2);
    /// assert!(err.diagnostics()[0].message.contains("`x`"));
    /// ```
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The code of the first diagnostic that has one (`"E0301"`).
    ///
    /// ```
    /// let err = tyche::Program::from_source("m.ppl", "fn model() -> Int { true }").unwrap_err();
    /// assert_eq!(err.code(), Some("E0301"));
    /// ```
    pub fn code(&self) -> Option<&str> {
        self.diagnostics.iter().find_map(|d| d.code.as_deref())
    }

    /// The first diagnostic's one-line message, without location or notes.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { 1.0 }").unwrap();
    /// let err = program.model("nope").unwrap_err();
    /// assert_eq!(err.message(), "no function `nope` to infer in m.ppl");
    /// ```
    pub fn message(&self) -> &str {
        self.diagnostics
            .first()
            .map(|d| d.message.as_str())
            .unwrap_or("")
    }

    /// The rendered diagnostics (what `Display` prints), without colour.
    ///
    /// ```
    /// let err = tyche::Program::from_source("m.ppl", "fn model() {").unwrap_err();
    /// assert!(err.rendered().starts_with("error"));
    /// assert!(err.rendered().contains("m.ppl"));
    /// ```
    pub fn rendered(&self) -> &str {
        &self.rendered
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.rendered.trim_end())
    }
}

/// Shows the kind and the rendering, so `main` returning
/// `Result<_, tyche::Error>` prints a readable message.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} error:\n{}", self.kind, self.rendered.trim_end())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
///
/// ```
/// fn mean_of_coin() -> tyche::Result<f64> {
///     let program = tyche::Program::from_source("c.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.5); b }")?;
///     Ok(program.model("model")?.run()?.mean().unwrap_or(f64::NAN))
/// }
/// assert_eq!(mean_of_coin().unwrap(), 0.5);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
