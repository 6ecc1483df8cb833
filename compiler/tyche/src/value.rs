//! Moving values between Rust and Tyche: [`IntoValue`], [`FromValue`],
//! and the type-directed check every value passed into a program goes
//! through.
//!
//! | Tyche type | Rust types in ([`IntoValue`]) | Rust types out ([`FromValue`]) |
//! |---|---|---|
//! | `Real` | `f64`, `f32` (and integers, see below) | `f64` (also accepts `Int`) |
//! | `Int` | `i64`, `i32`, `i16`, `i8`, `u32`, `u16`, `u8` | `i64`, `i32`, `usize` |
//! | `Bool` | `bool` | `bool` (and `f64` as 0/1) |
//! | `String` | `String`, `&str` | `String` |
//! | `()` | `()` | `()` |
//! | `[T]` | `Vec<T>`, `&[T]`, `[T; N]` | `Vec<T>` |
//! | `(T, U, …)` | tuples of 2 to 6 elements | tuples of 2 to 6 elements |
//! | any | [`Value`] | [`Value`] |
//!
//! Values passed in are checked against the declared type of what they
//! bind (a `data` item, a choice); an integer where a `Real` is declared is
//! converted, as the literal rule of LANGUAGE.md §2 does for `Normal(0, 1)`.

use crate::error::{Error, ErrorKind};
use std::sync::Arc;
use tyche_ir::Type;
use tyche_vm::Value;

/// Conversion of a Rust value into a Tyche [`Value`].
///
/// Implemented for the scalar types, strings, vectors, slices, arrays and
/// tuples (see the [module table](crate#values)); implement it for your
/// own types to bind them directly:
///
/// ```
/// use tyche::{IntoValue, Value};
///
/// struct Point { x: f64, y: f64 }
///
/// impl IntoValue for Point {
///     fn into_value(self) -> Value {
///         (self.x, self.y).into_value()
///     }
/// }
///
/// assert_eq!(Point { x: 1.0, y: 2.0 }.into_value().to_string(), "(1.0, 2.0)");
/// assert_eq!(vec![1, 2].into_value().to_string(), "[1, 2]");
/// ```
pub trait IntoValue {
    /// The value, before it is checked against a declared type.
    ///
    /// ```
    /// use tyche::{IntoValue, Value};
    /// assert_eq!(2.5.into_value(), Value::Real(2.5));
    /// assert_eq!((1, "a").into_value().to_string(), "(1, a)");
    /// ```
    fn into_value(self) -> Value;
}

/// Conversion of a Tyche [`Value`] into a Rust value.
///
/// ```
/// use tyche::{FromValue, Value};
///
/// let v = Value::tuple(vec![Value::Real(0.5), Value::array(vec![Value::Int(1), Value::Int(2)])]);
/// let (x, ns) = <(f64, Vec<i64>)>::from_value(&v).unwrap();
/// assert_eq!((x, ns), (0.5, vec![1, 2]));
/// assert!(bool::from_value(&v).is_err());
/// ```
pub trait FromValue: Sized {
    /// The Rust value, or an [`ErrorKind::Conversion`] error naming what
    /// was found instead.
    ///
    /// ```
    /// use tyche::{FromValue, Value};
    /// assert_eq!(Vec::<bool>::from_value(&Value::array(vec![Value::Bool(true)]))?, vec![true]);
    /// let err = i64::from_value(&Value::Real(1.5)).unwrap_err();
    /// assert_eq!(err.message(), "expected an Int, found a Real `1.5`");
    /// # Ok::<(), tyche::Error>(())
    /// ```
    fn from_value(value: &Value) -> Result<Self, Error>;
}

fn mismatch(expected: &str, found: &Value) -> Error {
    Error::plain(
        ErrorKind::Conversion,
        format!(
            "expected {expected}, found {} `{found}`",
            article(found.type_name())
        ),
    )
}

fn article(type_name: &str) -> String {
    match type_name {
        "()" => "the unit value".into(),
        "Int" | "array" => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl IntoValue for &Value {
    fn into_value(self) -> Value {
        self.clone()
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Value, Error> {
        Ok(value.clone())
    }
}

macro_rules! into_real {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Real(self as f64)
            }
        }
    )*};
}
into_real!(f64, f32);

macro_rules! into_int {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::Int(i64::from(self))
            }
        }
    )*};
}
into_int!(i64, i32, i16, i8, u32, u16, u8);

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::Unit
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::Str(Arc::from(self))
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::Str(Arc::from(self))
    }
}

impl IntoValue for &String {
    fn into_value(self) -> Value {
        Value::Str(Arc::from(self.as_str()))
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::array(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: IntoValue + Clone> IntoValue for &[T] {
    fn into_value(self) -> Value {
        Value::array(self.iter().cloned().map(IntoValue::into_value).collect())
    }
}

impl<T: IntoValue + Clone> IntoValue for &Vec<T> {
    fn into_value(self) -> Value {
        self.as_slice().into_value()
    }
}

impl<T: IntoValue, const N: usize> IntoValue for [T; N] {
    fn into_value(self) -> Value {
        Value::array(self.into_iter().map(IntoValue::into_value).collect())
    }
}

macro_rules! tuples {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: IntoValue),+> IntoValue for ($($t,)+) {
            fn into_value(self) -> Value {
                Value::tuple(vec![$(self.$i.into_value()),+])
            }
        }

        impl<$($t: FromValue),+> FromValue for ($($t,)+) {
            fn from_value(value: &Value) -> Result<Self, Error> {
                const N: usize = [$($i),+].len();
                match value {
                    Value::Tuple(xs) if xs.len() == N => Ok(($($t::from_value(&xs[$i])?,)+)),
                    _ => Err(mismatch(&format!("a {N}-tuple"), value)),
                }
            }
        }
    )*};
}
tuples! {
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

impl FromValue for f64 {
    /// `Real`, `Int` (converted) and `Bool` (as 0 or 1) values.
    fn from_value(value: &Value) -> Result<f64, Error> {
        value.as_number().ok_or_else(|| mismatch("a number", value))
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<i64, Error> {
        match value {
            Value::Int(i) => Ok(*i),
            _ => Err(mismatch("an Int", value)),
        }
    }
}

impl FromValue for i32 {
    fn from_value(value: &Value) -> Result<i32, Error> {
        let i = i64::from_value(value)?;
        i32::try_from(i)
            .map_err(|_| Error::plain(ErrorKind::Conversion, format!("{i} does not fit in an i32")))
    }
}

impl FromValue for usize {
    fn from_value(value: &Value) -> Result<usize, Error> {
        let i = i64::from_value(value)?;
        usize::try_from(i).map_err(|_| {
            Error::plain(
                ErrorKind::Conversion,
                format!("{i} does not fit in a usize"),
            )
        })
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<bool, Error> {
        match value {
            Value::Bool(b) => Ok(*b),
            _ => Err(mismatch("a Bool", value)),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<String, Error> {
        match value {
            Value::Str(s) => Ok(s.to_string()),
            _ => Err(mismatch("a String", value)),
        }
    }
}

impl FromValue for () {
    fn from_value(value: &Value) -> Result<(), Error> {
        match value {
            Value::Unit => Ok(()),
            _ => Err(mismatch("()", value)),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value) -> Result<Vec<T>, Error> {
        match value {
            Value::Array(xs) => xs.iter().map(T::from_value).collect(),
            _ => Err(mismatch("an array", value)),
        }
    }
}

/// Checks `value` against `ty`, converting integers where reals are
/// expected. Errors name the path inside the value (`ys[3]`, `t.1`).
pub(crate) fn conform(ty: &Type, value: Value, path: &str) -> Result<Value, String> {
    let found = |v: &Value| {
        format!(
            "`{path}` should be {ty}, found {} `{}`",
            article(v.type_name()),
            short(v)
        )
    };
    Ok(match (ty, value) {
        (Type::Real, Value::Real(x)) => Value::Real(x),
        (Type::Real, Value::Int(i)) => Value::Real(i as f64),
        (Type::Int, v @ Value::Int(_))
        | (Type::Bool, v @ Value::Bool(_))
        | (Type::Str, v @ Value::Str(_))
        | (Type::Unit, v @ Value::Unit) => v,
        (Type::Array(elem), Value::Array(xs)) => {
            let xs = Arc::try_unwrap(xs).unwrap_or_else(|xs| (*xs).clone());
            Value::array(
                xs.into_iter()
                    .enumerate()
                    .map(|(i, x)| conform(elem, x, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Tuple(ts), Value::Tuple(xs)) if ts.len() == xs.len() => Value::tuple(
            ts.iter()
                .zip(xs.iter())
                .enumerate()
                .map(|(i, (t, x))| conform(t, x.clone(), &format!("{path}.{i}")))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(ts), Value::Tuple(xs)) => {
            return Err(format!(
                "`{path}` should be a {}-tuple {ty}, found a {}-tuple",
                ts.len(),
                xs.len()
            ))
        }
        // Polymorphic positions accept anything.
        (Type::Var(_), v) => v,
        (_, v) => return Err(found(&v)),
    })
}

/// A value for a message: long arrays are elided.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(37).collect();
        format!("{cut}...")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conform_converts_ints_to_reals() {
        let v = conform(&Type::array(Type::Real), vec![1, 2].into_value(), "ys").unwrap();
        assert_eq!(v, Value::array(vec![Value::Real(1.0), Value::Real(2.0)]));
    }

    #[test]
    fn conform_names_the_path() {
        let ty = Type::array(Type::Tuple(vec![Type::Int, Type::Bool]));
        let err = conform(&ty, vec![(1, true), (2, false)].into_value(), "ps").unwrap();
        assert_eq!(err.to_string(), "[(1, true), (2, false)]");
        let err = conform(&ty, vec![(1, 2.0)].into_value(), "ps").unwrap_err();
        assert_eq!(err, "`ps[0].1` should be Bool, found a Real `2.0`");
        let err = conform(&Type::Int, 2.5.into_value(), "n").unwrap_err();
        assert_eq!(err, "`n` should be Int, found a Real `2.5`");
    }

    #[test]
    fn from_value_round_trips() {
        let v = (1.5, 2, true, "s".to_string()).into_value();
        let back = <(f64, i64, bool, String)>::from_value(&v).unwrap();
        assert_eq!(back, (1.5, 2, true, "s".to_string()));
        assert!(i64::from_value(&Value::Real(1.0)).is_err());
        assert_eq!(usize::from_value(&Value::Int(3)).unwrap(), 3);
        assert!(usize::from_value(&Value::Int(-3)).is_err());
    }
}
