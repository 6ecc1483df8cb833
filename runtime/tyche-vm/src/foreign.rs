//! Host functions: Rust code that programs call through
//! [`Instr::Foreign`](tyche_ir::Instr::Foreign).
//!
//! The embedding application registers a [`ForeignFn`] per function; it
//! travels inside the IR program (`Program::foreign[i].imp`, type-erased
//! there because the IR does not know runtime values), so every machine
//! running the program — whoever builds it — can call it.

use crate::value::Value;
use std::fmt;
use std::sync::Arc;
use tyche_ir::Native;

/// The signature of a host function: arguments in, a value or an error
/// message out. The message becomes a runtime diagnostic at the call.
pub type HostFn = dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync;

/// A host function callable from programs. Cheap to clone.
#[derive(Clone)]
pub struct ForeignFn(Arc<HostFn>);

impl ForeignFn {
    /// Wraps a closure.
    pub fn new(f: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static) -> ForeignFn {
        ForeignFn(Arc::new(f))
    }

    /// Calls it: the result, or an error message for a diagnostic.
    pub fn call(&self, args: &[Value]) -> Result<Value, String> {
        (self.0)(args)
    }

    /// The handle to store in [`tyche_ir::Foreign::imp`].
    pub fn to_native(&self) -> Native {
        Native(Arc::new(self.clone()))
    }

    /// The function stored in a handle made by [`ForeignFn::to_native`].
    pub fn from_native(native: &Native) -> Option<&ForeignFn> {
        native.0.downcast_ref::<ForeignFn>()
    }
}

impl fmt::Debug for ForeignFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<foreign fn>")
    }
}
