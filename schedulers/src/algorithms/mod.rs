//! The built-in scheduling algorithms, one per file.

pub mod fgd;
pub mod first_fit;
pub mod least_allocated;
pub mod random;

pub use fgd::Fgd;
pub use first_fit::FirstFit;
pub use least_allocated::LeastAllocated;
pub use random::RandomFit;
