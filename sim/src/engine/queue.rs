//! The future event queue: events ordered by (time, insertion sequence).
//!
//! A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, "Faster algorithms for the shortest
//! path problem", 1990): a discrete-event simulation never schedules an event before the
//! one it is handling, so the keys that come out never decrease, and a queue can file each
//! event in a bucket by the highest bit in which its key differs from the last key taken
//! out. Pushing is a `Vec::push`; taking out empties the lowest non-empty bucket into the
//! ones below it, and an event moves down at most once per bit of key. Unlike a binary
//! heap, whose every pop walks a path of cache misses down a tree of every pending event
//! (hundreds of thousands of running pods each wait for their end), this touches memory
//! in order.

use crate::time::SimTime;

/// Buckets: one for the key equal to the last taken out, one per bit of a 128-bit key.
const BUCKETS: usize = 129;
/// Words of the bit set of filled buckets.
const FILLED_WORDS: usize = BUCKETS.div_ceil(64);

/// A future event queue. Events at equal times come out in the order they were pushed,
/// which is what makes a run reproducible: the order never depends on the queue's layout.
///
/// An event scheduled before the last one taken out happens at that one's time (after
/// it): time does not go back.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// `buckets[b]` holds the keys whose highest bit differing from `last` is bit `b - 1`;
    /// `buckets[0]` the key equal to `last` (at most one: keys are unique).
    buckets: Vec<Vec<Entry<E>>>,
    /// Bit `b` set when `buckets[b]` holds an event, so that finding the lowest filled
    /// bucket is a count of trailing zeros rather than a walk over 129 vectors (which
    /// was ~4% of a `kube-default` run).
    filled: [u64; FILLED_WORDS],
    /// The last key taken out (0 before any): no key waiting is below it.
    last: u128,
    /// The smallest key waiting, when known, so that a peek and the pop after it look for
    /// it once.
    least: Option<u128>,
    len: usize,
    next_seq: u64,
}

/// Time and sequence packed in one integer, so that ordering is a single comparison.
#[derive(Debug)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::with_capacity(0)
    }
}

/// The bucket of `key` when the last key taken out is `last` (`key >= last`).
#[inline]
fn bucket(key: u128, last: u128) -> usize {
    (u128::BITS - (key ^ last).leading_zeros()) as usize
}

impl<E> EventQueue<E> {
    /// An empty queue with room for `capacity` events before it allocates.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buckets: Vec<Vec<Entry<E>>> = (0..BUCKETS).map(|_| Vec::new()).collect();
        // Far-future events (pod ends) land in the high buckets first.
        buckets[BUCKETS - 1].reserve(capacity);
        EventQueue {
            buckets,
            filled: [0; FILLED_WORDS],
            last: 0,
            least: None,
            len: 0,
            next_seq: 0,
        }
    }

    /// Schedules `event` at `at`.
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        let floor = (self.last >> 64) as u64;
        let key = ((at.0.max(floor) as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        if self.least.is_some_and(|least| key < least) {
            self.least = Some(key);
        }
        self.file(Entry { key, event }, self.last);
        self.len += 1;
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.buckets[0].is_empty() {
            let b = self.lowest_filled()?;
            let least = match self.least {
                Some(least) => least,
                None => Self::least_of(&self.buckets[b]),
            };
            self.last = least;
            let mut moved = std::mem::take(&mut self.buckets[b]);
            self.filled[b / 64] &= !(1 << (b % 64));
            for entry in moved.drain(..) {
                self.file(entry, least);
            }
            // Keep the emptied bucket's allocation for the events that land there next.
            self.buckets[b] = moved;
        }
        let entry = self.buckets[0].pop()?;
        if self.buckets[0].is_empty() {
            self.filled[0] &= !1;
        }
        self.least = None;
        self.len -= 1;
        Some((SimTime((entry.key >> 64) as u64), entry.event))
    }

    /// The time of the earliest event.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        let least = match self.least {
            Some(least) => least,
            None => {
                let b = self.lowest_filled()?;
                let least = Self::least_of(&self.buckets[b]);
                self.least = Some(least);
                least
            }
        };
        Some(SimTime((least >> 64) as u64))
    }

    /// Files `entry` by the last key `last`.
    #[inline]
    fn file(&mut self, entry: Entry<E>, last: u128) {
        let b = bucket(entry.key, last);
        self.filled[b / 64] |= 1 << (b % 64);
        self.buckets[b].push(entry);
    }

    fn lowest_filled(&self) -> Option<usize> {
        let (word, bits) = self.filled.iter().enumerate().find(|(_, w)| **w != 0)?;
        Some(word * 64 + bits.trailing_zeros() as usize)
    }

    fn least_of(bucket: &[Entry<E>]) -> u128 {
        bucket.iter().map(|e| e.key).min().unwrap_or(u128::MAX)
    }

    /// Number of events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many events were ever pushed.
    pub fn pushed(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_order_then_fifo() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), 'a');
        q.push(SimTime(1), 'b');
        q.push(SimTime(5), 'c');
        q.push(SimTime(1), 'd');
        q.push(SimTime(u64::MAX), 'e');
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (SimTime(1), 'b'),
                (SimTime(1), 'd'),
                (SimTime(5), 'a'),
                (SimTime(5), 'c'),
                (SimTime(u64::MAX), 'e')
            ]
        );
        assert_eq!(q.pushed(), 5);
    }

    /// Against a reference that sorts by (time, push order): random holds, bursts at one
    /// instant, far-future times and peeks between pushes, as a run makes them.
    #[test]
    fn matches_a_sorted_reference() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut q = EventQueue::default();
        let mut reference: std::collections::BTreeSet<(u64, u64)> = Default::default();
        let (mut now, mut seq) = (0u64, 0u64);
        for step in 0..200_000u64 {
            let r = next();
            if r % 3 != 0 || reference.is_empty() {
                let at = match r % 7 {
                    0 => now,
                    1 => now + (r >> 40) % 4,
                    2 => u64::MAX - (r >> 50),
                    _ => now + (r >> 20) % 5_000_000,
                };
                q.push(SimTime(at), seq);
                reference.insert((at, seq));
                seq += 1;
            } else {
                if step % 5 == 0 {
                    let first = reference.first().map(|&(t, _)| SimTime(t));
                    assert_eq!(q.peek_time(), first);
                }
                let (at, s) = reference.pop_first().expect("not empty");
                assert_eq!(q.pop(), Some((SimTime(at), s)), "step {step}");
                now = at;
            }
            assert_eq!(q.len(), reference.len());
        }
        while let Some((at, s)) = reference.pop_first() {
            assert_eq!(q.pop(), Some((SimTime(at), s)));
        }
        assert!(q.is_empty() && q.pop().is_none() && q.peek_time().is_none());
    }

    /// An event scheduled before the last one taken out comes next, at that one's time.
    #[test]
    fn the_past_is_now() {
        let mut q = EventQueue::default();
        q.push(SimTime(10), 'a');
        q.push(SimTime(20), 'b');
        assert_eq!(q.pop(), Some((SimTime(10), 'a')));
        q.push(SimTime(3), 'c');
        assert_eq!(q.peek_time(), Some(SimTime(10)));
        assert_eq!(q.pop(), Some((SimTime(10), 'c')));
        assert_eq!(q.pop(), Some((SimTime(20), 'b')));
    }
}
