//! Tyche's surface syntax: tokens (logos), grammar (lalrpop) and the AST.
//!
//! The parser never gives up on the first error: [`parse`] returns the
//! best tree it could build plus every diagnostic it found.

pub mod ast;
