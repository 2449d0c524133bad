//! The built-in scheduling algorithms, one per file.

pub mod first_fit;
pub mod flow;
pub mod least_allocated;
pub mod random;

pub use first_fit::FirstFit;
pub use flow::Flow;
pub use least_allocated::LeastAllocated;
pub use random::RandomFit;
