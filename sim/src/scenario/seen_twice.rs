//! Which fingerprints a stream holds more than once, in bounded memory: how the scan of
//! an Alibaba `batch_instance` table finds repeated first attempts of an instance
//! without a set that grows with every instance of a multi-gigabyte file.
//!
//! This is an external sort's duplicate check, with a fast path. Fingerprints go into a
//! hash set, which answers at once for a repeat whose first sight is still in it. When
//! the set holds [`SeenTwice::DEFAULT_LIMIT`] fingerprints it is written out, sorted, to
//! an anonymous temporary file (a *run*: 8 bytes a fingerprint) and emptied, so memory
//! stays at the set's size (about 40 MB, plus the sort's copy while it is written) and
//! the disk takes what memory would have. At the end, [`SeenTwice::across_runs`] merges
//! the runs and the set, and reports the fingerprints that occur in more than one of
//! them: the repeats the set could no longer answer for. A file whose instances fit in
//! the set never touches the disk.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// A hasher for keys that are hashes already (fingerprints): passes them on.
#[derive(Debug, Default)]
pub(crate) struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Fingerprints of names: only ever asked whether one is in, so hash order never shows.
pub(crate) type Fingerprints = HashSet<u64, BuildHasherDefault<Prehashed>>;

/// The fingerprints of a stream, kept in a bounded set and sorted runs on disk.
#[derive(Debug)]
pub(crate) struct SeenTwice {
    recent: Fingerprints,
    limit: usize,
    runs: Vec<File>,
}

impl SeenTwice {
    /// Fingerprints held in memory before they are written to a run: a set of this many
    /// takes 2^22 buckets of 9 bytes, about 38 MB.
    pub(crate) const DEFAULT_LIMIT: usize = 3_500_000;

    /// An empty record that writes a run every `limit` fingerprints (at least 1).
    pub(crate) fn with_limit(limit: usize) -> SeenTwice {
        SeenTwice {
            recent: Fingerprints::default(),
            limit: limit.max(1),
            runs: Vec::new(),
        }
    }

    /// Records `print`; false when the set in memory already holds it (a repeat known
    /// now). A repeat of a fingerprint already written to a run is only found by
    /// [`SeenTwice::across_runs`].
    pub(crate) fn insert(&mut self, print: u64) -> io::Result<bool> {
        if !self.recent.insert(print) {
            return Ok(false);
        }
        if self.recent.len() >= self.limit {
            self.spill()?;
        }
        Ok(true)
    }

    /// How many runs have been written to disk.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    fn spill(&mut self) -> io::Result<()> {
        let mut sorted: Vec<u64> = self.recent.drain().collect();
        sorted.sort_unstable();
        let mut out = BufWriter::new(tempfile::tempfile()?);
        for print in &sorted {
            out.write_all(&print.to_le_bytes())?;
        }
        let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        Ok(())
    }

    /// The fingerprints that occur in more than one run (the set in memory counting as
    /// one), sorted; empty when nothing was written to disk. Takes memory for the
    /// answer and a buffer a run.
    pub(crate) fn across_runs(self) -> io::Result<Vec<u64>> {
        if self.runs.is_empty() {
            return Ok(Vec::new());
        }
        let mut last: Vec<u64> = self.recent.into_iter().collect();
        last.sort_unstable();
        let mut sources: Vec<Source> = self
            .runs
            .into_iter()
            .map(|f| Source::File(BufReader::new(f)))
            .collect();
        sources.push(Source::Memory(last.into_iter()));
        let mut heads = BinaryHeap::new();
        for (i, source) in sources.iter_mut().enumerate() {
            if let Some(print) = source.next()? {
                heads.push(Reverse((print, i)));
            }
        }
        let mut twice = Vec::new();
        let mut previous = None;
        while let Some(Reverse((print, i))) = heads.pop() {
            // Each run holds a fingerprint at most once, so an equal neighbour in the
            // merged order comes from another run.
            if previous == Some(print) && twice.last() != Some(&print) {
                twice.push(print);
            }
            previous = Some(print);
            if let Some(next) = sources[i].next()? {
                heads.push(Reverse((next, i)));
            }
        }
        Ok(twice)
    }
}

/// One sorted run being merged.
enum Source {
    File(BufReader<File>),
    Memory(std::vec::IntoIter<u64>),
}

impl Source {
    fn next(&mut self) -> io::Result<Option<u64>> {
        match self {
            Source::Memory(it) => Ok(it.next()),
            Source::File(reader) => {
                let mut bytes = [0u8; 8];
                match reader.read_exact(&mut bytes) {
                    Ok(()) => Ok(Some(u64::from_le_bytes(bytes))),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt as _, SeedableRng};

    /// What a set of every fingerprint would say: those seen more than once.
    fn repeated_in_memory(prints: &[u64]) -> Vec<u64> {
        let mut seen = HashSet::new();
        let mut twice: Vec<u64> = prints
            .iter()
            .filter(|p| !seen.insert(**p))
            .copied()
            .collect();
        twice.sort_unstable();
        twice.dedup();
        twice
    }

    /// Everything a bounded record reports: repeats known at once, then those found
    /// across runs.
    fn repeated_bounded(prints: &[u64], limit: usize) -> (Vec<u64>, usize) {
        let mut seen = SeenTwice::with_limit(limit);
        let mut now = Vec::new();
        for &p in prints {
            if !seen.insert(p).unwrap() {
                now.push(p);
            }
        }
        let runs = seen.runs();
        now.extend(seen.across_runs().unwrap());
        now.sort_unstable();
        now.dedup();
        (now, runs)
    }

    #[test]
    fn a_small_stream_stays_in_memory() {
        let mut seen = SeenTwice::with_limit(10);
        assert!(seen.insert(7).unwrap());
        assert!(seen.insert(8).unwrap());
        assert!(!seen.insert(7).unwrap());
        assert_eq!(seen.runs(), 0);
        assert_eq!(seen.across_runs().unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn repeats_across_runs_are_found_after_the_set_is_written_out() {
        // Runs of 2: {5, 9}, {1, 5}, then 9 in memory; 5 and 9 each appear twice.
        let mut seen = SeenTwice::with_limit(2);
        for p in [9, 5, 1, 5, 9] {
            assert!(seen.insert(p).unwrap(), "{p} was in a run, not in memory");
        }
        assert_eq!(seen.runs(), 2);
        assert_eq!(seen.across_runs().unwrap(), vec![5, 9]);
    }

    #[test]
    fn bounded_and_unbounded_agree_on_random_streams() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for round in 0..20 {
            let distinct = rng.random_range(1..400u64);
            let prints: Vec<u64> = (0..rng.random_range(0..2000))
                .map(|_| {
                    rng.random_range(0..distinct)
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                })
                .collect();
            let want = repeated_in_memory(&prints);
            for limit in [1, 3, 64, 5000] {
                let (got, runs) = repeated_bounded(&prints, limit);
                assert_eq!(got, want, "round {round}, limit {limit}");
                if limit == 5000 {
                    assert_eq!(runs, 0);
                }
            }
        }
    }
}
