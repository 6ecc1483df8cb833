//! "Did you mean …?" suggestions: the shared implementation lives in
//! `tyche_core::suggest` (the lowering pass and the driver use it too).

pub(crate) use tyche_core::suggest::best_match;
