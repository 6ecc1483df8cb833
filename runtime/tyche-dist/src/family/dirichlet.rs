//! `Dirichlet(alphas) : Dist<[Real]>`. An exception without a generic
//! density (vector values; interpreter only): see `density.rs`.

use super::{Described, Family, ParamInfo, Support, Type};

pub(crate) struct Dirichlet;

impl Described for Dirichlet {
    const INFO: Family = Family {
        name: "Dirichlet",
        summary: "probability vectors (points of the simplex)",
        params: &[ParamInfo {
            name: "alphas",
            ty: Type::RealArray,
            meaning: "concentrations, finite, > 0, non-empty",
        }],
        value: Type::RealArray,
        support: Support::Simplex,
        example: "let w ~ Dirichlet([1.0, 1.0, 1.0]);",
    };
}
