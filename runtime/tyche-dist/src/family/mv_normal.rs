//! `MvNormal(mu, cov) : Dist<[Real]>`. An exception without a generic
//! density (vector values; interpreter only): see `density.rs`.

use super::{Described, Family, ParamInfo, Support, Type};

pub(crate) struct MvNormal;

impl Described for MvNormal {
    const INFO: Family = Family {
        name: "MvNormal",
        summary: "the multivariate normal distribution",
        params: &[
            ParamInfo {
                name: "mu",
                ty: Type::RealArray,
                meaning: "mean vector, finite, non-empty",
            },
            ParamInfo {
                name: "cov",
                ty: Type::RealMatrix,
                meaning: "covariance matrix, symmetric positive definite, len(mu) × len(mu)",
            },
        ],
        value: Type::RealArray,
        support: Support::RealVector,
        example: "let x ~ MvNormal([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]]);",
    };
}
