//! Seeded normal samples for the detector tests (Box–Muller over ChaCha8),
//! so every test's data is fixed by its seed and reproducible anywhere.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) struct Gauss {
    pub(crate) rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl Gauss {
    pub(crate) fn new(seed: u64) -> Gauss {
        Gauss { rng: ChaCha8Rng::seed_from_u64(seed), spare: None }
    }

    /// One draw from N(mean, sd²).
    pub(crate) fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        if let Some(z) = self.spare.take() {
            return mean + sd * z;
        }
        // 1 - [0, 1) is (0, 1], so the log is finite.
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * theta.sin());
        mean + sd * r * theta.cos()
    }

    /// `n` draws from N(mean, sd²).
    pub(crate) fn series(&mut self, n: usize, mean: f64, sd: f64) -> Vec<f64> {
        (0..n).map(|_| self.normal(mean, sd)).collect()
    }

    /// Successes out of `trials` Bernoulli(p) draws.
    pub(crate) fn binomial(&mut self, trials: u32, p: f64) -> f64 {
        f64::from((0..trials).filter(|_| self.rng.random::<f64>() < p).count() as u32)
    }
}
