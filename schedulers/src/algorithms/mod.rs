//! The built-in scheduling algorithms, one per file.

pub mod artifact;
pub mod best_fit;
pub mod demand;
pub mod drf;
pub mod fgd;
pub mod first_fit;
pub mod flow;
pub mod highest_score;
pub mod least_allocated;
pub mod most_allocated;
pub mod node_order;
pub mod random;
pub mod round_robin;
#[cfg(test)]
pub(crate) mod testkit;
pub mod tetris;
pub mod worst_fit;

pub use artifact::{
    ArtifactBestFit, ArtifactDotProd, ArtifactGpuClustering, ArtifactGpuPacking, ArtifactRandom,
};
pub use best_fit::BestFit;
pub use drf::Drf;
pub use fgd::Fgd;
pub use first_fit::FirstFit;
pub use flow::Flow;
pub use least_allocated::LeastAllocated;
pub use most_allocated::MostAllocated;
pub use random::RandomFit;
pub use round_robin::RoundRobin;
pub use tetris::Tetris;
pub use worst_fit::WorstFit;
