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
//! - [`crate::field_path`] spells the field paths, and [`message`] the values and choices
//!   in messages; [`names`] has Kubernetes' syntax for label keys and object names.
//!
//! This module is compiled with the `yaml` feature, which brings in serde-saphyr.

mod error;
pub mod kube;
mod locate;
pub mod message;
pub mod names;
mod read;
mod scalar;

pub use error::YamlError;
pub use locate::{Schema, Tree, translate};
pub use read::{NodeAffinityRules, Reader};
pub use scalar::{Entries, LabelMap, QuantityMap, Scalar, ScalarVisitor};
pub use serde_saphyr::{Location, Spanned};

use serde_saphyr::{NonFiniteFloatPolicy, Options};

/// How Kubernetes-style text is parsed: no source snippet in messages (they carry the
/// position; the snippet is for terminals), and `.inf` or `.nan` handed over as text, so
/// that a quantity or a number written that way is refused by our own parsers, with a
/// message naming the field, rather than inside serde.
pub fn parse_options() -> Options {
    let mut options = Options::default();
    options.with_snippet = false;
    options.non_finite_float_policy = NonFiniteFloatPolicy::AsString;
    options
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
