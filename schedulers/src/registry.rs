//! The registry of scheduling algorithms by name.

use std::collections::BTreeMap;
use std::fmt;

use crate::algorithms::{
    BestFit, Drf, Fgd, FirstFit, Flow, LeastAllocated, MostAllocated, RandomFit, RoundRobin,
    Tetris, WorstFit,
};
use crate::framework::{FrameworkScheduler, Profile};
use crate::scheduler::Scheduler;

/// Builds a fresh scheduler instance; every run gets its own.
pub type Factory = Box<dyn Fn() -> Box<dyn Scheduler> + Send + Sync>;

/// One registered algorithm.
pub struct Entry {
    /// One line saying what it does.
    pub summary: &'static str,
    factory: Factory,
}

/// Algorithms by name, iterated in name order.
#[derive(Default)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
}

/// A scheduler name that nothing is registered under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheduler \"{name}\" (known: {})", known.join(", "))]
pub struct UnknownScheduler {
    /// The name asked for.
    pub name: String,
    /// Every registered name.
    pub known: Vec<String>,
}

/// A second registration under a name already taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a scheduler named \"{0}\" is already registered")]
pub struct DuplicateScheduler(pub String);

impl Registry {
    /// Every built-in algorithm.
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        let builtins: Vec<(&str, &'static str, Factory)> = vec![
            (
                "kube-default",
                "kube-scheduler's default profile: filter, score, normalize, weight (see framework)",
                Box::new(|| Box::new(FrameworkScheduler::new(Profile::kube_default()))),
            ),
            (
                Drf::NAME,
                "Dominant Resource Fairness across namespaces (weighted), first-fit placement",
                Box::new(|| Box::new(Drf::default())),
            ),
            (
                Fgd::NAME,
                "fragmentation gradient descent for shared GPUs (Weng et al., ATC 2023)",
                Box::new(|| Box::new(Fgd::default())),
            ),
            (
                FirstFit::NAME,
                "the first node in node order that passes the filters",
                Box::new(|| Box::new(FirstFit)),
            ),
            (
                Flow::NAME,
                "Firmament-style batch placement of the whole queue by min-cost max-flow",
                Box::new(|| Box::new(Flow::default())),
            ),
            (
                LeastAllocated::NAME,
                "kube-scheduler's LeastAllocated score on CPU and memory: spreads load",
                Box::new(|| Box::new(LeastAllocated::default())),
            ),
            (
                RandomFit::NAME,
                "a node drawn uniformly from those that pass the filters",
                Box::new(|| Box::new(RandomFit::default())),
            ),
            (
                BestFit::NAME,
                "the node with the least left of the pod's dominant resource: packs",
                Box::new(|| Box::new(BestFit)),
            ),
            (
                MostAllocated::NAME,
                "kube-scheduler's MostAllocated score on CPU and memory: packs",
                Box::new(|| Box::new(MostAllocated::default())),
            ),
            (
                WorstFit::NAME,
                "the node with the most left of the pod's dominant resource: spreads",
                Box::new(|| Box::new(WorstFit)),
            ),
            (
                RoundRobin::NAME,
                "the next feasible node after the last one chosen, cyclically",
                Box::new(|| Box::new(RoundRobin::default())),
            ),
            (
                Tetris::NAME,
                "Tetris (SIGCOMM 2014): best alignment of pod demand and node free resources",
                Box::new(|| Box::new(Tetris)),
            ),
        ];
        for (name, summary, factory) in builtins {
            r.register(name, summary, factory)
                .expect("built-in names are distinct");
        }
        r
    }

    /// Adds an algorithm; refuses a name already taken.
    pub fn register(
        &mut self,
        name: &str,
        summary: &'static str,
        factory: Factory,
    ) -> Result<(), DuplicateScheduler> {
        if self.entries.contains_key(name) {
            return Err(DuplicateScheduler(name.to_string()));
        }
        self.entries
            .insert(name.to_string(), Entry { summary, factory });
        Ok(())
    }

    /// True when `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// A fresh instance of the named algorithm.
    pub fn create(&self, name: &str) -> Result<Box<dyn Scheduler>, UnknownScheduler> {
        match self.entries.get(name) {
            Some(e) => Ok((e.factory)()),
            None => Err(UnknownScheduler {
                name: name.to_string(),
                known: self.entries.keys().cloned().collect(),
            }),
        }
    }

    /// Names and summaries, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.entries.iter().map(|(n, e)| (n.as_str(), e.summary))
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}
