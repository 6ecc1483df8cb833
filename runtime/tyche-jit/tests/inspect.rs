//! Prints kernels for inspection (run with --ignored --nocapture).
mod common;
use common::*;

#[test]
#[ignore]
fn print_kernels() {
    let src = std::env::var("TYCHE_SRC").unwrap();
    let data = std::env::var("TYCHE_DATA").ok();
    let m = load(
        &std::fs::read_to_string(src).unwrap(),
        data.as_deref()
            .map(|d| &*Box::leak(std::fs::read_to_string(d).unwrap().into_boxed_str())),
    );
    let k = m.kernel();
    println!("{k}");
    if std::env::var("CLIF").is_ok() {
        println!("{}", tyche_jit::emit_clif(&k).unwrap());
    }
}

#[test]
#[ignore]
fn disasm() {
    let src = std::env::var("TYCHE_SRC").unwrap();
    let data = std::env::var("TYCHE_DATA")
        .ok()
        .map(|d| std::fs::read_to_string(d).unwrap());
    let m = load(&std::fs::read_to_string(src).unwrap(), data.as_deref());
    let k = m.kernel();
    let _ = tyche_jit::compile(&k).unwrap();
}
