//! The embedding example as a program: `cargo run -p tyche-embed-example`.
//! The logic is in `lib.rs`.

fn main() -> Result<(), tyche::Error> {
    let report = tyche_embed_example::run(tyche_embed_example::Size::Full)?;
    print!("{}", report.text);
    Ok(())
}
