//! `OUT/manifest.json`: what a sweep was run from, so any figure can be reproduced, and
//! `schedlab run --from OUT/manifest.json` to run it again.
//!
//! Files are hashed with SHA-256: every scenario file, and every file a scenario names by
//! a path relative to its directory (traces, scheduler configurations), found by looking
//! at each value of the scenario for the name of an existing file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's contents.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// schedlab's version (Cargo's package version).
    pub schedlab_version: String,
    /// The git commit schedlab was built from, when the build set `SCHEDLAB_GIT_COMMIT`.
    pub git_commit: Option<String>,
    /// The `run` command's arguments, exactly as given (after `schedlab run`).
    pub arguments: Vec<String>,
    /// Every scenario and data file read, with its SHA-256, in the order met.
    pub files: Vec<FileHash>,
    /// The seeds given on the command line (`--seed`, `--seeds`), in order; empty when each
    /// scenario's own seeds were used.
    pub seeds: Vec<u64>,
    /// The `--set` overrides, in order.
    pub overrides: Vec<OverrideEntry>,
    /// Set when this output is one shard of a sweep (`run --shard K/N`): which one, of
    /// which sweep, and how its runs ended. Absent from unsharded sweeps' manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::ShardRecord>,
    /// Set when this output was put together by `schedlab merge`: the shard directories,
    /// in shard order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<Vec<String>>,
}

/// One file read by the sweep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileHash {
    /// The path as the sweep named it.
    pub path: String,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
}

/// One `--set` flag.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OverrideEntry {
    /// The YAML path.
    pub path: String,
    /// Its values, in order.
    pub values: Vec<String>,
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// The scenario files and the data files they name, each once, in the order met.
pub fn files_read(scenarios: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for scenario in scenarios {
        if !files.contains(scenario) {
            files.push(scenario.clone());
        }
        let Ok(text) = std::fs::read_to_string(scenario) else {
            continue;
        };
        let dir = scenario.parent().unwrap_or(Path::new(""));
        for value in crate::sweep::scalars(&text) {
            if value.is_empty() || value.contains('\n') {
                continue;
            }
            let candidate = dir.join(&value);
            if candidate.is_file() && !files.contains(&candidate) {
                files.push(candidate);
            }
        }
    }
    files
}

/// Hashes `files` for the manifest.
pub fn hashes(files: &[PathBuf]) -> anyhow::Result<Vec<FileHash>> {
    files
        .iter()
        .map(|f| {
            Ok(FileHash {
                path: f.display().to_string(),
                sha256: sha256(f)?,
            })
        })
        .collect()
}

/// Writes the manifest as pretty JSON.
pub fn write(path: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(manifest)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Reads a manifest without checking its files.
pub fn read(path: &Path) -> anyhow::Result<Manifest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a schedlab manifest", path.display()))
}

/// Reads a manifest and checks that every file it lists still has its hash; an error
/// names the first file that changed or vanished.
pub fn read_checked(path: &Path) -> anyhow::Result<Manifest> {
    let manifest = read(path)?;
    for file in &manifest.files {
        let now = sha256(Path::new(&file.path)).with_context(|| {
            format!(
                "{}: a file of the manifest cannot be read: {}",
                path.display(),
                file.path
            )
        })?;
        if now != file.sha256 {
            bail!(
                "{}: {} has changed since the sweep ran (its SHA-256 differs); refusing to rerun",
                path.display(),
                file.path
            );
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_text() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("abc");
        std::fs::write(&f, "abc").unwrap();
        // FIPS 180-2's example for "abc".
        assert_eq!(
            sha256(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
