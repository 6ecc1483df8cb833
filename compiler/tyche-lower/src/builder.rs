//! The lowering pass proper: one [`Lowerer`] per program, one [`FnCtx`]
//! per function being emitted (lambdas nest, so contexts form a stack).

use crate::free_vars::free_vars;
use std::collections::{HashMap, HashSet};
use tyche_core::{Diagnostic, SourceMap, Span};
use tyche_dist::DistKind;
use tyche_ir::surgery::{self, SurgeryEdit, SurgeryError};
use tyche_ir::{
    BinOp as IrBin, Callee, Const, EditKind, FuncId, Function, Global, GlobalId, GlobalKind, Instr,
    Intrinsic, Prim, Reg, Site, SiteId, SiteKind, Type, UnOp as IrUn,
};
use tyche_syntax::ast::{self, BinOp, Expr, ExprKind, Item, Stmt, UnOp};
use tyche_types::TypeInfo;

/// A function under construction.
struct FnCtx {
    func: FuncId,
    code: Vec<Instr>,
    spans: Vec<Span>,
    regs: u32,
    /// Visible local bindings, innermost last.
    scopes: Vec<(String, Reg)>,
}

impl FnCtx {
    fn lookup(&self, name: &str) -> Option<Reg> {
        self.scopes
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, r)| *r)
    }
}

/// What a name refers to.
enum Resolved {
    Local(Reg),
    Func(FuncId),
    Global(GlobalId),
    Builtin(Builtin),
    Unknown,
}

#[derive(Clone, Copy)]
enum Builtin {
    Prim(Prim),
    Intrinsic(Intrinsic),
    Dist(DistKind),
    /// sample, observe, factor, condition, infer: sites and effects.
    Special(&'static str),
    /// A host function, by index in `Program::foreign`.
    Foreign(u32),
}

fn builtin(name: &str) -> Option<Builtin> {
    if let Some(p) = Prim::from_name(name) {
        return Some(Builtin::Prim(p));
    }
    if let Some(i) = Intrinsic::from_name(name) {
        return Some(Builtin::Intrinsic(i));
    }
    if let Some(d) = DistKind::from_name(name) {
        return Some(Builtin::Dist(d));
    }
    ["sample", "observe", "factor", "condition", "infer"]
        .into_iter()
        .find(|s| *s == name)
        .map(Builtin::Special)
}

pub struct Lowerer<'a> {
    ast: &'a ast::Program,
    types: &'a TypeInfo,
    sources: &'a SourceMap,
    ir: tyche_ir::Program,
    fn_ids: HashMap<String, FuncId>,
    global_ids: HashMap<String, GlobalId>,
    /// Closures wrapping built-ins used as values (`map(xs, exp)`).
    wrappers: HashMap<String, FuncId>,
    stack: Vec<FnCtx>,
    surgeries: Vec<PendingSurgery>,
    diags: Vec<Diagnostic>,
    /// Host functions by name (indices into `ir.foreign`).
    foreign: HashMap<String, u32>,
}

/// A `do`/`condition` whose copy is made once all code exists.
struct PendingSurgery {
    /// The function id reserved for the transformed model.
    slot: FuncId,
    root: FuncId,
    kind: ast::SurgeryKind,
    edits: Vec<(SurgeryEdit, Type, Span)>,
    span: Span,
}

/// The user-facing message for a surgery that cannot apply.
pub fn surgery_diagnostic(err: &SurgeryError, model: &str, span: Span) -> Diagnostic {
    match err {
        SurgeryError::UnknownName { name, known } => {
            let mut d = Diagnostic::error(format!("no random choice named `{name}` in `{model}`"))
                .with_code("E0804")
                .with_primary(span, "no such choice");
            if let Some(best) =
                tyche_core::suggest::best_match(name, known.iter().map(|s| s.as_str()))
            {
                d = d.with_help(format!("did you mean `{best}`?"));
            } else if known.is_empty() {
                d = d.with_note(format!("`{model}` makes no random choices"));
            } else {
                d = d.with_note(format!(
                    "the choices of `{model}` are: {}",
                    known.join(", ")
                ));
            }
            d
        }
        SurgeryError::WrongType {
            name,
            expected,
            found,
        } => Diagnostic::error(format!(
            "mismatched types for the random choice `{name}` of `{model}`"
        ))
        .with_code("E0805")
        .with_primary(
            span,
            format!("the choice `{name}` is {expected} in `{model}`, but the value is {found}"),
        ),
        SurgeryError::Ambiguous {
            name,
            types: (a, b),
        } => Diagnostic::error(format!(
            "the random choice `{name}` has two different types in `{model}`"
        ))
        .with_code("E0311")
        .with_primary(span, format!("`{name}` is {a} in one place and {b} in another"))
        .with_help(format!(
            "rename one of them: a choice name has one type in each model, and `{model}` reaches both"
        )),
    }
}

impl<'a> Lowerer<'a> {
    pub fn new(ast: &'a ast::Program, types: &'a TypeInfo, sources: &'a SourceMap) -> Self {
        Lowerer {
            ast,
            types,
            sources,
            ir: tyche_ir::Program::default(),
            fn_ids: HashMap::new(),
            global_ids: HashMap::new(),
            wrappers: HashMap::new(),
            stack: Vec::new(),
            surgeries: Vec::new(),
            diags: Vec::new(),
            foreign: HashMap::new(),
        }
    }

    /// Makes host functions callable: calls to these names (unless
    /// shadowed by a user item or local) become [`Instr::Foreign`].
    pub fn with_foreign(mut self, foreign: &[tyche_ir::Foreign]) -> Self {
        self.foreign = foreign
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i as u32))
            .collect();
        self.ir.foreign = foreign.to_vec();
        self
    }

    pub fn run(mut self) -> (tyche_ir::Program, Vec<Diagnostic>) {
        // Reserve ids first: items may refer to each other in any order.
        for item in &self.ast.items {
            if let Item::Fn(f) = item {
                let ty = self
                    .types
                    .items
                    .get(&f.name.name)
                    .cloned()
                    .unwrap_or(Type::Unit);
                let id = self.reserve(&f.name.name, f.params.len() as u32, 0, f.span, ty);
                self.fn_ids.insert(f.name.name.clone(), id);
            }
        }
        let order = self.global_order();
        for &i in &order {
            let (name, ty, span) = match &self.ast.items[i] {
                Item::Let { name, span, .. } | Item::Data { name, span, .. } => (
                    name.name.clone(),
                    self.types
                        .items
                        .get(&name.name)
                        .cloned()
                        .unwrap_or(Type::Unit),
                    *span,
                ),
                Item::Fn(_) => continue,
            };
            let id = GlobalId(self.ir.globals.len() as u32);
            self.global_ids.insert(name.clone(), id);
            // Placeholder kind; initialisers are lowered below.
            self.ir.globals.push(Global {
                name,
                ty,
                kind: GlobalKind::Data { default: None },
                span,
            });
        }
        for &i in &order {
            let item = &self.ast.items[i];
            let (name, value, is_data) = match item {
                Item::Let { name, value, .. } => (name, Some(value), false),
                Item::Data { name, default, .. } => (name, default.as_ref(), true),
                Item::Fn(_) => continue,
            };
            let init = value.map(|v| {
                let suffix = if is_data { "default" } else { "init" };
                let ty = Type::func(vec![], self.expr_type(v).unwrap_or(Type::Unit));
                let id = self.reserve(&format!("{}${suffix}", name.name), 0, 0, v.span, ty);
                self.lower_body(id, &[], &[], v);
                id
            });
            let g = self.global_ids[&name.name];
            self.ir.globals[g.index()].kind = match (is_data, init) {
                (false, Some(init)) => GlobalKind::Const { init },
                (_, default) => GlobalKind::Data { default },
            };
        }
        for item in &self.ast.items {
            if let Item::Fn(f) = item {
                let id = self.fn_ids[&f.name.name];
                let params: Vec<String> = f.params.iter().map(|p| p.name.name.clone()).collect();
                self.lower_body(id, &params, &[], &f.body);
            }
        }
        self.apply_surgeries();
        (self.ir, self.diags)
    }

    /// Topological order of `let`/`data` items by the globals their
    /// initialisers read (directly or through the functions they call).
    /// Cycles were reported by the type checker; they keep source order.
    fn global_order(&self) -> Vec<usize> {
        let mut item_of: HashMap<&str, usize> = HashMap::new();
        for (i, item) in self.ast.items.iter().enumerate() {
            item_of.insert(&item.name().name, i);
        }
        let deps_of = |i: usize| -> Vec<usize> {
            let mut seen: HashSet<usize> = HashSet::new();
            let mut work = vec![i];
            let mut globals = Vec::new();
            while let Some(j) = work.pop() {
                let expr = match &self.ast.items[j] {
                    Item::Let { value, .. } => Some(value),
                    Item::Data { default, .. } => default.as_ref(),
                    Item::Fn(f) => Some(&f.body),
                };
                let Some(expr) = expr else { continue };
                for name in free_vars(expr) {
                    if let Some(&k) = item_of.get(name.as_str()) {
                        if seen.insert(k) {
                            if matches!(self.ast.items[k], Item::Fn(_)) {
                                work.push(k);
                            } else if k != i {
                                globals.push(k);
                            }
                        }
                    }
                }
            }
            globals
        };
        let globals: Vec<usize> = (0..self.ast.items.len())
            .filter(|&i| !matches!(self.ast.items[i], Item::Fn(_)))
            .collect();
        let mut order = Vec::new();
        let mut state: HashMap<usize, u8> = HashMap::new(); // 1 visiting, 2 done
        fn visit(
            i: usize,
            deps_of: &dyn Fn(usize) -> Vec<usize>,
            state: &mut HashMap<usize, u8>,
            order: &mut Vec<usize>,
        ) {
            if state.contains_key(&i) {
                return;
            }
            state.insert(i, 1);
            for d in deps_of(i) {
                visit(d, deps_of, state, order);
            }
            state.insert(i, 2);
            order.push(i);
        }
        for g in globals {
            visit(g, &deps_of, &mut state, &mut order);
        }
        order
    }

    fn reserve(&mut self, name: &str, params: u32, captures: u32, span: Span, ty: Type) -> FuncId {
        self.ir.funcs.push(Function {
            name: name.to_string(),
            params,
            captures,
            regs: params + captures,
            code: Vec::new(),
            spans: Vec::new(),
            span,
            ty,
        });
        FuncId(self.ir.funcs.len() as u32 - 1)
    }

    /// Lowers a function body into the reserved `id`.
    fn lower_body(&mut self, id: FuncId, params: &[String], captures: &[String], body: &Expr) {
        let mut scopes = Vec::new();
        for (i, name) in params.iter().chain(captures).enumerate() {
            scopes.push((name.clone(), Reg(i as u32)));
        }
        let regs = (params.len() + captures.len()) as u32;
        self.stack.push(FnCtx {
            func: id,
            code: Vec::new(),
            spans: Vec::new(),
            regs,
            scopes,
        });
        self.lower_tail(body);
        let ctx = self.stack.pop().expect("context pushed above");
        let f = &mut self.ir.funcs[id.index()];
        f.code = ctx.code;
        f.spans = ctx.spans;
        f.regs = ctx.regs;
    }

    // ----- emission helpers -------------------------------------------------

    fn ctx(&mut self) -> &mut FnCtx {
        self.stack.last_mut().expect("inside a function")
    }

    fn reg(&mut self) -> Reg {
        let ctx = self.ctx();
        ctx.regs += 1;
        Reg(ctx.regs - 1)
    }

    fn emit(&mut self, instr: Instr, span: Span) -> u32 {
        let ctx = self.ctx();
        ctx.code.push(instr);
        ctx.spans.push(span);
        ctx.code.len() as u32 - 1
    }

    fn here(&mut self) -> u32 {
        self.ctx().code.len() as u32
    }

    fn patch_jump(&mut self, at: u32, target: u32) {
        match &mut self.ctx().code[at as usize] {
            Instr::Jump { target: t } => *t = target,
            other => unreachable!("patching a non-jump {other:?}"),
        }
    }

    fn patch_branch(&mut self, at: u32, then_to: u32, else_to: u32) {
        match &mut self.ctx().code[at as usize] {
            Instr::Branch {
                then_to: t,
                else_to: e,
                ..
            } => {
                *t = then_to;
                *e = else_to;
            }
            other => unreachable!("patching a non-branch {other:?}"),
        }
    }

    fn constant(&mut self, value: Const, span: Span) -> Reg {
        let dst = self.reg();
        self.emit(Instr::Const { dst, value }, span);
        dst
    }

    fn expr_type(&self, e: &Expr) -> Option<Type> {
        self.types
            .expr_types
            .get(e.id.0 as usize)
            .cloned()
            .flatten()
    }

    fn site(&mut self, kind: SiteKind, name: &str, ty: Type, span: Span) -> SiteId {
        let name = self.ir.intern(name);
        let func = self.stack.last().expect("inside a function").func;
        self.ir.sites.push(Site {
            kind,
            name,
            func,
            ty,
            span,
        });
        SiteId(self.ir.sites.len() as u32 - 1)
    }

    /// `sample@LINE:COL` — the name of an anonymous site.
    fn positional_name(&self, kind: &str, span: Span) -> String {
        let (line, col) = self.sources.line_col(span);
        format!("{kind}@{line}:{col}")
    }

    fn resolve(&self, name: &str) -> Resolved {
        if let Some(r) = self.stack.last().and_then(|c| c.lookup(name)) {
            return Resolved::Local(r);
        }
        if let Some(&f) = self.fn_ids.get(name) {
            return Resolved::Func(f);
        }
        if let Some(&g) = self.global_ids.get(name) {
            return Resolved::Global(g);
        }
        if let Some(&i) = self.foreign.get(name) {
            return Resolved::Builtin(Builtin::Foreign(i));
        }
        match builtin(name) {
            Some(b) => Resolved::Builtin(b),
            None => Resolved::Unknown,
        }
    }

    // ----- expressions ------------------------------------------------------

    /// Lowers `e` in tail position: the function returns its value.
    fn lower_tail(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Block(stmts, tail) => {
                let depth = self.ctx().scopes.len();
                for s in stmts {
                    self.lower_stmt(s);
                }
                match tail {
                    Some(t) => self.lower_tail(t),
                    None => {
                        let r = self.constant(Const::Unit, e.span);
                        self.emit(Instr::Return { value: r }, e.span);
                    }
                }
                self.ctx().scopes.truncate(depth);
            }
            ExprKind::If(c, t, f) => {
                let cond = self.lower(c);
                let br = self.emit(
                    Instr::Branch {
                        cond,
                        then_to: 0,
                        else_to: 0,
                    },
                    e.span,
                );
                let then_to = self.here();
                self.lower_tail(t);
                let else_to = self.here();
                match f {
                    Some(f) => self.lower_tail(f),
                    None => {
                        let r = self.constant(Const::Unit, e.span);
                        self.emit(Instr::Return { value: r }, e.span);
                    }
                }
                self.patch_branch(br, then_to, else_to);
            }
            ExprKind::Call(f, args) if self.call_target(f).is_some() => {
                let callee = self.call_target(f).expect("checked by the guard");
                let callee = match callee {
                    CallTarget::Direct(id) => Callee::Direct(id),
                    CallTarget::Value => Callee::Closure(self.lower(f)),
                };
                let args = args.iter().map(|a| self.lower(a)).collect();
                let dst = Reg(0);
                self.emit(
                    Instr::Call {
                        dst,
                        callee,
                        args,
                        tail: true,
                    },
                    e.span,
                );
            }
            _ => {
                let r = self.lower(e);
                self.emit(Instr::Return { value: r }, e.span);
            }
        }
    }

    /// For a call `f(…)`: how to call `f` when it is a user function or a
    /// closure value (None for built-ins, which are not calls).
    fn call_target(&self, f: &Expr) -> Option<CallTarget> {
        match &f.kind {
            ExprKind::Var(name) => match self.resolve(name) {
                Resolved::Func(id) => Some(CallTarget::Direct(id)),
                Resolved::Builtin(_) | Resolved::Unknown => None,
                Resolved::Local(_) | Resolved::Global(_) => Some(CallTarget::Value),
            },
            _ => Some(CallTarget::Value),
        }
    }

    fn lower_stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { name, value, .. } => {
                let r = self.lower(value);
                self.ctx().scopes.push((name.name.clone(), r));
            }
            Stmt::LetTuple { names, value, span } => {
                let t = self.lower(value);
                for (i, n) in names.iter().enumerate() {
                    let dst = self.reg();
                    self.emit(
                        Instr::Field {
                            dst,
                            tuple: t,
                            field: i as u32,
                        },
                        *span,
                    );
                    self.ctx().scopes.push((n.name.clone(), dst));
                }
            }
            Stmt::Sample {
                name, dist, span, ..
            } => {
                let d = self.lower(dist);
                let ty = self.dist_value_type(dist);
                let site = self.site(SiteKind::Sample, &name.name, ty, *span);
                let dst = self.reg();
                self.emit(Instr::Sample { dst, site, dist: d }, *span);
                self.ctx().scopes.push((name.name.clone(), dst));
            }
            Stmt::Expr(e) => {
                self.lower(e);
            }
        }
    }

    fn dist_value_type(&self, dist: &Expr) -> Type {
        match self.expr_type(dist) {
            Some(Type::Dist(t)) => *t,
            _ => Type::Unit,
        }
    }

    /// Lowers `e` and returns the register holding its value.
    fn lower(&mut self, e: &Expr) -> Reg {
        let span = e.span;
        match &e.kind {
            ExprKind::Int(i) => {
                let value = if self.expr_type(e) == Some(Type::Real) {
                    Const::Real(*i as f64)
                } else {
                    Const::Int(*i)
                };
                self.constant(value, span)
            }
            ExprKind::Real(x) => self.constant(Const::Real(*x), span),
            ExprKind::Bool(b) => self.constant(Const::Bool(*b), span),
            ExprKind::Str(s) => self.constant(Const::Str(s.as_str().into()), span),
            ExprKind::Unit | ExprKind::Error => self.constant(Const::Unit, span),
            ExprKind::Var(name) => self.lower_var(name, span),
            ExprKind::Block(stmts, tail) => {
                let depth = self.ctx().scopes.len();
                for s in stmts {
                    self.lower_stmt(s);
                }
                let r = match tail {
                    Some(t) => self.lower(t),
                    None => self.constant(Const::Unit, span),
                };
                self.ctx().scopes.truncate(depth);
                r
            }
            ExprKind::If(c, t, f) => {
                let cond = self.lower(c);
                let dst = self.reg();
                let br = self.emit(
                    Instr::Branch {
                        cond,
                        then_to: 0,
                        else_to: 0,
                    },
                    span,
                );
                let then_to = self.here();
                let tv = self.lower(t);
                self.emit(Instr::Move { dst, src: tv }, span);
                let jump = self.emit(Instr::Jump { target: 0 }, span);
                let else_to = self.here();
                let fv = match f {
                    Some(f) => self.lower(f),
                    None => self.constant(Const::Unit, span),
                };
                self.emit(Instr::Move { dst, src: fv }, span);
                let end = self.here();
                self.patch_branch(br, then_to, else_to);
                self.patch_jump(jump, end);
                dst
            }
            ExprKind::For(x, iter, body) => self.lower_for(x, iter, body, span),
            ExprKind::Range(a, b) => {
                let args = vec![self.lower(a), self.lower(b)];
                let dst = self.reg();
                self.emit(
                    Instr::Prim {
                        dst,
                        prim: Prim::Range,
                        args,
                    },
                    span,
                );
                dst
            }
            ExprKind::Lambda(params, body) => {
                let (func, captures) = self.lower_lambda(e, params, body);
                let dst = self.reg();
                self.emit(
                    Instr::Closure {
                        dst,
                        func,
                        captures,
                    },
                    span,
                );
                dst
            }
            ExprKind::Call(f, args) => self.lower_call(e, f, args),
            ExprKind::Array(xs) => {
                let elems = xs.iter().map(|x| self.lower(x)).collect();
                let dst = self.reg();
                self.emit(Instr::Array { dst, elems }, span);
                dst
            }
            ExprKind::Tuple(xs) => {
                let elems = xs.iter().map(|x| self.lower(x)).collect();
                let dst = self.reg();
                self.emit(Instr::Tuple { dst, elems }, span);
                dst
            }
            ExprKind::Record(fs) => {
                // Evaluated as written (a field may make random choices),
                // stored as the tuple of the fields sorted by name.
                let mut regs: Vec<(&str, Reg)> = fs
                    .iter()
                    .map(|(n, x)| (n.name.as_str(), self.lower(x)))
                    .collect();
                regs.sort_by(|a, b| a.0.cmp(b.0));
                let elems = regs.into_iter().map(|(_, r)| r).collect();
                let dst = self.reg();
                self.emit(Instr::Tuple { dst, elems }, span);
                dst
            }
            ExprKind::Member(r, n) => {
                let field = match self.expr_type(r) {
                    Some(Type::Record(fs)) => fs.iter().position(|(x, _)| *x == n.name),
                    _ => None,
                }
                .expect("the checker gave the receiver a record type with this field")
                    as u32;
                let tuple = self.lower(r);
                let dst = self.reg();
                self.emit(Instr::Field { dst, tuple, field }, span);
                dst
            }
            ExprKind::Index(a, i) => {
                let (array, index) = (self.lower(a), self.lower(i));
                let dst = self.reg();
                self.emit(Instr::Index { dst, array, index }, span);
                dst
            }
            ExprKind::Field(t, field, _) => {
                let tuple = self.lower(t);
                let dst = self.reg();
                self.emit(
                    Instr::Field {
                        dst,
                        tuple,
                        field: *field,
                    },
                    span,
                );
                dst
            }
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
                // Short-circuit: `a && b` is `if a { b } else { false }`.
                let lhs = self.lower(a);
                let dst = self.reg();
                self.emit(Instr::Move { dst, src: lhs }, span);
                let br = self.emit(
                    Instr::Branch {
                        cond: lhs,
                        then_to: 0,
                        else_to: 0,
                    },
                    span,
                );
                let rhs_at = self.here();
                let rhs = self.lower(b);
                self.emit(Instr::Move { dst, src: rhs }, span);
                let end = self.here();
                if *op == BinOp::And {
                    self.patch_branch(br, rhs_at, end);
                } else {
                    self.patch_branch(br, end, rhs_at);
                }
                dst
            }
            ExprKind::Binary(op, a, b) => {
                let (lhs, rhs) = (self.lower(a), self.lower(b));
                let op = match op {
                    BinOp::Eq => IrBin::Eq,
                    BinOp::Ne => IrBin::Ne,
                    BinOp::Lt => IrBin::Lt,
                    BinOp::Le => IrBin::Le,
                    BinOp::Gt => IrBin::Gt,
                    BinOp::Ge => IrBin::Ge,
                    BinOp::Add => IrBin::Add,
                    BinOp::Sub => IrBin::Sub,
                    BinOp::Mul => IrBin::Mul,
                    BinOp::Div => IrBin::Div,
                    BinOp::Rem => IrBin::Rem,
                    BinOp::Pow => IrBin::Pow,
                    BinOp::And | BinOp::Or => unreachable!("handled above"),
                };
                let dst = self.reg();
                self.emit(Instr::Binary { dst, op, lhs, rhs }, span);
                dst
            }
            ExprKind::Unary(op, a) => {
                let arg = self.lower(a);
                let op = match op {
                    UnOp::Neg => IrUn::Neg,
                    UnOp::Not => IrUn::Not,
                };
                let dst = self.reg();
                self.emit(Instr::Unary { dst, op, arg }, span);
                dst
            }
            ExprKind::Surgery(kind, model, args) => match self.lower_surgery(e, *kind, model, args)
            {
                Some((func, captures)) => {
                    let dst = self.reg();
                    self.emit(
                        Instr::Closure {
                            dst,
                            func,
                            captures,
                        },
                        span,
                    );
                    dst
                }
                None => self.constant(Const::Unit, span),
            },
        }
    }

    /// Lowers a lambda to its own function; returns it and the registers
    /// its closure captures.
    fn lower_lambda(&mut self, e: &Expr, params: &[ast::Param], body: &Expr) -> (FuncId, Vec<Reg>) {
        let span = e.span;
        let captures: Vec<String> = free_vars(e)
            .into_iter()
            .filter(|n| self.stack.last().is_some_and(|c| c.lookup(n).is_some()))
            .collect();
        let capture_regs: Vec<Reg> = captures
            .iter()
            .map(|n| {
                self.stack
                    .last()
                    .and_then(|c| c.lookup(n))
                    .expect("filtered")
            })
            .collect();
        let owner = self
            .stack
            .last()
            .map(|c| self.ir.funcs[c.func.index()].name.clone())
            .unwrap_or_default();
        let (line, col) = self.sources.line_col(span);
        let name = format!("{owner}$lambda@{line}:{col}");
        let ty = self.expr_type(e).unwrap_or(Type::Unit);
        let id = self.reserve(&name, params.len() as u32, captures.len() as u32, span, ty);
        let pnames: Vec<String> = params.iter().map(|p| p.name.name.clone()).collect();
        self.lower_body(id, &pnames, &captures, body);
        (id, capture_regs)
    }

    /// Lowers `do`/`condition(model, …)`: the model must be statically
    /// known (a function name, a lambda, or another surgery), so the
    /// transformation can copy the functions it reaches. The copy is made
    /// after every function is lowered (see [`Lowerer::apply_surgeries`]);
    /// here a function id is reserved for it and edits are recorded.
    fn lower_surgery(
        &mut self,
        e: &Expr,
        kind: ast::SurgeryKind,
        model: &Expr,
        args: &[ast::SurgeryArg],
    ) -> Option<(FuncId, Vec<Reg>)> {
        let root = match &model.kind {
            ExprKind::Var(name) => match self.resolve(name) {
                Resolved::Func(id) => Some((id, Vec::new())),
                _ => None,
            },
            ExprKind::Lambda(params, body) => Some(self.lower_lambda(model, params, body)),
            ExprKind::Surgery(k, m, a) => self.lower_surgery(model, *k, m, a),
            _ => None,
        };
        let Some((root, captures)) = root else {
            self.diags.push(
                Diagnostic::error(format!("the model given to `{}` must be a function name or a lambda", kind.keyword()))
                    .with_code("E0802")
                    .with_primary(model.span, "not statically known")
                    .with_note("surgery copies and rewrites the model's code, so the compiler must see which function it is"),
            );
            return None;
        };
        let edit_kind = match kind {
            ast::SurgeryKind::Do => EditKind::Do,
            ast::SurgeryKind::Condition => EditKind::Observe,
            ast::SurgeryKind::Counterfactual => EditKind::Do,
        };
        let mut edits = Vec::new();
        for arg in args {
            let locals: Vec<String> = free_vars(&arg.value)
                .into_iter()
                .filter(|n| self.stack.last().is_some_and(|c| c.lookup(n).is_some()))
                .collect();
            if let Some(local) = locals.first() {
                self.diags.push(
                    Diagnostic::error(format!(
                        "the value of `{}` depends on the local variable `{local}`",
                        arg.name.name
                    ))
                    .with_code("E0803")
                    .with_primary(arg.value.span, "surgery values must be constants")
                    .with_help("use a literal or a top-level `let` constant"),
                );
                continue;
            }
            let ty = self.expr_type(&arg.value).unwrap_or(Type::Unit);
            let gname = format!("{}${}", kind.keyword(), self.ir.globals.len());
            let init_ty = Type::func(vec![], ty.clone());
            let init = self.reserve(&format!("{gname}$init"), 0, 0, arg.value.span, init_ty);
            self.lower_body(init, &[], &[], &arg.value);
            self.ir.globals.push(Global {
                name: gname,
                ty: ty.clone(),
                kind: GlobalKind::Const { init },
                span: arg.span,
            });
            let value = GlobalId(self.ir.globals.len() as u32 - 1);
            let index = arg.index.map(|(i, _)| i.min(u32::MAX as u64) as u32);
            edits.push((
                SurgeryEdit {
                    name: arg.name.name.clone(),
                    index,
                    kind: edit_kind,
                    value,
                },
                ty,
                arg.name.span,
            ));
        }
        let root_fn = self.ir.func(root);
        let (name, ty, ncaptures) = (
            format!("{}${}", root_fn.name, kind.keyword()),
            root_fn.ty.clone(),
            root_fn.captures,
        );
        let slot = self.reserve(&name, 0, ncaptures, e.span, ty);
        self.surgeries.push(PendingSurgery {
            slot,
            root,
            kind,
            edits,
            span: e.span,
        });
        Some((slot, captures))
    }

    /// Performs the recorded surgeries, inner ones first (they were
    /// recorded first), now that every function they reach has code.
    fn apply_surgeries(&mut self) {
        // A surgery copies the code its model reaches, so any surgery whose
        // result that code uses must be done first: take them in dependency
        // order. What is left when none is ready refers to itself.
        let mut pending = std::mem::take(&mut self.surgeries);
        let mut ordered = Vec::new();
        while !pending.is_empty() {
            let slots: HashSet<FuncId> = pending.iter().map(|s| s.slot).collect();
            let ready = pending.iter().position(|s| {
                !surgery::reachable(&self.ir, s.root)
                    .iter()
                    .any(|f| slots.contains(f))
            });
            match ready {
                Some(i) => ordered.push(pending.remove(i)),
                None => {
                    for s in pending.drain(..) {
                        self.diags.push(
                            Diagnostic::error(
                                "a model cannot be transformed by a surgery of itself",
                            )
                            .with_code("E0806")
                            .with_primary(s.span, "this surgery is reachable from its own model")
                            .with_help("move the surgery out of the model it transforms"),
                        );
                        let original = self.ir.func(s.root).clone();
                        self.ir.funcs[s.slot.index()] = original;
                    }
                }
            }
        }
        for s in ordered {
            let model = self
                .ir
                .func(s.root)
                .name
                .split('$')
                .next()
                .unwrap_or("")
                .to_string();
            let typed: Vec<(SurgeryEdit, Type)> = s
                .edits
                .iter()
                .map(|(e, t, _)| (e.clone(), t.clone()))
                .collect();
            let errors = surgery::check(&self.ir, s.root, &typed);
            for err in &errors {
                let span = s
                    .edits
                    .iter()
                    .find(|(e, _, _)| e.name == err.name())
                    .map(|(_, _, sp)| *sp)
                    .unwrap_or(s.span);
                self.diags.push(surgery_diagnostic(err, &model, span));
            }
            let edits: Vec<SurgeryEdit> = s.edits.iter().map(|(e, _, _)| e.clone()).collect();
            let addresses: Vec<(String, u32, Span)> = s
                .edits
                .iter()
                .filter_map(|(e, _, span)| Some((e.name.clone(), e.index?, *span)))
                .collect();
            if errors.is_empty() && !addresses.is_empty() {
                self.ir
                    .addressed_surgeries
                    .push(tyche_ir::AddressedSurgery {
                        model: s.slot,
                        addresses,
                    });
            }
            if errors.is_empty() && s.kind == ast::SurgeryKind::Counterfactual {
                surgery::counterfactual(&mut self.ir, s.root, Some(s.slot), &edits);
            } else if errors.is_empty() {
                surgery::apply(&mut self.ir, s.root, Some(s.slot), &edits, s.kind.keyword());
            } else {
                // Keep the IR well formed: the slot becomes the original model.
                let original = self.ir.func(s.root).clone();
                self.ir.funcs[s.slot.index()] = original;
            }
        }
    }

    fn lower_var(&mut self, name: &str, span: Span) -> Reg {
        match self.resolve(name) {
            Resolved::Local(r) => r,
            Resolved::Func(func) => {
                let dst = self.reg();
                self.emit(
                    Instr::Closure {
                        dst,
                        func,
                        captures: vec![],
                    },
                    span,
                );
                dst
            }
            Resolved::Global(global) => {
                let dst = self.reg();
                self.emit(Instr::Global { dst, global }, span);
                dst
            }
            Resolved::Builtin(Builtin::Prim(Prim::Enumerate)) => {
                let dst = self.reg();
                self.emit(
                    Instr::Prim {
                        dst,
                        prim: Prim::Enumerate,
                        args: vec![],
                    },
                    span,
                );
                dst
            }
            Resolved::Builtin(b) => {
                let func = self.wrapper(name, b, span);
                let dst = self.reg();
                self.emit(
                    Instr::Closure {
                        dst,
                        func,
                        captures: vec![],
                    },
                    span,
                );
                dst
            }
            Resolved::Unknown => {
                self.diags.push(
                    Diagnostic::error(format!("cannot find `{name}` in this scope"))
                        .with_code("E0401")
                        .with_primary(span, "not found"),
                );
                self.constant(Const::Unit, span)
            }
        }
    }

    /// A function wrapping a built-in so it can be passed as a value.
    fn wrapper(&mut self, name: &str, b: Builtin, span: Span) -> FuncId {
        if let Some(&id) = self.wrappers.get(name) {
            return id;
        }
        let arity = match b {
            Builtin::Prim(p) => p.arity(),
            Builtin::Intrinsic(i) => i.arity(),
            Builtin::Dist(d) => d.param_names().len(),
            Builtin::Special("sample" | "factor" | "condition") => 1,
            Builtin::Special(_) => 2,
            Builtin::Foreign(i) => self.ir.foreign[i as usize].arity(),
        };
        let id = self.reserve(
            &format!("{name}$builtin"),
            arity as u32,
            0,
            span,
            Type::Unit,
        );
        self.wrappers.insert(name.to_string(), id);
        let params: Vec<String> = (0..arity).map(|i| format!("${i}")).collect();
        // The body is the call `name($0, $1, …)`, built as syntax so every
        // built-in is lowered by the one code path.
        let mk = |kind| Expr {
            id: ast::ExprId(u32::MAX),
            span,
            kind,
        };
        let args = params
            .iter()
            .map(|p| mk(ExprKind::Var(p.clone())))
            .collect();
        let body = mk(ExprKind::Call(
            Box::new(mk(ExprKind::Var(name.to_string()))),
            args,
        ));
        self.lower_body(id, &params, &[], &body);
        id
    }

    fn lower_for(&mut self, x: &ast::Ident, iter: &Expr, body: &Expr, span: Span) -> Reg {
        // `for x in a..b` counts without building the array.
        let (array, start, end) = match &iter.kind {
            ExprKind::Range(a, b) => (None, self.lower(a), self.lower(b)),
            _ => {
                let array = self.lower(iter);
                let start = self.constant(Const::Int(0), span);
                let end = self.reg();
                self.emit(
                    Instr::Prim {
                        dst: end,
                        prim: Prim::Len,
                        args: vec![array],
                    },
                    span,
                );
                (Some(array), start, end)
            }
        };
        let i = self.reg();
        self.emit(Instr::Move { dst: i, src: start }, span);
        let one = self.constant(Const::Int(1), span);
        let cond = self.reg();
        let top = self.emit(
            Instr::Binary {
                dst: cond,
                op: IrBin::Lt,
                lhs: i,
                rhs: end,
            },
            span,
        );
        let br = self.emit(
            Instr::Branch {
                cond,
                then_to: 0,
                else_to: 0,
            },
            span,
        );
        let body_at = self.here();
        let xr = match array {
            Some(array) => {
                let xr = self.reg();
                self.emit(
                    Instr::Index {
                        dst: xr,
                        array,
                        index: i,
                    },
                    x.span,
                );
                xr
            }
            None => {
                let xr = self.reg();
                self.emit(Instr::Move { dst: xr, src: i }, x.span);
                xr
            }
        };
        self.ctx().scopes.push((x.name.clone(), xr));
        self.lower(body);
        self.ctx().scopes.pop();
        self.emit(
            Instr::Binary {
                dst: i,
                op: IrBin::Add,
                lhs: i,
                rhs: one,
            },
            span,
        );
        self.emit(Instr::Jump { target: top }, span);
        let end_at = self.here();
        self.patch_branch(br, body_at, end_at);
        self.constant(Const::Unit, span)
    }

    fn lower_call(&mut self, e: &Expr, f: &Expr, args: &[Expr]) -> Reg {
        let span = e.span;
        let builtin = match &f.kind {
            ExprKind::Var(name) => match self.resolve(name) {
                Resolved::Builtin(b) => Some(b),
                _ => None,
            },
            _ => None,
        };
        let Some(b) = builtin else {
            let callee = match self.call_target(f) {
                Some(CallTarget::Direct(id)) => Callee::Direct(id),
                _ => Callee::Closure(self.lower(f)),
            };
            let args = args.iter().map(|a| self.lower(a)).collect();
            let dst = self.reg();
            self.emit(
                Instr::Call {
                    dst,
                    callee,
                    args,
                    tail: false,
                },
                span,
            );
            return dst;
        };
        match b {
            Builtin::Special("sample") => {
                let (name, dist) = match args {
                    [d] => (self.positional_name("sample", span), d),
                    [n, d] => match &n.kind {
                        ExprKind::Str(s) => (s.clone(), d),
                        _ => (self.positional_name("sample", span), d),
                    },
                    _ => return self.constant(Const::Unit, span),
                };
                let d = self.lower(dist);
                let ty = self.dist_value_type(dist);
                let site = self.site(SiteKind::Sample, &name, ty, span);
                let dst = self.reg();
                self.emit(Instr::Sample { dst, site, dist: d }, span);
                dst
            }
            Builtin::Special("observe") => {
                let (d, v) = (self.lower(&args[0]), self.lower(&args[1]));
                let name = self.positional_name("observe", span);
                let site = self.site(SiteKind::Observe, &name, Type::Unit, span);
                self.emit(
                    Instr::Observe {
                        site,
                        dist: d,
                        value: v,
                    },
                    span,
                );
                self.constant(Const::Unit, span)
            }
            Builtin::Special("factor") => {
                let w = self.lower(&args[0]);
                let name = self.positional_name("factor", span);
                let site = self.site(SiteKind::Factor, &name, Type::Unit, span);
                self.emit(Instr::Factor { site, weight: w }, span);
                self.constant(Const::Unit, span)
            }
            Builtin::Special("condition") => {
                let c = self.lower(&args[0]);
                let name = self.positional_name("condition", span);
                let site = self.site(SiteKind::Condition, &name, Type::Unit, span);
                self.emit(Instr::Condition { site, cond: c }, span);
                self.constant(Const::Unit, span)
            }
            Builtin::Special(_) => {
                // infer(method, model)
                let (method, model) = (self.lower(&args[0]), self.lower(&args[1]));
                let dst = self.reg();
                self.emit(Instr::Infer { dst, method, model }, span);
                dst
            }
            Builtin::Prim(prim) => {
                let args = args.iter().map(|a| self.lower(a)).collect();
                let dst = self.reg();
                self.emit(Instr::Prim { dst, prim, args }, span);
                if matches!(prim, Prim::Sum | Prim::Product)
                    && self.expr_type(e) == Some(Type::Real)
                {
                    // The sum of an empty array has no element to say it
                    // is Real: `real` makes the unit 0 (1) a Real.
                    let real = self.reg();
                    self.emit(
                        Instr::Prim {
                            dst: real,
                            prim: Prim::Real,
                            args: vec![dst],
                        },
                        span,
                    );
                    return real;
                }
                dst
            }
            Builtin::Intrinsic(op) => {
                let args = args.iter().map(|a| self.lower(a)).collect();
                let dst = self.reg();
                self.emit(Instr::Intrinsic { dst, op, args }, span);
                dst
            }
            Builtin::Dist(kind) => {
                let args = args.iter().map(|a| self.lower(a)).collect();
                let dst = self.reg();
                self.emit(Instr::MakeDist { dst, kind, args }, span);
                dst
            }
            Builtin::Foreign(index) => {
                let args = args.iter().map(|a| self.lower(a)).collect();
                let dst = self.reg();
                self.emit(Instr::Foreign { dst, index, args }, span);
                dst
            }
        }
    }
}

#[derive(Clone, Copy)]
enum CallTarget {
    Direct(FuncId),
    Value,
}
