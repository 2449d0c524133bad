//! The best score over every node, kept up to date one node at a time.
//!
//! Scores are kube-scheduler's node scores, integers from 0 to [`MAX_SCORE`]. Every
//! node sits in the bucket of its score (a bit set over node indices), or in none when
//! it cannot take the pod, so changing a node's score moves one bit, the best score is
//! the highest bucket that is not empty, and the k-th tied node in index order is the
//! k-th set bit of that bucket. A placement that picks the best node, uniformly among
//! ties, thus costs a few word operations per changed node instead of a scan over every
//! node, and picks exactly the node a scan would: the same ties, in the same order.

/// A node's score when it cannot take the pod.
pub const NO_SCORE: i32 = i32::MIN;

/// The highest score a node may have (kube-scheduler's `MaxNodeScore`).
pub const MAX_SCORE: i32 = 100;

/// Scores of every node, bucketed.
#[derive(Debug, Clone, Default)]
pub struct ScoreTree {
    /// `buckets[s]`: one bit per node, set when the node scores `s`.
    buckets: Vec<Vec<u64>>,
    /// How many nodes each bucket holds.
    counts: Vec<u32>,
    /// Each node's score, [`NO_SCORE`] when it cannot take the pod.
    scores: Vec<i32>,
    /// No bucket above this one holds a node (it may itself be empty).
    top: usize,
}

impl ScoreTree {
    /// Scores for `len` nodes, none of which can take the pod yet.
    pub fn new(len: usize) -> ScoreTree {
        let words = len.div_ceil(64);
        ScoreTree {
            buckets: vec![vec![0; words]; MAX_SCORE as usize + 1],
            counts: vec![0; MAX_SCORE as usize + 1],
            scores: vec![NO_SCORE; len],
            top: 0,
        }
    }

    /// How many nodes it covers.
    #[inline]
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// True when it covers no node.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Loads node `i`'s score, which [`ScoreTree::set`] compares first: a catch-up calls
    /// it for every changed node before setting any, so that their cache misses overlap.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        if let Some(&score) = self.scores.get(i) {
            std::hint::black_box(score);
        }
    }

    /// Sets node `i`'s score: [`NO_SCORE`], or from 0 to [`MAX_SCORE`] (clamped).
    #[inline]
    pub fn set(&mut self, i: usize, score: i32) {
        let score = if score == NO_SCORE {
            NO_SCORE
        } else {
            score.clamp(0, MAX_SCORE)
        };
        let old = self.scores[i];
        if old == score {
            return;
        }
        self.scores[i] = score;
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if old != NO_SCORE {
            self.buckets[old as usize][word] &= !bit;
            self.counts[old as usize] -= 1;
        }
        if score != NO_SCORE {
            let s = score as usize;
            self.buckets[s][word] |= bit;
            self.counts[s] += 1;
            self.top = self.top.max(s);
        }
    }

    /// The best score and how many nodes share it; `None` when no node has a score.
    #[inline]
    pub fn best(&mut self) -> Option<(i32, u32)> {
        while self.counts[self.top] == 0 {
            if self.top == 0 {
                return None;
            }
            self.top -= 1;
        }
        Some((self.top as i32, self.counts[self.top]))
    }

    /// The index of the `k`-th node (from 0, in index order) that has the best score.
    pub fn kth_best(&mut self, mut k: u32) -> Option<usize> {
        let (best, _) = self.best()?;
        for (w, &word) in self.buckets[best as usize].iter().enumerate() {
            let ones = word.count_ones();
            if k < ones {
                let mut word = word;
                for _ in 0..k {
                    word &= word - 1;
                }
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
            k -= ones;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn ties_come_in_index_order() {
        let mut t = ScoreTree::new(5);
        assert_eq!(t.best(), None);
        for (i, s) in [(0, 3), (1, 7), (2, 7), (3, 0), (4, 7)] {
            t.set(i, s);
        }
        assert_eq!(t.best(), Some((7, 3)));
        assert_eq!(
            (0..4).map(|k| t.kth_best(k)).collect::<Vec<_>>(),
            [Some(1), Some(2), Some(4), None]
        );
        t.set(2, NO_SCORE);
        assert_eq!(t.kth_best(1), Some(4));
        t.set(1, 2);
        t.set(4, 1);
        assert_eq!(t.best(), Some((3, 1)));
        assert_eq!(t.kth_best(0), Some(0));
    }

    /// The buckets agree with a scan on random scores, whatever the order of changes.
    #[test]
    fn agrees_with_a_scan() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        for len in [1usize, 2, 3, 63, 64, 65, 130] {
            let mut t = ScoreTree::new(len);
            let mut scores = vec![NO_SCORE; len];
            for _ in 0..2000 {
                let i = rng.random_range(0..len);
                let s = if rng.random_range(0..5) == 0 {
                    NO_SCORE
                } else {
                    rng.random_range(0..6) * 20
                };
                scores[i] = s;
                t.set(i, s);
                let best = scores.iter().copied().max().unwrap();
                let tied: Vec<usize> = (0..len)
                    .filter(|&i| scores[i] == best && best != NO_SCORE)
                    .collect();
                match t.best() {
                    None => assert!(tied.is_empty()),
                    Some((b, n)) => {
                        assert_eq!((b, n as usize), (best, tied.len()));
                        for (k, &node) in tied.iter().enumerate() {
                            assert_eq!(t.kth_best(k as u32), Some(node));
                        }
                    }
                }
            }
        }
    }
}
