//! The arithmetic a log density is written in, so that each density is
//! written once ([`crate::family`]) and computed by several backends.
//!
//! A [`Math`] is a context that builds values of its real type `R` and
//! boolean type `B` one operation at a time. [`F64`] computes them (the
//! interpreter: [`crate::Dist::log_prob`]); `tyche-jit` implements it for
//! its expression graph, which becomes compiled code and, through its
//! reverse-mode pass, gradients. A formula is a sequence of explicit calls
//! (`m.sub(a, b)`), never operator sugar, because the operation order *is*
//! the result: the interpreter and compiled code agree bit for bit only
//! because they evaluate the same operations in the same order.
//!
//! Branches are [`Math::select`]s of values both computed: the graph keeps
//! both arms (the shape of a loop body must not depend on data), and for
//! `f64` an untaken arm is a few wasted flops and no different result (the
//! operations are pure; a NaN or infinity in an untaken arm is discarded).

/// A backend for the formulas of [`crate::family`].
pub trait Math: Sized {
    /// A real value.
    type R: Copy;
    /// A boolean value.
    type B: Copy;

    /// A real constant.
    fn c(&mut self, x: f64) -> Self::R;
    /// A boolean constant.
    fn boolean(&mut self, b: bool) -> Self::B;

    fn add(&mut self, a: Self::R, b: Self::R) -> Self::R;
    fn sub(&mut self, a: Self::R, b: Self::R) -> Self::R;
    fn mul(&mut self, a: Self::R, b: Self::R) -> Self::R;
    fn div(&mut self, a: Self::R, b: Self::R) -> Self::R;
    fn neg(&mut self, a: Self::R) -> Self::R;
    fn abs(&mut self, a: Self::R) -> Self::R;
    fn ln(&mut self, a: Self::R) -> Self::R;
    /// `ln(1 + a)`.
    fn log1p(&mut self, a: Self::R) -> Self::R;
    fn exp(&mut self, a: Self::R) -> Self::R;
    fn sqrt(&mut self, a: Self::R) -> Self::R;
    /// `ln Γ(a)` ([`crate::special::ln_gamma`]).
    fn lgamma(&mut self, a: Self::R) -> Self::R;
    /// Loader's deviance term ([`crate::special::bd0`]).
    fn bd0(&mut self, x: Self::R, m: Self::R) -> Self::R;
    /// Stirling's error [`crate::special::stirlerr`] at an integer-valued
    /// `k >= 1`. At other values the result is unspecified: formulas only
    /// use it in a branch that `k <= 0` does not take.
    fn stirlerr(&mut self, k: Self::R) -> Self::R;

    fn lt(&mut self, a: Self::R, b: Self::R) -> Self::B;
    fn le(&mut self, a: Self::R, b: Self::R) -> Self::B;
    fn gt(&mut self, a: Self::R, b: Self::R) -> Self::B;
    fn ge(&mut self, a: Self::R, b: Self::R) -> Self::B;
    fn eq(&mut self, a: Self::R, b: Self::R) -> Self::B;
    fn ne(&mut self, a: Self::R, b: Self::R) -> Self::B;
    fn and(&mut self, a: Self::B, b: Self::B) -> Self::B;
    fn or(&mut self, a: Self::B, b: Self::B) -> Self::B;
    fn not(&mut self, a: Self::B) -> Self::B;
    /// `if c { a } else { b }` (both computed; see [`Math::choose`]).
    fn select(&mut self, c: Self::B, a: Self::R, b: Self::R) -> Self::R;

    /// `if c { a() } else { b() }`: [`Math::select`] of two arms built by
    /// closures, `a` first. A backend that computes (`f64`) runs only the
    /// arm it takes; one that builds a graph runs both, in that order, so
    /// the graph is exactly what `select(c, a(), b())` builds.
    fn choose(
        &mut self,
        c: Self::B,
        a: impl FnOnce(&mut Self) -> Self::R,
        b: impl FnOnce(&mut Self) -> Self::R,
    ) -> Self::R {
        let x = a(self);
        let y = b(self);
        self.select(c, x, y)
    }

    /// `−∞` where the value `x` is NaN, else `v`, for a formula `v` that is
    /// NaN whenever `x` is. A backend that treats a NaN density as "ask
    /// the interpreter" (compiled code, see `tyche-jit`'s `dists.rs`) may
    /// return `v` unchanged and save the test.
    fn neg_inf_if_nan(&mut self, x: Self::R, v: Self::R) -> Self::R;

    // ---- Helpers every backend shares (written once, here). ----

    /// `|a| < ∞` (false for NaN).
    fn is_finite(&mut self, a: Self::R) -> Self::B {
        let x = self.abs(a);
        let inf = self.c(f64::INFINITY);
        self.lt(x, inf)
    }

    /// Finite and `> 0`.
    fn positive(&mut self, x: Self::R) -> Self::B {
        let f = self.is_finite(x);
        let z = self.c(0.0);
        let p = self.gt(x, z);
        self.and(f, p)
    }

    /// In `[0, 1]`.
    fn probability(&mut self, p: Self::R) -> Self::B {
        let z = self.c(0.0);
        let o = self.c(1.0);
        let a = self.le(z, p);
        let b = self.le(p, o);
        self.and(a, b)
    }

    /// `c · ln v` with the convention `0 · ln 0 = 0` (a zero exponent
    /// contributes nothing even where `ln v = −∞`).
    fn mul_ln(&mut self, c: Self::R, ln_v: Self::R) -> Self::R {
        let z = self.c(0.0);
        let is0 = self.eq(c, z);
        let m = self.mul(c, ln_v);
        self.select(is0, z, m)
    }

    /// `ln(1 + z²/nu)` for `z = (x − loc)/scale`, without overflow when `z`
    /// (or even `x − loc`) is beyond the float range.
    fn ln1p_sq_over(&mut self, x: Self::R, loc: Self::R, scale: Self::R, nu: Self::R) -> Self::R {
        let d0 = self.sub(x, loc);
        let z = self.div(d0, scale);
        let zz = self.mul(z, z);
        let t = self.div(zz, nu);
        let fast = self.log1p(t);
        let t_fin = self.is_finite(t);
        self.choose(
            t_fin,
            |_| fast,
            |m| {
                let d = m.sub(x, loc);
                let d_fin = m.is_finite(d);
                let ad = m.abs(d);
                let l1 = m.ln(ad);
                let h = m.c(0.5);
                let hx = m.mul(h, x);
                let hl = m.mul(h, loc);
                let hd = m.sub(hx, hl);
                let ahd = m.abs(hd);
                let lhd = m.ln(ahd);
                let ln2 = m.c(std::f64::consts::LN_2);
                let l2 = m.add(lhd, ln2);
                let ln_abs_d = m.select(d_fin, l1, l2);
                let ls = m.ln(scale);
                let diff = m.sub(ln_abs_d, ls);
                let two = m.c(2.0);
                let tw = m.mul(two, diff);
                let lnu = m.ln(nu);
                m.sub(tw, lnu)
            },
        )
    }

    /// `ln(1 + eˣ)` without overflow: `max(x, 0) + ln(1 + e^{−|x|})`.
    fn softplus(&mut self, x: Self::R) -> Self::R {
        let zero = self.c(0.0);
        let pos = self.gt(x, zero);
        let m = self.select(pos, x, zero);
        let a = self.abs(x);
        let na = self.neg(a);
        let e = self.exp(na);
        let l = self.log1p(e);
        self.add(m, l)
    }

    /// `ln σ(x) = −ln(1 + e^{−x})`.
    fn log_sigmoid(&mut self, x: Self::R) -> Self::R {
        let nx = self.neg(x);
        let s = self.softplus(nx);
        self.neg(s)
    }

    /// `σ(x) = 1/(1 + e^{−x})`, as `eˣ/(1 + eˣ)` for negative `x` (no
    /// overflow either way).
    fn sigmoid(&mut self, x: Self::R) -> Self::R {
        let zero = self.c(0.0);
        let one = self.c(1.0);
        let pos = self.ge(x, zero);
        let a = self.abs(x);
        let na = self.neg(a);
        let e = self.exp(na);
        let d = self.add(one, e);
        let hi = self.div(one, d);
        let lo = self.div(e, d);
        self.select(pos, hi, lo)
    }

    /// `ln Γ(x + ½) − ln Γ(x)`, without the cancellation of the direct
    /// difference for large `x` (where the asymptotic series
    /// `½ ln x − 1/(8x) + 1/(192x³) − 1/(640x⁵)` is accurate to 1e-17).
    fn ln_gamma_half_ratio(&mut self, x: Self::R) -> Self::R {
        let hundred = self.c(100.0);
        let big = self.ge(x, hundred);
        let one = self.c(1.0);
        let r = self.div(one, x);
        let r2 = self.mul(r, r);
        let lx = self.ln(x);
        let h = self.c(0.5);
        let a = self.mul(h, lx);
        let c640 = self.c(640.0);
        let q = self.div(r2, c640);
        let c192 = self.c(1.0 / 192.0);
        let s1 = self.sub(c192, q);
        let s2 = self.mul(r2, s1);
        let c8 = self.c(0.125);
        let s3 = self.sub(c8, s2);
        let s4 = self.mul(r, s3);
        let series = self.sub(a, s4);
        let xh = self.add(x, h);
        let g1 = self.lgamma(xh);
        let g2 = self.lgamma(x);
        let direct = self.sub(g1, g2);
        self.select(big, series, direct)
    }
}

/// Plain `f64` arithmetic: the interpreter's backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct F64;

impl Math for F64 {
    type R = f64;
    type B = bool;

    #[inline(always)]
    fn c(&mut self, x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn boolean(&mut self, b: bool) -> bool {
        b
    }
    #[inline(always)]
    fn add(&mut self, a: f64, b: f64) -> f64 {
        a + b
    }
    #[inline(always)]
    fn sub(&mut self, a: f64, b: f64) -> f64 {
        a - b
    }
    #[inline(always)]
    fn mul(&mut self, a: f64, b: f64) -> f64 {
        a * b
    }
    #[inline(always)]
    fn div(&mut self, a: f64, b: f64) -> f64 {
        a / b
    }
    #[inline(always)]
    fn neg(&mut self, a: f64) -> f64 {
        -a
    }
    #[inline(always)]
    fn abs(&mut self, a: f64) -> f64 {
        a.abs()
    }
    #[inline(always)]
    fn ln(&mut self, a: f64) -> f64 {
        a.ln()
    }
    #[inline(always)]
    fn log1p(&mut self, a: f64) -> f64 {
        crate::special::log1p(a)
    }
    #[inline(always)]
    fn exp(&mut self, a: f64) -> f64 {
        a.exp()
    }
    #[inline(always)]
    fn sqrt(&mut self, a: f64) -> f64 {
        a.sqrt()
    }
    #[inline(always)]
    fn lgamma(&mut self, a: f64) -> f64 {
        crate::special::ln_gamma(a)
    }
    #[inline(always)]
    fn bd0(&mut self, x: f64, m: f64) -> f64 {
        crate::special::bd0(x, m)
    }
    #[inline(always)]
    fn stirlerr(&mut self, k: f64) -> f64 {
        crate::special::stirlerr(k)
    }
    #[inline(always)]
    fn lt(&mut self, a: f64, b: f64) -> bool {
        a < b
    }
    #[inline(always)]
    fn le(&mut self, a: f64, b: f64) -> bool {
        a <= b
    }
    #[inline(always)]
    fn gt(&mut self, a: f64, b: f64) -> bool {
        a > b
    }
    #[inline(always)]
    fn ge(&mut self, a: f64, b: f64) -> bool {
        a >= b
    }
    #[inline(always)]
    fn eq(&mut self, a: f64, b: f64) -> bool {
        a == b
    }
    #[inline(always)]
    fn ne(&mut self, a: f64, b: f64) -> bool {
        a != b
    }
    #[inline(always)]
    fn and(&mut self, a: bool, b: bool) -> bool {
        a && b
    }
    #[inline(always)]
    fn or(&mut self, a: bool, b: bool) -> bool {
        a || b
    }
    #[inline(always)]
    fn not(&mut self, a: bool) -> bool {
        !a
    }
    #[inline(always)]
    fn select(&mut self, c: bool, a: f64, b: f64) -> f64 {
        if c {
            a
        } else {
            b
        }
    }
    #[inline(always)]
    fn choose(
        &mut self,
        c: bool,
        a: impl FnOnce(&mut Self) -> f64,
        b: impl FnOnce(&mut Self) -> f64,
    ) -> f64 {
        if c {
            a(self)
        } else {
            b(self)
        }
    }
    #[inline(always)]
    fn neg_inf_if_nan(&mut self, x: f64, v: f64) -> f64 {
        if x.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    }
}
