//! Reading a kube-scheduler configuration file (`KubeSchedulerConfiguration`, API version
//! `kubescheduler.config.k8s.io/v1`) into one [`ResolvedProfile`] per profile, so that each
//! profile can run as a scheduler named by its `schedulerName`. It needs nothing of the
//! simulator: a process scheduling real nodes reads a configuration by linking this crate
//! with its `yaml` feature.
//!
//! Loading runs in three stages, as for scenarios:
//! 1. serde-saphyr reads the text into the `raw` structs, which mirror kube-scheduler's v1
//!    types; the core/v1 pieces inside plugin arguments are [`crate::yaml::kube`]'s. A
//!    serde error is located by [`crate::yaml::translate`], told by `ConfigSchema` which
//!    fields each kind of plugin arguments has.
//! 2. `read` applies the v1 API's defaulting and checks what only makes sense with the
//!    spans at hand (enum spellings, required and forbidden fields), building
//!    [`ProfileConfig`](crate::framework::plugin_registry::ProfileConfig)s. It records
//!    the position of every field it reads.
//! 3. [`ResolvedProfile::resolve`] merges each profile with the default plugins and
//!    validates the result as kube-scheduler does when it starts; its errors name a field,
//!    which the recorded positions turn into a line and column.
//!
//! Every error reads `path:line:column: field: message`. What is accepted but not
//! simulated (ignored plugins, extenders, backoff settings, ...) comes back as warnings in
//! the same form, for the caller to print. The format is documented for users in
//! `docs/scheduler-config.md`.

mod raw;
mod read;
#[cfg(test)]
mod tests;

use std::path::Path;

use serde_saphyr::{NonFiniteFloatPolicy, Spanned};

use crate::field_path;
use crate::framework::Profile;
use crate::framework::plugin_registry::{self as registry, API_VERSION, ResolvedProfile};
use crate::yaml::{Schema, Tree, YamlError, parse_options, translate};
use raw::{ARGS_FIELDS, RawConfig, RawHead};
use read::{ConfigReader, allowed_with_meta};

/// The `kind` of the document.
pub const KIND: &str = "KubeSchedulerConfiguration";

/// kube-scheduler's default `podInitialBackoffSeconds`, which the simulator always uses.
const DEFAULT_INITIAL_BACKOFF_SECONDS: i64 = 1;
/// kube-scheduler's default `podMaxBackoffSeconds`, which the simulator always uses.
const DEFAULT_MAX_BACKOFF_SECONDS: i64 = 10;

/// A scheduler configuration was rejected: where, which field, and what is wrong.
///
/// Displays as `configs/x.yaml:12:9: profiles[0].plugins.score.enabled[1].weight: ...`,
/// leaving out the parts that are unknown.
pub type SchedulerConfigError = YamlError;

/// A loaded configuration: one resolved profile per `profiles` entry, in file order.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    profiles: Vec<ResolvedProfile>,
    /// Per profile, an error template pointing at its `schedulerName` (or at the profile,
    /// or nowhere, when the name was defaulted).
    name_sites: Vec<SchedulerConfigError>,
    warnings: Vec<String>,
}

impl SchedulerConfig {
    /// The profiles, in file order; each builds fresh [`Profile`]s.
    pub fn profiles(&self) -> &[ResolvedProfile] {
        &self.profiles
    }

    /// The profiles' scheduler names, in file order.
    pub fn scheduler_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(ResolvedProfile::name)
    }

    /// A fresh profile for the scheduler named `name`, if the configuration has one.
    pub fn build_profile(&self, name: &str) -> Option<Profile> {
        self.profiles
            .iter()
            .find(|p| p.name() == name)
            .map(ResolvedProfile::build)
    }

    /// What the configuration asks that schedlab accepts but does not simulate, one
    /// message per line, as `path:line:column: field: message`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Refuses the first profile whose name `taken` says is already in use (a built-in
    /// scheduler's), pointing at its `schedulerName`.
    pub fn refuse_taken_names(
        &self,
        taken: &dyn Fn(&str) -> bool,
    ) -> Result<(), SchedulerConfigError> {
        match self
            .profiles
            .iter()
            .zip(&self.name_sites)
            .find(|(p, _)| taken(p.name()))
        {
            Some((p, site)) => Err(SchedulerConfigError {
                message: format!(
                    "{:?} is already the name of a built-in scheduler; give the profile \
                     another schedulerName",
                    p.name()
                ),
                ..site.clone()
            }),
            None => Ok(()),
        }
    }

    /// The profiles by scheduler name, in file order.
    pub fn into_profiles(self) -> Vec<(String, ResolvedProfile)> {
        self.profiles
            .into_iter()
            .map(|p| (p.name().to_owned(), p))
            .collect()
    }
}

/// Reads and resolves a configuration file.
pub fn load_scheduler_config(path: &Path) -> Result<SchedulerConfig, SchedulerConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        SchedulerConfigError::file(
            &shown,
            format!("cannot read the scheduler configuration: {e}"),
        )
    })?;
    parse_scheduler_config(&text, &shown)
}

/// Parses and resolves configuration text; `path` is only used in messages.
pub fn parse_scheduler_config(
    text: &str,
    path: &str,
) -> Result<SchedulerConfig, SchedulerConfigError> {
    let mut options = parse_options();
    // YAML's `.inf` and `.nan` have no JSON form, so kube-scheduler cannot read them even
    // where schedlab ignores the value (`leaderElection`, say); refused here too.
    options.non_finite_float_policy = NonFiniteFloatPolicy::Reject;
    // A wrong version or kind first, as kube-scheduler decodes by apiVersion before it
    // reads a key (a missing one is left to the full read, which can also point out a
    // misspelt `kind:`).
    if let Ok(Some(head)) =
        serde_saphyr::from_str_with_options::<Option<Spanned<RawHead>>>(text, options.clone())
    {
        let wrong =
            |f: &Option<Spanned<String>>, want: &str| f.as_ref().is_some_and(|v| v.value != want);
        if wrong(&head.value.api_version, API_VERSION) || wrong(&head.value.kind, KIND) {
            ConfigReader::new(path).identity(
                head.referenced,
                &head.value.api_version,
                &head.value.kind,
            )?;
        }
    }
    let raw = match serde_saphyr::from_str_with_options::<Option<Spanned<RawConfig>>>(text, options)
    {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            return Err(SchedulerConfigError::file(
                path,
                format!("the file is empty; expected a {KIND} with apiVersion {API_VERSION}"),
            ));
        }
        Err(e) => return Err(translate(&e, text, path, &ConfigSchema)),
    };
    ConfigReader::new(path).config(&raw)
}

/// What a KubeSchedulerConfiguration is, for the locator's messages.
struct ConfigSchema;

impl Schema for ConfigSchema {
    fn document(&self) -> &str {
        "a KubeSchedulerConfiguration"
    }

    /// In a plugin's `args`, the fields of that plugin's argument kind rather than those of
    /// every kind, which one struct holds.
    fn fields(&self, path: &str, tree: &Tree) -> Option<(String, Vec<String>)> {
        let entry = path.strip_suffix(".args")?;
        let plugin = tree.scalar_at(&field_path::key(entry, "name"))?;
        let kind = registry::plugin(plugin)?.args_kind?;
        let (_, fields) = ARGS_FIELDS.iter().find(|(k, _)| *k == kind)?;
        let allowed = allowed_with_meta(fields)
            .split(", ")
            .map(str::to_owned)
            .collect();
        Some((kind.to_owned(), allowed))
    }

    /// Arguments of a plugin kube-scheduler does not know (an out-of-tree plugin such as
    /// Coscheduling): the plugin is what is wrong, not the argument.
    fn unknown_field(&self, path: &str, tree: &Tree) -> Option<String> {
        let entry = path.strip_suffix(".args")?;
        let plugin = tree.scalar_at(&field_path::key(entry, "name"))?;
        registry::plugin(plugin)
            .is_none()
            .then(|| registry::unknown_plugin(plugin))
    }
}
