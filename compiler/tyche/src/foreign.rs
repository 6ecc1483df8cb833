//! Rust functions callable from Tyche programs: [`Signature`] and
//! [`ProgramBuilder`].
//!
//! A registered function is a built-in of the programs compiled by the
//! builder: the type checker knows its signature (so a wrong call is a
//! compile error pointing at the call), lowering turns each call into an
//! `Instr::Foreign`, and the interpreter calls the Rust closure with the
//! argument values. Its result is checked against the declared return
//! type; an `Err(message)` or a panic becomes a runtime diagnostic at the
//! call site. Inference treats the function as deterministic: it may be
//! called any number of times, in any order, from several threads, so it
//! should be a pure function of its arguments (a simulator should take
//! its randomness as an argument, or be driven by a random choice made in
//! the program).

use crate::error::{Error, ErrorKind};
use crate::program::{read_file, Program};
use crate::value::conform;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use tyche_core::Diagnostic;
use tyche_ir::Type;
use tyche_vm::{ForeignFn, Value};

/// The type of a registered Rust function: parameter types and return
/// type.
///
/// ```
/// use tyche::{Signature, Type};
/// let sig = Signature::new([Type::Real, Type::array(Type::Real)], Type::Real);
/// assert_eq!(sig.to_string(), "(Real, [Real]) -> Real");
/// assert_eq!(sig.params().len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    params: Vec<Type>,
    ret: Type,
}

impl Signature {
    /// A signature from parameter types and a return type. Type variables
    /// (`Type::Var(n)`) make the function polymorphic: each call
    /// instantiates them afresh.
    ///
    /// ```
    /// use tyche::{Signature, Type};
    /// // len-like: ([a]) -> Int
    /// let sig = Signature::new([Type::array(Type::Var(0))], Type::Int);
    /// assert_eq!(sig.to_string(), "(['a]) -> Int");
    /// ```
    pub fn new(params: impl IntoIterator<Item = Type>, ret: Type) -> Signature {
        Signature {
            params: params.into_iter().collect(),
            ret,
        }
    }

    /// The parameter types.
    ///
    /// ```
    /// let sig = tyche::Signature::new([tyche::Type::Int], tyche::Type::Bool);
    /// assert_eq!(sig.params(), &[tyche::Type::Int]);
    /// ```
    pub fn params(&self) -> &[Type] {
        &self.params
    }

    /// The return type.
    ///
    /// ```
    /// let sig = tyche::Signature::new([tyche::Type::Int], tyche::Type::Bool);
    /// assert_eq!(sig.ret(), &tyche::Type::Bool);
    /// ```
    pub fn ret(&self) -> &Type {
        &self.ret
    }

    /// The function type `(P, …) -> R`.
    ///
    /// ```
    /// let sig = tyche::Signature::new([], tyche::Type::Real);
    /// assert_eq!(sig.to_type(), tyche::Type::func(vec![], tyche::Type::Real));
    /// ```
    pub fn to_type(&self) -> Type {
        Type::func(self.params.clone(), self.ret.clone())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_type())
    }
}

/// One registered function.
struct Registered {
    name: String,
    sig: Signature,
    f: ForeignFn,
}

enum Source {
    Text { name: String, text: String },
    File(PathBuf),
}

/// Builds a [`Program`] with Rust functions registered for it to call.
/// Made by [`Program::builder`]; registration problems (a name that is not
/// an identifier, a built-in's name, a name registered twice or also
/// defined by the program) are reported by [`ProgramBuilder::build`].
///
/// ```
/// use tyche::{FromValue, Signature, Type, Value};
///
/// // A "simulator" written in Rust: the distance a projectile flies.
/// let program = tyche::Program::builder()
///     .function("distance", Signature::new([Type::Real, Type::Real], Type::Real), |args: &[Value]| {
///         let v = f64::from_value(&args[0]).map_err(|e| e.to_string())?;
///         let angle = f64::from_value(&args[1]).map_err(|e| e.to_string())?;
///         Ok(Value::Real(v * v * (2.0 * angle).sin() / 9.81))
///     })
///     .source("cannon.ppl", "
///         fn model() -> Real {
///             let v ~ Uniform(10.0, 30.0);
///             observe(Normal(distance(v, 0.7), 1.0), 40.0);
///             v
///         }
///     ")
///     .build()?;
/// let posterior = program.model("model")?.method(tyche::Method::Importance).samples(2000).run()?;
/// let v = posterior.mean().unwrap();
/// assert!((v * v * 1.4f64.sin() / 9.81 - 40.0).abs() < 3.0);
/// # Ok::<(), tyche::Error>(())
/// ```
#[must_use = "call .build() to compile the program"]
pub struct ProgramBuilder {
    functions: Vec<Registered>,
    source: Option<Source>,
}

impl Program {
    /// A builder for a program that calls Rust functions (see
    /// [`ProgramBuilder`]).
    ///
    /// ```
    /// use tyche::{Signature, Type, Value};
    /// let program = tyche::Program::builder()
    ///     .function("twice", Signature::new([Type::Int], Type::Int), |args: &[Value]| match args {
    ///         [Value::Int(n)] => Ok(Value::Int(2 * n)),
    ///         _ => Err("expected an Int".into()),
    ///     })
    ///     .source("m.ppl", "fn model() -> Int { twice(21) }")
    ///     .build()?;
    /// assert_eq!(program.model("model")?.run()?.mean(), Some(42.0));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn builder() -> ProgramBuilder {
        ProgramBuilder {
            functions: Vec::new(),
            source: None,
        }
    }
}

impl ProgramBuilder {
    /// Registers `f` as the function `name` of type `signature`.
    ///
    /// `f` receives the arguments, already checked against the signature
    /// by the type checker (a `Real` argument is a `Value::Real`, an array
    /// a `Value::Array`, …), and returns the result or an error message.
    /// The result is checked against the return type (an `Int` where a
    /// `Real` is declared is converted); a mismatch, an `Err` or a panic
    /// stops the run with a diagnostic at the call.
    ///
    /// ```
    /// use tyche::{Signature, Type, Value};
    /// let program = tyche::Program::builder()
    ///     .function("checked_sqrt", Signature::new([Type::Real], Type::Real), |args: &[Value]| {
    ///         match args[0] {
    ///             Value::Real(x) if x >= 0.0 => Ok(Value::Real(x.sqrt())),
    ///             ref v => Err(format!("cannot take the square root of {v}")),
    ///         }
    ///     })
    ///     .source("m.ppl", "fn model() -> Real { checked_sqrt(-1.0) }")
    ///     .build()?;
    /// let err = program.model("model")?.run().unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Run);
    /// assert!(err.to_string().contains("cannot take the square root of -1.0"));
    /// assert!(err.to_string().contains("m.ppl:1:"));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn function<F>(mut self, name: &str, signature: Signature, f: F) -> ProgramBuilder
    where
        F: Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
    {
        let ret = signature.ret.clone();
        let wrapped = move |args: &[Value]| -> Result<Value, String> {
            let out = catch_unwind(AssertUnwindSafe(|| f(args)))
                .map_err(|payload| format!("it panicked: {}", panic_message(&*payload)))??;
            conform(&ret, out, "result")
                .map_err(|m| format!("its result does not match its signature: {m}"))
        };
        self.functions.push(Registered {
            name: name.to_string(),
            sig: signature,
            f: ForeignFn::new(wrapped),
        });
        self
    }

    /// The program's source text; `name` is the file name diagnostics
    /// show. Replaces an earlier `source` or `file`.
    ///
    /// ```
    /// let program = tyche::Program::builder().source("m.ppl", "fn model() { 1 }").build()?;
    /// assert_eq!(program.name(), "m.ppl");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn source(mut self, name: &str, text: &str) -> ProgramBuilder {
        self.source = Some(Source::Text {
            name: name.to_string(),
            text: text.to_string(),
        });
        self
    }

    /// Reads the program from a file when [`build`](ProgramBuilder::build)
    /// runs. Replaces an earlier `source` or `file`.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("tyche_doc_builder_file.ppl");
    /// std::fs::write(&path, "fn model() -> Int { 7 }").unwrap();
    /// let program = tyche::Program::builder().file(&path).build()?;
    /// assert_eq!(program.model("model")?.run()?.mean(), Some(7.0));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn file(mut self, path: impl AsRef<Path>) -> ProgramBuilder {
        self.source = Some(Source::File(path.as_ref().to_path_buf()));
        self
    }

    /// Checks the registrations and compiles the program with the
    /// functions in scope.
    ///
    /// Errors: [`ErrorKind::Function`] for a bad registration or a missing
    /// source, [`ErrorKind::Io`] for an unreadable file,
    /// [`ErrorKind::Compile`] for a program that does not compile —
    /// including a call that does not match a signature.
    ///
    /// ```
    /// use tyche::{Signature, Type, Value};
    /// let sig = || Signature::new([Type::Real], Type::Real);
    /// let id = |args: &[Value]| Ok(args[0].clone());
    ///
    /// let err = tyche::Program::builder().function("f", sig(), id)
    ///     .source("m.ppl", "fn model() -> Real { f(true) }").build().unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Compile);
    /// assert_eq!(err.code(), Some("E0301"));
    ///
    /// let err = tyche::Program::builder().function("exp", sig(), id)
    ///     .source("m.ppl", "fn model() { 1 }").build().unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Function);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn build(self) -> Result<Program, Error> {
        let mut problems = Vec::new();
        let builtins = tyche_types::builtin_names();
        for (i, r) in self.functions.iter().enumerate() {
            if !is_identifier(&r.name) {
                problems.push(format!("`{}` is not a valid function name", r.name));
            } else if KEYWORDS.contains(&r.name.as_str()) {
                problems.push(format!("`{}` is a keyword of the language", r.name));
            } else if builtins.contains(&r.name.as_str()) {
                problems.push(format!(
                    "`{}` is a built-in function of the language; register it under another name",
                    r.name
                ));
            } else if self.functions[..i].iter().any(|o| o.name == r.name) {
                problems.push(format!("the function `{}` is registered twice", r.name));
            }
        }
        if !problems.is_empty() {
            let diags = problems
                .into_iter()
                .map(|p| Diagnostic::error(p).with_code("E0406"))
                .collect();
            return Err(Error::new(
                ErrorKind::Function,
                diags,
                &tyche_core::SourceMap::new(),
            ));
        }
        let (name, text) = match self.source {
            Some(Source::Text { name, text }) => (name, text),
            Some(Source::File(path)) => read_file(&path)?,
            None => return Err(Error::plain(
                ErrorKind::Function,
                "the program builder has no source: call `.source(name, text)` or `.file(path)`",
            )),
        };
        let foreign: Vec<tyche_ir::Foreign> = self
            .functions
            .iter()
            .map(|r| tyche_ir::Foreign {
                name: r.name.clone(),
                ty: r.sig.to_type(),
                imp: Some(r.f.to_native()),
            })
            .collect();
        let program = Program::compile(&name, &text, &foreign)?;
        // A program item of the same name would silently shadow the
        // registered function: report it instead.
        let ir = &program.inner.compiled.ir;
        let clashes: Vec<Diagnostic> = self
            .functions
            .iter()
            .filter(|r| program.inner.compiled.types.items.contains_key(&r.name))
            .map(|r| {
                let span = ir
                    .func_by_name(&r.name)
                    .map(|f| ir.func(f).span)
                    .or_else(|| ir.global_by_name(&r.name).map(|g| ir.global(g).span));
                let mut d = Diagnostic::error(format!(
                    "`{}` is both defined in the program and registered as a Rust function",
                    r.name
                ))
                .with_code("E0402");
                if let Some(span) = span {
                    d = d.with_primary(span, "defined here");
                }
                d.with_help("rename one of them")
            })
            .collect();
        if !clashes.is_empty() {
            return Err(program.error(ErrorKind::Function, clashes));
        }
        Ok(program)
    }
}

/// Shows the registered functions' names and signatures.
impl fmt::Debug for ProgramBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let functions: Vec<String> = self
            .functions
            .iter()
            .map(|r| format!("{}: {}", r.name, r.sig))
            .collect();
        f.debug_struct("ProgramBuilder")
            .field("functions", &functions)
            .finish_non_exhaustive()
    }
}

/// Words the parser reserves.
const KEYWORDS: &[&str] = &[
    "let",
    "fn",
    "data",
    "if",
    "else",
    "for",
    "in",
    "true",
    "false",
    "do",
    "counterfactual",
    "condition",
];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}
