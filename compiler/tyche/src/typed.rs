//! Registering plain Rust functions (`|x: f64, n: i64| -> f64`) without
//! writing a [`Signature`](crate::Signature) or handling [`Value`]s:
//! [`ProgramBuilder::typed_function`] derives the signature from the Rust
//! types through [`TycheType`] and converts arguments and results.

use crate::foreign::{ProgramBuilder, Signature};
use crate::value::{FromValue, IntoValue};
use std::fmt::Display;
use tyche_ir::Type;
use tyche_vm::Value;

/// A Rust type with a Tyche type: `f64` is `Real`, `Vec<i64>` is `[Int]`.
///
/// ```
/// use tyche::{Type, TycheType};
/// assert_eq!(<Vec<(f64, bool)>>::tyche_type().to_string(), "[(Real, Bool)]");
/// assert_eq!(String::tyche_type(), Type::Str);
/// ```
pub trait TycheType {
    /// The Tyche type of values of this Rust type.
    ///
    /// ```
    /// use tyche::TycheType;
    /// assert_eq!(<(i64, Vec<bool>)>::tyche_type().to_string(), "(Int, [Bool])");
    /// ```
    fn tyche_type() -> Type;
}

macro_rules! scalar_types {
    ($($t:ty => $ty:expr),*) => {$(
        impl TycheType for $t {
            fn tyche_type() -> Type {
                $ty
            }
        }
    )*};
}
scalar_types!(f64 => Type::Real, i64 => Type::Int, bool => Type::Bool, String => Type::Str, () => Type::Unit);

impl<T: TycheType> TycheType for Vec<T> {
    fn tyche_type() -> Type {
        Type::array(T::tyche_type())
    }
}

macro_rules! tuple_types {
    ($(($($t:ident),+))*) => {$(
        impl<$($t: TycheType),+> TycheType for ($($t,)+) {
            fn tyche_type() -> Type {
                Type::Tuple(vec![$($t::tyche_type()),+])
            }
        }
    )*};
}
tuple_types! {
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
}

/// What a typed host function may return: a value of a [`TycheType`], or
/// a `Result` of one whose error is shown in the diagnostic.
///
/// ```
/// use tyche::{HostResult, Type};
/// assert_eq!(<f64 as HostResult>::result_type(), Type::Real);
/// assert_eq!(<Result<Vec<i64>, String> as HostResult>::result_type(), Type::array(Type::Int));
/// assert!(Err::<f64, _>("diverged").into_result().is_err());
/// ```
pub trait HostResult {
    /// The Tyche return type.
    ///
    /// ```
    /// use tyche::HostResult;
    /// assert_eq!(<Result<bool, std::fmt::Error> as HostResult>::result_type(), tyche::Type::Bool);
    /// ```
    fn result_type() -> Type;

    /// The value, or the error message.
    ///
    /// ```
    /// use tyche::{HostResult, Value};
    /// assert_eq!(3i64.into_result(), Ok(Value::Int(3)));
    /// assert_eq!(Err::<i64, _>("no").into_result(), Err("no".to_string()));
    /// ```
    fn into_result(self) -> Result<Value, String>;
}

macro_rules! plain_results {
    ($($t:ty),*) => {$(
        impl HostResult for $t {
            fn result_type() -> Type {
                <$t as TycheType>::tyche_type()
            }
            fn into_result(self) -> Result<Value, String> {
                Ok(self.into_value())
            }
        }
    )*};
}
plain_results!(f64, i64, bool, String, ());

impl<T: TycheType + IntoValue> HostResult for Vec<T> {
    fn result_type() -> Type {
        <Vec<T>>::tyche_type()
    }
    fn into_result(self) -> Result<Value, String> {
        Ok(self.into_value())
    }
}

macro_rules! tuple_results {
    ($(($($t:ident),+))*) => {$(
        impl<$($t: TycheType + IntoValue),+> HostResult for ($($t,)+) {
            fn result_type() -> Type {
                <($($t,)+)>::tyche_type()
            }
            fn into_result(self) -> Result<Value, String> {
                Ok(self.into_value())
            }
        }
    )*};
}
tuple_results! {
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
}

impl<T: HostResult, E: Display> HostResult for Result<T, E> {
    fn result_type() -> Type {
        T::result_type()
    }
    fn into_result(self) -> Result<Value, String> {
        self.map_err(|e| e.to_string())?.into_result()
    }
}

/// A Rust function (or closure) of up to six [`TycheType`] arguments that
/// returns a [`HostResult`]; `Args` is the tuple of its argument types.
/// Implemented automatically for every such `Fn`.
pub trait HostFunction<Args>: Send + Sync + 'static {
    /// The signature derived from the Rust types.
    ///
    /// ```
    /// use tyche::HostFunction;
    /// fn sig<Args, F: HostFunction<Args>>(_: &F) -> String { F::signature().to_string() }
    /// assert_eq!(sig(&|x: f64, n: i64| x * n as f64), "(Real, Int) -> Real");
    /// ```
    fn signature() -> Signature;

    /// Converts the arguments, calls, converts the result.
    ///
    /// ```
    /// use tyche::{HostFunction, Value};
    /// let add = |a: i64, b: i64| a + b;
    /// assert_eq!(add.call_values(&[Value::Int(1), Value::Int(2)]), Ok(Value::Int(3)));
    /// assert!(add.call_values(&[Value::Int(1), Value::Bool(true)]).is_err());
    /// ```
    fn call_values(&self, args: &[Value]) -> Result<Value, String>;
}

macro_rules! host_functions {
    ($(($($a:ident $i:tt),*))*) => {$(
        impl<Func, Ret, $($a),*> HostFunction<($($a,)*)> for Func
        where
            Func: Fn($($a),*) -> Ret + Send + Sync + 'static,
            Ret: HostResult,
            $($a: TycheType + FromValue,)*
        {
            fn signature() -> Signature {
                Signature::new(vec![$($a::tyche_type()),*], Ret::result_type())
            }

            #[allow(unused_variables, non_snake_case)]
            fn call_values(&self, args: &[Value]) -> Result<Value, String> {
                $(let $a = $a::from_value(&args[$i]).map_err(|e| {
                    format!("argument {}: {}", $i + 1, e.message())
                })?;)*
                (self)($($a),*).into_result()
            }
        }
    )*};
}
host_functions! {
    ()
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

impl ProgramBuilder {
    /// Registers a plain Rust function: the signature comes from its
    /// argument and return types ([`TycheType`]: `f64` is `Real`, `i64`
    /// `Int`, `bool` `Bool`, `String`, `()`, `Vec<T>` `[T]`, tuples), and
    /// values are converted both ways. Return a `Result<T, E>` to report
    /// failures (`E: Display`). Otherwise as
    /// [`function`](ProgramBuilder::function).
    ///
    /// ```
    /// let program = tyche::Program::builder()
    ///     .typed_function("logistic", |x: f64| 1.0 / (1.0 + (-x).exp()))
    ///     .typed_function("clamp_count", |n: i64, max: i64| n.min(max))
    ///     .typed_function("mean_of_pairs", |ps: Vec<(f64, f64)>| -> Result<f64, String> {
    ///         if ps.is_empty() { return Err("no pairs".into()); }
    ///         Ok(ps.iter().map(|(a, b)| a + b).sum::<f64>() / (2.0 * ps.len() as f64))
    ///     })
    ///     .source("m.ppl", "
    ///         fn model() -> Real {
    ///             logistic(0.0) + real(clamp_count(7, 3)) + mean_of_pairs([(1.0, 3.0)])
    ///         }
    ///     ")
    ///     .build()?;
    /// assert_eq!(program.model("model")?.run()?.mean(), Some(5.5));
    /// # Ok::<(), tyche::Error>(())
    /// ```
    pub fn typed_function<Args, F: HostFunction<Args>>(self, name: &str, f: F) -> ProgramBuilder {
        self.function(name, F::signature(), move |args: &[Value]| {
            f.call_values(args)
        })
    }
}
