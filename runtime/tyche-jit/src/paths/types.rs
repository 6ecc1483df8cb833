//! Register types for native paths.
//!
//! The IR is untyped per register, but compiled code keeps every value in
//! one machine word, so arithmetic, comparisons and conversions to runtime
//! values need each register's type. This is a forward analysis from the
//! declared types of functions (parameters and results) and globals:
//! every instruction's result type follows from its operands', captured
//! registers take the types of the registers a closure was built from, and
//! a register written in several places must get one type. A type variable
//! of a polymorphic function is [`Ty::Var`]: code that only moves such
//! values still compiles; an operation that needs the type refuses.

use crate::NotStatic;
use std::collections::HashMap;
use tyche_core::Span;
use tyche_dist::DistKind;
use tyche_ir::{BinOp, Callee, Const, FuncId, Instr, Intrinsic, Prim, Program, Type, UnOp};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    /// Nothing known yet (an empty array's elements): joins to anything.
    Unknown,
    /// A type variable of a polymorphic function: any type at run time
    /// (even an Int where a caller expects a Real, from a numerically
    /// polymorphic literal), so it absorbs what it is joined with.
    Var,
    Unit,
    Int,
    Real,
    Bool,
    Array(Box<Ty>),
    Tuple(Vec<Ty>),
    Fn(Vec<Ty>, Box<Ty>),
    Dist(Box<Ty>),
    /// Strings, methods: native paths do not handle them.
    Other,
}

impl Ty {
    pub(crate) fn from_ir(t: &Type) -> Ty {
        match t {
            Type::Int => Ty::Int,
            Type::Real => Ty::Real,
            Type::Bool => Ty::Bool,
            Type::Unit => Ty::Unit,
            Type::Array(e) => Ty::Array(Box::new(Ty::from_ir(e))),
            Type::Tuple(ts) => Ty::Tuple(ts.iter().map(Ty::from_ir).collect()),
            // A record is the tuple of its fields (sorted by name) at run time.
            Type::Record(fs) => Ty::Tuple(fs.iter().map(|(_, t)| Ty::from_ir(t)).collect()),
            Type::Fn(ps, r) => Ty::Fn(
                ps.iter().map(Ty::from_ir).collect(),
                Box::new(Ty::from_ir(r)),
            ),
            Type::Dist(e) => Ty::Dist(Box::new(Ty::from_ir(e))),
            Type::Var(_) => Ty::Var,
            Type::Str | Type::Method => Ty::Other,
        }
    }

    /// The least type more precise than both, if they agree.
    fn join(&self, other: &Ty) -> Option<Ty> {
        Some(match (self, other) {
            (Ty::Var, _) | (_, Ty::Var) => Ty::Var,
            (Ty::Unknown, t) | (t, Ty::Unknown) => t.clone(),
            (Ty::Array(a), Ty::Array(b)) => Ty::Array(Box::new(a.join(b)?)),
            (Ty::Dist(a), Ty::Dist(b)) => Ty::Dist(Box::new(a.join(b)?)),
            (Ty::Tuple(a), Ty::Tuple(b)) if a.len() == b.len() => Ty::Tuple(
                a.iter()
                    .zip(b)
                    .map(|(x, y)| x.join(y))
                    .collect::<Option<_>>()?,
            ),
            (Ty::Fn(pa, ra), Ty::Fn(pb, rb)) if pa.len() == pb.len() => Ty::Fn(
                pa.iter()
                    .zip(pb)
                    .map(|(x, y)| x.join(y))
                    .collect::<Option<_>>()?,
                Box::new(ra.join(rb)?),
            ),
            (a, b) if a == b => a.clone(),
            _ => return None,
        })
    }

    /// Whether the type is fully known and made of what native paths
    /// represent (no functions, distributions or strings): the types a
    /// model's result and its data may have.
    pub(crate) fn is_data(&self) -> bool {
        match self {
            Ty::Unit | Ty::Int | Ty::Real | Ty::Bool => true,
            Ty::Array(e) => e.is_data() || **e == Ty::Unknown,
            Ty::Tuple(ts) => ts.iter().all(Ty::is_data),
            _ => false,
        }
    }

    fn mentions_real(&self) -> bool {
        match self {
            Ty::Real => true,
            Ty::Array(e) | Ty::Dist(e) => e.mentions_real(),
            Ty::Tuple(ts) => ts.iter().any(Ty::mentions_real),
            Ty::Fn(ps, r) => ps.iter().any(Ty::mentions_real) || r.mentions_real(),
            _ => false,
        }
    }

    fn ret(&self) -> Ty {
        match self {
            Ty::Fn(_, r) => (**r).clone(),
            Ty::Unknown => Ty::Unknown,
            _ => Ty::Var,
        }
    }

    fn elem(&self) -> Ty {
        match self {
            Ty::Array(e) => (**e).clone(),
            Ty::Unknown => Ty::Unknown,
            _ => Ty::Var,
        }
    }
}

/// The result type of a call of a function of declared type `declared`
/// with arguments of types `actual`: its type variables bound by matching
/// the parameters against the arguments (a polymorphic `first(xs)` of an
/// `[Int]` gives an Int). A variable bound to a type with a Real in it
/// stays [`Ty::Var`]: an integer literal of numerically polymorphic type
/// is an Int at run time even where the caller sees a Real.
fn instantiated_result(declared: &Type, actual: &[Ty]) -> Ty {
    let Type::Fn(params, ret) = declared else {
        return Ty::Var;
    };
    if actual.contains(&Ty::Unknown) {
        // Not yet known (an argument written further on): ask again.
        return Ty::Unknown;
    }
    let mut bound: HashMap<u32, Option<Ty>> = HashMap::new();
    for (p, a) in params.iter().zip(actual) {
        bind(p, a, &mut bound);
    }
    apply(ret, &bound)
}

/// Binds the type variables of `declared` to the parts of `actual` they
/// stand for; a variable bound twice to different types is unbound
/// (`None`).
fn bind(declared: &Type, actual: &Ty, bound: &mut HashMap<u32, Option<Ty>>) {
    match (declared, actual) {
        (Type::Var(n), a) if !matches!(a, Ty::Unknown | Ty::Var) => {
            let now = match bound.get(n) {
                None => Some(a.clone()),
                Some(Some(b)) if b == a => Some(a.clone()),
                Some(_) => None,
            };
            bound.insert(*n, now);
        }
        (Type::Array(d), Ty::Array(a)) | (Type::Dist(d), Ty::Dist(a)) => bind(d, a, bound),
        (Type::Tuple(ds), Ty::Tuple(as_)) => {
            for (d, a) in ds.iter().zip(as_) {
                bind(d, a, bound);
            }
        }
        (Type::Fn(dp, dr), Ty::Fn(ap, ar)) => {
            for (d, a) in dp.iter().zip(ap) {
                bind(d, a, bound);
            }
            bind(dr, ar, bound);
        }
        _ => {}
    }
}

fn apply(t: &Type, bound: &HashMap<u32, Option<Ty>>) -> Ty {
    match t {
        Type::Var(n) => match bound.get(n) {
            Some(Some(b)) if !b.mentions_real() => b.clone(),
            _ => Ty::Var,
        },
        Type::Array(e) => Ty::Array(Box::new(apply(e, bound))),
        Type::Dist(e) => Ty::Dist(Box::new(apply(e, bound))),
        Type::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| apply(t, bound)).collect()),
        Type::Fn(ps, r) => Ty::Fn(
            ps.iter().map(|t| apply(t, bound)).collect(),
            Box::new(apply(r, bound)),
        ),
        other => Ty::from_ir(other),
    }
}

/// A value native code cannot give one type (a register the lowering
/// reuses at two types): the model is enumerated on the interpreter.
fn two_types(what: &str, span: Span) -> NotStatic {
    NotStatic {
        reason: format!("{what} has two types here, and native code needs one"),
        span: Some(span),
    }
}

/// The value type of a distribution kind.
pub(crate) fn dist_value(kind: DistKind) -> Ty {
    match kind.value_type_name() {
        "Bool" => Ty::Bool,
        "Int" => Ty::Int,
        "Real" => Ty::Real,
        _ => Ty::Array(Box::new(Ty::Real)),
    }
}

/// Every register's type in every function reachable from `model`.
pub(crate) struct Types {
    pub regs: HashMap<FuncId, Vec<Ty>>,
}

impl Types {
    pub(crate) fn of(&self, f: FuncId, r: tyche_ir::Reg) -> &Ty {
        &self.regs[&f][r.index()]
    }
}

pub(crate) fn infer(program: &Program, model: FuncId) -> Result<Types, NotStatic> {
    let mut regs: HashMap<FuncId, Vec<Ty>> = HashMap::new();
    let mut work = vec![model];
    let declared = |f: FuncId| -> (Vec<Ty>, Ty) {
        match Ty::from_ir(&program.func(f).ty) {
            Ty::Fn(ps, r) => (ps, *r),
            _ => (Vec::new(), Ty::Unknown),
        }
    };
    let init = |f: FuncId| -> Vec<Ty> {
        let func = program.func(f);
        let mut v = vec![Ty::Unknown; func.regs as usize];
        for (i, p) in declared(f)
            .0
            .into_iter()
            .enumerate()
            .take(func.params as usize)
        {
            v[i] = p;
        }
        v
    };
    regs.insert(model, init(model));
    while let Some(f) = work.pop() {
        let func = program.func(f);
        loop {
            let mut changed = false;
            for (pc, instr) in func.code.iter().enumerate() {
                let span = func.spans[pc];
                let r = regs[&f].clone();
                let t = |reg: &tyche_ir::Reg| r[reg.index()].clone();
                let mut reach = |g: FuncId,
                                 captures: &[Ty],
                                 regs: &mut HashMap<FuncId, Vec<Ty>>|
                 -> Result<(), NotStatic> {
                    let fresh = !regs.contains_key(&g);
                    let entry = regs.entry(g).or_insert_with(|| init(g));
                    let params = program.func(g).params as usize;
                    let mut grew = fresh;
                    for (i, c) in captures.iter().enumerate() {
                        let slot = &mut entry[params + i];
                        let j = slot.join(c).ok_or_else(|| {
                            two_types(
                                &format!("a value `{}` captures", program.func(g).name),
                                span,
                            )
                        })?;
                        if j != *slot {
                            *slot = j;
                            grew = true;
                        }
                    }
                    if grew && !work.contains(&g) {
                        work.push(g);
                    }
                    Ok(())
                };
                let (dst, ty) = match instr {
                    Instr::Const { dst, value } => (
                        *dst,
                        match value {
                            Const::Unit => Ty::Unit,
                            Const::Bool(_) => Ty::Bool,
                            Const::Int(_) => Ty::Int,
                            Const::Real(_) => Ty::Real,
                            Const::Str(_) => Ty::Other,
                        },
                    ),
                    Instr::Move { dst, src } => (*dst, t(src)),
                    Instr::Global { dst, global } => {
                        (*dst, Ty::from_ir(&program.globals[global.index()].ty))
                    }
                    Instr::Closure {
                        dst,
                        func: g,
                        captures,
                    } => {
                        let caps: Vec<Ty> = captures.iter().map(t).collect();
                        let mut ty = Ty::from_ir(&program.func(*g).ty);
                        if let Ty::Fn(ps, _) = &mut ty {
                            // A lambda's parameters are as declared; its
                            // captures as built.
                            ps.truncate(program.func(*g).params as usize);
                        }
                        reach(*g, &caps, &mut regs)?;
                        (*dst, ty)
                    }
                    Instr::Unary { dst, op, arg } => (
                        *dst,
                        match op {
                            UnOp::Neg => t(arg),
                            UnOp::Not => Ty::Bool,
                        },
                    ),
                    Instr::Binary { dst, op, lhs, rhs } => {
                        let ty = match op {
                            BinOp::Eq
                            | BinOp::Ne
                            | BinOp::Lt
                            | BinOp::Le
                            | BinOp::Gt
                            | BinOp::Ge => Ty::Bool,
                            _ => match (t(lhs), t(rhs)) {
                                // Not yet known (a register written
                                // further on, through a back edge).
                                (Ty::Unknown, _) | (_, Ty::Unknown) => Ty::Unknown,
                                (Ty::Int, Ty::Int) => Ty::Int,
                                (Ty::Real, Ty::Real | Ty::Int) | (Ty::Int, Ty::Real) => Ty::Real,
                                _ => Ty::Var,
                            },
                        };
                        (*dst, ty)
                    }
                    Instr::Prim { dst, prim, args } => {
                        let a = |i: usize| args.get(i).map(t).unwrap_or(Ty::Unknown);
                        // As the built-ins' types in `tyche-types`.
                        let ty = match prim {
                            Prim::Len | Prim::Int => Ty::Int,
                            Prim::Concat | Prim::Min | Prim::Max => {
                                a(0).join(&a(1)).unwrap_or(Ty::Other)
                            }
                            Prim::Reverse | Prim::Abs => a(0),
                            Prim::Sum | Prim::Product => a(0).elem(),
                            Prim::Range => Ty::Array(Box::new(Ty::Int)),
                            Prim::Zip => {
                                Ty::Array(Box::new(Ty::Tuple(vec![a(0).elem(), a(1).elem()])))
                            }
                            Prim::Samples => Ty::Array(Box::new(match a(0) {
                                Ty::Dist(e) => *e,
                                Ty::Unknown => Ty::Unknown,
                                _ => Ty::Var,
                            })),
                            Prim::Real
                            | Prim::Exp
                            | Prim::Log
                            | Prim::Sqrt
                            | Prim::Floor
                            | Prim::Ceil
                            | Prim::Sigmoid
                            | Prim::Logit
                            | Prim::Lgamma
                            | Prim::Log1p
                            | Prim::Expm1
                            | Prim::Sin
                            | Prim::Cos
                            | Prim::Tan
                            | Prim::Atan
                            | Prim::Tanh
                            | Prim::Pow
                            | Prim::LogSumExp
                            | Prim::LogProb
                            | Prim::Prob
                            | Prim::Mean
                            | Prim::LogEvidence => Ty::Real,
                            Prim::Print => Ty::Unit,
                            Prim::Enumerate
                            | Prim::Rejection
                            | Prim::Importance
                            | Prim::Smc
                            | Prim::Mh
                            | Prim::Hmc
                            | Prim::Nuts => Ty::Other,
                            Prim::LogDeterminant => Ty::Real,
                            Prim::VecAdd
                            | Prim::VecSub
                            | Prim::VecMul
                            | Prim::VecScale
                            | Prim::MatVec
                            | Prim::SolveLower
                            | Prim::Diagonal
                            | Prim::Col => Ty::Array(Box::new(Ty::Real)),
                            Prim::MatAdd
                            | Prim::MatSub
                            | Prim::MatScale
                            | Prim::AddDiag
                            | Prim::MatMul
                            | Prim::Transpose
                            | Prim::Cholesky
                            | Prim::Diag
                            | Prim::CovExpQuad => {
                                Ty::Array(Box::new(Ty::Array(Box::new(Ty::Real))))
                            }
                        };
                        (*dst, ty)
                    }
                    Instr::MakeDist { dst, kind, .. } => {
                        (*dst, Ty::Dist(Box::new(dist_value(*kind))))
                    }
                    Instr::Array { dst, elems } => {
                        let mut e = Ty::Unknown;
                        for x in elems {
                            e = e.join(&t(x)).unwrap_or(Ty::Other);
                        }
                        (*dst, Ty::Array(Box::new(e)))
                    }
                    Instr::Tuple { dst, elems } => (*dst, Ty::Tuple(elems.iter().map(t).collect())),
                    Instr::Index { dst, array, .. } => (*dst, t(array).elem()),
                    Instr::Field { dst, tuple, field } => (
                        *dst,
                        match t(tuple) {
                            Ty::Tuple(ts) => ts.get(*field as usize).cloned().unwrap_or(Ty::Other),
                            Ty::Unknown => Ty::Unknown,
                            _ => Ty::Var,
                        },
                    ),
                    Instr::Call {
                        dst,
                        callee,
                        tail,
                        args,
                    } => {
                        let ret = match callee {
                            Callee::Direct(g) => {
                                reach(*g, &[], &mut regs)?;
                                let actual: Vec<Ty> = args.iter().map(t).collect();
                                instantiated_result(&program.func(*g).ty, &actual)
                            }
                            Callee::Closure(c) => t(c).ret(),
                        };
                        if *tail {
                            // The callee's result is this function's: `dst`
                            // is unused.
                            continue;
                        }
                        (*dst, ret)
                    }
                    Instr::Intrinsic { dst, op, args } => {
                        let a = |i: usize| args.get(i).map(t).unwrap_or(Ty::Unknown);
                        let ty = match op {
                            Intrinsic::Map => Ty::Array(Box::new(a(1).ret())),
                            Intrinsic::Filter => a(0),
                            Intrinsic::Fold => a(1).join(&a(2).ret()).unwrap_or(Ty::Other),
                            Intrinsic::Scan => {
                                Ty::Array(Box::new(a(1).join(&a(2).ret()).unwrap_or(Ty::Other)))
                            }
                            Intrinsic::Repeat => Ty::Array(Box::new(a(1).ret())),
                        };
                        (*dst, ty)
                    }
                    Instr::Sample { dst, dist, .. } => (
                        *dst,
                        match t(dist) {
                            Ty::Dist(e) => *e,
                            Ty::Unknown => Ty::Unknown,
                            _ => Ty::Var,
                        },
                    ),
                    _ => continue,
                };
                let slot = &mut regs.get_mut(&f).expect("analysed")[dst.index()];
                let j = slot
                    .join(&ty)
                    .ok_or_else(|| two_types(&format!("a value in `{}`", func.name), span))?;
                if j != *slot {
                    *slot = j;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
    Ok(Types { regs })
}
