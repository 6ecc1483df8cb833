//! Tyche as a library: compile a probabilistic program, bind its data from
//! Rust, edit the model, run inference and read the posterior.
//!
//! ```
//! const SRC: &str = r#"
//!     data flips: [Bool];
//!
//!     fn model() -> Real {
//!         let p ~ Beta(1.0, 1.0);
//!         for f in flips { observe(Bernoulli(p), f); }
//!         p
//!     }
//! "#;
//!
//! let program = tyche::Program::from_source("coin.ppl", SRC)?;
//! let posterior = program
//!     .model("model")?
//!     .data("flips", vec![true, true, false, true, true, true])?
//!     .method(tyche::Method::Smc)
//!     .particles(2000)
//!     .seed(42)
//!     .run()?;
//! // The exact posterior is Beta(6, 2), with mean 0.75.
//! let mean = posterior.mean().unwrap();
//! assert!((mean - 0.75).abs() < 0.05);
//! println!("P(heads) ≈ {mean:.3}, 90% interval [{:.3}, {:.3}]",
//!          posterior.quantile(0.05).unwrap(), posterior.quantile(0.95).unwrap());
//! # Ok::<(), tyche::Error>(())
//! ```
//!
//! # The pieces
//!
//! - [`Program`]: a compiled program ([`Program::from_source`],
//!   [`Program::from_file`], or [`Program::builder`] to register Rust
//!   functions the program can call). Compile errors are an [`Error`]
//!   whose `Display` is the rendered diagnostics, with file, line, column
//!   and a source excerpt.
//! - [`Query`]: a model of the program ([`Program::model`]) with its data
//!   ([`Query::data`], [`Query::data_json`], [`Query::data_serde`]), model
//!   surgery ([`Query::intervene`], [`Query::condition`],
//!   [`Query::counterfactual`] — LANGUAGE.md §9) and inference settings
//!   ([`Query::method`], [`Query::particles`], [`Query::seed`], …). Names
//!   and types are checked when each call is made; misspelt names get a
//!   "did you mean" suggestion.
//! - [`Posterior`]: weighted [`Draw`]s of the model's return value with
//!   their traces, and summaries: [`Posterior::mean`],
//!   [`Posterior::quantile`], [`Posterior::prob`],
//!   [`Posterior::values_at`] (one choice address across draws),
//!   [`Posterior::log_evidence`], [`Posterior::summary_json`] (the
//!   `tyche run --format json` object).
//!
//! A run with no method chosen behaves like `tyche run`: exact enumeration
//! when the model allows it, SMC otherwise. The same seed gives the same
//! posterior, bit for bit.
//!
//! # Values
//!
//! Rust values go into programs through [`IntoValue`] and come out
//! through [`FromValue`]:
//!
//! | Tyche type | into Tyche | out of Tyche |
//! |---|---|---|
//! | `Real` | `f64`, `f32` | `f64` (also from `Int`, and `Bool` as 0/1) |
//! | `Int` | `i64`, `i32`, `i16`, `i8`, `u32`, `u16`, `u8` | `i64`, `i32`, `usize` |
//! | `Bool` | `bool` | `bool` |
//! | `String` | `String`, `&str` | `String` |
//! | `()` | `()` | `()` |
//! | `[T]` | `Vec<T>`, `&[T]`, `[T; N]` | `Vec<T>` |
//! | `(T, U, …)` | tuples of 2–6 elements | tuples of 2–6 elements |
//! | any | [`Value`] | [`Value`] |
//!
//! Every value passed in is checked against the declared type of what it
//! binds; an integer where a `Real` is declared is converted (the literal
//! rule of LANGUAGE.md §2). Types that implement `serde::Serialize` can be
//! bound with [`Query::data_serde`].
//!
//! # Rust functions in programs
//!
//! [`Program::builder`] registers Rust functions — a simulator, a
//! likelihood, a lookup table — that programs call like built-ins. Their
//! [`Signature`] is part of type checking, so a program that calls one
//! with the wrong arguments is a compile error with a source location:
//!
//! ```
//! use tyche::{Signature, Type, Value};
//!
//! let program = tyche::Program::builder()
//!     .function("logistic", Signature::new([Type::Real], Type::Real), |args: &[Value]| {
//!         let x: f64 = tyche::FromValue::from_value(&args[0]).map_err(|e| e.to_string())?;
//!         Ok(Value::Real(1.0 / (1.0 + (-x).exp())))
//!     })
//!     .source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(logistic(0.0)); b }")
//!     .build()?;
//! assert!((program.model("model")?.run()?.mean().unwrap() - 0.5).abs() < 1e-12);
//! # Ok::<(), tyche::Error>(())
//! ```
//!
//! Plain Rust functions can be registered without writing the signature:
//! [`ProgramBuilder::typed_function`] derives it from the argument and
//! return types ([`TycheType`]).
//!
//! ```
//! let program = tyche::Program::builder()
//!     .typed_function("logistic", |x: f64| 1.0 / (1.0 + (-x).exp()))
//!     .source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(logistic(0.0)); b }")
//!     .build()?;
//! # assert!((program.model("model")?.run()?.mean().unwrap() - 0.5).abs() < 1e-12);
//! # Ok::<(), tyche::Error>(())
//! ```
//!
//! See `docs/embedding.md` for a guide.

#![warn(missing_docs)]

mod error;
mod foreign;
mod posterior;
mod program;
mod query;
mod typed;
mod value;

pub use error::{Error, ErrorKind, Result};
pub use foreign::{ProgramBuilder, Signature};
pub use posterior::{Draw, Posterior};
pub use program::{DataItem, Program};
pub use query::Query;
pub use typed::{HostFunction, HostResult, TycheType};
pub use value::{FromValue, IntoValue};

/// A Tyche runtime value (what models return and data items hold).
///
/// Compound values are shared (`Arc`), so cloning is cheap. Build them with
/// the variants and [`Value::array`] / [`Value::tuple`], or from Rust values
/// with [`IntoValue`]; `Display` prints them as Tyche literals.
///
/// ```
/// use tyche::Value;
/// let v = Value::tuple(vec![Value::Real(1.0), Value::array(vec![Value::Bool(true)])]);
/// assert_eq!(v.to_string(), "(1.0, [true])");
/// ```
pub use tyche_vm::Value;

/// A Tyche type, as declared in programs (`Real`, `[Int]`, `(Real, Bool)`).
///
/// ```
/// use tyche::Type;
/// let t = Type::Tuple(vec![Type::array(Type::Real), Type::Bool]);
/// assert_eq!(t.to_string(), "([Real], Bool)");
/// ```
pub use tyche_ir::Type;

/// An inference method (LANGUAGE.md §8); see `docs/inference.md`.
///
/// ```
/// assert_eq!(tyche::Method::Smc.name(), "smc");
/// assert_eq!(tyche::Method::from_name("mh"), Some(tyche::Method::Mh));
/// ```
pub use tyche_infer::Method;

/// How SMC resamples its particles.
///
/// ```
/// let program = tyche::Program::from_source("m.ppl", "fn model() -> Real { let x ~ Normal(0, 1); observe(Normal(x, 1), 1.0); x }")?;
/// let posterior = program.model("model")?.method(tyche::Method::Smc)
///     .resampler(tyche::Resampler::Residual).run()?;
/// assert!(posterior.mean().is_some());
/// # Ok::<(), tyche::Error>(())
/// ```
pub use tyche_infer::Resampler;

/// How MH proposes a new value for the choice it picked.
///
/// ```
/// let drift = tyche::Proposal::Drift { scale: 0.1 };
/// assert_ne!(drift, tyche::Proposal::Prior);
/// ```
pub use tyche_infer::Proposal;

/// Where densities are computed: `Auto` (the default), `Jit` or
/// `Interpreter` (see [`Query::backend`]).
///
/// ```
/// assert_eq!(tyche::Backend::default(), tyche::Backend::Auto);
/// ```
pub use tyche_engine::Backend;

/// A problem found in a program, its data or its run: message, code,
/// labelled spans and notes. [`Error::diagnostics`] returns them.
///
/// ```
/// let err = tyche::Program::from_source("m.ppl", "fn model() -> Int { 1.5 }").unwrap_err();
/// let d: &tyche::Diagnostic = &err.diagnostics()[0];
/// assert_eq!(d.code.as_deref(), Some("E0301"));
/// assert!(d.is_error());
/// ```
pub use tyche_core::Diagnostic;
