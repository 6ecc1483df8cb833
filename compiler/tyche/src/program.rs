//! [`Program`]: a compiled Tyche program, ready to answer queries.

use crate::error::{Error, ErrorKind};
use crate::query::Query;
use std::path::Path;
use std::sync::Arc;
use tyche_core::suggest::best_match;
use tyche_core::SourceMap;
use tyche_driver::Compiled;
use tyche_ir::{GlobalKind, Type};

/// A compiled program: parsed, type checked and lowered, with the
/// standard-library prelude. Cheap to clone (one shared allocation) and
/// safe to share between threads; pick a model with [`Program::model`].
///
/// ```
/// let program = tyche::Program::from_source("coin.ppl", r#"
///     data flips: [Bool];
///     fn model() -> Real {
///         let p ~ Beta(1.0, 1.0);
///         for f in flips { observe(Bernoulli(p), f); }
///         p
///     }
/// "#)?;
/// assert_eq!(program.models(), vec!["model".to_string()]);
/// # Ok::<(), tyche::Error>(())
/// ```
#[derive(Clone)]
pub struct Program {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) sources: SourceMap,
    pub(crate) compiled: Compiled,
}

/// A `data` item of a program: a value supplied when it runs.
///
/// ```
/// let program = tyche::Program::from_source("m.ppl", "data ys: [Real]; data k: Int = 3; fn model() { 1 }")?;
/// let items = program.data_items();
/// assert_eq!(items[0].name, "ys");
/// assert_eq!(items[0].ty, tyche::Type::array(tyche::Type::Real));
/// assert!(!items[0].has_default);
/// assert!(items[1].has_default);
/// # Ok::<(), tyche::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DataItem {
    /// The item's name (`ys`).
    pub name: String,
    /// Its declared type.
    pub ty: Type,
    /// Whether it has a default (`data k: Int = 3;`), so binding it is
    /// optional.
    pub has_default: bool,
}

impl Program {
    /// Compiles `text`; `name` is the file name diagnostics show.
    ///
    /// Errors are [`ErrorKind::Compile`] with every diagnostic found.
    ///
    /// ```
    /// let program = tyche::Program::from_source("two.ppl", "fn model() { let x ~ Normal(0, 1); x }")?;
    /// assert_eq!(program.name(), "two.ppl");
    ///
    /// let err = tyche::Program::from_source("bad.ppl", "fn model() { Normal(0, 1) + 1 }").unwrap_err();
    /// assert!(err.to_string().contains("bad.ppl:1:"));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn from_source(name: &str, text: &str) -> Result<Program, Error> {
        Program::compile(name, text, &[])
    }

    /// Reads and compiles a `.ppl` file.
    ///
    /// An unreadable file is an [`ErrorKind::Io`] error.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("tyche_doc_from_file.ppl");
    /// std::fs::write(&path, "fn model() -> Bool { let b ~ Bernoulli(0.3); b }").unwrap();
    /// let program = tyche::Program::from_file(&path)?;
    /// assert_eq!(program.models(), vec!["model".to_string()]);
    ///
    /// let err = tyche::Program::from_file("/no/such/file.ppl").unwrap_err();
    /// assert_eq!(err.kind(), tyche::ErrorKind::Io);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Program, Error> {
        let path = path.as_ref();
        let (name, text) = read_file(path)?;
        Program::from_source(&name, &text)
    }

    pub(crate) fn compile(
        name: &str,
        text: &str,
        foreign: &[tyche_ir::Foreign],
    ) -> Result<Program, Error> {
        let mut sources = SourceMap::new();
        match tyche_driver::compile_source_with(&mut sources, name, text, foreign) {
            Ok(compiled) => Ok(Program {
                inner: Arc::new(Inner { sources, compiled }),
            }),
            Err(diags) => Err(Error::new(ErrorKind::Compile, diags, &sources)),
        }
    }

    /// The file name given when the program was compiled.
    ///
    /// ```
    /// let program = tyche::Program::from_source("coin.ppl", "fn model() { 1 }")?;
    /// assert_eq!(program.name(), "coin.ppl");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        self.inner.sources.name(self.inner.compiled.file)
    }

    /// The zero-argument functions of the program (not the prelude), in
    /// source order: the models [`Program::model`] accepts.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "
    ///     fn helper(x: Real) -> Real { x }
    ///     fn prior() -> Real { let x ~ Normal(0, 1); x }
    ///     fn model() -> Real { helper(prior()) }
    /// ")?;
    /// assert_eq!(program.models(), vec!["prior".to_string(), "model".to_string()]);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn models(&self) -> Vec<String> {
        user_functions(&self.inner.compiled)
            .filter(|(_, params)| *params == 0)
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// The program's `data` items, in source order.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "data n: Int; fn model() { n }")?;
    /// assert_eq!(program.data_items()[0].name, "n");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn data_items(&self) -> Vec<DataItem> {
        let c = &self.inner.compiled;
        let mut items: Vec<(u32, DataItem)> =
            c.ir.globals
                .iter()
                .filter(|g| g.span.file == c.file)
                .filter_map(|g| match &g.kind {
                    GlobalKind::Data { default } => Some((
                        g.span.start,
                        DataItem {
                            name: g.name.clone(),
                            ty: g.ty.clone(),
                            has_default: default.is_some(),
                        },
                    )),
                    GlobalKind::Const { .. } => None,
                })
                .collect();
        items.sort_by_key(|(start, _)| *start);
        items.into_iter().map(|(_, d)| d).collect()
    }

    /// The type of a top-level item (function, constant or data item) of
    /// the program or the prelude, as the type checker inferred it.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() { let x ~ Normal(0, 1); x > 0.0 }")?;
    /// assert_eq!(program.item_type("model").unwrap().to_string(), "() -> Bool");
    /// assert_eq!(program.item_type("nope"), None);
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn item_type(&self, name: &str) -> Option<Type> {
        self.inner.compiled.types.items.get(name).cloned()
    }

    /// Picks the zero-argument function `name` as the model and returns a
    /// [`Query`] on it: bind data, edit the model, choose the inference
    /// method, then [`Query::run`].
    ///
    /// An unknown name is an [`ErrorKind::Model`] error that suggests the
    /// closest model; a function with parameters is one too.
    ///
    /// ```
    /// let program = tyche::Program::from_source("m.ppl", "fn model() -> Bool { let b ~ Bernoulli(0.3); b }")?;
    /// let posterior = program.model("model")?.run()?;
    /// assert!((posterior.mean().unwrap() - 0.3).abs() < 1e-12);
    ///
    /// let err = program.model("modle").unwrap_err();
    /// assert!(err.to_string().contains("did you mean `model`?"));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn model(&self, name: &str) -> Result<Query, Error> {
        let inner = &self.inner;
        match tyche_driver::model(&inner.compiled, &inner.sources, name) {
            Ok(func) => Ok(Query::new(self.clone(), name, func)),
            Err(mut d) => {
                if d.code.as_deref() == Some("E0404") {
                    d.notes.retain(|n| !n.contains("--model"));
                    let models = self.models();
                    if let Some(best) = best_match(name, models.iter().map(|s| s.as_str())) {
                        d = d.with_help(format!("did you mean `{best}`?"));
                    }
                }
                Err(Error::new(ErrorKind::Model, vec![d], &inner.sources))
            }
        }
    }

    pub(crate) fn error(&self, kind: ErrorKind, diags: Vec<tyche_core::Diagnostic>) -> Error {
        Error::new(kind, diags, &self.inner.sources)
    }
}

/// Shows the file name and the models.
impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("name", &self.name())
            .field("models", &self.models())
            .finish_non_exhaustive()
    }
}

/// Reads a program file: its display name and UTF-8 text.
pub(crate) fn read_file(path: &Path) -> Result<(String, String), Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::plain(
            ErrorKind::Io,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::plain(
            ErrorKind::Io,
            format!("{} is not valid UTF-8 text", path.display()),
        )
    })?;
    Ok((path.display().to_string(), text))
}

/// The user's functions (not the prelude's, lambdas' or wrappers') with
/// their arity, in source order.
fn user_functions(c: &Compiled) -> impl Iterator<Item = (&str, usize)> {
    let mut fns: Vec<(&str, usize, u32)> =
        c.ir.funcs
            .iter()
            .filter(|f| f.span.file == c.file && !f.name.contains('$'))
            .map(|f| {
                let arity = match &f.ty {
                    Type::Fn(ps, _) => ps.len(),
                    _ => f.params as usize,
                };
                (f.name.as_str(), arity, f.span.start)
            })
            .collect();
    fns.sort_by_key(|(_, _, start)| *start);
    fns.into_iter().map(|(n, a, _)| (n, a))
}
