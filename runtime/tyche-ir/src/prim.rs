//! Built-in operations implemented by the runtime, and the mapping from
//! their source names. The type checker keeps their types; this table is
//! what lowering and the interpreter agree on.

use std::fmt;

macro_rules! prims {
    ($($variant:ident => $name:literal / $arity:literal),* $(,)?) => {
        /// A pure built-in function (it never calls back into Tyche code).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Prim { $($variant),* }

        impl Prim {
            pub const ALL: &'static [Prim] = &[$(Prim::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Prim::$variant => $name),* }
            }

            pub fn arity(self) -> usize {
                match self { $(Prim::$variant => $arity),* }
            }

            pub fn from_name(name: &str) -> Option<Prim> {
                match name { $($name => Some(Prim::$variant),)* _ => None }
            }
        }
    };
}

prims! {
    Len => "len" / 1,
    Sum => "sum" / 1,
    Product => "product" / 1,
    Min => "min" / 2,
    Max => "max" / 2,
    Abs => "abs" / 1,
    Real => "real" / 1,
    Int => "int" / 1,
    Exp => "exp" / 1,
    Log => "log" / 1,
    Sqrt => "sqrt" / 1,
    Floor => "floor" / 1,
    Ceil => "ceil" / 1,
    Sigmoid => "sigmoid" / 1,
    Logit => "logit" / 1,
    Lgamma => "lgamma" / 1,
    Log1p => "log1p" / 1,
    Expm1 => "expm1" / 1,
    Sin => "sin" / 1,
    Cos => "cos" / 1,
    Tan => "tan" / 1,
    Atan => "atan" / 1,
    Tanh => "tanh" / 1,
    Pow => "pow" / 2,
    LogSumExp => "log_sum_exp" / 1,
    Range => "range" / 2,
    Zip => "zip" / 2,
    Concat => "concat" / 2,
    Reverse => "reverse" / 1,
    Print => "print" / 1,
    LogProb => "log_prob" / 2,
    Prob => "prob" / 2,
    Mean => "mean" / 1,
    LogEvidence => "log_evidence" / 1,
    Samples => "samples" / 1,
    Enumerate => "Enumerate" / 0,
    Rejection => "Rejection" / 1,
    Importance => "Importance" / 1,
    Smc => "Smc" / 1,
    Mh => "Mh" / 1,
    Hmc => "Hmc" / 1,
    Nuts => "Nuts" / 1,
    // Linear algebra on `[Real]` (vectors) and rectangular `[[Real]]`
    // (matrices, as rows): docs/language.md, "Vectors and matrices".
    VecAdd => "vec_add" / 2,
    VecSub => "vec_sub" / 2,
    VecMul => "vec_mul" / 2,
    VecScale => "vec_scale" / 2,
    MatAdd => "mat_add" / 2,
    MatSub => "mat_sub" / 2,
    MatScale => "mat_scale" / 2,
    AddDiag => "add_diag" / 2,
    MatVec => "mat_vec" / 2,
    MatMul => "mat_mul" / 2,
    Transpose => "transpose" / 1,
    Cholesky => "cholesky" / 1,
    SolveLower => "solve_lower" / 2,
    LogDeterminant => "log_determinant" / 1,
    Diag => "diag" / 1,
    Diagonal => "diagonal" / 1,
    Col => "col" / 2,
    CovExpQuad => "cov_exp_quad" / 3,
}

impl Prim {
    /// Whether this is one of the linear-algebra built-ins (their
    /// semantics live in `tyche_vm::linalg`, their tracing in
    /// `tyche_jit`'s `linalg.rs`).
    pub fn is_linalg(self) -> bool {
        use Prim::*;
        matches!(
            self,
            VecAdd
                | VecSub
                | VecMul
                | VecScale
                | MatAdd
                | MatSub
                | MatScale
                | AddDiag
                | MatVec
                | MatMul
                | Transpose
                | Cholesky
                | SolveLower
                | LogDeterminant
                | Diag
                | Diagonal
                | Col
                | CovExpQuad
        )
    }
}

/// A built-in that calls a Tyche closure, so it runs as a frame of the
/// interpreter (choices inside the closure are ordinary sites).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intrinsic {
    /// `map(xs, f)`
    Map,
    /// `filter(xs, p)`
    Filter,
    /// `fold(xs, init, f)`
    Fold,
    /// `scan(xs, init, f)`: the states after each element (length `len(xs)`).
    Scan,
    /// `repeat(n, f)`: `[f(), f(), …]`, n times.
    Repeat,
}

impl Intrinsic {
    pub const ALL: &'static [Intrinsic] = &[
        Intrinsic::Map,
        Intrinsic::Filter,
        Intrinsic::Fold,
        Intrinsic::Scan,
        Intrinsic::Repeat,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Intrinsic::Map => "map",
            Intrinsic::Filter => "filter",
            Intrinsic::Fold => "fold",
            Intrinsic::Scan => "scan",
            Intrinsic::Repeat => "repeat",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Intrinsic::Map | Intrinsic::Filter | Intrinsic::Repeat => 2,
            Intrinsic::Fold | Intrinsic::Scan => 3,
        }
    }

    pub fn from_name(name: &str) -> Option<Intrinsic> {
        Intrinsic::ALL.iter().copied().find(|i| i.name() == name)
    }
}

/// An inference method as a value (`Smc(1000)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    Enumerate,
    Rejection,
    Importance,
    Smc,
    Mh,
    Hmc,
    Nuts,
}

impl MethodKind {
    pub fn name(self) -> &'static str {
        match self {
            MethodKind::Enumerate => "enumerate",
            MethodKind::Rejection => "rejection",
            MethodKind::Importance => "importance",
            MethodKind::Smc => "smc",
            MethodKind::Mh => "mh",
            MethodKind::Hmc => "hmc",
            MethodKind::Nuts => "nuts",
        }
    }

    pub fn from_name(name: &str) -> Option<MethodKind> {
        [
            MethodKind::Enumerate,
            MethodKind::Rejection,
            MethodKind::Importance,
            MethodKind::Smc,
            MethodKind::Mh,
            MethodKind::Hmc,
            MethodKind::Nuts,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

impl fmt::Display for Prim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Intrinsic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
