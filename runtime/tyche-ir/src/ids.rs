//! Typed indices into the program's tables. Their `Display` matches the
//! textual IR (`f3`, `r7`, `site2`, `g1`).

use std::fmt;

macro_rules! id {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id!(FuncId, "f", "A function of the program.");
id!(Reg, "r", "A register of the current function's frame.");
id!(
    SiteId,
    "site",
    "A probabilistic site (sample, observe, factor, condition)."
);
id!(
    NameId,
    "n",
    "An interned choice name; addresses are `name[index]`."
);
id!(GlobalId, "g", "A top-level constant or data item.");
