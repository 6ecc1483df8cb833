//! Reproducible random streams.
//!
//! Every particle, chain, attempt and resampling step gets its own
//! generator, seeded from a [`Seed`] path such as `seed / SMC / step / slot`.
//! Because a stream depends only on that path — never on which thread ran
//! what first — results are bit-for-bit identical for a given seed whatever
//! the number of rayon threads.
//!
//! The generator is xoshiro256++ named explicitly (not `SmallRng`, whose
//! algorithm may differ between platforms and `rand` versions).

use rand::SeedableRng;

/// The generator every algorithm uses.
pub type InferRng = rand::rngs::Xoshiro256PlusPlus;

/// The splitmix64 finaliser: a bijective 64-bit mix with good avalanche,
/// so nearby inputs (slot 0, 1, 2, …) give unrelated seeds.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A node in the tree of random streams: derive children by purpose and
/// index, and turn any node into a generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Seed(pub u64);

impl Seed {
    /// The child stream `self / tag`.
    pub fn child(self, tag: u64) -> Seed {
        // Mix the tag before combining so that (a, b) and (b, a) differ.
        Seed(splitmix64(
            self.0 ^ splitmix64(tag.wrapping_add(0x632B_E59B_D9B4_E019)),
        ))
    }

    /// `self / purpose / index`.
    pub fn stream(self, purpose: Purpose, index: u64) -> Seed {
        self.child(purpose as u64).child(index)
    }

    /// A generator for this stream.
    pub fn rng(self) -> InferRng {
        InferRng::seed_from_u64(self.0)
    }
}

/// What a stream is for; part of every stream's path so that, say, the
/// resampling of step 3 never shares randomness with particle 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Purpose {
    Importance = 1,
    Rejection,
    Smc,
    Resample,
    Move,
    Mh,
    MhInit,
    Pmmh,
    Enumerate,
}
