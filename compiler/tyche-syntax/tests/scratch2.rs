use tyche_core::FileId;
fn t(name: &str, src: &str) {
    let start = std::time::Instant::now();
    let (p, d) = tyche_syntax::parse_program(FileId(0), src, 0);
    println!(
        "{name}: {:?} items={} diags={} first={:?}",
        start.elapsed(),
        p.items.len(),
        d.len(),
        d.first().map(|d| &d.message)
    );
}
#[test]
fn perf() {
    t(
        "parens+garbage",
        &("let x = ".to_string() + &"(".repeat(256) + &"1 2 ".repeat(10000)),
    );
    t(
        "braces+garbage",
        &("fn f() ".to_string() + &"{".repeat(256) + &"1 2 ) ".repeat(10000)),
    );
    t(
        "minus+garbage",
        &("let x = ".to_string() + &"-".repeat(999) + &") ".repeat(10000)),
    );
    t(
        "minus+parens+garbage",
        &("let x = ".to_string() + &"-(".repeat(256) + &"-".repeat(700) + &") ".repeat(10000)),
    );
    t(
        "lambdas+garbage",
        &("let x = ".to_string() + &"|x| ".repeat(999) + &") ".repeat(10000)),
    );
    let mut seed = 12345u64;
    let mut s = String::new();
    for _ in 0..200000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let c = ((seed >> 33) % 95 + 32) as u8 as char;
        s.push(c);
    }
    t("random", &s);
    let toks = [
        "(", ")", "{", "}", "[", "]", "-", "!", "|", "x", "1", ";", ",", "let", "fn", "if", "else",
        "^", "+", "=", "~", ".", "..",
    ];
    let mut s = String::new();
    for _ in 0..200000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s.push_str(toks[((seed >> 33) % toks.len() as u64) as usize]);
        s.push(' ');
    }
    t("random tokens", &s);
    let big = "fn model() {\n".to_string() + &"let x ~ Normal(-1.0, 2.0^-1);\nif x > 0 { f(-x) } else { g(!b) }\nobserve(Normal(x, 1.0), ys[i]);\n".repeat(30000) + "}";
    t("big valid", &big);
}
