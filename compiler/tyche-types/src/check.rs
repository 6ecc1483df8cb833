//! The checker proper: Hindley–Milner inference over the AST, with a
//! little bidirectional checking (expected types flow into lambdas, blocks
//! and `if` branches) so errors point at the innermost culprit and
//! `map(pairs, |p| p.0)` knows `p`'s type before looking inside the lambda.
//!
//! One [`Checker`] holds the whole inference state, so the REPL keeps it
//! between inputs; `check_program` is a single [`Checker::add_items`].

use std::collections::HashMap;

use tyche_core::{Diagnostic, Span};
use tyche_syntax::ast::{
    BinOp, Expr, ExprKind, Ident, Item, Param, Stmt, SurgeryArg, SurgeryKind, TypeExpr, UnOp,
};

use crate::builtins::{builtin_names, builtin_type};
use crate::deps::{expr_free_names, item_free_names, sccs};
use crate::suggest::best_match;
use crate::ty::{Kind, Namer, Subst, Ty, UnifyError};
use crate::TypeInfo;

#[derive(Clone, Debug)]
struct Global {
    /// Generalised once its component is checked; monomorphic while it is.
    ty: Ty,
    /// The item's name, for "defined here" labels.
    span: Span,
}

#[derive(Clone, Debug)]
struct Local {
    name: String,
    ty: Ty,
}

/// A named random choice in some item's code.
#[derive(Clone, Debug)]
struct ChoiceSite {
    name: String,
    ty: Ty,
    span: Span,
}

/// How to word a mismatch found while checking against an expectation.
#[derive(Default, Clone)]
struct Ctx {
    message: Option<String>,
    label: Option<(Span, String)>,
    help: Option<String>,
}

/// Incremental type checker: items can be added batch by batch (a later
/// definition of a name replaces the earlier one) and expressions checked
/// against everything added so far.
pub struct Checker {
    s: Subst,
    /// Current let-nesting depth; fresh variables are born at this level.
    level: u32,
    builtins: HashMap<&'static str, Ty>,
    /// Host functions supplied by the embedding application
    /// ([`Checker::add_extern`]): like builtins, shadowed by user names.
    externs: HashMap<String, Ty>,
    globals: HashMap<String, Global>,
    locals: Vec<Local>,
    /// Names of the batch being added, visible to suggestions before
    /// their components are checked.
    pending: Vec<String>,
    /// Local `let` names whose values are being checked (for the hint
    /// that a local binding cannot refer to itself).
    binding: Vec<String>,
    expr_types: Vec<Option<Ty>>,
    /// The first type seen for each choice name (for [`TypeInfo`]); a
    /// name's type is per model, so this is no constraint.
    choices: HashMap<String, Ty>,
    /// The named choices made in each item's own code (its body and the
    /// lambdas in it), in source order. A model's choices are those of the
    /// items it reaches through `item_refs`.
    item_choices: HashMap<String, Vec<ChoiceSite>>,
    /// The names each item's code uses (globals among them are the items
    /// it reaches).
    item_refs: HashMap<String, Vec<String>>,
    /// The choices of the item (or REPL expression) being checked so far.
    current: Vec<ChoiceSite>,
    diags: Vec<Diagnostic>,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    pub fn new() -> Checker {
        let mut s = Subst::default();
        let builtins = builtin_names()
            .into_iter()
            .map(|n| {
                (
                    n,
                    builtin_type(&mut s, n).expect("every builtin has a type"),
                )
            })
            .collect();
        Checker {
            s,
            level: 1,
            builtins,
            externs: HashMap::new(),
            globals: HashMap::new(),
            locals: Vec::new(),
            pending: Vec::new(),
            binding: Vec::new(),
            expr_types: Vec::new(),
            choices: HashMap::new(),
            item_choices: HashMap::new(),
            item_refs: HashMap::new(),
            current: Vec::new(),
            diags: Vec::new(),
        }
    }

    /// Declares a host function (or constant) `name: ty` supplied by the
    /// embedding application. It is in scope everywhere like a builtin,
    /// shadowed by user items and locals; type variables in `ty` are
    /// quantified (each use instantiates them afresh).
    pub fn add_extern(&mut self, name: &str, ty: &tyche_ir::Type) {
        let mut vars = HashMap::new();
        let t = import_type(&mut self.s, ty, &mut vars);
        self.externs.insert(name.to_string(), t);
    }

    /// Makes room for expression ids below `n` (ids are dense per program).
    pub fn reserve_exprs(&mut self, n: u32) {
        if self.expr_types.len() < n as usize {
            self.expr_types.resize(n as usize, None);
        }
    }

    /// Checks and adds a batch of top-level items. Items in one batch may
    /// refer to each other in any order; a name defined twice in one batch
    /// is an error, while a name from an earlier batch is replaced.
    /// Items checked earlier keep the types they were checked with.
    pub fn add_items(&mut self, items: &[Item]) -> Vec<Diagnostic> {
        // Which item owns each name in this batch (the first definition).
        let mut owner: HashMap<&str, usize> = HashMap::new();
        let mut is_dup = vec![false; items.len()];
        for (i, item) in items.iter().enumerate() {
            let name = item.name();
            if let Some(&first) = owner.get(name.name.as_str()) {
                is_dup[i] = true;
                self.diags.push(
                    Diagnostic::error(format!(
                        "the name `{}` is defined more than once",
                        name.name
                    ))
                    .with_code("E0402")
                    .with_primary(name.span, format!("`{}` redefined here", name.name))
                    .with_secondary(
                        items[first].name().span,
                        format!("previous definition of `{}` here", name.name),
                    )
                    .with_help("give one of them a different name"),
                );
            } else {
                owner.insert(&name.name, i);
            }
        }
        let mut self_loop = vec![false; items.len()];
        let edges: Vec<Vec<usize>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let names = item_free_names(item);
                if !is_dup[i] {
                    let mut refs: Vec<String> = names.iter().cloned().collect();
                    refs.sort_unstable();
                    self.item_refs.insert(item.name().name.clone(), refs);
                }
                let mut e: Vec<usize> = names
                    .iter()
                    .filter_map(|n| owner.get(n.as_str()).copied())
                    .collect();
                e.sort_unstable();
                self_loop[i] = e.contains(&i);
                e
            })
            .collect();
        self.pending = owner.keys().map(|s| s.to_string()).collect();
        self.pending.sort_unstable();
        for comp in sccs(&edges) {
            let cyclic = comp.len() > 1 || self_loop[comp[0]];
            self.check_component(items, &comp, &is_dup, cyclic);
        }
        self.pending.clear();
        self.finish()
    }

    /// Type checks one expression (a REPL input) against the items added so
    /// far. Returns its type after defaulting (`None` if it has errors).
    pub fn check_expr(&mut self, e: &Expr) -> (Option<tyche_ir::Type>, Vec<Diagnostic>) {
        self.level += 1;
        self.current.clear();
        let t = self.infer(e);
        self.current.clear();
        self.level -= 1;
        let diags = self.finish();
        let t = if diags.iter().any(|d| d.is_error()) {
            None
        } else {
            self.s.export(&t)
        };
        (t, diags)
    }

    /// Everything known so far, fully resolved.
    pub fn type_info(&self) -> TypeInfo {
        TypeInfo {
            expr_types: self
                .expr_types
                .iter()
                .map(|t| t.as_ref().and_then(|t| self.s.export(t)))
                .collect(),
            items: self
                .globals
                .iter()
                .filter_map(|(n, g)| Some((n.clone(), self.s.export(&g.ty)?)))
                .collect(),
            choice_types: self
                .choices
                .iter()
                .filter_map(|(n, t)| Some((n.clone(), self.s.export(t)?)))
                .collect(),
            numeric_vars: self.s.generic_numeric_vars().collect(),
        }
    }

    /// The generalised type of a top-level item added so far.
    pub fn item_type(&self, name: &str) -> Option<tyche_ir::Type> {
        self.s.export(&self.globals.get(name)?.ty)
    }

    /// Names of all items added so far (sorted), e.g. for REPL completion.
    pub fn item_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.globals.keys().cloned().collect();
        v.sort();
        v
    }

    /// End of a batch: literals and numeric variables nobody decided
    /// become `Int`; diagnostics come out in source order.
    fn finish(&mut self) -> Vec<Diagnostic> {
        self.s.default_numeric();
        let mut d = std::mem::take(&mut self.diags);
        d.sort_by_key(|d| {
            d.primary_span()
                .map_or((u32::MAX, u32::MAX), |s| (s.file.0, s.start))
        });
        d
    }

    // ----- top level -------------------------------------------------------

    fn check_component(&mut self, items: &[Item], comp: &[usize], is_dup: &[bool], cyclic: bool) {
        let is_const = |i: &Item| {
            matches!(
                i,
                Item::Let { .. }
                    | Item::Data {
                        default: Some(_),
                        ..
                    }
            )
        };
        if cyclic {
            if let Some(&c) = comp.iter().find(|&&i| is_const(&items[i])) {
                let name = items[c].name();
                let msg = if comp.len() == 1 {
                    format!("the constant `{}` is defined in terms of itself", name.name)
                } else {
                    format!(
                        "the constant `{}` depends on itself through a cycle",
                        name.name
                    )
                };
                let mut d = Diagnostic::error(msg)
                    .with_code("E0312")
                    .with_primary(name.span, "cycle starts here");
                for &o in comp.iter().filter(|&&o| o != c) {
                    let n = items[o].name();
                    d = d.with_secondary(n.span, format!("`{}` is part of the cycle", n.name));
                }
                self.diags.push(d.with_help(
                    "constants are evaluated once, before the program runs; break the cycle or make the constant a `fn`",
                ));
            }
        }

        self.level += 1;
        // Monomorphic types first, so the members can use each other.
        let mut mono = Vec::with_capacity(comp.len());
        for &i in comp {
            let t = match &items[i] {
                Item::Fn(f) => {
                    let ps = f.params.iter().map(|p| self.param_type(p)).collect();
                    let r = match &f.ret {
                        Some(a) => self.convert(a),
                        None => self.fresh(),
                    };
                    Ty::func(ps, r)
                }
                Item::Let { ty: Some(a), .. } | Item::Data { ty: a, .. } => self.convert(a),
                Item::Let { ty: None, .. } => self.fresh(),
            };
            if !is_dup[i] {
                let name = items[i].name();
                self.globals.insert(
                    name.name.clone(),
                    Global {
                        ty: t.clone(),
                        span: name.span,
                    },
                );
            }
            mono.push(t);
        }
        for (k, &i) in comp.iter().enumerate() {
            let t = mono[k].clone();
            self.current.clear();
            match &items[i] {
                Item::Fn(f) => {
                    let Ty::Fn(ps, r) = t else {
                        unreachable!("fn items get function types")
                    };
                    self.bind_params(&f.params, &ps);
                    let ctx = f
                        .ret
                        .as_ref()
                        .map(|a| annotation_ctx(a.span(), &self.show(&r)))
                        .unwrap_or_default();
                    self.check(&f.body, &r, &ctx);
                    self.locals.clear();
                }
                Item::Let {
                    ty: Some(a), value, ..
                } => {
                    let ctx = annotation_ctx(a.span(), &self.show(&t));
                    self.check(value, &t, &ctx);
                }
                Item::Let {
                    ty: None, value, ..
                } => {
                    // Inferred, not checked, so an `if` reports its two
                    // branches against each other. (`t` is only constrained
                    // already when the constant is in a reported cycle.)
                    let vt = self.infer(value);
                    self.expect(value, &t, &vt, &Ctx::default());
                }
                Item::Data { ty, default, .. } => {
                    if let Some(d) = default {
                        let ctx = annotation_ctx(ty.span(), &self.show(&t));
                        self.check(d, &t, &ctx);
                    }
                }
            }
            let found = std::mem::take(&mut self.current);
            if !is_dup[i] {
                self.item_choices
                    .insert(items[i].name().name.clone(), found);
            }
        }
        self.level -= 1;
        self.s.generalize_all(&mono, self.level);
    }

    // ----- names and scopes ----------------------------------------------

    fn fresh(&mut self) -> Ty {
        self.s.fresh(Kind::Any, self.level)
    }

    fn fresh_num(&mut self) -> Ty {
        self.s.fresh(Kind::Num, self.level)
    }

    fn lookup(&mut self, name: &str) -> Option<Ty> {
        let t = if let Some(l) = self.locals.iter().rev().find(|l| l.name == name) {
            l.ty.clone()
        } else if let Some(g) = self.globals.get(name) {
            g.ty.clone()
        } else if let Some(t) = self.externs.get(name) {
            t.clone()
        } else {
            self.builtins.get(name)?.clone()
        };
        Some(self.s.instantiate(&t, self.level))
    }

    /// Whether a user binding hides the builtin of this name.
    fn user_defined(&self, name: &str) -> bool {
        self.locals.iter().any(|l| l.name == name) || self.globals.contains_key(name)
    }

    fn unknown_name(&mut self, name: &str, span: Span) {
        let locals: Vec<&str> = self.locals.iter().rev().map(|l| l.name.as_str()).collect();
        let mut globals: Vec<&str> = self
            .globals
            .keys()
            .map(|s| s.as_str())
            .chain(self.pending.iter().map(|s| s.as_str()))
            .collect();
        globals.sort_unstable();
        globals.dedup();
        let builtins = builtin_names();
        let mut externs: Vec<&str> = self.externs.keys().map(|s| s.as_str()).collect();
        externs.sort_unstable();
        let cands = locals
            .into_iter()
            .chain(globals)
            .chain(externs)
            .chain(builtins);
        let mut d = Diagnostic::error(format!("cannot find `{name}` in this scope"))
            .with_code("E0401")
            .with_primary(span, "not found in this scope");
        if self.binding.iter().any(|b| b == name) {
            d = d.with_help(format!(
                "a local `let` cannot refer to itself; make `{name}` a top-level `fn` to recurse"
            ));
        } else if name == "return" {
            d = d
                .with_help("Tyche has no `return`: a block's value is its final expression; end the block with the value, without `return` and without `;`");
        } else if let Some(s) = best_match(name, cands) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
    }

    fn push_local(&mut self, name: &Ident, ty: Ty) {
        self.locals.push(Local {
            name: name.name.clone(),
            ty,
        });
    }

    /// Reports a name bound twice in one parameter list or tuple pattern.
    fn check_distinct<'a>(&mut self, names: impl IntoIterator<Item = &'a Ident>, what: &str) {
        let mut seen: Vec<&Ident> = Vec::new();
        for n in names {
            if let Some(first) = seen.iter().find(|s| s.name == n.name) {
                self.diags.push(
                    Diagnostic::error(format!(
                        "identifier `{}` is bound more than once in this {what}",
                        n.name
                    ))
                    .with_code("E0403")
                    .with_primary(n.span, "used as a name more than once")
                    .with_secondary(first.span, "first bound here"),
                );
            } else {
                seen.push(n);
            }
        }
    }

    fn param_type(&mut self, p: &Param) -> Ty {
        match &p.ty {
            Some(a) => self.convert(a),
            None => self.fresh(),
        }
    }

    fn bind_params(&mut self, params: &[Param], tys: &[Ty]) {
        self.check_distinct(params.iter().map(|p| &p.name), "parameter list");
        for (p, t) in params.iter().zip(tys) {
            self.push_local(&p.name, t.clone());
        }
    }

    // ----- type annotations ------------------------------------------------

    fn convert(&mut self, t: &TypeExpr) -> Ty {
        match t {
            TypeExpr::Named(id) => match id.name.as_str() {
                "Int" => Ty::Int,
                "Real" => Ty::Real,
                "Bool" => Ty::Bool,
                "String" => Ty::Str,
                "Method" => Ty::Method,
                "Dist" => {
                    self.diags.push(
                        Diagnostic::error("missing type argument for `Dist`")
                            .with_code("E0313")
                            .with_primary(id.span, "expected `Dist<T>`")
                            .with_help("write the type of the values drawn, e.g. `Dist<Real>`"),
                    );
                    Ty::Error
                }
                other => {
                    let mut d =
                        Diagnostic::error(format!("cannot find type `{other}` in this scope"))
                            .with_code("E0313")
                            .with_primary(id.span, "not a known type");
                    let alias = match other {
                        "Float" | "float" | "Double" | "double" | "f64" | "f32" | "Number"
                        | "Num" => Some("Real"),
                        "Integer" | "integer" | "i64" | "i32" | "isize" | "usize" | "Nat" => {
                            Some("Int")
                        }
                        "Str" | "str" | "string" => Some("String"),
                        "Boolean" | "boolean" => Some("Bool"),
                        _ => best_match(other, ["Int", "Real", "Bool", "String", "Method"]),
                    };
                    if let Some(s) = alias {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    } else {
                        d = d.with_note("the types are `Int`, `Real`, `Bool`, `String`, `()`, `[T]`, tuples, `(T) -> U`, `Dist<T>` and `Method`");
                    }
                    self.diags.push(d);
                    Ty::Error
                }
            },
            TypeExpr::Unit(_) => Ty::Unit,
            TypeExpr::Array(e, _) => Ty::array(self.convert(e)),
            TypeExpr::Dist(e, _) => Ty::dist(self.convert(e)),
            TypeExpr::Tuple(ts, _) => Ty::Tuple(ts.iter().map(|t| self.convert(t)).collect()),
            TypeExpr::Record(fs, _) => Ty::record(
                fs.iter()
                    .map(|(n, t)| (n.name.clone(), self.convert(t)))
                    .collect(),
            ),
            TypeExpr::Fn(ps, r, _) => {
                let ps = ps.iter().map(|t| self.convert(t)).collect();
                Ty::func(ps, self.convert(r))
            }
        }
    }

    // ----- diagnostics helpers ---------------------------------------------

    fn show(&self, t: &Ty) -> String {
        Namer::new(&self.s).show(t)
    }

    fn record(&mut self, e: &Expr, t: &Ty) {
        let i = e.id.0 as usize;
        if self.expr_types.len() <= i {
            self.expr_types.resize(i + 1, None);
        }
        self.expr_types[i] = Some(t.clone());
    }

    /// Unifies `found` into `expected`, reporting a mismatch at `e`.
    /// Returns the type the context should continue with.
    fn expect(&mut self, e: &Expr, expected: &Ty, found: &Ty, ctx: &Ctx) -> Ty {
        match self.s.unify(expected, found) {
            Ok(()) => found.clone(),
            Err(err) => {
                self.mismatch(err, e, expected, found, ctx);
                expected.clone()
            }
        }
    }

    fn mismatch(&mut self, err: UnifyError, e: &Expr, expected: &Ty, found: &Ty, ctx: &Ctx) {
        let at = tail_expr(e);
        let mut d = self.unify_diag(err, at.span, expected, found, ctx.message.as_deref());
        if let Some((s, l)) = &ctx.label {
            d = d.with_secondary(*s, l.clone());
        }
        if let Some(h) = ctx
            .help
            .clone()
            .or_else(|| self.conversion_help(expected, found, at))
        {
            d = d.with_help(h);
        }
        self.diags.push(d);
    }

    fn unify_diag(
        &self,
        err: UnifyError,
        span: Span,
        expected: &Ty,
        found: &Ty,
        message: Option<&str>,
    ) -> Diagnostic {
        let mut n = Namer::new(&self.s);
        match err {
            UnifyError::Occurs(v, t) => {
                let (vs, ts) = (n.show(&Ty::Var(v)), n.show(&t));
                Diagnostic::error(format!("cannot construct the infinite type `{vs} = {ts}`"))
                    .with_code("E0303")
                    .with_primary(span, format!("this would need `{vs}` to contain itself"))
                    .with_note("a value cannot have a type that contains its own type, such as a function applied to itself")
            }
            UnifyError::NotComparable(t) => {
                let e = match self.s.resolve(expected) {
                    Ty::Var(_) => "a comparable type".to_string(),
                    _ => quote(&mut n, expected),
                };
                let (f, t) = (quote(&mut n, found), n.show(&t));
                Diagnostic::error(message.unwrap_or("mismatched types"))
                    .with_code("E0301")
                    .with_primary(span, format!("expected {e}, found {f}"))
                    .with_note(format!(
                        "this value is compared with `==`, but `{t}` is not comparable (functions, distributions and methods are not)"
                    ))
            }
            UnifyError::Mismatch | UnifyError::NotNumeric => {
                let (e, f) = (quote(&mut n, expected), quote(&mut n, found));
                Diagnostic::error(message.unwrap_or("mismatched types"))
                    .with_code("E0301")
                    .with_primary(span, format!("expected {e}, found {f}"))
            }
        }
    }

    /// The usual fix when an `Int` meets a `Real`: convert explicitly.
    fn conversion_help(&self, expected: &Ty, found: &Ty, e: &Expr) -> Option<String> {
        let var = match &e.kind {
            ExprKind::Var(n) => Some(n.as_str()),
            _ => None,
        };
        match (self.s.zonk(expected), self.s.zonk(found), var) {
            (Ty::Real, Ty::Int, Some(x)) => Some(format!("use `real({x})`")),
            (Ty::Real, Ty::Int, None) => {
                Some("an `Int` never converts to `Real` implicitly; use `real(…)`".into())
            }
            (Ty::Int, Ty::Real, Some(x)) => Some(format!("use `int({x})`")),
            (Ty::Array(a), Ty::Array(b), Some(x)) if *a == Ty::Real && *b == Ty::Int => {
                Some(format!("use `map({x}, real)`"))
            }
            _ => None,
        }
    }

    /// Unifies against a type of a known shape (array, function, …); when
    /// `found` is not of that shape at all, says so in words.
    fn expect_shape(
        &mut self,
        e: &Expr,
        found: &Ty,
        shape: &Ty,
        what: &str,
        message: &str,
    ) -> bool {
        match self.s.unify(shape, found) {
            Ok(()) => true,
            Err(err) => {
                let resolved = self.s.resolve(found);
                if same_head(&resolved, shape) || matches!(err, UnifyError::Occurs(..)) {
                    self.mismatch(err, e, shape, found, &Ctx::default());
                } else {
                    let f = quote(&mut Namer::new(&self.s), found);
                    self.diags.push(
                        Diagnostic::error(message)
                            .with_code("E0301")
                            .with_primary(tail_expr(e).span, format!("expected {what}, found {f}")),
                    );
                }
                false
            }
        }
    }

    // ----- expressions -----------------------------------------------------

    /// Checks `e` against `expected`, pushing the expectation inwards where
    /// that gives better errors or needed information.
    fn check(&mut self, e: &Expr, expected: &Ty, ctx: &Ctx) -> Ty {
        match &e.kind {
            ExprKind::Lambda(params, body) => {
                if let Ty::Fn(ps, r) = self.s.resolve(expected) {
                    let t = if ps.len() == params.len() {
                        self.lambda(params, body, Some((&ps, &r)))
                    } else {
                        // Say "wrong number of parameters", not two long types.
                        let t = self.lambda(params, body, None);
                        let want = self.show(expected);
                        let mut d = Diagnostic::error(
                            ctx.message
                                .clone()
                                .unwrap_or_else(|| "mismatched types".into()),
                        )
                        .with_code("E0301")
                        .with_primary(
                            e.span,
                            format!(
                                "expected a function taking {}, found one taking {}",
                                count(ps.len(), "argument"),
                                params.len()
                            ),
                        )
                        .with_note(format!("the expected type is `{want}`"));
                        if let Some((s, l)) = &ctx.label {
                            d = d.with_secondary(*s, l.clone());
                        }
                        self.diags.push(d);
                        self.record(e, &t);
                        return expected.clone();
                    };
                    self.record(e, &t);
                    return self.expect(e, expected, &t, ctx);
                }
            }
            ExprKind::Block(stmts, tail) => {
                let mark = self.locals.len();
                stmts.iter().for_each(|s| self.stmt(s));
                let t = match tail {
                    Some(t) => self.check(t, expected, ctx),
                    None => self.expect(e, expected, &Ty::Unit, ctx),
                };
                self.locals.truncate(mark);
                self.record(e, &t);
                return t;
            }
            ExprKind::If(c, then, Some(els)) if !matches!(self.s.resolve(expected), Ty::Var(_)) => {
                self.condition(c);
                self.check(then, expected, ctx);
                self.check(els, expected, ctx);
                self.record(e, expected);
                return expected.clone();
            }
            _ => {}
        }
        let t = self.infer(e);
        self.expect(e, expected, &t, ctx)
    }

    fn infer(&mut self, e: &Expr) -> Ty {
        let t = self.infer_kind(e);
        self.record(e, &t);
        t
    }

    fn infer_kind(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Int(_) => self.fresh_num(),
            ExprKind::Real(_) => Ty::Real,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Str(_) => Ty::Str,
            ExprKind::Unit => Ty::Unit,
            ExprKind::Error => Ty::Error,
            ExprKind::Var(name) => match self.lookup(name) {
                Some(t) => t,
                None => {
                    self.unknown_name(name, e.span);
                    Ty::Error
                }
            },
            ExprKind::Block(stmts, tail) => {
                let mark = self.locals.len();
                stmts.iter().for_each(|s| self.stmt(s));
                let t = match tail {
                    Some(t) => self.infer(t),
                    None => Ty::Unit,
                };
                self.locals.truncate(mark);
                t
            }
            ExprKind::If(c, then, els) => {
                self.condition(c);
                match els {
                    Some(els) => {
                        let tt = self.infer(then);
                        let ctx = Ctx {
                            message: Some("`if` and `else` have incompatible types".into()),
                            label: Some((tail_expr(then).span, "expected because of this".into())),
                            help: None,
                        };
                        self.check(els, &tt, &ctx)
                    }
                    None => {
                        let ctx = Ctx {
                            help: Some("an `if` without an `else` has type `()`; add an `else` branch or end the branch with `;`".into()),
                            ..Ctx::default()
                        };
                        self.check(then, &Ty::Unit, &ctx);
                        Ty::Unit
                    }
                }
            }
            ExprKind::For(x, iter, body) => {
                let it = self.infer(iter);
                let elem = self.fresh();
                self.expect_shape(
                    iter,
                    &it,
                    &Ty::array(elem.clone()),
                    "an array",
                    "`for` loops iterate over arrays",
                );
                let mark = self.locals.len();
                self.push_local(x, elem);
                self.infer(body);
                self.locals.truncate(mark);
                Ty::Unit
            }
            ExprKind::Range(a, b) => {
                self.check(a, &Ty::Int, &Ctx::default());
                self.check(b, &Ty::Int, &Ctx::default());
                Ty::array(Ty::Int)
            }
            ExprKind::Lambda(params, body) => self.lambda(params, body, None),
            ExprKind::Call(f, args) => self.call(e, f, args),
            ExprKind::Array(es) => {
                let Some((first, rest)) = es.split_first() else {
                    return Ty::array(self.fresh());
                };
                let t = self.infer(first);
                let ctx = Ctx {
                    label: Some((
                        tail_expr(first).span,
                        "expected because of the first element".into(),
                    )),
                    help: Some(
                        "all elements of an array have one type; use a tuple for mixed values"
                            .into(),
                    ),
                    ..Ctx::default()
                };
                for x in rest {
                    self.check(x, &t, &ctx);
                }
                Ty::array(t)
            }
            ExprKind::Tuple(es) => Ty::Tuple(es.iter().map(|x| self.infer(x)).collect()),
            ExprKind::Index(a, i) => {
                let at = self.infer(a);
                let elem = self.fresh();
                let ok = self.expect_shape(
                    a,
                    &at,
                    &Ty::array(elem.clone()),
                    "an array",
                    "cannot index into this value",
                );
                self.check(i, &Ty::Int, &Ctx::default());
                if ok {
                    elem
                } else {
                    Ty::Error
                }
            }
            ExprKind::Field(t, n, fspan) => self.field(t, *n, *fspan),
            ExprKind::Record(fs) => {
                // Fields are evaluated as written; the type sorts them.
                let fields = fs
                    .iter()
                    .map(|(n, x)| (n.name.clone(), self.infer(x)))
                    .collect();
                Ty::record(fields)
            }
            ExprKind::Member(r, n) => self.member(r, n),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r),
            ExprKind::Unary(UnOp::Not, x) => {
                self.check(x, &Ty::Bool, &Ctx::default());
                Ty::Bool
            }
            ExprKind::Unary(UnOp::Neg, x) => {
                let t = self.infer(x);
                if self.require_numeric("unary `-`", x, &t) {
                    t
                } else {
                    Ty::Error
                }
            }
            ExprKind::Surgery(kind, m, args) => self.surgery(*kind, m, args),
        }
    }

    /// `if`/`condition` tests.
    fn condition(&mut self, c: &Expr) {
        self.check(c, &Ty::Bool, &Ctx::default());
    }

    fn lambda(&mut self, params: &[Param], body: &Expr, hint: Option<(&[Ty], &Ty)>) -> Ty {
        let mark = self.locals.len();
        let mut ps = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            let t = self.param_type(p);
            if let Some((hs, _)) = hint {
                // Only to learn the parameter's type early; a conflict is
                // reported when the whole lambda is compared below.
                let _ = self.s.unify(&t, &hs[i]);
            }
            ps.push(t);
        }
        self.bind_params(params, &ps);
        let r = match hint {
            Some((_, r)) => self.check(body, r, &Ctx::default()),
            None => self.infer(body),
        };
        self.locals.truncate(mark);
        Ty::func(ps, r)
    }

    fn call(&mut self, e: &Expr, f: &Expr, args: &[Expr]) -> Ty {
        if let ExprKind::Var(name) = &f.kind {
            if name == "sample" && !self.user_defined("sample") {
                return self.sample_call(e, f, args);
            }
        }
        let ft = self.infer(f);
        let (ps, r) = match self.s.resolve(&ft) {
            Ty::Fn(ps, r) => (ps.to_vec(), (*r).clone()),
            Ty::Var(v) if self.s.var_info(v).is_some_and(|(k, _)| k != Kind::Num) => {
                let ps: Vec<Ty> = args.iter().map(|_| self.fresh()).collect();
                let r = self.fresh();
                let want = Ty::func(ps.clone(), r.clone());
                if let Err(err) = self.s.unify(&want, &ft) {
                    self.mismatch(err, f, &want, &ft, &Ctx::default());
                }
                (ps, r)
            }
            Ty::Error => {
                args.iter().for_each(|a| {
                    self.infer(a);
                });
                return Ty::Error;
            }
            _ => {
                let shown = a_value_of(&mut Namer::new(&self.s), &ft);
                self.diags.push(
                    Diagnostic::error(format!("cannot call {shown}"))
                        .with_code("E0306")
                        .with_primary(f.span, "this is not a function"),
                );
                args.iter().for_each(|a| {
                    self.infer(a);
                });
                return Ty::Error;
            }
        };
        if ps.len() != args.len() {
            let mut d = Diagnostic::error(format!(
                "this function takes {} but {} supplied",
                count(ps.len(), "argument"),
                if args.len() == 1 {
                    "1 was".to_string()
                } else {
                    format!("{} were", args.len())
                }
            ))
            .with_code("E0302")
            .with_primary(e.span, format!("expected {}", count(ps.len(), "argument")));
            if let ExprKind::Var(name) = &f.kind {
                if !self.locals.iter().any(|l| &l.name == name) {
                    if let Some(g) = self.globals.get(name) {
                        d = d.with_secondary(g.span, format!("`{name}` defined here"));
                    }
                }
                d = d.with_note(format!("`{name}` has type `{}`", self.show(&ft)));
            }
            self.diags.push(d);
            args.iter().for_each(|a| {
                self.infer(a);
            });
            return r;
        }
        for (a, p) in args.iter().zip(&ps) {
            self.check(a, p, &Ctx::default());
        }
        r
    }

    /// `sample(D)` or `sample("name", D)`: overloaded by arity, and the name
    /// must be static so the choice's address is known before running.
    fn sample_call(&mut self, e: &Expr, f: &Expr, args: &[Expr]) -> Ty {
        let v = self.fresh();
        let d = Ty::dist(v.clone());
        match args {
            [dist] => {
                self.record(f, &Ty::func(vec![d.clone()], v.clone()));
                let dt = self.infer(dist);
                self.expect_shape(dist, &dt, &d, "a distribution", "mismatched types");
                v
            }
            [name, dist] => {
                self.record(f, &Ty::func(vec![Ty::Str, d.clone()], v.clone()));
                let lit = match &name.kind {
                    ExprKind::Str(s) => Some(s.clone()),
                    _ => None,
                };
                self.check(name, &Ty::Str, &Ctx::default());
                if lit.is_none() {
                    self.diags.push(
                        Diagnostic::error("the choice name must be a string literal")
                            .with_code("E0310")
                            .with_primary(name.span, "not a string literal")
                            .with_help("choice names are fixed when the program is written, e.g. `sample(\"x\", Normal(0.0, 1.0))`"),
                    );
                }
                let dt = self.infer(dist);
                self.expect_shape(dist, &dt, &d, "a distribution", "mismatched types");
                if let Some(n) = lit {
                    self.record_choice(&n, &v, name.span);
                }
                v
            }
            _ => {
                let t = self.builtins["sample"].clone();
                let t = self.s.instantiate(&t, self.level);
                self.record(f, &t);
                self.diags.push(
                    Diagnostic::error(format!(
                        "this function takes 1 or 2 arguments but {} supplied",
                        if args.len() == 1 {
                            "1 was".to_string()
                        } else {
                            format!("{} were", args.len())
                        }
                    ))
                    .with_code("E0302")
                    .with_primary(e.span, "expected 1 or 2 arguments")
                    .with_note(
                        "`sample(D)` draws anonymously; `sample(\"name\", D)` names the choice",
                    ),
                );
                args.iter().for_each(|a| {
                    self.infer(a);
                });
                v
            }
        }
    }

    /// Records a named choice of the item being checked. Within one item
    /// (its body and its lambdas) a name has one type: every model that
    /// runs the item would otherwise make the choice at two types. Across
    /// items a name's type is per model, checked where surgery names it.
    fn record_choice(&mut self, name: &str, t: &Ty, span: Span) {
        if let Some(prev) = self.current.iter().find(|c| c.name == name).cloned() {
            let pt = self.s.instantiate(&prev.ty, self.level);
            if self.s.unify(&pt, t).is_err() {
                let mut n = Namer::new(&self.s);
                let (here, there) = (has_type(&mut n, t), has_type(&mut n, &pt));
                self.diags.push(
                    Diagnostic::error(format!(
                        "the random choice `{name}` is used with two different types"
                    ))
                    .with_code("E0311")
                    .with_primary(span, format!("here `{name}` {here}"))
                    .with_secondary(prev.span, format!("but here it {there}"))
                    .with_help(
                        "a choice name has one type in each model, and every model that runs this code would make both; rename one of them",
                    ),
                );
            }
        }
        self.current.push(ChoiceSite {
            name: name.to_string(),
            ty: t.clone(),
            span,
        });
        self.choices
            .entry(name.to_string())
            .or_insert_with(|| t.clone());
    }

    fn field(&mut self, t: &Expr, n: u32, fspan: Span) -> Ty {
        let tt = self.infer(t);
        match self.s.resolve(&tt) {
            Ty::Tuple(ts) => match ts.get(n as usize) {
                Some(x) => x.clone(),
                None => {
                    let shown = self.show(&tt);
                    self.diags.push(
                        Diagnostic::error(format!("no field `{n}` on type `{shown}`"))
                            .with_code("E0305")
                            .with_primary(fspan, "unknown field")
                            .with_note(format!(
                                "this tuple has {}, numbered from 0",
                                count(ts.len(), "field")
                            )),
                    );
                    Ty::Error
                }
            },
            Ty::Error => Ty::Error,
            Ty::Var(v) if self.s.var_info(v).is_some_and(|(k, _)| k != Kind::Num) => {
                self.diags.push(
                    Diagnostic::error("type annotations needed")
                        .with_code("E0304")
                        .with_primary(t.span, format!("the type of this value must be known here to access field `.{n}`"))
                        .with_help("annotate the tuple's type where it is bound, e.g. `|p: (Int, Real)| p.0`"),
                );
                Ty::Error
            }
            _ => {
                let mut namer = Namer::new(&self.s);
                let (shown, has) = (a_value_of(&mut namer, &tt), has_type(&mut namer, &tt));
                self.diags.push(
                    Diagnostic::error(format!("no field `{n}` on {shown}"))
                        .with_code("E0305")
                        .with_primary(fspan, "unknown field")
                        .with_secondary(t.span, format!("this {has}, not a tuple")),
                );
                Ty::Error
            }
        }
    }

    /// `r.name` on a record.
    fn member(&mut self, r: &Expr, n: &Ident) -> Ty {
        let rt = self.infer(r);
        match self.s.resolve(&rt) {
            Ty::Record(ns, ts) => match ns.iter().position(|x| *x == n.name) {
                Some(i) => ts[i].clone(),
                None => {
                    let shown = self.show(&rt);
                    let mut d =
                        Diagnostic::error(format!("no field `{}` on type `{shown}`", n.name))
                            .with_code("E0305")
                            .with_primary(n.span, "unknown field");
                    if let Some(b) = best_match(&n.name, ns.iter().map(|s| s.as_str())) {
                        d = d.with_help(format!("did you mean `{b}`?"));
                    }
                    self.diags.push(d);
                    Ty::Error
                }
            },
            Ty::Error => Ty::Error,
            Ty::Var(v) if self.s.var_info(v).is_some_and(|(k, _)| k != Kind::Num) => {
                self.diags.push(
                    Diagnostic::error("type annotations needed")
                        .with_code("E0304")
                        .with_primary(r.span, format!("the type of this value must be known here to access field `.{}`", n.name))
                        .with_help("annotate the record's type where it is bound, e.g. `|p: {mu: Real}| p.mu`"),
                );
                Ty::Error
            }
            _ => {
                let mut namer = Namer::new(&self.s);
                let (shown, has) = (a_value_of(&mut namer, &rt), has_type(&mut namer, &rt));
                self.diags.push(
                    Diagnostic::error(format!("no field `{}` on {shown}", n.name))
                        .with_code("E0305")
                        .with_primary(n.span, "unknown field")
                        .with_secondary(r.span, format!("this {has}, not a record")),
                );
                Ty::Error
            }
        }
    }

    fn require_numeric(&mut self, op: &str, e: &Expr, t: &Ty) -> bool {
        let n = self.fresh_num();
        if self.s.unify(&n, t).is_ok() {
            return true;
        }
        let shown = quote(&mut Namer::new(&self.s), t);
        self.diags.push(
            Diagnostic::error(format!(
                "cannot apply {op} to {}",
                a_value_of(&mut Namer::new(&self.s), t)
            ))
            .with_code("E0307")
            .with_primary(
                tail_expr(e).span,
                format!("expected `Int` or `Real`, found {shown}"),
            ),
        );
        false
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr) -> Ty {
        use BinOp::*;
        let sym = format!("`{}`", op.symbol());
        match op {
            And | Or => {
                self.check(l, &Ty::Bool, &Ctx::default());
                self.check(r, &Ty::Bool, &Ctx::default());
                Ty::Bool
            }
            Eq | Ne => {
                let lt = self.infer(l);
                let rt = self.infer(r);
                if self.same_operands(&sym, l, &lt, r, &rt) {
                    let q = self.s.fresh(Kind::Eq, self.level);
                    if let Err(UnifyError::NotComparable(bad)) = self.s.unify(&q, &lt) {
                        let mut n = Namer::new(&self.s);
                        let (whole, bad) = (n.show(&lt), n.show(&bad));
                        let mut d = Diagnostic::error(format!(
                            "values of type `{whole}` cannot be compared with {sym}"
                        ))
                        .with_code("E0308")
                        .with_primary(tail_expr(l).span, format!("this has type `{whole}`"));
                        if whole != bad {
                            d = d.with_note(format!("`{bad}` is not comparable"));
                        }
                        self.diags.push(d.with_note(
                            "functions, distributions and inference methods cannot be compared",
                        ));
                    }
                }
                Ty::Bool
            }
            Lt | Le | Gt | Ge | Add | Sub | Mul | Div | Rem | Pow => {
                let lt = self.infer(l);
                let rt = self.infer(r);
                // One message per operator: the right operand is only
                // judged once the left one makes sense.
                let lok = self.require_numeric(&sym, l, &lt);
                let rok = lok && self.require_numeric(&sym, r, &rt);
                if lok && rok {
                    self.same_operands(&sym, l, &lt, r, &rt);
                }
                match op {
                    Lt | Le | Gt | Ge => Ty::Bool,
                    _ if lok => lt,
                    _ if rok => rt,
                    _ => Ty::Error,
                }
            }
        }
    }

    /// Both operands of a binary operator have one type.
    fn same_operands(&mut self, sym: &str, l: &Expr, lt: &Ty, r: &Expr, rt: &Ty) -> bool {
        let Err(err) = self.s.unify(lt, rt) else {
            return true;
        };
        let (lz, rz) = (self.s.zonk(lt), self.s.zonk(rt));
        let mut d = self.unify_diag(err, tail_expr(r).span, lt, rt, None);
        let shown = quote(&mut Namer::new(&self.s), lt);
        d = d
            .with_secondary(tail_expr(l).span, format!("this operand has type {shown}"))
            .with_note(format!("both operands of {sym} must have the same type"));
        // The usual culprit: an `Int` variable meeting a `Real`.
        let int_side = match (&lz, &rz) {
            (Ty::Int, Ty::Real) => Some(l),
            (Ty::Real, Ty::Int) => Some(r),
            _ => None,
        };
        if let Some(side) = int_side {
            d = d.with_help(match &tail_expr(side).kind {
                ExprKind::Var(x) => format!("use `real({x})`"),
                _ => "an `Int` never converts to `Real` implicitly; use `real(…)`".to_string(),
            });
        }
        self.diags.push(d);
        false
    }

    fn surgery(&mut self, kind: SurgeryKind, m: &Expr, args: &[SurgeryArg]) -> Ty {
        // The choices a lambda given as the model makes are recorded while
        // it is inferred; a named model's are those of the items it reaches.
        let mark = self.current.len();
        let mt = self.infer(m);
        let own: Vec<ChoiceSite> = self.current[mark..].to_vec();
        let ret = self.fresh();
        let model = Ty::func(vec![], ret.clone());
        let ok = self.expect_shape(
            m,
            &mt,
            &model,
            "a model (a zero-argument function)",
            &format!("`{}` needs a model", kind.keyword()),
        );
        let known = self.model_choices(m, own);
        let model_name = surgery_model_name(m);
        for a in args {
            let vt = self.infer(&a.value);
            let Some(known) = &known else { continue };
            let name = &a.name.name;
            let sites: Vec<&ChoiceSite> = known.iter().filter(|c| &c.name == name).collect();
            // An unknown name is reported by lowering (E0804), which sees
            // the code the surgery copies.
            let Some(first) = sites.first() else { continue };
            let ct = self.s.instantiate(&first.ty, self.level);
            let mut conflict = None;
            for c in &sites[1..] {
                let t = self.s.instantiate(&c.ty, self.level);
                let mut scratch = self.s.clone();
                if scratch.unify(&ct, &t).is_ok() {
                    self.s = scratch;
                } else {
                    conflict = Some((*c, t));
                    break;
                }
            }
            if let Some((other, ot)) = conflict {
                // Labelled in source order.
                let key = |s: Span| (s.file.0, s.start);
                let ((a1, t1), (a2, t2)) = if key(other.span) < key(first.span) {
                    ((other, ot), (*first, ct))
                } else {
                    ((*first, ct), (other, ot))
                };
                let mut n = Namer::new(&self.s);
                let (t1, t2) = (has_type(&mut n, &t1), has_type(&mut n, &t2));
                self.diags.push(
                    Diagnostic::error(format!(
                        "the random choice `{name}` has two different types in {model_name}"
                    ))
                    .with_code("E0311")
                    .with_primary(
                        a.name.span,
                        format!("which `{name}` this `{}` edits is ambiguous", kind.keyword()),
                    )
                    .with_secondary(a1.span, format!("here `{name}` {t1}"))
                    .with_secondary(a2.span, format!("and here it {t2}"))
                    .with_help(format!(
                        "rename one of them: a choice name has one type in each model, and {model_name} reaches both"
                    )),
                );
                continue;
            }
            if let Err(err) = self.s.unify(&ct, &vt) {
                let shown = self.show(&ct);
                let ctx = Ctx {
                    message: Some(format!(
                        "mismatched types for the random choice `{name}` of {model_name}"
                    )),
                    label: Some((
                        first.span,
                        format!("the random choice `{name}` has type `{shown}` in {model_name}"),
                    )),
                    help: None,
                };
                self.mismatch(err, &a.value, &ct, &vt, &ctx);
                if let Some(d) = self.diags.last_mut() {
                    d.code = Some("E0805".into());
                }
            }
        }
        if ok {
            model
        } else {
            Ty::Error
        }
    }

    /// The named choices the model of a surgery can make: those of the
    /// lambda itself (`own`) and of every item it reaches. `None` when the
    /// model is not statically known (lowering reports that).
    fn model_choices(&self, m: &Expr, own: Vec<ChoiceSite>) -> Option<Vec<ChoiceSite>> {
        let mut inner = m;
        while let ExprKind::Surgery(_, x, _) = &inner.kind {
            inner = x;
        }
        match &inner.kind {
            ExprKind::Var(n) if self.locals.iter().any(|l| &l.name == n) => return None,
            ExprKind::Var(n) if !self.globals.contains_key(n) => return None,
            ExprKind::Var(_) | ExprKind::Lambda(..) => {}
            _ => return None,
        }
        let mut roots: Vec<String> = expr_free_names(inner)
            .into_iter()
            .filter(|n| !self.locals.iter().any(|l| &l.name == n))
            .collect();
        roots.sort_unstable();
        // Breadth first from the model, so its own choices come first.
        let mut queue: std::collections::VecDeque<String> = roots.into();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut out = own;
        while let Some(n) = queue.pop_front() {
            if !self.globals.contains_key(&n) || !seen.insert(n.clone()) {
                continue;
            }
            if let Some(cs) = self.item_choices.get(&n) {
                out.extend(cs.iter().cloned());
            }
            if let Some(refs) = self.item_refs.get(&n) {
                queue.extend(refs.iter().cloned());
            }
        }
        Some(out)
    }

    // ----- statements ------------------------------------------------------

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Expr(e) => {
                self.infer(e);
            }
            Stmt::Let {
                name, ty, value, ..
            } => {
                self.level += 1;
                self.binding.push(name.name.clone());
                let t = match ty {
                    Some(a) => {
                        let at = self.convert(a);
                        let ctx = annotation_ctx(a.span(), &self.show(&at));
                        self.check(value, &at, &ctx);
                        at
                    }
                    None => self.infer(value),
                };
                self.binding.pop();
                self.level -= 1;
                self.s.generalize_all(std::slice::from_ref(&t), self.level);
                self.push_local(name, t);
            }
            Stmt::LetTuple { names, value, span } => {
                self.check_distinct(names, "pattern");
                self.level += 1;
                let vt = self.infer(value);
                let n = names.len();
                let parts = match self.s.resolve(&vt) {
                    Ty::Tuple(ts) if ts.len() == n => ts.to_vec(),
                    Ty::Error => vec![Ty::Error; n],
                    Ty::Var(v) if self.s.var_info(v).is_some_and(|(k, _)| k != Kind::Num) => {
                        let ts: Vec<Ty> = (0..n).map(|_| self.fresh()).collect();
                        let _ = self.s.unify(&vt, &Ty::Tuple(ts.clone().into()));
                        ts
                    }
                    _ => {
                        let shown = quote(&mut Namer::new(&self.s), &vt);
                        self.diags.push(
                            Diagnostic::error("mismatched types")
                                .with_code("E0309")
                                .with_primary(
                                    tail_expr(value).span,
                                    format!(
                                        "expected a tuple of {}, found {shown}",
                                        count(n, "element")
                                    ),
                                )
                                .with_secondary(
                                    match (names.first(), names.last()) {
                                        (Some(a), Some(b)) => a.span.to(b.span),
                                        _ => *span,
                                    },
                                    format!("this pattern has {}", count(n, "name")),
                                ),
                        );
                        vec![Ty::Error; n]
                    }
                };
                self.level -= 1;
                self.s.generalize_all(&parts, self.level);
                for (x, t) in names.iter().zip(parts) {
                    self.push_local(x, t);
                }
            }
            Stmt::Sample { name, ty, dist, .. } => {
                let v = match ty {
                    Some(a) => {
                        let at = self.convert(a);
                        let ctx = annotation_ctx(a.span(), &self.show(&at));
                        self.check(dist, &Ty::dist(at.clone()), &ctx);
                        at
                    }
                    None => {
                        let v = self.fresh();
                        let dt = self.infer(dist);
                        self.expect_shape(
                            dist,
                            &dt,
                            &Ty::dist(v.clone()),
                            "a distribution",
                            "mismatched types",
                        );
                        v
                    }
                };
                self.record_choice(&name.name, &v, name.span);
                self.push_local(name, v);
            }
        }
    }
}

/// How diagnostics name the model of a surgery: `` `gauss` `` for a named
/// one (through nested surgeries), "this lambda" for a lambda.
fn surgery_model_name(m: &Expr) -> String {
    match &m.kind {
        ExprKind::Surgery(_, x, _) => surgery_model_name(x),
        ExprKind::Var(n) => format!("`{n}`"),
        _ => "this lambda".to_string(),
    }
}

fn annotation_ctx(span: Span, shown: &str) -> Ctx {
    Ctx {
        label: Some((
            span,
            format!("expected `{shown}` because of this annotation"),
        )),
        ..Ctx::default()
    }
}

/// Where a value really comes from: the tail of a block, so a mismatch
/// points at `true` in `{ let x = 1; true }`, not at the whole block.
fn tail_expr(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Block(_, Some(t)) => tail_expr(t),
        _ => e,
    }
}

/// `` `T` `` in backquotes, or "a number" for an undecided numeric type.
fn quote(n: &mut Namer, t: &Ty) -> String {
    let s = n.show(t);
    if s == "{number}" {
        "a number".to_string()
    } else {
        format!("`{s}`")
    }
}

/// "a value of type `T`", or "a number" for an undecided numeric type.
fn a_value_of(n: &mut Namer, t: &Ty) -> String {
    match quote(n, t) {
        q if q.starts_with('`') => format!("a value of type {q}"),
        q => q,
    }
}

/// "has type `T`", or "is a number" for an undecided numeric type.
fn has_type(n: &mut Namer, t: &Ty) -> String {
    match quote(n, t) {
        q if q.starts_with('`') => format!("has type {q}"),
        q => format!("is {q}"),
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Whether two types have the same outermost constructor (and arity).
fn same_head(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Fn(p, _), Ty::Fn(q, _)) => p.len() == q.len(),
        (Ty::Tuple(p), Ty::Tuple(q)) => p.len() == q.len(),
        (Ty::Record(m, _), Ty::Record(n, _)) => m == n,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Converts a runtime type to the checker's, quantifying its variables
/// (one generic variable per distinct `Type::Var`).
fn import_type(s: &mut Subst, t: &tyche_ir::Type, vars: &mut HashMap<u32, Ty>) -> Ty {
    use tyche_ir::Type;
    match t {
        Type::Int => Ty::Int,
        Type::Real => Ty::Real,
        Type::Bool => Ty::Bool,
        Type::Str => Ty::Str,
        Type::Unit => Ty::Unit,
        Type::Method => Ty::Method,
        Type::Array(e) => Ty::array(import_type(s, e, vars)),
        Type::Dist(e) => Ty::dist(import_type(s, e, vars)),
        Type::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| import_type(s, t, vars)).collect()),
        Type::Record(fs) => Ty::record(
            fs.iter()
                .map(|(n, t)| (n.clone(), import_type(s, t, vars)))
                .collect(),
        ),
        Type::Fn(ps, r) => {
            let ps = ps.iter().map(|t| import_type(s, t, vars)).collect();
            Ty::func(ps, import_type(s, r, vars))
        }
        Type::Var(v) => vars
            .entry(*v)
            .or_insert_with(|| s.generic(Kind::Any))
            .clone(),
    }
}
