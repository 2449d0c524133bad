//! The built-in scheduling algorithms, one per file.

pub mod drf;
pub mod first_fit;
pub mod least_allocated;
pub mod random;

pub use drf::Drf;
pub use first_fit::FirstFit;
pub use least_allocated::LeastAllocated;
pub use random::RandomFit;
