//! The checker's internal types and the unification engine.
//!
//! Type variables live in one table ([`Subst`]) as union-find cells. Each
//! unbound variable carries a *level* (for let-generalisation à la OCaml: a
//! variable whose level is deeper than the binding being generalised cannot
//! escape into the environment) and a *kind*: `Any`, `Eq` (must stay
//! comparable with `==`) or `Num` (must become `Int` or `Real`). Quantified
//! variables are marked with the level [`GENERIC`] and are never unified
//! directly — every use copies them ([`Subst::instantiate`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// Level of a quantified (generalised) variable.
pub(crate) const GENERIC: u32 = u32::MAX;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Var(u32),
    Int,
    Real,
    Bool,
    Str,
    Unit,
    Method,
    // Shared children: types are cloned constantly (resolve, record), and
    // deep types (curried lambdas) must not make that quadratic.
    Array(Rc<Ty>),
    Tuple(Rc<[Ty]>),
    Fn(Rc<[Ty]>, Rc<Ty>),
    Dist(Rc<Ty>),
    /// A record: field names sorted, and their types in that order (the
    /// run-time layout is the tuple of the field values in that order).
    Record(Rc<[String]>, Rc<[Ty]>),
    /// The type of an expression already diagnosed as wrong: unifies with
    /// anything, so one mistake produces one message.
    Error,
}

impl Ty {
    /// A record from fields in any order (sorted here; names distinct).
    pub(crate) fn record(mut fields: Vec<(String, Ty)>) -> Ty {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let (ns, ts): (Vec<String>, Vec<Ty>) = fields.into_iter().unzip();
        Ty::Record(ns.into(), ts.into())
    }
    pub(crate) fn array(t: Ty) -> Ty {
        Ty::Array(Rc::new(t))
    }
    pub(crate) fn dist(t: Ty) -> Ty {
        Ty::Dist(Rc::new(t))
    }
    pub(crate) fn func(ps: Vec<Ty>, r: Ty) -> Ty {
        Ty::Fn(ps.into(), Rc::new(r))
    }
}

/// What an unbound variable may still become. Ordered: joining two
/// variables keeps the stronger requirement (`Num` implies `Eq`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Any,
    Eq,
    Num,
}

#[derive(Clone, Debug)]
enum VarState {
    Unbound { kind: Kind, level: u32 },
    Bound(Ty),
}

/// Why two types failed to unify (the caller knows where and reports).
#[derive(Clone, Debug)]
pub(crate) enum UnifyError {
    Mismatch,
    /// Variable would occur in its own solution.
    Occurs(u32, Ty),
    /// A numeric variable met a non-numeric type.
    NotNumeric,
    /// A comparable variable met a function, distribution or method.
    NotComparable(Ty),
}

#[derive(Default, Clone)]
pub(crate) struct Subst {
    vars: Vec<VarState>,
}

impl Subst {
    pub(crate) fn fresh(&mut self, kind: Kind, level: u32) -> Ty {
        self.vars.push(VarState::Unbound { kind, level });
        Ty::Var(self.vars.len() as u32 - 1)
    }

    /// Kind and level of an unbound variable.
    pub(crate) fn var_info(&self, v: u32) -> Option<(Kind, u32)> {
        match &self.vars[v as usize] {
            VarState::Unbound { kind, level } => Some((*kind, *level)),
            VarState::Bound(_) => None,
        }
    }

    /// Follows bound variables at the top of a type only.
    pub(crate) fn resolve(&self, t: &Ty) -> Ty {
        let mut t = t.clone();
        while let Ty::Var(v) = t {
            match &self.vars[v as usize] {
                VarState::Bound(b) => t = b.clone(),
                VarState::Unbound { .. } => break,
            }
        }
        t
    }

    /// Substitutes every bound variable, deeply.
    pub(crate) fn zonk(&self, t: &Ty) -> Ty {
        match self.resolve(t) {
            Ty::Array(e) => Ty::array(self.zonk(&e)),
            Ty::Dist(e) => Ty::dist(self.zonk(&e)),
            Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| self.zonk(t)).collect()),
            Ty::Record(ns, ts) => Ty::Record(ns, ts.iter().map(|t| self.zonk(t)).collect()),
            Ty::Fn(ps, r) => Ty::func(ps.iter().map(|t| self.zonk(t)).collect(), self.zonk(&r)),
            t => t,
        }
    }

    pub(crate) fn unify(&mut self, a: &Ty, b: &Ty) -> Result<(), UnifyError> {
        let a = self.resolve(a);
        let b = self.resolve(b);
        match (&a, &b) {
            (Ty::Error, _) | (_, Ty::Error) => Ok(()),
            (Ty::Var(x), Ty::Var(y)) if x == y => Ok(()),
            (Ty::Var(x), Ty::Var(y)) => {
                let (kx, lx) = self.var_info(*x).expect("resolved");
                let (ky, ly) = self.var_info(*y).expect("resolved");
                self.vars[*y as usize] = VarState::Unbound {
                    kind: kx.max(ky),
                    level: lx.min(ly),
                };
                self.vars[*x as usize] = VarState::Bound(b.clone());
                Ok(())
            }
            (Ty::Var(x), t) | (t, Ty::Var(x)) => self.bind(*x, t),
            (Ty::Int, Ty::Int)
            | (Ty::Real, Ty::Real)
            | (Ty::Bool, Ty::Bool)
            | (Ty::Str, Ty::Str)
            | (Ty::Unit, Ty::Unit)
            | (Ty::Method, Ty::Method) => Ok(()),
            (Ty::Array(x), Ty::Array(y)) | (Ty::Dist(x), Ty::Dist(y)) => self.unify(x, y),
            (Ty::Tuple(xs), Ty::Tuple(ys)) if xs.len() == ys.len() => {
                for (x, y) in xs.iter().zip(ys.iter()) {
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Ty::Record(m, xs), Ty::Record(n, ys)) if m == n => {
                for (x, y) in xs.iter().zip(ys.iter()) {
                    self.unify(x, y)?;
                }
                Ok(())
            }
            (Ty::Fn(ps, r), Ty::Fn(qs, s)) if ps.len() == qs.len() => {
                for (p, q) in ps.iter().zip(qs.iter()) {
                    self.unify(p, q)?;
                }
                self.unify(r, s)
            }
            _ => Err(UnifyError::Mismatch),
        }
    }

    /// Binds an unbound variable to a non-variable type, enforcing the
    /// occurs check, the variable's kind and its level.
    fn bind(&mut self, v: u32, t: &Ty) -> Result<(), UnifyError> {
        let (kind, level) = self.var_info(v).expect("bind of a bound variable");
        if self.occurs(v, t) {
            return Err(UnifyError::Occurs(v, self.zonk(t)));
        }
        match kind {
            Kind::Any => {}
            Kind::Num => {
                if !matches!(t, Ty::Int | Ty::Real | Ty::Error) {
                    return Err(UnifyError::NotNumeric);
                }
            }
            Kind::Eq => {
                if !self.comparable(t) {
                    return Err(UnifyError::NotComparable(self.zonk(t)));
                }
                self.raise_kind(t, Kind::Eq);
            }
        }
        self.lower_level(t, level);
        self.vars[v as usize] = VarState::Bound(t.clone());
        Ok(())
    }

    fn occurs(&self, v: u32, t: &Ty) -> bool {
        match self.resolve(t) {
            Ty::Var(w) => w == v,
            Ty::Array(e) | Ty::Dist(e) => self.occurs(v, &e),
            Ty::Tuple(ts) | Ty::Record(_, ts) => ts.iter().any(|t| self.occurs(v, t)),
            Ty::Fn(ps, r) => ps.iter().any(|t| self.occurs(v, t)) || self.occurs(v, &r),
            _ => false,
        }
    }

    /// Whether `==` can ever apply to values of this type (variables
    /// are optimistic; [`Self::raise_kind`] records the promise).
    fn comparable(&self, t: &Ty) -> bool {
        match self.resolve(t) {
            Ty::Fn(..) | Ty::Dist(_) | Ty::Method => false,
            Ty::Array(e) => self.comparable(&e),
            Ty::Tuple(ts) | Ty::Record(_, ts) => ts.iter().all(|t| self.comparable(t)),
            _ => true,
        }
    }

    fn raise_kind(&mut self, t: &Ty, k: Kind) {
        match self.resolve(t) {
            Ty::Var(v) => {
                if let Some((kind, level)) = self.var_info(v) {
                    self.vars[v as usize] = VarState::Unbound {
                        kind: kind.max(k),
                        level,
                    };
                }
            }
            Ty::Array(e) | Ty::Dist(e) => self.raise_kind(&e, k),
            Ty::Tuple(ts) | Ty::Record(_, ts) => ts.iter().for_each(|t| self.raise_kind(t, k)),
            Ty::Fn(ps, r) => {
                ps.iter().for_each(|t| self.raise_kind(t, k));
                self.raise_kind(&r, k)
            }
            _ => {}
        }
    }

    fn lower_level(&mut self, t: &Ty, level: u32) {
        match self.resolve(t) {
            Ty::Var(v) => {
                if let Some((kind, l)) = self.var_info(v) {
                    // Generic variables never appear in types being unified.
                    if l != GENERIC && l > level {
                        self.vars[v as usize] = VarState::Unbound { kind, level };
                    }
                }
            }
            Ty::Array(e) | Ty::Dist(e) => self.lower_level(&e, level),
            Ty::Tuple(ts) | Ty::Record(_, ts) => ts.iter().for_each(|t| self.lower_level(t, level)),
            Ty::Fn(ps, r) => {
                ps.iter().for_each(|t| self.lower_level(t, level));
                self.lower_level(&r, level)
            }
            _ => {}
        }
    }

    /// Quantifies the variables of `t` deeper than `level`.
    ///
    /// Numeric variables are only generalised where a caller's argument
    /// decides them (they occur inside some function type's parameter
    /// list): `fn add(a, b) { a + b }` is `(N, N) -> N`, but `let i = 3`
    /// and `fn three() { 3 }` default to `Int` here, so a variable never
    /// converts and no result type depends on what the caller expects.
    ///
    /// Several types are generalised together (a recursive component of
    /// top-level items) so "occurs in a parameter" is judged over all.
    pub(crate) fn generalize_all(&mut self, ts: &[Ty], level: u32) {
        let mut in_params = Vec::new();
        for t in ts {
            self.param_vars(t, false, &mut in_params);
        }
        for t in ts {
            self.generalize_walk(t, level, &in_params);
        }
    }

    fn param_vars(&self, t: &Ty, inside: bool, out: &mut Vec<u32>) {
        match self.resolve(t) {
            Ty::Var(v) if inside => out.push(v),
            Ty::Array(e) | Ty::Dist(e) => self.param_vars(&e, inside, out),
            Ty::Tuple(ts) | Ty::Record(_, ts) => {
                ts.iter().for_each(|t| self.param_vars(t, inside, out))
            }
            Ty::Fn(ps, r) => {
                ps.iter().for_each(|t| self.param_vars(t, true, out));
                self.param_vars(&r, inside, out)
            }
            _ => {}
        }
    }

    fn generalize_walk(&mut self, t: &Ty, level: u32, in_params: &[u32]) {
        match self.resolve(t) {
            Ty::Var(v) => {
                if let Some((kind, l)) = self.var_info(v) {
                    if l != GENERIC && l > level {
                        if kind == Kind::Num && !in_params.contains(&v) {
                            self.vars[v as usize] = VarState::Bound(Ty::Int);
                        } else {
                            self.vars[v as usize] = VarState::Unbound {
                                kind,
                                level: GENERIC,
                            };
                        }
                    }
                }
            }
            Ty::Array(e) | Ty::Dist(e) => self.generalize_walk(&e, level, in_params),
            Ty::Tuple(ts) | Ty::Record(_, ts) => ts
                .iter()
                .for_each(|t| self.generalize_walk(t, level, in_params)),
            Ty::Fn(ps, r) => {
                ps.iter()
                    .for_each(|t| self.generalize_walk(t, level, in_params));
                self.generalize_walk(&r, level, in_params)
            }
            _ => {}
        }
    }

    /// Copies a type, replacing each quantified variable by a fresh one
    /// (same kind) at `level`; other variables are shared.
    pub(crate) fn instantiate(&mut self, t: &Ty, level: u32) -> Ty {
        let mut map = HashMap::new();
        self.inst(t, level, &mut map)
    }

    fn inst(&mut self, t: &Ty, level: u32, map: &mut HashMap<u32, Ty>) -> Ty {
        match self.resolve(t) {
            Ty::Var(v) => match self.var_info(v) {
                Some((kind, GENERIC)) => {
                    if let Some(t) = map.get(&v) {
                        return t.clone();
                    }
                    let f = self.fresh(kind, level);
                    map.insert(v, f.clone());
                    f
                }
                _ => Ty::Var(v),
            },
            Ty::Array(e) => Ty::array(self.inst(&e, level, map)),
            Ty::Dist(e) => Ty::dist(self.inst(&e, level, map)),
            Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| self.inst(t, level, map)).collect()),
            Ty::Record(ns, ts) => {
                Ty::Record(ns, ts.iter().map(|t| self.inst(t, level, map)).collect())
            }
            Ty::Fn(ps, r) => {
                let ps = ps.iter().map(|t| self.inst(t, level, map)).collect();
                Ty::func(ps, self.inst(&r, level, map))
            }
            t => t,
        }
    }

    /// Marks a fresh variable as quantified (used to build builtin schemes).
    pub(crate) fn generic(&mut self, kind: Kind) -> Ty {
        self.fresh(kind, GENERIC)
    }

    /// Resolves every unbound, non-quantified numeric variable to `Int`
    /// (the end-of-program default).
    pub(crate) fn default_numeric(&mut self) {
        for cell in &mut self.vars {
            if let VarState::Unbound {
                kind: Kind::Num,
                level,
            } = cell
            {
                if *level != GENERIC {
                    *cell = VarState::Bound(Ty::Int);
                }
            }
        }
    }

    /// The quantified numeric variables (what `TypeInfo::numeric_vars` reports).
    pub(crate) fn generic_numeric_vars(&self) -> impl Iterator<Item = u32> + '_ {
        self.vars.iter().enumerate().filter_map(|(i, c)| match c {
            VarState::Unbound {
                kind: Kind::Num,
                level: GENERIC,
            } => Some(i as u32),
            _ => None,
        })
    }

    /// Converts to the runtime's type; `None` if any part is [`Ty::Error`].
    pub(crate) fn export(&self, t: &Ty) -> Option<tyche_ir::Type> {
        use tyche_ir::Type;
        Some(match self.resolve(t) {
            Ty::Var(v) => Type::Var(v),
            Ty::Int => Type::Int,
            Ty::Real => Type::Real,
            Ty::Bool => Type::Bool,
            Ty::Str => Type::Str,
            Ty::Unit => Type::Unit,
            Ty::Method => Type::Method,
            Ty::Array(e) => Type::array(self.export(&e)?),
            Ty::Dist(e) => Type::dist(self.export(&e)?),
            Ty::Tuple(ts) => Type::Tuple(ts.iter().map(|t| self.export(t)).collect::<Option<_>>()?),
            Ty::Record(ns, ts) => Type::Record(
                ns.iter()
                    .zip(ts.iter())
                    .map(|(n, t)| Some((n.clone(), self.export(t)?)))
                    .collect::<Option<_>>()?,
            ),
            Ty::Fn(ps, r) => Type::func(
                ps.iter().map(|t| self.export(t)).collect::<Option<_>>()?,
                self.export(&r)?,
            ),
            Ty::Error => return None,
        })
    }
}

/// Prints types for one diagnostic, naming variables `'a`, `'b`, … in order
/// of first appearance so the same variable reads the same in every label.
pub(crate) struct Namer<'s> {
    subst: &'s Subst,
    names: HashMap<u32, usize>,
}

impl<'s> Namer<'s> {
    pub(crate) fn new(subst: &'s Subst) -> Self {
        Namer {
            subst,
            names: HashMap::new(),
        }
    }

    pub(crate) fn show(&mut self, t: &Ty) -> String {
        let mut s = String::new();
        self.write(t, &mut s);
        s
    }

    fn write(&mut self, t: &Ty, out: &mut String) {
        match self.subst.resolve(t) {
            Ty::Var(v) => {
                if let Some((Kind::Num, l)) = self.subst.var_info(v) {
                    if l != GENERIC {
                        // Still undecided between Int and Real, as rustc's `{integer}`.
                        out.push_str("{number}");
                        return;
                    }
                }
                let next = self.names.len();
                let n = *self.names.entry(v).or_insert(next);
                out.push_str(&var_name(n));
            }
            Ty::Int => out.push_str("Int"),
            Ty::Real => out.push_str("Real"),
            Ty::Bool => out.push_str("Bool"),
            Ty::Str => out.push_str("String"),
            Ty::Unit => out.push_str("()"),
            Ty::Method => out.push_str("Method"),
            Ty::Error => out.push('_'),
            Ty::Array(e) => {
                out.push('[');
                self.write(&e, out);
                out.push(']');
            }
            Ty::Dist(e) => {
                out.push_str("Dist<");
                self.write(&e, out);
                out.push('>');
            }
            Ty::Tuple(ts) => {
                out.push('(');
                self.list(&ts, out);
                out.push(')');
            }
            Ty::Record(ns, ts) => {
                out.push('{');
                for (i, (n, t)) in ns.iter().zip(ts.iter()).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(n);
                    out.push_str(": ");
                    self.write(t, out);
                }
                out.push('}');
            }
            Ty::Fn(ps, r) => {
                out.push('(');
                self.list(&ps, out);
                out.push_str(") -> ");
                self.write(&r, out);
            }
        }
    }

    fn list(&mut self, ts: &[Ty], out: &mut String) {
        for (i, t) in ts.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write(t, out);
        }
    }
}

/// `'a` … `'z`, then `'a1` …, as `tyche_ir::Type`'s `Display` does.
pub(crate) fn var_name(n: usize) -> String {
    let mut s = String::from("'");
    s.push((b'a' + (n % 26) as u8) as char);
    if n >= 26 {
        let _ = write!(s, "{}", n / 26);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unify_binds_and_zonks() {
        let mut s = Subst::default();
        let a = s.fresh(Kind::Any, 1);
        s.unify(&Ty::array(a.clone()), &Ty::array(Ty::Real))
            .unwrap();
        assert_eq!(s.zonk(&a), Ty::Real);
    }

    #[test]
    fn numeric_rejects_bool_and_defaults_to_int() {
        let mut s = Subst::default();
        let n = s.fresh(Kind::Num, 1);
        assert!(matches!(
            s.unify(&n, &Ty::Bool),
            Err(UnifyError::NotNumeric)
        ));
        let m = s.fresh(Kind::Num, 1);
        s.default_numeric();
        assert_eq!(s.zonk(&m), Ty::Int);
    }

    #[test]
    fn occurs_check() {
        let mut s = Subst::default();
        let a = s.fresh(Kind::Any, 1);
        assert!(matches!(
            s.unify(&a, &Ty::array(a.clone())),
            Err(UnifyError::Occurs(..))
        ));
    }

    #[test]
    fn eq_kind_propagates_into_arrays() {
        let mut s = Subst::default();
        let a = s.fresh(Kind::Eq, 1);
        let b = s.fresh(Kind::Any, 1);
        s.unify(&a, &Ty::array(b.clone())).unwrap();
        assert!(matches!(
            s.unify(&b, &Ty::func(vec![], Ty::Int)),
            Err(UnifyError::NotComparable(_))
        ));
    }

    #[test]
    fn generalize_keeps_param_numeric_and_defaults_result_numeric() {
        let mut s = Subst::default();
        let n = s.fresh(Kind::Num, 2);
        let m = s.fresh(Kind::Num, 2);
        let t = Ty::func(
            vec![n.clone()],
            Ty::Tuple(vec![n.clone(), m.clone()].into()),
        );
        s.generalize_all(std::slice::from_ref(&t), 1);
        assert_eq!(s.var_info(0), Some((Kind::Num, GENERIC)));
        assert_eq!(s.zonk(&m), Ty::Int);
        let inst = s.instantiate(&t, 1);
        assert_ne!(inst, s.zonk(&t));
    }

    #[test]
    fn namer_is_consistent() {
        let mut s = Subst::default();
        let a = s.fresh(Kind::Any, 1);
        let b = s.fresh(Kind::Any, 1);
        let mut n = Namer::new(&s);
        assert_eq!(
            n.show(&Ty::func(vec![b.clone(), a.clone()], b)),
            "('a, 'b) -> 'a"
        );
    }
}
