//! The automatic method choice and its reasons, as data.
//!
//! Without a method, a run tries exact enumeration, then NUTS, then SMC
//! with rejuvenation (LANGUAGE.md §8). [`Choice`] records which one ran
//! and why the ones before it could not; [`Choice`]'s `Display` is the
//! one place these reasons become words (`"method_reason"` in JSON, the
//! text report's header).

use std::fmt;
use tyche_infer::EnumerationRefusal;

/// The method the automatic choice ran, and why.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    /// Every choice is finite and discrete: the posterior is exact.
    Enumerate,
    /// Every choice is continuous and the structure is fixed by the data.
    Nuts {
        /// Unconstrained coordinates of the model's gradient.
        coordinates: usize,
        not_exact: NotExact,
    },
    /// NUTS on the continuous choices, the discrete ones summed out of the
    /// density (each has local influence: `tyche_jit::marginal`); the
    /// structure is fixed by the data.
    NutsSummedOut {
        coordinates: usize,
        /// The discrete choices summed out (their addresses, in order).
        summed_out: Vec<String>,
        not_exact: NotExact,
    },
    /// Resample-move SMC, which handles discrete choices and changing
    /// structure.
    Smc {
        /// MH moves per particle after each resampling.
        rejuvenate: usize,
        not_nuts: NoGradient,
        not_exact: NotExact,
    },
}

/// Why exact enumeration could not run: its refusal and its words (the
/// enumeration error's message, which names the choice).
#[derive(Clone, Debug, PartialEq)]
pub struct NotExact {
    pub refusal: EnumerationRefusal,
    pub message: String,
}

/// Why NUTS could not run the model.
#[derive(Clone, Debug, PartialEq)]
pub enum NoGradient {
    /// Gradients need native code, and the interpreter was asked for.
    InterpreterAsked,
    /// The model is a closure with captures, not a plain function.
    NotAPlainFunction,
    /// Tracing the model for its gradient stopped (a discrete choice, a
    /// branch on a choice, …): the tracer's reason.
    NotTraceable(String),
}

impl fmt::Display for NoGradient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoGradient::InterpreterAsked => {
                f.write_str("gradients need native code (`--backend interp` was asked)")
            }
            NoGradient::NotAPlainFunction => f.write_str("the model is not a plain function"),
            NoGradient::NotTraceable(reason) => f.write_str(reason),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Enumerate => f.write_str(
                "enumerate: every choice is finite and discrete, so the posterior is exact",
            ),
            Choice::Nuts {
                coordinates,
                not_exact,
            } => write!(
                f,
                "nuts: every choice is continuous and the model's structure is fixed by its \
                 data ({coordinates} coordinate{}); exact enumeration is impossible ({})",
                if *coordinates == 1 { "" } else { "s" },
                not_exact.message
            ),
            Choice::NutsSummedOut {
                coordinates,
                summed_out,
                not_exact,
            } => write!(
                f,
                "nuts: the discrete choice{} {} {} summed out of the density (each reaches only \
                 its own terms), the other choices are continuous and the model's structure is \
                 fixed by its data ({coordinates} coordinate{}); exact enumeration is impossible \
                 ({})",
                if summed_out.len() == 1 { "" } else { "s" },
                list(summed_out),
                if summed_out.len() == 1 { "is" } else { "are" },
                if *coordinates == 1 { "" } else { "s" },
                not_exact.message
            ),
            Choice::Smc {
                rejuvenate,
                not_nuts,
                not_exact,
            } => write!(
                f,
                "smc with {rejuvenate} rejuvenation moves per resampling: NUTS cannot run this \
                 model ({not_nuts}); exact enumeration is impossible ({})",
                not_exact.message
            ),
        }
    }
}

/// Addresses for a reason: all of up to four, else the first two, `…`
/// and the last, with the count.
fn list(addresses: &[String]) -> String {
    match addresses {
        [] => String::new(),
        [one] => one.clone(),
        _ if addresses.len() <= 4 => {
            let (last, rest) = addresses.split_last().expect("not empty");
            format!("{} and {last}", rest.join(", "))
        }
        _ => format!(
            "{}, {}, …, {} ({} choices)",
            addresses[0],
            addresses[1],
            addresses[addresses.len() - 1],
            addresses.len()
        ),
    }
}
