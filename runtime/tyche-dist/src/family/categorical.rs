//! `Categorical(ps) : Dist<Int>` on `0..len(ps)`. An exception without a
//! generic density: its log mass is a lookup in the table `ln(ps / Σ ps)`
//! (`Dist::new`), which `tyche-jit`'s `dists.rs` builds as a graph table
//! or a chain of selects.

use super::{Described, Family, ParamInfo, Support, Type};

pub(crate) struct Categorical;

impl Described for Categorical {
    const INFO: Family = Family {
        name: "Categorical",
        summary: "an index drawn with probability proportional to its weight",
        params: &[ParamInfo {
            name: "ps",
            ty: Type::RealArray,
            meaning: "weights, finite, >= 0, with a positive sum (normalised)",
        }],
        value: Type::Int,
        support: Support::Indices(0),
        example: "let k ~ Categorical([0.2, 0.3, 0.5]);",
    };
}
