//! Ill-typed programs: every error kind, with the exact text `tyche check`
//! prints for it (rendered without colour).

mod common;
use common::{check, errors};

#[test]
fn mismatch_in_call_argument() {
    assert_eq!(
        errors("fn f() { Normal(true, 1.0) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:17
  │
1 │ fn f() { Normal(true, 1.0) }
  │                 ^^^^ expected `Real`, found `Bool`

"#
    );
}

#[test]
fn variables_never_convert() {
    assert_eq!(
        errors("fn f() { let i = 3; Normal(i, 1.0) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:28
  │
1 │ fn f() { let i = 3; Normal(i, 1.0) }
  │                            ^ expected `Real`, found `Int`
  │
  = help: use `real(i)`

"#
    );
}

#[test]
fn variable_int_array_for_real_array() {
    assert_eq!(
        errors("fn f() { Categorical([1, 2]) }\nfn g() { let ws = [1, 2]; Categorical(ws) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:2:39
  │
2 │ fn g() { let ws = [1, 2]; Categorical(ws) }
  │                                       ^^ expected `[Real]`, found `[Int]`
  │
  = help: use `map(ws, real)`

"#
    );
}

#[test]
fn int_variable_returned_as_real() {
    assert_eq!(
        errors("fn f() -> Real { let x = 1; x }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:29
  │
1 │ fn f() -> Real { let x = 1; x }
  │           ----              ^ expected `Real`, found `Int`
  │           │                  
  │           expected `Real` because of this annotation
  │
  = help: use `real(x)`

"#
    );
}

#[test]
fn wrong_number_of_arguments() {
    assert_eq!(
        errors("fn f(a, b) { a }\nfn main() { f(1, 2, 3) + f(1) }\n"),
        r#"error[E0302]: this function takes 2 arguments but 3 were supplied
  ┌─ test.ppl:2:13
  │
1 │ fn f(a, b) { a }
  │    - `f` defined here
2 │ fn main() { f(1, 2, 3) + f(1) }
  │             ^^^^^^^^^^ expected 2 arguments
  │
  = note: `f` has type `('a, 'b) -> 'a`

error[E0302]: this function takes 2 arguments but 1 was supplied
  ┌─ test.ppl:2:26
  │
1 │ fn f(a, b) { a }
  │    - `f` defined here
2 │ fn main() { f(1, 2, 3) + f(1) }
  │                          ^^^^ expected 2 arguments
  │
  = note: `f` has type `('a, 'b) -> 'a`

"#
    );
}

#[test]
fn wrong_number_of_arguments_to_a_local() {
    assert_eq!(
        errors("fn f() { let g = |x, y| x; g(1) }\n"),
        r#"error[E0302]: this function takes 2 arguments but 1 was supplied
  ┌─ test.ppl:1:28
  │
1 │ fn f() { let g = |x, y| x; g(1) }
  │                            ^^^^ expected 2 arguments
  │
  = note: `g` has type `('a, 'b) -> 'a`

"#
    );
}

#[test]
fn unknown_name_with_suggestion() {
    assert_eq!(
        errors("fn main() { let normal = 1; nromal }\n"),
        r#"error[E0401]: cannot find `nromal` in this scope
  ┌─ test.ppl:1:29
  │
1 │ fn main() { let normal = 1; nromal }
  │                             ^^^^^^ not found in this scope
  │
  = help: did you mean `normal`?

"#
    );
}

#[test]
fn unknown_name_suggests_later_items() {
    assert_eq!(
        errors("fn main() { helpr(1) }\nfn helper(x) { x }\n"),
        r#"error[E0401]: cannot find `helpr` in this scope
  ┌─ test.ppl:1:13
  │
1 │ fn main() { helpr(1) }
  │             ^^^^^ not found in this scope
  │
  = help: did you mean `helper`?

"#
    );
}

#[test]
fn several_unknown_names() {
    assert_eq!(
        errors("fn f() { let l = nromal; let m = foo(1, 2); l + m + bar }\n"),
        r#"error[E0401]: cannot find `nromal` in this scope
  ┌─ test.ppl:1:18
  │
1 │ fn f() { let l = nromal; let m = foo(1, 2); l + m + bar }
  │                  ^^^^^^ not found in this scope
  │
  = help: did you mean `Normal`?

error[E0401]: cannot find `foo` in this scope
  ┌─ test.ppl:1:34
  │
1 │ fn f() { let l = nromal; let m = foo(1, 2); l + m + bar }
  │                                  ^^^ not found in this scope

error[E0401]: cannot find `bar` in this scope
  ┌─ test.ppl:1:53
  │
1 │ fn f() { let l = nromal; let m = foo(1, 2); l + m + bar }
  │                                                     ^^^ not found in this scope

"#
    );
}

#[test]
fn annotation_mismatches() {
    assert_eq!(
        errors("fn f() -> Real { true }\nfn g() { let x: Real = true; x }\nfn h(x: Bool) -> Int { if x { 1 } else { 2.5 } }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:18
  │
1 │ fn f() -> Real { true }
  │           ----   ^^^^ expected `Real`, found `Bool`
  │           │       
  │           expected `Real` because of this annotation

error[E0301]: mismatched types
  ┌─ test.ppl:2:24
  │
2 │ fn g() { let x: Real = true; x }
  │                 ----   ^^^^ expected `Real`, found `Bool`
  │                 │       
  │                 expected `Real` because of this annotation

error[E0301]: mismatched types
  ┌─ test.ppl:3:42
  │
3 │ fn h(x: Bool) -> Int { if x { 1 } else { 2.5 } }
  │                  ---                     ^^^ expected `Int`, found `Real`
  │                  │                        
  │                  expected `Int` because of this annotation

"#
    );
}

#[test]
fn annotated_parameter_at_call() {
    assert_eq!(
        errors("fn f(x: Int) { x + 1 }\nfn g() { f(2.5) }\nfn h() { f(true) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:2:12
  │
2 │ fn g() { f(2.5) }
  │            ^^^ expected `Int`, found `Real`

error[E0301]: mismatched types
  ┌─ test.ppl:3:12
  │
3 │ fn h() { f(true) }
  │            ^^^^ expected `Int`, found `Bool`

"#
    );
}

#[test]
fn annotated_choice() {
    assert_eq!(
        errors("fn f() { let x: Int ~ Normal(0, 1); x }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:23
  │
1 │ fn f() { let x: Int ~ Normal(0, 1); x }
  │                 ---   ^^^^^^^^^^^^ expected `Dist<Int>`, found `Dist<Real>`
  │                 │      
  │                 expected `Int` because of this annotation

"#
    );
}

#[test]
fn data_default_mismatch() {
    assert_eq!(
        errors("data n: Int = 2.5;\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:15
  │
1 │ data n: Int = 2.5;
  │         ---   ^^^ expected `Int`, found `Real`
  │         │      
  │         expected `Int` because of this annotation

"#
    );
}

#[test]
fn infinite_type() {
    assert_eq!(
        errors("fn f(x) { x(x) }\n"),
        r#"error[E0303]: cannot construct the infinite type `'a = ('a) -> 'b`
  ┌─ test.ppl:1:13
  │
1 │ fn f(x) { x(x) }
  │             ^ this would need `'a` to contain itself
  │
  = note: a value cannot have a type that contains its own type, such as a function applied to itself

"#
    );
}

#[test]
fn field_of_unknown_type_needs_annotation() {
    assert_eq!(
        errors("fn first(p) { p.0 }\n"),
        r#"error[E0304]: type annotations needed
  ┌─ test.ppl:1:15
  │
1 │ fn first(p) { p.0 }
  │               ^ the type of this value must be known here to access field `.0`
  │
  = help: annotate the tuple's type where it is bound, e.g. `|p: (Int, Real)| p.0`

"#
    );
}

#[test]
fn field_out_of_range_or_not_a_tuple() {
    assert_eq!(
        errors("fn f() { (1, 2).2 }\nfn g() { 5.0 }\nfn h() { g().1 }\n"),
        r#"error[E0305]: no field `2` on type `({number}, {number})`
  ┌─ test.ppl:1:17
  │
1 │ fn f() { (1, 2).2 }
  │                 ^ unknown field
  │
  = note: this tuple has 2 fields, numbered from 0

error[E0305]: no field `1` on a value of type `Real`
  ┌─ test.ppl:3:14
  │
3 │ fn h() { g().1 }
  │          --- ^ unknown field
  │          │    
  │          this has type `Real`, not a tuple

"#
    );
}

#[test]
fn unknown_type_names() {
    assert_eq!(
        errors("fn f(x: Rael, y: Float) -> Dist<Bol> { x }\n"),
        r#"error[E0313]: cannot find type `Rael` in this scope
  ┌─ test.ppl:1:9
  │
1 │ fn f(x: Rael, y: Float) -> Dist<Bol> { x }
  │         ^^^^ not a known type
  │
  = help: did you mean `Real`?

error[E0313]: cannot find type `Float` in this scope
  ┌─ test.ppl:1:18
  │
1 │ fn f(x: Rael, y: Float) -> Dist<Bol> { x }
  │                  ^^^^^ not a known type
  │
  = help: did you mean `Real`?

error[E0313]: cannot find type `Bol` in this scope
  ┌─ test.ppl:1:33
  │
1 │ fn f(x: Rael, y: Float) -> Dist<Bol> { x }
  │                                 ^^^ not a known type
  │
  = help: did you mean `Bool`?

"#
    );
}

#[test]
fn dist_without_argument() {
    assert_eq!(
        errors("fn f(x: Dist) { x }\n"),
        r#"error[E0313]: missing type argument for `Dist`
  ┌─ test.ppl:1:9
  │
1 │ fn f(x: Dist) { x }
  │         ^^^^ expected `Dist<T>`
  │
  = help: write the type of the values drawn, e.g. `Dist<Real>`

"#
    );
}

#[test]
fn duplicate_items_and_parameters() {
    assert_eq!(
        errors("fn f() { 1 }\nfn f(x, x) { 2 }\n"),
        r#"error[E0402]: the name `f` is defined more than once
  ┌─ test.ppl:2:4
  │
1 │ fn f() { 1 }
  │    - previous definition of `f` here
2 │ fn f(x, x) { 2 }
  │    ^ `f` redefined here
  │
  = help: give one of them a different name

error[E0403]: identifier `x` is bound more than once in this parameter list
  ┌─ test.ppl:2:9
  │
2 │ fn f(x, x) { 2 }
  │      -  ^ used as a name more than once
  │      │   
  │      first bound here

"#
    );
}

#[test]
fn duplicate_lambda_parameters_and_pattern_names() {
    assert_eq!(
        errors("fn f() { let g = |a, a| a; let (b, b) = (1, 2); b }\n"),
        r#"error[E0403]: identifier `a` is bound more than once in this parameter list
  ┌─ test.ppl:1:22
  │
1 │ fn f() { let g = |a, a| a; let (b, b) = (1, 2); b }
  │                   -  ^ used as a name more than once
  │                   │   
  │                   first bound here

error[E0403]: identifier `b` is bound more than once in this pattern
  ┌─ test.ppl:1:36
  │
1 │ fn f() { let g = |a, a| a; let (b, b) = (1, 2); b }
  │                                 -  ^ used as a name more than once
  │                                 │   
  │                                 first bound here

"#
    );
}

#[test]
fn duplicate_across_item_kinds() {
    assert_eq!(
        errors("let model = 1;\ndata model: Int;\n"),
        r#"error[E0402]: the name `model` is defined more than once
  ┌─ test.ppl:2:6
  │
1 │ let model = 1;
  │     ----- previous definition of `model` here
2 │ data model: Int;
  │      ^^^^^ `model` redefined here
  │
  = help: give one of them a different name

"#
    );
}

#[test]
fn constant_cycles() {
    assert_eq!(
        errors("let a = b;\nlet b = a;\nlet x = x + 1;\n"),
        r#"error[E0312]: the constant `a` depends on itself through a cycle
  ┌─ test.ppl:1:5
  │
1 │ let a = b;
  │     ^ cycle starts here
2 │ let b = a;
  │     - `b` is part of the cycle
  │
  = help: constants are evaluated once, before the program runs; break the cycle or make the constant a `fn`

error[E0312]: the constant `x` is defined in terms of itself
  ┌─ test.ppl:3:5
  │
3 │ let x = x + 1;
  │     ^ cycle starts here
  │
  = help: constants are evaluated once, before the program runs; break the cycle or make the constant a `fn`

"#
    );
}

#[test]
fn constant_cycle_through_a_function() {
    assert_eq!(
        errors("let total = f();\nfn f() { total + 1 }\n"),
        r#"error[E0312]: the constant `total` depends on itself through a cycle
  ┌─ test.ppl:1:5
  │
1 │ let total = f();
  │     ^^^^^ cycle starts here
2 │ fn f() { total + 1 }
  │    - `f` is part of the cycle
  │
  = help: constants are evaluated once, before the program runs; break the cycle or make the constant a `fn`

"#
    );
}

#[test]
fn choice_name_must_be_a_literal() {
    assert_eq!(
        errors("fn m() { let n = \"x\"; sample(n, Normal(0, 1)) }\n"),
        r#"error[E0310]: the choice name must be a string literal
  ┌─ test.ppl:1:30
  │
1 │ fn m() { let n = "x"; sample(n, Normal(0, 1)) }
  │                              ^ not a string literal
  │
  = help: choice names are fixed when the program is written, e.g. `sample("x", Normal(0.0, 1.0))`

"#
    );
}

#[test]
fn choice_used_with_two_types() {
    assert_eq!(
        errors("fn m() { let x ~ Normal(0, 1); let x ~ Bernoulli(0.5); x }\n"),
        r#"error[E0311]: the random choice `x` is used with two different types
  ┌─ test.ppl:1:36
  │
1 │ fn m() { let x ~ Normal(0, 1); let x ~ Bernoulli(0.5); x }
  │              -                     ^ here `x` has type `Bool`
  │              │                      
  │              but here it has type `Real`
  │
  = help: a choice name has one type in each model, and every model that runs this code would make both; rename one of them

"#
    );
}

/// A choice's type is per model: two functions may use one name at two
/// types; only a surgery of a model that reaches both is ambiguous.
#[test]
fn choice_used_with_two_types_across_functions() {
    assert_eq!(
        errors(
            "fn f(d) { let x ~ d; x + 1 }\nfn g() { let x = sample(\"x\", Bernoulli(0.5)); x }\nfn fm() { f(Normal(0, 1)) }\nfn h() { (fm(), g()) }\nfn main() { (do(fm, x = 2), do(g, x = true), do(h, x = true)) }\n"
        ),
        r#"error[E0311]: the random choice `x` has two different types in `h`
  ┌─ test.ppl:5:52
  │
1 │ fn f(d) { let x ~ d; x + 1 }
  │               - here `x` is a number
2 │ fn g() { let x = sample("x", Bernoulli(0.5)); x }
  │                         --- and here it has type `Bool`
  ·
5 │ fn main() { (do(fm, x = 2), do(g, x = true), do(h, x = true)) }
  │                                                    ^ which `x` this `do` edits is ambiguous
  │
  = help: rename one of them: a choice name has one type in each model, and `h` reaches both

"#
    );
}

#[test]
fn if_branches() {
    assert_eq!(
        errors("fn f(c: Bool) { if c { 1 } else { true } }\nfn g(c: Bool) { if c { 1 } }\nfn h() { if 1 { 2 } else { 3 } }\n"),
        r#"error[E0301]: `if` and `else` have incompatible types
  ┌─ test.ppl:1:35
  │
1 │ fn f(c: Bool) { if c { 1 } else { true } }
  │                        -          ^^^^ expected a number, found `Bool`
  │                        │           
  │                        expected because of this

error[E0301]: mismatched types
  ┌─ test.ppl:2:24
  │
2 │ fn g(c: Bool) { if c { 1 } }
  │                        ^ expected `()`, found a number
  │
  = help: an `if` without an `else` has type `()`; add an `else` branch or end the branch with `;`

error[E0301]: mismatched types
  ┌─ test.ppl:3:13
  │
3 │ fn h() { if 1 { 2 } else { 3 } }
  │             ^ expected `Bool`, found a number

"#
    );
}

#[test]
fn operators_on_non_numbers() {
    assert_eq!(
        errors("fn f() { true + 1 }\nfn g() { 1 < true }\nfn h() { \"a\" + \"b\" }\n"),
        r#"error[E0307]: cannot apply `+` to a value of type `Bool`
  ┌─ test.ppl:1:10
  │
1 │ fn f() { true + 1 }
  │          ^^^^ expected `Int` or `Real`, found `Bool`

error[E0307]: cannot apply `<` to a value of type `Bool`
  ┌─ test.ppl:2:14
  │
2 │ fn g() { 1 < true }
  │              ^^^^ expected `Int` or `Real`, found `Bool`

error[E0307]: cannot apply `+` to a value of type `String`
  ┌─ test.ppl:3:10
  │
3 │ fn h() { "a" + "b" }
  │          ^^^ expected `Int` or `Real`, found `String`

"#
    );
}

#[test]
fn operands_of_different_types() {
    assert_eq!(
        errors("fn g() { let i = 1; i * 2.5 }\nfn h(x: Real) { let n = 2; x / n }\nfn k(x: Real) { x == true }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:25
  │
1 │ fn g() { let i = 1; i * 2.5 }
  │                     -   ^^^ expected `Int`, found `Real`
  │                     │    
  │                     this operand has type `Int`
  │
  = note: both operands of `*` must have the same type
  = help: use `real(i)`

error[E0301]: mismatched types
  ┌─ test.ppl:2:32
  │
2 │ fn h(x: Real) { let n = 2; x / n }
  │                            -   ^ expected `Real`, found `Int`
  │                            │    
  │                            this operand has type `Real`
  │
  = note: both operands of `/` must have the same type
  = help: use `real(n)`

error[E0301]: mismatched types
  ┌─ test.ppl:3:22
  │
3 │ fn k(x: Real) { x == true }
  │                 -    ^^^^ expected `Real`, found `Bool`
  │                 │     
  │                 this operand has type `Real`
  │
  = note: both operands of `==` must have the same type

"#
    );
}

#[test]
fn unary_operators() {
    assert_eq!(
        errors("fn f() { -true }\nfn g() { !3 }\nfn h(x: Int) { x && true }\n"),
        r#"error[E0307]: cannot apply unary `-` to a value of type `Bool`
  ┌─ test.ppl:1:11
  │
1 │ fn f() { -true }
  │           ^^^^ expected `Int` or `Real`, found `Bool`

error[E0301]: mismatched types
  ┌─ test.ppl:2:11
  │
2 │ fn g() { !3 }
  │           ^ expected `Bool`, found a number

error[E0301]: mismatched types
  ┌─ test.ppl:3:16
  │
3 │ fn h(x: Int) { x && true }
  │                ^ expected `Bool`, found `Int`

"#
    );
}

#[test]
fn comparing_functions() {
    assert_eq!(
        errors("fn f() { let g = |x| x; g == g }\nfn g() { [|x| x + 1] == [|y| y] }\nfn h(d: Dist<Real>) { d != d }\n"),
        r#"error[E0308]: values of type `('a) -> 'a` cannot be compared with `==`
  ┌─ test.ppl:1:25
  │
1 │ fn f() { let g = |x| x; g == g }
  │                         ^ this has type `('a) -> 'a`
  │
  = note: functions, distributions and inference methods cannot be compared

error[E0308]: values of type `[({number}) -> {number}]` cannot be compared with `==`
  ┌─ test.ppl:2:10
  │
2 │ fn g() { [|x| x + 1] == [|y| y] }
  │          ^^^^^^^^^^^ this has type `[({number}) -> {number}]`
  │
  = note: functions, distributions and inference methods cannot be compared

error[E0308]: values of type `Dist<Real>` cannot be compared with `!=`
  ┌─ test.ppl:3:23
  │
3 │ fn h(d: Dist<Real>) { d != d }
  │                       ^ this has type `Dist<Real>`
  │
  = note: functions, distributions and inference methods cannot be compared

"#
    );
}

#[test]
fn comparing_functions_through_a_generic_function() {
    assert_eq!(
        errors("fn eq(a, b) { a == b }\nfn main() { eq(Normal(0, 1), Normal(0, 1)) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:2:16
  │
2 │ fn main() { eq(Normal(0, 1), Normal(0, 1)) }
  │                ^^^^^^^^^^^^ expected a comparable type, found `Dist<Real>`
  │
  = note: this value is compared with `==`, but `Dist<Real>` is not comparable (functions, distributions and methods are not)

error[E0301]: mismatched types
  ┌─ test.ppl:2:30
  │
2 │ fn main() { eq(Normal(0, 1), Normal(0, 1)) }
  │                              ^^^^^^^^^^^^ expected a comparable type, found `Dist<Real>`
  │
  = note: this value is compared with `==`, but `Dist<Real>` is not comparable (functions, distributions and methods are not)

"#
    );
}

#[test]
fn calling_a_non_function() {
    assert_eq!(
        errors("fn f() { let x = 1; x(2) }\nfn g() { true() }\n"),
        r#"error[E0306]: cannot call a value of type `Int`
  ┌─ test.ppl:1:21
  │
1 │ fn f() { let x = 1; x(2) }
  │                     ^ this is not a function

error[E0306]: cannot call a value of type `Bool`
  ┌─ test.ppl:2:10
  │
2 │ fn g() { true() }
  │          ^^^^ this is not a function

"#
    );
}

#[test]
fn indexing() {
    assert_eq!(
        errors("fn f(xs: [Real]) { (5[0], xs[1.5]) }\n"),
        r#"error[E0301]: cannot index into this value
  ┌─ test.ppl:1:21
  │
1 │ fn f(xs: [Real]) { (5[0], xs[1.5]) }
  │                     ^ expected an array, found a number

error[E0301]: mismatched types
  ┌─ test.ppl:1:30
  │
1 │ fn f(xs: [Real]) { (5[0], xs[1.5]) }
  │                              ^^^ expected `Int`, found `Real`

"#
    );
}

#[test]
fn for_over_non_array() {
    assert_eq!(
        errors("fn f() { for x in 10 { } }\nfn g() { for x in 1.5..3 { } }\n"),
        r#"error[E0301]: `for` loops iterate over arrays
  ┌─ test.ppl:1:19
  │
1 │ fn f() { for x in 10 { } }
  │                   ^^ expected an array, found a number

error[E0301]: mismatched types
  ┌─ test.ppl:2:19
  │
2 │ fn g() { for x in 1.5..3 { } }
  │                   ^^^ expected `Int`, found `Real`

"#
    );
}

#[test]
fn no_cascading_errors() {
    assert_eq!(
        errors("fn f() { let x = nromal; let y = x + 1; Normal(y, x) }\nfn g() { let z = f(); z + true }\n"),
        r#"error[E0401]: cannot find `nromal` in this scope
  ┌─ test.ppl:1:18
  │
1 │ fn f() { let x = nromal; let y = x + 1; Normal(y, x) }
  │                  ^^^^^^ not found in this scope
  │
  = help: did you mean `Normal`?

error[E0307]: cannot apply `+` to a value of type `Dist<Real>`
  ┌─ test.ppl:2:23
  │
2 │ fn g() { let z = f(); z + true }
  │                       ^ expected `Int` or `Real`, found `Dist<Real>`

"#
    );
}

#[test]
fn surgery_values_and_models() {
    assert_eq!(
        errors("fn model() { let x ~ Normal(0, 1); x }\nfn main() { (do(model, x = true), do(3, y = 1), condition(model, nothere = true)) }\nfn cf() { counterfactual(|a| a, x = 1.0) }\n"),
        r#"error[E0805]: mismatched types for the random choice `x` of `model`
  ┌─ test.ppl:2:28
  │
1 │ fn model() { let x ~ Normal(0, 1); x }
  │                  - the random choice `x` has type `Real` in `model`
2 │ fn main() { (do(model, x = true), do(3, y = 1), condition(model, nothere = true)) }
  │                            ^^^^ expected `Real`, found `Bool`

error[E0301]: `do` needs a model
  ┌─ test.ppl:2:38
  │
2 │ fn main() { (do(model, x = true), do(3, y = 1), condition(model, nothere = true)) }
  │                                      ^ expected a model (a zero-argument function), found a number

error[E0301]: `counterfactual` needs a model
  ┌─ test.ppl:3:26
  │
3 │ fn cf() { counterfactual(|a| a, x = 1.0) }
  │                          ^^^^^ expected a model (a zero-argument function), found `('a) -> 'a`

"#
    );
}

#[test]
fn tuple_pattern_arity() {
    assert_eq!(
        errors("fn f() { let (a, b) = (1, 2, 3); let (c, d) = 5; a }\n"),
        r#"error[E0309]: mismatched types
  ┌─ test.ppl:1:23
  │
1 │ fn f() { let (a, b) = (1, 2, 3); let (c, d) = 5; a }
  │               ----    ^^^^^^^^^ expected a tuple of 2 elements, found `({number}, {number}, {number})`
  │               │        
  │               this pattern has 2 names

error[E0309]: mismatched types
  ┌─ test.ppl:1:47
  │
1 │ fn f() { let (a, b) = (1, 2, 3); let (c, d) = 5; a }
  │                                       ----    ^ expected a tuple of 2 elements, found a number
  │                                       │        
  │                                       this pattern has 2 names

"#
    );
}

#[test]
fn sample_arity() {
    assert_eq!(
        errors("fn f() { sample(\"a\", Normal(0, 1), 3) }\nfn g() { sample() }\n"),
        r#"error[E0302]: this function takes 1 or 2 arguments but 3 were supplied
  ┌─ test.ppl:1:10
  │
1 │ fn f() { sample("a", Normal(0, 1), 3) }
  │          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^ expected 1 or 2 arguments
  │
  = note: `sample(D)` draws anonymously; `sample("name", D)` names the choice

error[E0302]: this function takes 1 or 2 arguments but 0 were supplied
  ┌─ test.ppl:2:10
  │
2 │ fn g() { sample() }
  │          ^^^^^^^^ expected 1 or 2 arguments
  │
  = note: `sample(D)` draws anonymously; `sample("name", D)` names the choice

"#
    );
}

#[test]
fn sample_of_a_non_distribution() {
    assert_eq!(
        errors("fn f() { sample(1.5) }\nfn g() { let x ~ [1.0]; x }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:17
  │
1 │ fn f() { sample(1.5) }
  │                 ^^^ expected a distribution, found `Real`

error[E0301]: mismatched types
  ┌─ test.ppl:2:18
  │
2 │ fn g() { let x ~ [1.0]; x }
  │                  ^^^^^ expected a distribution, found `[Real]`

"#
    );
}

#[test]
fn condition_of_a_number() {
    assert_eq!(
        errors("fn f() { condition(1) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:20
  │
1 │ fn f() { condition(1) }
  │                    ^ expected `Bool`, found a number

"#
    );
}

#[test]
fn lambda_body_checked_against_expected_type() {
    assert_eq!(
        errors("fn f() { filter([1, 2], |x| x + 1) }\nfn g() { map([1, 2], |x, y| x) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:29
  │
1 │ fn f() { filter([1, 2], |x| x + 1) }
  │                             ^^^^^ expected `Bool`, found a number

error[E0301]: mismatched types
  ┌─ test.ppl:2:22
  │
2 │ fn g() { map([1, 2], |x, y| x) }
  │                      ^^^^^^^^ expected a function taking 1 argument, found one taking 2
  │
  = note: the expected type is `({number}) -> 'a`

"#
    );
}

#[test]
fn array_elements() {
    assert_eq!(
        errors("fn f() { [1, true, 2] }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:14
  │
1 │ fn f() { [1, true, 2] }
  │           -  ^^^^ expected a number, found `Bool`
  │           │   
  │           expected because of the first element
  │
  = help: all elements of an array have one type; use a tuple for mixed values

"#
    );
}

#[test]
fn infer_needs_a_method_and_a_model() {
    assert_eq!(
        errors("fn f() { infer(100, || 1) }\nfn g() { infer(Smc(100), 5) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:16
  │
1 │ fn f() { infer(100, || 1) }
  │                ^^^ expected `Method`, found a number

error[E0301]: mismatched types
  ┌─ test.ppl:2:26
  │
2 │ fn g() { infer(Smc(100), 5) }
  │                          ^ expected `() -> 'a`, found a number

"#
    );
}

#[test]
fn observe_value_type() {
    assert_eq!(
        errors("fn f() { observe(Bernoulli(0.5), 1) }\n"),
        r#"error[E0301]: mismatched types
  ┌─ test.ppl:1:34
  │
1 │ fn f() { observe(Bernoulli(0.5), 1) }
  │                                  ^ expected `Bool`, found a number

"#
    );
}

#[test]
fn local_let_cannot_recurse() {
    assert_eq!(
        errors("fn f() { let fact = |n| if n == 0 { 1 } else { n * fact(n - 1) }; fact(5) }\n"),
        r#"error[E0401]: cannot find `fact` in this scope
  ┌─ test.ppl:1:52
  │
1 │ fn f() { let fact = |n| if n == 0 { 1 } else { n * fact(n - 1) }; fact(5) }
  │                                                    ^^^^ not found in this scope
  │
  = help: a local `let` cannot refer to itself; make `fact` a top-level `fn` to recurse

"#
    );
}

#[test]
fn real_used_as_a_value() {
    assert_eq!(
        errors("fn f() { Real }\n"),
        r#"error[E0401]: cannot find `Real` in this scope
  ┌─ test.ppl:1:10
  │
1 │ fn f() { Real }
  │          ^^^^ not found in this scope
  │
  = help: did you mean `real`?

"#
    );
}

#[test]
fn calling_or_projecting_a_number() {
    assert_eq!(
        errors("fn f(x) { x + 1; x(2) }\nfn g(x) { x - 1; x.0 }\n"),
        r#"error[E0306]: cannot call a number
  ┌─ test.ppl:1:18
  │
1 │ fn f(x) { x + 1; x(2) }
  │                  ^ this is not a function

error[E0305]: no field `0` on a number
  ┌─ test.ppl:2:20
  │
2 │ fn g(x) { x - 1; x.0 }
  │                  - ^ unknown field
  │                  │  
  │                  this is a number, not a tuple

"#
    );
}

#[test]
fn one_mistake_one_message() {
    // An unknown name poisons nothing downstream, in its function or callers.
    let c = check("fn f() { let x = nromal; let y = x + 1; let z = y(3); Normal(z, x[0]) }\nfn g() { sample(f()) + 1.0 }");
    assert_eq!(c.codes(), ["E0401"]);
    // A function whose body is wrong still has its declared type for callers.
    let c = check("fn bad() -> Real { true }\nfn main() { bad() + 1.0 }");
    assert_eq!(c.codes(), ["E0301"]);
    // A bad annotation is one message, not one per use.
    let c = check("fn f(x: Rael) { x + 1 }\nfn main() { f(2) + f(true) }");
    assert_eq!(c.codes(), ["E0313"]);
}

#[test]
fn many_errors_in_source_order() {
    let c = check(
        "fn z() { missing }
fn a() { Normal(true, 1.0) }
fn b(x: Int) -> Bool { x }
let k = 1 + \"s\";
fn c() { (1, 2).5 }
fn d() { len(1, 2) }",
    );
    assert_eq!(
        c.codes(),
        ["E0401", "E0301", "E0301", "E0307", "E0305", "E0302"]
    );
    let lines: Vec<usize> = c
        .diags
        .iter()
        .map(|d| c.map.line_col(d.primary_span().unwrap()).0)
        .collect();
    assert_eq!(lines, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn unknown_surgery_names_are_left_for_later() {
    let c = check("fn model() { let x ~ Normal(0, 1); x }\nfn main() { do(model, smokng = true) }");
    assert!(c.diags.is_empty());
}
