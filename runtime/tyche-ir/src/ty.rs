//! Tyche's types as the runtime sees them: fully resolved (type variables
//! remain only in polymorphic positions the runtime never needs to look at).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int,
    Real,
    Bool,
    Str,
    Unit,
    Array(Box<Type>),
    Tuple(Vec<Type>),
    Fn(Vec<Type>, Box<Type>),
    Dist(Box<Type>),
    /// An inference method value (`Enumerate`, `Smc(100)`, …).
    Method,
    /// A type variable, printed `'a`, `'b`, …
    Var(u32),
    /// `{mu: Real, tau: Real}`: fields sorted by name. At run time a record
    /// is a `Value::Tuple` of its fields in this order (`Field` reads one),
    /// so only the front end, data binding and output naming see names.
    Record(Vec<(String, Type)>),
}

impl Type {
    pub fn array(t: Type) -> Type {
        Type::Array(Box::new(t))
    }
    pub fn dist(t: Type) -> Type {
        Type::Dist(Box::new(t))
    }
    pub fn func(params: Vec<Type>, ret: Type) -> Type {
        Type::Fn(params, Box::new(ret))
    }
    /// The component types of a tuple or record, in run-time order.
    pub fn components(&self) -> Option<Vec<&Type>> {
        match self {
            Type::Tuple(ts) => Some(ts.iter().collect()),
            Type::Record(fs) => Some(fs.iter().map(|(_, t)| t).collect()),
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => write!(f, "Int"),
            Type::Real => write!(f, "Real"),
            Type::Bool => write!(f, "Bool"),
            Type::Str => write!(f, "String"),
            Type::Unit => write!(f, "()"),
            Type::Array(t) => write!(f, "[{t}]"),
            Type::Tuple(ts) => {
                write!(f, "(")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ")")
            }
            Type::Fn(ps, r) => {
                write!(f, "(")?;
                for (i, t) in ps.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ") -> {r}")
            }
            Type::Dist(t) => write!(f, "Dist<{t}>"),
            Type::Record(fs) => {
                write!(f, "{{")?;
                for (i, (n, t)) in fs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{n}: {t}")?;
                }
                write!(f, "}}")
            }
            Type::Method => write!(f, "Method"),
            Type::Var(n) => {
                let letter = (b'a' + (n % 26) as u8) as char;
                if *n < 26 {
                    write!(f, "'{letter}")
                } else {
                    write!(f, "'{letter}{}", n / 26)
                }
            }
        }
    }
}
