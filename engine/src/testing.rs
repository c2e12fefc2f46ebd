//! Support shared by the test suites and the load generator. Not a stable interface: hidden
//! from the documentation.

/// A small seeded generator (xorshift64): the same seed gives the same run, so a failing
/// random test can be replayed from the seed it prints.
#[derive(Clone, Debug)]
pub struct Rng(u64);

/// An integer type [`Rng::below`] draws.
pub trait Bound: Copy {
    /// The bound as a count (0 for negative values).
    fn to_count(self) -> u64;
    /// A drawn value below the bound.
    fn from_count(v: u64) -> Self;
}

macro_rules! bound {
    ($($t:ty),*) => {$(
        impl Bound for $t {
            fn to_count(self) -> u64 {
                u64::try_from(self).unwrap_or(0)
            }
            fn from_count(v: u64) -> Self {
                <$t>::try_from(v).unwrap_or(0)
            }
        }
    )*};
}
bound!(i32, u32, u64, usize, i64);

impl Rng {
    /// A generator from `seed` (any value; the state is never zero).
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..n`; 0 when `n` is 0 or negative.
    pub fn below<T: Bound>(&mut self, n: T) -> T {
        match n.to_count() {
            0 => T::from_count(0),
            n => T::from_count(self.next_u64() % n),
        }
    }

    /// True `percent` times in 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// True with probability `p` (0 to 1).
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (i128::from(hi) - i128::from(lo) + 1).max(1) as u128;
        (i128::from(lo) + (u128::from(self.next_u64()) % span) as i128) as i64
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
