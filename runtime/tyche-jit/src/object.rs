//! The object file of a `tyche build` executable, and the ABI between it
//! and the runtime library (see `docs/build.md`).
//!
//! [`executable_object`] emits, in one relocatable object for the host:
//!
//! - the program's source text, file name and default model name as
//!   read-only data;
//! - each ahead-of-time kernel as a local function (the code generator of
//!   [`compile_object`](crate::compile_object)), importing the
//!   `tyche_jit_*` special functions;
//! - a table of [`AotEntry`] rows (fingerprint, dimension, function);
//! - an [`EmbeddedProgram`] descriptor pointing at all of the above;
//! - `main(argc, argv)`, which returns `tyche_rt_main(argc, argv,
//!   &descriptor)` ([`RT_MAIN`], defined by the runtime library).
//!
//! `main` is generated here rather than written in Rust because the
//! runtime library is also the `tyche` binary's library, which has a
//! `main` of its own. [`read_entry`] is the runtime library's side: it
//! turns `main`'s arguments back into Rust values and registers the
//! kernels with [`aot`](crate::aot).

use crate::codegen::{self, jerr, JitError, JitOptions};
use crate::kernel::Kernel;
use cranelift_codegen::ir::{types, AbiParam, Function, InstBuilder, UserFuncName};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{default_libcall_names, DataDescription, DataId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use std::ffi::{c_char, c_int, OsString};

/// The runtime entry point `main` calls:
/// `int tyche_rt_main(int argc, char **argv, const EmbeddedProgram *program)`.
pub const RT_MAIN: &str = "tyche_rt_main";

/// Version of [`EmbeddedProgram`] and [`AotEntry`]; bumped whenever
/// either changes, so a runtime library never misreads an object made by
/// another version of `tyche build`.
pub const ABI_VERSION: u64 = 1;

/// What `main` passes to the runtime: everything `tyche build` embedded.
#[repr(C)]
#[derive(Debug)]
pub struct EmbeddedProgram {
    /// [`ABI_VERSION`] of the `tyche build` that wrote the object.
    pub abi: u64,
    /// The program's source text (UTF-8).
    pub source: *const u8,
    pub source_len: usize,
    /// The file name diagnostics show (as given to `tyche build`).
    pub file_name: *const u8,
    pub file_name_len: usize,
    /// The default `--model` (UTF-8).
    pub model: *const u8,
    pub model_len: usize,
    /// The ahead-of-time kernels.
    pub kernels: *const AotEntry,
    pub kernels_len: usize,
}

/// One ahead-of-time kernel, as the object's table stores it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AotEntry {
    /// [`Kernel::fingerprint`] of the kernel the code was compiled from.
    pub fingerprint: u64,
    /// Its dimension (the length of θ).
    pub dim: u64,
    /// The compiled kernel.
    pub func: extern "C" fn(*const f64) -> f64,
}

const WORD: usize = 8;
const ENTRY_SIZE: usize = std::mem::size_of::<AotEntry>();
const PROGRAM_SIZE: usize = std::mem::size_of::<EmbeddedProgram>();

/// An object defining `main` for an executable that runs `source` (named
/// `file_name` in diagnostics; `model` is its default `--model`) with
/// `kernels` compiled ahead of time.
pub fn executable_object(
    file_name: &str,
    source: &str,
    model: &str,
    kernels: &[&Kernel],
) -> Result<Vec<u8>, JitError> {
    let opts = JitOptions::default();
    // Position-independent: `cc` links a PIE by default.
    let isa = codegen::native_isa(&opts, true)?;
    if isa.pointer_bytes() as usize != WORD {
        return Err(jerr("tyche build needs a 64-bit target"));
    }
    let mut builder =
        ObjectBuilder::new(isa, "tyche_program", default_libcall_names()).map_err(jerr)?;
    // One section per function, so `--gc-sections` can drop unused code.
    builder.per_function_section(true);
    let mut module = ObjectModule::new(builder);

    let mut strings = Vec::new();
    for (symbol, text) in [
        ("tyche_program_source", source),
        ("tyche_program_name", file_name),
        ("tyche_program_model", model),
    ] {
        strings.push((
            bytes_data(&mut module, symbol, text.as_bytes())?,
            text.len(),
        ));
    }

    // The kernel table. The object is for the host, so its byte order is
    // the runtime's.
    let mut contents = vec![0u8; ENTRY_SIZE * kernels.len().max(1)];
    let mut funcs = Vec::new();
    for (i, kernel) in kernels.iter().enumerate() {
        let symbol = format!("tyche_aot_kernel_{i}");
        let built = codegen::build(&mut module, kernel, &symbol, Linkage::Local, &opts)?;
        let mut ctx = module.make_context();
        ctx.func = built.func;
        module
            .define_function(built.func_id, &mut ctx)
            .map_err(|e| jerr(format!("{e:?}")))?;
        let row = &mut contents[i * ENTRY_SIZE..(i + 1) * ENTRY_SIZE];
        row[0..WORD].copy_from_slice(&kernel.fingerprint().to_ne_bytes());
        row[WORD..2 * WORD].copy_from_slice(&(kernel.dim() as u64).to_ne_bytes());
        funcs.push(built.func_id);
    }
    let mut table = DataDescription::new();
    table.define(contents.into_boxed_slice());
    table.set_align(WORD as u64);
    for (i, &f) in funcs.iter().enumerate() {
        let r = module.declare_func_in_data(f, &mut table);
        table.write_function_addr((i * ENTRY_SIZE + 2 * WORD) as u32, r);
    }
    let table_id = module
        .declare_data("tyche_aot_table", Linkage::Local, false, false)
        .map_err(jerr)?;
    module.define_data(table_id, &table).map_err(jerr)?;

    // The descriptor: the ABI version, then (address, length) pairs.
    let mut words = [0u64; PROGRAM_SIZE / WORD];
    words[0] = ABI_VERSION;
    let pairs: Vec<(DataId, usize)> = strings
        .into_iter()
        .chain([(table_id, kernels.len())])
        .collect();
    for (i, &(_, len)) in pairs.iter().enumerate() {
        words[2 + 2 * i] = len as u64;
    }
    let mut desc = DataDescription::new();
    desc.define(words.iter().flat_map(|w| w.to_ne_bytes()).collect());
    desc.set_align(WORD as u64);
    for (i, &(data, _)) in pairs.iter().enumerate() {
        let gv = module.declare_data_in_data(data, &mut desc);
        desc.write_data_addr(((1 + 2 * i) * WORD) as u32, gv, 0);
    }
    let program_id = module
        .declare_data("tyche_program", Linkage::Local, false, false)
        .map_err(jerr)?;
    module.define_data(program_id, &desc).map_err(jerr)?;

    define_main(&mut module, program_id)?;
    module.finish().emit().map_err(jerr)
}

/// A read-only byte string (never empty: an empty data object has no
/// address worth taking; the length passed to the runtime is the real one).
fn bytes_data(module: &mut ObjectModule, name: &str, bytes: &[u8]) -> Result<DataId, JitError> {
    let id = module
        .declare_data(name, Linkage::Local, false, false)
        .map_err(jerr)?;
    let mut desc = DataDescription::new();
    let mut v = bytes.to_vec();
    if v.is_empty() {
        v.push(0);
    }
    desc.define(v.into_boxed_slice());
    module.define_data(id, &desc).map_err(jerr)?;
    Ok(id)
}

/// `int main(int argc, char **argv) { return tyche_rt_main(argc, argv, &tyche_program); }`
fn define_main(module: &mut ObjectModule, program: DataId) -> Result<(), JitError> {
    let ptr = module.target_config().pointer_type();
    let mut main_sig = module.make_signature();
    main_sig.params.push(AbiParam::new(types::I32));
    main_sig.params.push(AbiParam::new(ptr));
    main_sig.returns.push(AbiParam::new(types::I32));
    let mut rt_sig = main_sig.clone();
    rt_sig.params.push(AbiParam::new(ptr));
    let main_id = module
        .declare_function("main", Linkage::Export, &main_sig)
        .map_err(jerr)?;
    let rt_id = module
        .declare_function(RT_MAIN, Linkage::Import, &rt_sig)
        .map_err(jerr)?;

    let mut func = Function::with_name_signature(UserFuncName::user(0, main_id.as_u32()), main_sig);
    let mut fctx = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let mut args = b.block_params(entry).to_vec();
        let gv = module.declare_data_in_func(program, b.func);
        args.push(b.ins().symbol_value(ptr, gv));
        let callee = module.declare_func_in_func(rt_id, b.func);
        let call = b.ins().call(callee, &args);
        let status = b.inst_results(call)[0];
        b.ins().return_(&[status]);
        b.seal_all_blocks();
        b.finalize(module.target_config());
    }
    let mut ctx = module.make_context();
    ctx.func = func;
    module
        .define_function(main_id, &mut ctx)
        .map_err(|e| jerr(format!("{e:?}")))?;
    Ok(())
}

/// What an executable embeds, read back by the runtime.
#[derive(Debug)]
pub struct Embedded {
    /// `argv`, program name first.
    pub args: Vec<OsString>,
    pub source: &'static str,
    pub file_name: &'static str,
    pub model: &'static str,
    /// How many ahead-of-time kernels were registered.
    pub kernels: usize,
}

/// The runtime side of `main`: reads `argv` and the descriptor, and
/// registers the ahead-of-time kernels with
/// [`aot::register`](crate::aot::register). An error is a message for
/// the user (an object from another version of `tyche build`).
///
/// # Safety
/// `argv` must hold `argc` valid C strings (as `main` receives them) and
/// `program` must be the descriptor [`executable_object`] wrote, linked
/// into this process (so everything it points to lives forever).
pub unsafe fn read_entry(
    argc: c_int,
    argv: *const *const c_char,
    program: *const EmbeddedProgram,
) -> Result<Embedded, String> {
    let mut args = Vec::new();
    if !argv.is_null() {
        for i in 0..usize::try_from(argc).unwrap_or(0) {
            // SAFETY: `argv[0..argc]` are valid C strings (caller).
            let arg = unsafe { *argv.add(i) };
            if arg.is_null() {
                break;
            }
            let bytes = unsafe { std::ffi::CStr::from_ptr(arg) }.to_bytes();
            #[cfg(unix)]
            let arg = <OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes.to_vec());
            #[cfg(not(unix))]
            let arg = OsString::from(String::from_utf8_lossy(bytes).into_owned());
            args.push(arg);
        }
    }
    // SAFETY: the caller passes the descriptor of this executable.
    let Some(p) = (unsafe { program.as_ref() }) else {
        return Err("no embedded program".into());
    };
    if p.abi != ABI_VERSION {
        return Err(format!(
            "this executable was built by a `tyche build` with object ABI {} but linked \
             with a runtime library of ABI {ABI_VERSION}; rebuild it with matching versions",
            p.abi
        ));
    }
    // SAFETY: the descriptor's pointers and lengths describe data of the
    // same object, which is linked in and never freed.
    let text = |ptr: *const u8, len: usize, what: &str| -> Result<&'static str, String> {
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        std::str::from_utf8(bytes).map_err(|_| format!("the embedded {what} is not UTF-8"))
    };
    let source = text(p.source, p.source_len, "source")?;
    let file_name = text(p.file_name, p.file_name_len, "file name")?;
    let model = text(p.model, p.model_len, "model name")?;
    if p.kernels_len > 0 {
        // SAFETY: `kernels_len` rows written by `executable_object`.
        let rows = unsafe { std::slice::from_raw_parts(p.kernels, p.kernels_len) };
        for row in rows {
            // SAFETY: each function was compiled from a kernel with this
            // fingerprint and dimension and lives as long as the process.
            unsafe { crate::aot::register(row.fingerprint, row.dim as usize, row.func) };
        }
    }
    Ok(Embedded {
        args,
        source,
        file_name,
        model,
        kernels: p.kernels_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_words() {
        assert_eq!(ENTRY_SIZE, 3 * WORD);
        assert_eq!(PROGRAM_SIZE, 9 * WORD);
        assert_eq!(std::mem::align_of::<AotEntry>(), WORD);
        assert_eq!(std::mem::align_of::<EmbeddedProgram>(), WORD);
    }
}
