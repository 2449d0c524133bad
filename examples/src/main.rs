//! Plays bundled scenarios with schedlab's built-in schedulers and this crate's own, and
//! prints one table row per run.
//!
//! ```text
//! cargo run -p schedlab-examples                        # the default scenarios
//! cargo run -p schedlab-examples -- scenarios/bin-packing.yaml
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use schedlab_examples::{
    LargestFirst, PowerOfTwo, bundled_scenario, compare, load, registry, table,
};

/// Played when no file is named: hand-checkable, then overloaded, then a day of a shop.
const DEFAULT_SCENARIOS: [&str; 3] = ["tutorial.yaml", "batch-burst.yaml", "ecommerce.yaml"];

fn main() -> ExitCode {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        paths = DEFAULT_SCENARIOS
            .iter()
            .map(|f| bundled_scenario(f))
            .collect();
    }
    let registry = registry();
    let mut results = Vec::new();
    for path in &paths {
        let scenario = match load(path, &registry) {
            Ok(scenario) => scenario,
            Err(e) => {
                // ScenarioError names the file, line, column and field.
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        // The scenario's own list of built-ins (a run label reads back as its spec), then
        // this crate's two algorithms.
        let mut names: Vec<&str> = scenario
            .schedulers
            .iter()
            .map(|s| s.label.as_str())
            .collect();
        names.extend([PowerOfTwo::NAME, LargestFirst::NAME]);
        match compare(&scenario, &registry, &names) {
            Ok(runs) => results.extend(runs),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    print!("{}", table(&results));
    ExitCode::SUCCESS
}
