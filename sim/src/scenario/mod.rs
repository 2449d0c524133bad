//! Scenario files: the YAML format, its validation and error reporting, and the validated
//! [`Scenario`] a run starts from.

pub mod gpu_trace;
mod model;
pub mod yaml;

pub use model::*;
pub use yaml::{ScenarioError, load_scenario, parse_scenario};
