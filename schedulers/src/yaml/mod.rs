//! The Kubernetes-YAML front end: the pieces of Kubernetes objects as a file writes them,
//! read with their positions, and turned into this crate's model types with errors that
//! name the file, the line, the column and the field.
//!
//! Every reader of Kubernetes-style YAML (the scenario loader in `sim`, the
//! KubeSchedulerConfiguration reader in [`crate::framework::config`], and later plain
//! manifests) goes through this module, so that a node affinity, a toleration or a
//! quantity is parsed, checked and reported one way:
//! - [`kube`] holds the located types: serde structs mirroring Kubernetes' field names
//!   (`RawNodeAffinity`, `RawToleration`, ...), whose values are kept as text in
//!   [`Spanned`] wrappers so that a bad value can be pointed at exactly;
//! - [`Reader`] turns them into model types ([`crate::NodeAffinity`],
//!   [`crate::Toleration`], [`crate::HostPort`], ...), checking them as the API server
//!   does;
//! - [`YamlError`] is the one error type, and [`translate`] the one locator: it turns a
//!   serde error, which knows where it happened but not in which field, into a
//!   [`YamlError`] by reading the text a second time, only on that error path;
//! - [`Fragment`] reads one object of a larger file (a `kind: List`'s item) alone, with
//!   the file's positions, in time proportional to the object;
//! - [`timestamp`] reads RFC 3339 times (`creationTimestamp`) into instants that order
//!   by time;
//! - [`crate::field_path`] spells the field paths, and [`message`] the values and choices
//!   in messages; [`names`] has Kubernetes' syntax for label keys and object names.
//!
//! This module is compiled with the `yaml` feature, which brings in serde-saphyr.

mod error;
mod fragment;
pub mod kube;
mod locate;
pub mod message;
pub mod names;
mod read;
mod scalar;
pub mod timestamp;

pub use error::YamlError;
pub use fragment::Fragment;
pub use locate::{KeyAt, Schema, Tree, translate};
pub use read::{NodeAffinityRules, Reader};
pub use scalar::{Entries, LabelMap, QuantityMap, Scalar, ScalarVisitor};
pub use serde_saphyr::{Location, Spanned};

use serde_saphyr::{Budget, NonFiniteFloatPolicy, Options};

/// How Kubernetes-style text is parsed: no source snippet in messages (they carry the
/// position; the snippet is for terminals), and `.inf` or `.nan` handed over as text, so
/// that a quantity or a number written that way is refused by our own parsers, with a
/// message naming the field, rather than inside serde.
pub fn parse_options() -> Options {
    let mut options = Options::default();
    options.with_snippet = false;
    options.non_finite_float_policy = NonFiniteFloatPolicy::AsString;
    options.budget = Some(budget());
    options
}

/// The most YAML values (scalars, lists and mappings) one file may hold. serde-saphyr's
/// default, 250,000, stops a scenario at about 28,000 listed nodes, while a scenario may
/// define 1,000,000 nodes; a listed node with allocatable resources, labels and a taint
/// takes 20 to 40 values, so this lets 1,000,000 of them through with room to spare.
pub const MAX_YAML_VALUES: usize = 64_000_000;

/// The most parser events (a value's start and end, a document's) one file may produce:
/// about twice the values.
const MAX_YAML_EVENTS: usize = 2 * MAX_YAML_VALUES;

/// The most text, in bytes, all the scalars of one file may add up to (1 GiB): a
/// 1,000,000-node listing holds well under 100 MiB of them.
pub const MAX_YAML_SCALAR_BYTES: usize = 1 << 30;

/// serde-saphyr's budget raised to schedlab's documented scale; its other limits (nesting
/// depth, aliases and anchors, which guard against amplification, not size) stay as they
/// are.
fn budget() -> Budget {
    let mut budget = Budget::default();
    budget.max_nodes = MAX_YAML_VALUES;
    budget.max_events = MAX_YAML_EVENTS;
    budget.max_total_scalar_bytes = MAX_YAML_SCALAR_BYTES;
    budget
}

/// The 1-based line and column of a location, `None` when unknown (line 0), and the
/// column `None` when it is 0.
pub fn line_column(loc: &Location) -> (Option<u64>, Option<u64>) {
    if loc.line() == 0 {
        (None, None)
    } else {
        (Some(loc.line()), (loc.column() > 0).then_some(loc.column()))
    }
}
