//! `rank_ci`: rank intervals by the bootstrap. For one group of rows (the
//! `by` keys other than `model`), the group's distinct items are resampled
//! with replacement B times, the same resample for every model; in each
//! resample every model is ranked by its accuracy over its rows among the
//! drawn items, and a model's interval is the 2.5% and 97.5% order
//! statistics of its B ranks, widened to include its rank on the items as
//! they are.
//!
//! Results depend only on (seed, the group's key values, resample number):
//! each resample has a generator of its own, so resamples may run on any
//! number of threads in any order and give the same intervals.

use twox_hash::XxHash3_64;

/// The most model-item cells all groups of one query may resample:
/// models x items x B summed over the groups. At this bound a query takes
/// some seconds on two cores.
pub const BOUND: u64 = 5_000_000_000;

/// The most resamples `set bootstrap` takes.
pub const MAX_RESAMPLES: u32 = 100_000;

/// The resamples when `set bootstrap` has not been given.
pub const DEFAULT_RESAMPLES: u32 = 1000;

/// The rows of one group, item-major: `hits[i * models + m]` and
/// `rows[i * models + m]` count model `m`'s correct rows and rows with a
/// verdict on item `i` (one each, normally).
pub struct Group {
    pub items: usize,
    pub models: usize,
    pub hits: Vec<u16>,
    pub rows: Vec<u16>,
}

impl Group {
    pub fn new(items: usize, models: usize) -> Group {
        Group {
            items,
            models,
            hits: vec![0; items * models],
            rows: vec![0; items * models],
        }
    }

    /// Count one row of model `m` on item `i`.
    pub fn add(&mut self, item: usize, model: usize, correct: bool) {
        let k = item * self.models + model;
        self.rows[k] = self.rows[k].saturating_add(1);
        if correct {
            self.hits[k] = self.hits[k].saturating_add(1);
        }
    }

    /// The cells one resampling of this group touches.
    pub fn cells(&self) -> u64 {
        self.items as u64 * self.models as u64
    }

    /// Each model's rank on the items as they are.
    pub fn ranks(&self) -> Vec<Option<u32>> {
        let mut hits = vec![0u64; self.models];
        let mut rows = vec![0u64; self.models];
        for i in 0..self.items {
            for m in 0..self.models {
                let k = i * self.models + m;
                hits[m] += u64::from(self.hits[k]);
                rows[m] += u64::from(self.rows[k]);
            }
        }
        ranks(&hits, &rows)
    }

    /// Each model's (rank_low, rank_high) over `resamples` resamples; None
    /// for a model without rows.
    pub fn intervals(&self, resamples: u32, group_seed: u64) -> Vec<Option<(u32, u32)>> {
        let b = resamples as usize;
        let models = self.models;
        // ranks[r * models + m]: model m's rank in resample r, 0 for none.
        let mut all = vec![0u32; b * models];
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, b.max(1));
        let per = b.div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for (chunk, out) in all.chunks_mut(per * models).enumerate() {
                s.spawn(move || {
                    let first = chunk * per;
                    for (j, slot) in out.chunks_mut(models).enumerate() {
                        let r = self.resample_ranks(group_seed, (first + j) as u64);
                        for (dst, src) in slot.iter_mut().zip(r) {
                            *dst = src.unwrap_or(0);
                        }
                    }
                });
            }
        });
        let point = self.ranks();
        (0..models)
            .map(|m| {
                let rank = point[m]?;
                let mut mine: Vec<u32> = (0..b)
                    .map(|r| all[r * models + m])
                    .filter(|&x| x > 0)
                    .collect();
                if mine.is_empty() {
                    return Some((rank, rank));
                }
                mine.sort_unstable();
                let (lo, hi) = order_statistics(&mine);
                Some((lo.min(rank), hi.max(rank)))
            })
            .collect()
    }

    /// The ranks of one resample.
    fn resample_ranks(&self, group_seed: u64, resample: u64) -> Vec<Option<u32>> {
        let mut rng = Rng::new(group_seed, resample);
        let mut drawn = vec![0u32; self.items];
        for _ in 0..self.items {
            drawn[rng.below(self.items as u64) as usize] += 1;
        }
        let mut hits = vec![0u64; self.models];
        let mut rows = vec![0u64; self.models];
        for (i, &w) in drawn.iter().enumerate() {
            if w == 0 {
                continue;
            }
            let w = u64::from(w);
            let base = i * self.models;
            let (h, n) = (
                &self.hits[base..base + self.models],
                &self.rows[base..base + self.models],
            );
            for m in 0..self.models {
                hits[m] += w * u64::from(h[m]);
                rows[m] += w * u64::from(n[m]);
            }
        }
        ranks(&hits, &rows)
    }
}

/// The ceil(0.025 B)-th and ceil(0.975 B)-th smallest of `sorted` (1-based;
/// B = its length, at least 1), in integer arithmetic.
pub fn order_statistics(sorted: &[u32]) -> (u32, u32) {
    let b = sorted.len();
    let at = |per_mille: usize| sorted[((per_mille * b).div_ceil(1000)).clamp(1, b) - 1];
    (at(25), at(975))
}

/// Rank models by hits / rows (exact comparison by cross-multiplying):
/// 1 + the models with a strictly greater accuracy; None for no rows.
pub fn ranks(hits: &[u64], rows: &[u64]) -> Vec<Option<u32>> {
    let mut order: Vec<usize> = (0..hits.len()).filter(|&m| rows[m] > 0).collect();
    // Descending accuracy: a before b when hits_a / rows_a > hits_b / rows_b.
    let cmp = |a: usize, b: usize| {
        let l = u128::from(hits[a]) * u128::from(rows[b]);
        let r = u128::from(hits[b]) * u128::from(rows[a]);
        r.cmp(&l)
    };
    order.sort_by(|&a, &b| cmp(a, b));
    let mut out = vec![None; hits.len()];
    let mut rank = 1u32;
    for (pos, &m) in order.iter().enumerate() {
        if pos > 0 && cmp(order[pos - 1], m) != std::cmp::Ordering::Equal {
            rank = pos as u32 + 1;
        }
        out[m] = Some(rank);
    }
    out
}

/// A group's seed, from the session's seed and the group's key values
/// (each written as text, nulls marked).
pub fn group_seed(seed: u64, keys: &[Option<String>]) -> u64 {
    let mut bytes = seed.to_le_bytes().to_vec();
    for k in keys {
        match k {
            None => bytes.push(0),
            Some(t) => {
                bytes.push(1);
                bytes.extend_from_slice(t.as_bytes());
            }
        }
        bytes.push(0x1f);
    }
    XxHash3_64::oneshot(&bytes)
}

/// xoshiro256** seeded through SplitMix64 from (group seed, resample).
struct Rng([u64; 4]);

impl Rng {
    fn new(group_seed: u64, resample: u64) -> Rng {
        let mut x = group_seed ^ resample.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in 0..n (n > 0), without modulo bias (Lemire's method).
    fn below(&mut self, n: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_the_smaller_on_ties() {
        // 3/4, 1/2, 2/4, 1/4, no rows.
        let r = ranks(&[3, 1, 2, 1, 0], &[4, 2, 4, 4, 0]);
        assert_eq!(r, vec![Some(1), Some(2), Some(2), Some(4), None]);
    }

    #[test]
    fn order_statistics_are_integer_quantiles() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(order_statistics(&v), (25, 975));
        let v: Vec<u32> = (1..=40).collect();
        // ceil(1.0) = 1, ceil(39.0) = 39.
        assert_eq!(order_statistics(&v), (1, 39));
        assert_eq!(order_statistics(&[7]), (7, 7));
    }

    #[test]
    fn draws_are_uniform_and_reproducible() {
        let mut a = Rng::new(5, 9);
        let mut b = Rng::new(5, 9);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            let x = a.below(7);
            assert_eq!(x, b.below(7));
            counts[x as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        assert_ne!(Rng::new(5, 9).next(), Rng::new(5, 10).next());
    }

    #[test]
    fn intervals_contain_the_rank_and_repeat() {
        // Model 0 right on every item, model 1 on half, model 2 on half
        // (other items), model 3 on none.
        let mut g = Group::new(40, 4);
        for i in 0..40 {
            g.add(i, 0, true);
            g.add(i, 1, i % 2 == 0);
            g.add(i, 2, i % 2 == 1);
            g.add(i, 3, false);
        }
        let iv = g.intervals(200, group_seed(0, &[Some("x".into())]));
        assert_eq!(iv[0], Some((1, 1)));
        assert_eq!(iv[3], Some((4, 4)));
        let (lo, hi) = iv[1].expect("ranked");
        assert!(lo == 2 && hi == 3, "{lo} {hi}");
        assert_eq!(iv, g.intervals(200, group_seed(0, &[Some("x".into())])));
    }
}
