//! The best score over every node, kept up to date one node at a time: a segment tree of
//! (highest score, how many nodes have it) over node indices. Changing a node's score
//! costs O(log n); the best score and its number of ties are read at the root, and the
//! k-th tied node in index order is found in O(log n). A placement that picks the best
//! node, uniformly among ties, thus costs O(log n) instead of a scan over every node,
//! and picks exactly the node a scan would: the same ties, in the same order.

/// A node's score when it cannot take the pod.
pub const NO_SCORE: i32 = i32::MIN;

/// Highest scores and their counts over node indices.
#[derive(Debug, Clone, Default)]
pub struct ScoreTree {
    /// Leaves in `[leaves, 2 * leaves)`, node `i` at `leaves + i`; inner node `j` covers
    /// children `2j` and `2j + 1`. Each entry is (highest score, nodes with it).
    cells: Vec<(i32, u32)>,
    leaves: usize,
    /// How many leaves are real nodes.
    len: usize,
}

impl ScoreTree {
    /// A tree over `len` nodes, all without a score.
    pub fn new(len: usize) -> ScoreTree {
        let leaves = len.next_power_of_two().max(1);
        let mut tree = ScoreTree {
            cells: vec![(NO_SCORE, 0); 2 * leaves],
            leaves,
            len,
        };
        for i in 0..len {
            tree.cells[leaves + i] = (NO_SCORE, 1);
        }
        for j in (1..leaves).rev() {
            tree.cells[j] = tree.join(j);
        }
        tree
    }

    /// How many nodes the tree covers.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it covers no node.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn join(&self, j: usize) -> (i32, u32) {
        let (a, b) = (self.cells[2 * j], self.cells[2 * j + 1]);
        match a.0.cmp(&b.0) {
            std::cmp::Ordering::Greater => a,
            std::cmp::Ordering::Less => b,
            std::cmp::Ordering::Equal => (a.0, a.1 + b.1),
        }
    }

    /// Sets node `i`'s score ([`NO_SCORE`] when it cannot take the pod).
    #[inline]
    pub fn set(&mut self, i: usize, score: i32) {
        let mut j = self.leaves + i;
        if self.cells[j].0 == score {
            return;
        }
        self.cells[j] = (score, 1);
        while j > 1 {
            j /= 2;
            let joined = self.join(j);
            if self.cells[j] == joined {
                break;
            }
            self.cells[j] = joined;
        }
    }

    /// The best score and how many nodes share it; `None` when no node has a score.
    #[inline]
    pub fn best(&self) -> Option<(i32, u32)> {
        let root = self.cells[1];
        (root.0 != NO_SCORE && root.1 > 0).then_some(root)
    }

    /// The index of the `k`-th node (from 0, in index order) that has the best score.
    pub fn kth_best(&self, mut k: u32) -> Option<usize> {
        let (best, count) = self.best()?;
        if k >= count {
            return None;
        }
        let mut j = 1;
        while j < self.leaves {
            let left = self.cells[2 * j];
            if left.0 == best {
                if k < left.1 {
                    j *= 2;
                    continue;
                }
                k -= left.1;
            }
            j = 2 * j + 1;
        }
        Some(j - self.leaves)
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
        for (i, s) in [(0, 3), (1, 7), (2, 7), (3, -1), (4, 7)] {
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

    /// The tree agrees with a scan on random scores, whatever the order of changes.
    #[test]
    fn agrees_with_a_scan() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        for len in [1usize, 2, 3, 17, 64, 100] {
            let mut t = ScoreTree::new(len);
            let mut scores = vec![NO_SCORE; len];
            for _ in 0..2000 {
                let i = rng.random_range(0..len);
                let s = if rng.random_range(0..5) == 0 {
                    NO_SCORE
                } else {
                    rng.random_range(-1..6)
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
