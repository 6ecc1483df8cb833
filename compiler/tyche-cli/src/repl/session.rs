//! The REPL's state and what one input does to it.
//!
//! A session is the list of definitions entered so far (`fn`, `let`,
//! `data`; a new definition of a name replaces the old one) plus the
//! standard-library prelude. Every input recompiles the whole session —
//! parse, type check, lower, verify, exactly the phases of
//! `tyche_driver::compile` — so a redefinition is checked against
//! everything that uses it, and is refused (the session left as it was)
//! when that breaks something. An expression is compiled as a synthetic
//! zero-argument function `__repl_N` and run forward.
//!
//! Each input is its own file (`<repl:N>`) in the session's `SourceMap`,
//! so diagnostics quote the input as it was typed, and expression ids
//! are allocated across inputs so they stay unique in the program.
//!
//! Top-level constants are evaluated by the REPL (see `eval`): a random
//! one draws with a seed fixed when it was defined, and values are cached
//! under a fingerprint of the definitions they (transitively) read and of
//! the bound data, so an expensive `let post = infer(…);` runs again only
//! when something it depends on changes.

use super::deps;
use super::eval::{self, Finished, Slot};
use super::show;
use crate::Io;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tyche_core::{Diagnostic, FileId, SourceMap};
use tyche_driver::{CliEdit, Compiled};
use tyche_infer::rng::Seed;
use tyche_ir::{GlobalId, GlobalKind, Program, Type};
use tyche_syntax::ast::{self, Expr, FnDef, Ident, Item};
use tyche_syntax::ReplInput;
use tyche_vm::{DistValue, Value};

/// What the loop should do after an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    Continue,
    Quit,
}

/// One definition of the session.
#[derive(Clone)]
pub(crate) struct Def {
    pub(crate) item: Item,
    /// Unique per definition: a redefinition gets a new one.
    generation: u64,
    /// The seed of this definition's own random choices (a `let`).
    seed: u64,
    /// Names its body reads (locals excluded).
    uses: Vec<String>,
}

impl Def {
    pub(crate) fn name(&self) -> &str {
        &self.item.name().name
    }
}

/// A bound data file (`:data FILE.json`).
pub(crate) struct DataFile {
    pub(crate) json: serde_json::Value,
    pub(crate) name: String,
}

/// A constant's value, valid while the fingerprint and type match.
struct Cached {
    fingerprint: u64,
    ty: Type,
    value: Value,
}

/// How a compiled program's globals get their values.
pub(crate) struct Plan {
    slots: Vec<Slot>,
    /// (global, name, fingerprint, type) of constants computed by this
    /// plan, to cache afterwards.
    to_cache: Vec<(usize, String, u64, Type)>,
    /// Names without a value: unbound data items and the constants that
    /// read them.
    pub(crate) unbound: HashSet<String>,
}

/// Why a job produced no result.
pub(crate) enum Failure {
    Diags(Vec<Diagnostic>),
    Interrupted,
    Crashed,
}

/// The REPL's state.
pub struct Session {
    pub(crate) sources: SourceMap,
    prelude: Vec<Item>,
    pub(crate) prelude_file: FileId,
    pub(crate) defs: Vec<Def>,
    next_expr: u32,
    next_generation: u64,
    inputs: u32,
    /// The seed of evaluations, definitions and `:infer` (`:seed N`).
    pub(crate) seed: u64,
    /// Expressions evaluated since the seed was set.
    evals: u64,
    pub(crate) data: Option<DataFile>,
    data_generation: u64,
    cache: HashMap<String, Cached>,
    /// `:do` / `:observe` edits applied by `:infer`.
    pub(crate) edits: Vec<CliEdit>,
    /// The file `:reload` reads, as the user wrote it.
    pub(crate) loaded: Option<String>,
    /// Relative paths in `:load` / `:data` are resolved against this.
    pub(crate) base_dir: Option<PathBuf>,
    pub(crate) color: bool,
    /// Set by Ctrl-C while a job runs (interactive sessions only).
    pub(crate) interrupt: Option<Arc<AtomicBool>>,
    /// Inputs that ended in an error.
    pub(crate) errors: usize,
    /// The last `:infer` run, for `:plot`.
    pub(crate) last_infer: Option<super::commands::LastInfer>,
}

impl Session {
    pub fn new(
        base_dir: Option<PathBuf>,
        color: bool,
        interrupt: Option<Arc<AtomicBool>>,
    ) -> Session {
        let mut sources = SourceMap::new();
        let prelude_file = sources.add(tyche_driver::PRELUDE_NAME, tyche_driver::PRELUDE);
        let (prelude, _) = tyche_syntax::parse_program(prelude_file, tyche_driver::PRELUDE, 0);
        Session {
            sources,
            next_expr: prelude.expr_count,
            prelude: prelude.items,
            prelude_file,
            defs: Vec::new(),
            next_generation: 0,
            inputs: 0,
            seed: 0,
            evals: 0,
            data: None,
            data_generation: 0,
            cache: HashMap::new(),
            edits: Vec::new(),
            loaded: None,
            base_dir,
            color,
            interrupt,
            errors: 0,
            last_infer: None,
        }
    }

    /// Handles one complete input (code or a `:` command).
    pub(crate) fn input(&mut self, text: &str, io: &mut Io) -> Control {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Control::Continue;
        }
        let control = if trimmed.starts_with(':') {
            self.command(trimmed, io)
        } else {
            self.code(text, io)
        };
        let _ = io.out.flush();
        let _ = io.err.flush();
        control
    }

    /// Names in scope, for completion.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: BTreeSet<String> = self.defs.iter().map(|d| d.name().to_string()).collect();
        names.extend(self.prelude.iter().map(|i| i.name().name.clone()));
        names.extend(tyche_types::builtin_names().into_iter().map(String::from));
        names.into_iter().filter(|n| !n.starts_with('$')).collect()
    }

    // ----- reporting -------------------------------------------------------

    /// Renders diagnostics; counts an error input.
    pub(crate) fn report(&mut self, io: &mut Io, diags: &[Diagnostic]) {
        let _ = write!(
            io.err,
            "{}",
            tyche_core::render_all(diags, &self.sources, self.color)
        );
        if diags.iter().any(Diagnostic::is_error) {
            self.errors += 1;
        }
    }

    /// A one-line error (bad command usage, an unreadable file).
    pub(crate) fn fail(&mut self, io: &mut Io, msg: impl std::fmt::Display) {
        let _ = writeln!(io.err, "error: {msg}");
        self.errors += 1;
    }

    pub(crate) fn failure(&mut self, io: &mut Io, f: Failure) {
        match f {
            Failure::Diags(d) => self.report(io, &d),
            Failure::Interrupted => {
                let _ = writeln!(io.err, "interrupted");
                self.errors += 1;
            }
            Failure::Crashed => self.fail(
                io,
                "internal error while running (this is a bug in Tyche; please report it)",
            ),
        }
    }

    // ----- code ------------------------------------------------------------

    /// Adds an input's text as a new file of the session.
    pub(crate) fn add_input(&mut self, text: &str) -> FileId {
        self.inputs += 1;
        self.sources.add(format!("<repl:{}>", self.inputs), text)
    }

    /// Parses REPL code in its own file; `None` after reporting errors or
    /// for input that holds only comments.
    pub(crate) fn parse(&mut self, text: &str, io: &mut Io) -> Option<(ReplInput, FileId)> {
        let file = self.add_input(text);
        let (parsed, next, diags) = tyche_syntax::parse_repl(file, text, self.next_expr);
        if !diags.is_empty() {
            self.report(io, &diags);
        }
        if diags.iter().any(Diagnostic::is_error) {
            return None;
        }
        self.next_expr = next;
        parsed.map(|p| (p, file))
    }

    fn code(&mut self, text: &str, io: &mut Io) -> Control {
        match self.parse(text, io) {
            Some((ReplInput::Items(items), file)) => self.define(items, file, io),
            Some((ReplInput::Expr(e), file)) => self.evaluate(e, file, io),
            None => {}
        }
        Control::Continue
    }

    /// Adds (or replaces) definitions; prints each one's type (and a
    /// constant's value). The session is unchanged when they do not
    /// compile or a constant fails.
    fn define(&mut self, items: Vec<Item>, file: FileId, io: &mut Io) {
        let saved = self.defs.clone();
        let new_names: HashSet<String> = items.iter().map(|i| i.name().name.clone()).collect();
        self.defs.retain(|d| !new_names.contains(d.name()));
        for item in &items {
            self.push_def(item.clone());
        }
        let roots: Vec<String> = new_names.iter().cloned().collect();
        match self.prepare(None, file, &roots) {
            Ok((compiled, plan, warnings)) => {
                self.report(io, &warnings);
                let unbound = plan.unbound.clone();
                match self.execute(Arc::clone(&compiled.ir), plan, |_, g| Ok(g)) {
                    Ok(globals) => {
                        for item in &items {
                            if let Some(line) = self.describe(item, &compiled, &globals, &unbound) {
                                let _ = writeln!(io.out, "{line}");
                            }
                        }
                    }
                    Err(f) => {
                        self.defs = saved;
                        self.failure(io, f);
                    }
                }
            }
            Err(d) => {
                self.defs = saved;
                self.report(io, &d);
                if d.iter()
                    .filter_map(Diagnostic::primary_span)
                    .any(|s| s.file != file)
                {
                    let _ = writeln!(
                        io.err,
                        "(not defined: this would break the earlier definitions shown; \
                         redefine them together in one input)"
                    );
                }
            }
        }
    }

    pub(crate) fn push_def(&mut self, item: Item) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let seed = Seed(self.seed).child(generation).0;
        let uses = deps::item_uses(&item);
        self.defs.push(Def {
            item,
            generation,
            seed,
            uses,
        });
    }

    /// Compiles an expression as `fn __repl_N() { e }` and runs it.
    fn evaluate(&mut self, e: Expr, file: FileId, io: &mut Io) {
        let name = format!("__repl_{}", self.inputs);
        let uses = deps::free_vars(&e);
        let (compiled, plan, warnings) = match self.prepare(Some(synthetic(&name, e)), file, &uses)
        {
            Ok(p) => p,
            Err(d) => return self.report(io, &d),
        };
        self.report(io, &warnings);
        if let Err(d) = self.check_bound(&uses, &plan) {
            return self.report(io, &d);
        }
        let ty = expr_type(&compiled, &name);
        let Some(func) = compiled.ir.func_by_name(&name) else {
            return self.fail(io, "internal error: the expression was not lowered");
        };
        let seed = Seed(self.seed).child(0x5EED).child(self.evals).0;
        self.evals += 1;
        match self.execute(Arc::clone(&compiled.ir), plan, move |p, g| {
            eval::run_function(p, g, func, seed)
        }) {
            Ok((value, _)) => {
                let ty_text = tyche_types::display_type(&ty, &compiled.types.numeric_vars);
                let text = match (&value, &ty) {
                    (Value::Dist(d), Type::Dist(elem)) => match &**d {
                        DistValue::Posterior(p) => show::posterior(p, elem, &ty_text),
                        DistValue::Prim(_) => format!("{} : {ty_text}\n", show::value(&value)),
                    },
                    _ => format!("{} : {ty_text}\n", show::typed_value(&value, &ty)),
                };
                let _ = write!(io.out, "{text}");
            }
            Err(f) => self.failure(io, f),
        }
    }

    /// The one-line summary of a new definition.
    fn describe(
        &self,
        item: &Item,
        compiled: &Compiled,
        globals: &[Value],
        unbound: &HashSet<String>,
    ) -> Option<String> {
        let name = &item.name().name;
        if name.starts_with('$') {
            return None;
        }
        let ty = compiled
            .types
            .items
            .get(name)
            .map(|t| tyche_types::display_type(t, &compiled.types.numeric_vars))?;
        let global = compiled
            .ir
            .global_by_name(name)
            .and_then(|g| globals.get(g.0 as usize));
        Some(match item {
            Item::Fn(_) => format!("{name} : {ty}"),
            Item::Let { .. } if unbound.contains(name) => {
                format!("{name} : {ty}   (no value yet: it reads data without a value)")
            }
            Item::Let { .. } => match global {
                Some(v) => {
                    let shown = match compiled.types.items.get(name) {
                        Some(t) => show::typed_value(v, t),
                        None => show::value(v),
                    };
                    format!("{name} = {shown} : {ty}")
                }
                None => format!("{name} : {ty}"),
            },
            Item::Data { default, .. } => {
                let bound = self.data.as_ref().filter(|d| d.json.get(name).is_some());
                let status = match (bound, default) {
                    (Some(d), _) => format!("bound from {}", d.name),
                    (None, Some(_)) => "default value".to_string(),
                    (None, None) => "no value yet: bind it with :data FILE.json".to_string(),
                };
                format!("{name} : {ty}   (data, {status})")
            }
        })
    }

    // ----- compiling ---------------------------------------------------------

    /// Compiles the session (plus `extra`) and plans the globals that code
    /// reading `roots` may need. Returns the warnings that point into
    /// `file` (the current input).
    #[allow(clippy::type_complexity)]
    pub(crate) fn prepare(
        &mut self,
        extra: Option<Item>,
        file: FileId,
        roots: &[String],
    ) -> Result<(Compiled, Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
        let (compiled, warnings) = self.compile(extra, file)?;
        let plan = self.plan(&compiled.ir, &HashMap::new(), roots)?;
        let warnings = warnings
            .into_iter()
            .filter(|d| d.primary_span().is_some_and(|s| s.file == file))
            .collect();
        Ok((compiled, plan, warnings))
    }

    /// The whole-program compile: prelude items (less those the session
    /// redefines), the session's definitions, and `extra`.
    pub(crate) fn compile(
        &self,
        extra: Option<Item>,
        file: FileId,
    ) -> Result<(Compiled, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut user: HashSet<&str> = self.defs.iter().map(|d| d.name()).collect();
        if let Some(e) = &extra {
            user.insert(&e.name().name);
        }
        let mut items: Vec<Item> = self
            .prelude
            .iter()
            .filter(|i| !user.contains(i.name().name.as_str()))
            .cloned()
            .collect();
        items.extend(self.defs.iter().map(|d| d.item.clone()));
        items.extend(extra);
        let program = ast::Program {
            items,
            expr_count: self.next_expr,
        };
        let (types, mut warnings) = tyche_types::check_program(&program);
        if warnings.iter().any(Diagnostic::is_error) {
            return Err(warnings);
        }
        let (ir, lower_diags) = tyche_lower::lower(&program, &types, &self.sources);
        if lower_diags.iter().any(Diagnostic::is_error) {
            return Err(lower_diags);
        }
        warnings.extend(lower_diags);
        if let Err(msg) = tyche_ir::verify(&ir, "lowering") {
            return Err(vec![Diagnostic::error(format!(
                "internal compiler error: {msg}"
            ))
            .with_note(
                "this is a bug in Tyche; please report it with the session",
            )]);
        }
        Ok((
            Compiled {
                ast: program,
                types,
                ir: Arc::new(ir),
                file,
            },
            warnings,
        ))
    }

    // ----- globals -----------------------------------------------------------

    fn def(&self, name: &str) -> Option<&Def> {
        self.defs.iter().find(|d| d.name() == name)
    }

    /// The session definitions reachable from `roots` through the names
    /// their bodies use (roots included when they are definitions).
    pub(crate) fn reach<'a>(&self, roots: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let by_name: HashMap<&str, &Def> = self.defs.iter().map(|d| (d.name(), d)).collect();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = roots.into_iter().collect();
        while let Some(n) = stack.pop() {
            if let Some(d) = by_name.get(n) {
                if seen.insert(n.to_string()) {
                    stack.extend(d.uses.iter().map(String::as_str));
                }
            }
        }
        seen
    }

    /// Identifies the inputs of a constant's value: the definitions it
    /// reads and, when it reads data, the bound data file.
    fn fingerprint(&self, name: &str) -> u64 {
        let mut h = DefaultHasher::new();
        let mut reads_data = false;
        for n in self.reach([name]) {
            if let Some(d) = self.def(&n) {
                n.hash(&mut h);
                d.generation.hash(&mut h);
                reads_data |= matches!(d.item, Item::Data { .. });
            }
        }
        if reads_data {
            self.data_generation.hash(&mut h);
        }
        h.finish()
    }

    /// Decides how each global of `ir` gets its value: `bound` first
    /// (surgery values), then the data file, cached constants, and
    /// initialisers to run. Session globals that code reading `roots`
    /// cannot reach are skipped, so a constant that fails (after new data,
    /// say) only stops the code that uses it.
    pub(crate) fn plan(
        &self,
        ir: &Program,
        bound: &HashMap<GlobalId, Value>,
        roots: &[String],
    ) -> Result<Plan, Vec<Diagnostic>> {
        let needed = self.reach(roots.iter().map(String::as_str));
        let mut slots = Vec::with_capacity(ir.globals.len());
        let mut to_cache = Vec::new();
        let mut diags = Vec::new();
        let object = self.data.as_ref().and_then(|d| d.json.as_object());
        // Data items without a value, then the constants that read them.
        let mut unbound: HashSet<String> = ir
            .globals
            .iter()
            .filter(|g| matches!(g.kind, GlobalKind::Data { default: None }))
            .filter(|g| object.is_none_or(|o| !o.contains_key(&g.name)))
            .map(|g| g.name.clone())
            .collect();
        let needs_data: Vec<String> = self
            .defs
            .iter()
            .filter(|d| matches!(d.item, Item::Let { .. }))
            .filter(|d| self.reach([d.name()]).iter().any(|n| unbound.contains(n)))
            .map(|d| d.name().to_string())
            .collect();
        unbound.extend(needs_data);
        for (i, g) in ir.globals.iter().enumerate() {
            if let Some(v) = bound.get(&GlobalId(i as u32)) {
                slots.push(Slot::Value(v.clone()));
                continue;
            }
            let user = self.def(&g.name);
            let seed = user.map_or(self.seed, |d| d.seed);
            slots.push(match &g.kind {
                _ if unbound.contains(&g.name) => Slot::Unbound,
                _ if user.is_some() && !needed.contains(&g.name) => Slot::Unbound,
                GlobalKind::Data { default } => {
                    match (object.and_then(|o| o.get(&g.name)), default) {
                        (Some(json), _) => {
                            match tyche_driver::value_from_json(&g.ty, json, &g.name) {
                                Ok(v) => Slot::Value(v),
                                Err(msg) => {
                                    diags.push(
                                        Diagnostic::error(format!(
                                            "ill-typed value for data item `{}`",
                                            g.name
                                        ))
                                        .with_code("E0503")
                                        .with_primary(g.span, format!("declared as {} here", g.ty))
                                        .with_note(msg),
                                    );
                                    Slot::Unbound
                                }
                            }
                        }
                        (None, Some(init)) => Slot::Compute { init: *init, seed },
                        (None, None) => Slot::Unbound,
                    }
                }
                GlobalKind::Const { init } => match user {
                    None => Slot::Compute { init: *init, seed },
                    Some(_) => {
                        let fp = self.fingerprint(&g.name);
                        match self.cache.get(&g.name) {
                            Some(c) if c.fingerprint == fp && c.ty == g.ty => {
                                Slot::Value(c.value.clone())
                            }
                            _ => {
                                to_cache.push((i, g.name.clone(), fp, g.ty.clone()));
                                Slot::Compute { init: *init, seed }
                            }
                        }
                    }
                },
            });
        }
        if diags.is_empty() {
            Ok(Plan {
                slots,
                to_cache,
                unbound,
            })
        } else {
            Err(diags)
        }
    }

    /// An error when code reading `uses` would read a global without a
    /// value.
    pub(crate) fn check_bound(&self, uses: &[String], plan: &Plan) -> Result<(), Vec<Diagnostic>> {
        let missing: Vec<&Def> = self
            .reach(uses.iter().map(String::as_str))
            .iter()
            .filter(|n| plan.unbound.contains(*n))
            .filter_map(|n| self.def(n))
            .filter(|d| matches!(d.item, Item::Data { .. }))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(missing
            .into_iter()
            .map(|d| {
                let Item::Data { name, ty, span, .. } = &d.item else {
                    unreachable!("filtered to data items")
                };
                let ty_text = self.sources.snippet(ty.span());
                Diagnostic::error(format!(
                    "missing value for data item `{}: {ty_text}`",
                    name.name
                ))
                .with_code("E0504")
                .with_primary(*span, "declared here without a default")
                .with_help(format!(
                    "bind it with `:data FILE.json`, a JSON object with a key \"{}\"",
                    name.name
                ))
            })
            .collect())
    }

    /// Evaluates the globals of `program` as planned, then runs `job` on
    /// them (on a worker thread when interruptible); caches the constants
    /// it computed.
    pub(crate) fn execute<T: Send + 'static>(
        &mut self,
        program: Arc<Program>,
        plan: Plan,
        job: impl FnOnce(&Arc<Program>, Arc<Vec<Value>>) -> Result<T, Diagnostic> + Send + 'static,
    ) -> Result<T, Failure> {
        self.execute_cancellable(program, plan, &tyche_infer::Stop::new(), job)
    }

    /// [`execute`](Self::execute) for a job that checks `cancel` (an
    /// inference run): Ctrl-C cancels it and waits for it to stop.
    pub(crate) fn execute_cancellable<T: Send + 'static>(
        &mut self,
        program: Arc<Program>,
        plan: Plan,
        cancel: &tyche_infer::Stop,
        job: impl FnOnce(&Arc<Program>, Arc<Vec<Value>>) -> Result<T, Diagnostic> + Send + 'static,
    ) -> Result<T, Failure> {
        let slots = plan.slots;
        let work = move || match eval::evaluate_globals(&program, &slots) {
            Ok(globals) => {
                let globals = Arc::new(globals);
                let result = job(&program, Arc::clone(&globals));
                (Some(globals), result)
            }
            Err(d) => (None, Err(d)),
        };
        match eval::cancellable(self.interrupt.as_ref(), cancel, work) {
            Finished::Done((globals, result)) => {
                if let Some(globals) = globals {
                    for (i, name, fingerprint, ty) in plan.to_cache {
                        if let Some(value) = globals.get(i) {
                            self.cache.insert(
                                name,
                                Cached {
                                    fingerprint,
                                    ty,
                                    value: value.clone(),
                                },
                            );
                        }
                    }
                }
                result.map_err(|d| Failure::Diags(vec![d]))
            }
            Finished::Interrupted => Err(Failure::Interrupted),
            Finished::Crashed => Err(Failure::Crashed),
        }
    }

    pub(crate) fn next_expr_id(&self) -> u32 {
        self.next_expr
    }

    pub(crate) fn set_next_expr_id(&mut self, next: u32) {
        self.next_expr = next;
    }

    /// Restarts the sequence of evaluation seeds (after `:seed`).
    pub(crate) fn reset_evals(&mut self) {
        self.evals = 0;
    }

    /// Forgets cached constants that read data (after `:data`).
    pub(crate) fn data_changed(&mut self) {
        self.data_generation += 1;
    }
}

/// `fn NAME() { e }`, spanning the expression.
pub(crate) fn synthetic(name: &str, e: Expr) -> Item {
    let span = e.span;
    Item::Fn(FnDef {
        name: Ident {
            name: name.to_string(),
            span,
        },
        params: Vec::new(),
        ret: None,
        body: e,
        span,
    })
}

/// The result type of the synthetic function `name`.
pub(crate) fn expr_type(compiled: &Compiled, name: &str) -> Type {
    match compiled.types.items.get(name) {
        Some(Type::Fn(_, ret)) => (**ret).clone(),
        Some(other) => other.clone(),
        None => Type::Unit,
    }
}
