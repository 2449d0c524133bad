//! Sharded sweeps: `schedlab run --shard K/N` runs the K-th of N slices of the sweep's run
//! list, so that a batch system (a Kubernetes Indexed Job, a Slurm array job) can spread
//! one sweep over many machines; `schedlab merge` (`cmd::merge`) puts the slices back
//! together.
//!
//! The slice is round-robin over the planned run list (the row order of summary.csv):
//! run `i` (0-based) belongs to shard `i mod N + 1`. Round-robin rather than contiguous
//! blocks because runs of one scenario cost about the same and sit next to each other in
//! the plan: dealing them out spreads a large scenario over every shard instead of giving
//! it all to one.
//!
//! Where the shard comes from, first match wins:
//! 1. `--shard K/N` (1-based K);
//! 2. `JOB_COMPLETION_INDEX` (0-based, set by Kubernetes in an Indexed Job): K is the
//!    index + 1 and N must be given with `--shards N` (Kubernetes does not tell a pod the
//!    number of completions);
//! 3. `SLURM_ARRAY_TASK_ID` (set by Slurm in an array job): K is the id minus
//!    `SLURM_ARRAY_TASK_MIN` (0 when unset) + 1, and N is `--shards N` or else
//!    `SLURM_ARRAY_TASK_COUNT`; an array with a step other than 1 is refused, since its ids
//!    do not number the shards 1..N.
//!
//! Without any of them the whole sweep runs. `--shard 1/1` runs the whole sweep even inside
//! an array job.

use serde::{Deserialize, Serialize};

/// One slice of a sweep: the `index`-th (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    /// At least 1.
    pub count: usize,
}

impl Shard {
    /// Whether run `i` (0-based position in the plan) belongs to this shard.
    pub fn owns(&self, i: usize) -> bool {
        i % self.count + 1 == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard`'s value parser: `K/N` with 1 <= K <= N.
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected K/N (e.g. 2/8: the second of 8 slices), got \"{s}\""))?;
    let number = |t: &str, what: &str| {
        t.trim().parse::<usize>().map_err(|_| {
            format!("{what} \"{t}\" in \"{s}\" is not a whole number (expected K/N, e.g. 2/8)")
        })
    };
    let (index, count) = (number(k, "K")?, number(n, "N")?);
    check(index, count).map_err(|e| format!("\"{s}\": {e}"))
}

/// `--shards`' value parser: a count of at least 1.
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("the number of shards must be at least 1".to_string()),
        Err(_) => Err(format!("expected a number of shards, got \"{s}\"")),
    }
}

fn check(index: usize, count: usize) -> Result<Shard, String> {
    if count == 0 {
        return Err("N, the number of shards, must be at least 1".to_string());
    }
    if index == 0 {
        return Err("K counts from 1: the shards are 1/N to N/N".to_string());
    }
    if index > count {
        return Err(format!(
            "shard {index} of {count} does not exist: K must be between 1 and N"
        ));
    }
    Ok(Shard { index, count })
}

/// The shard this invocation runs and what chose it (for the manifest and the log), from
/// the flags and the environment (see the module docs); `None` runs the whole sweep.
/// `env` looks a variable up (the process environment, or a test's map).
pub fn resolve(
    shard: Option<Shard>,
    shards: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(Shard, String)>, String> {
    if let Some(shard) = shard {
        if let Some(n) = shards.filter(|&n| n != shard.count) {
            return Err(format!(
                "--shard {shard} and --shards {n} disagree on the number of shards"
            ));
        }
        return Ok(Some((shard, "--shard".to_string())));
    }
    let var = |name: &str| -> Result<Option<usize>, String> {
        match env(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
                format!("the environment variable {name}=\"{v}\" is not a whole number")
            }),
        }
    };
    if let Some(i) = var("JOB_COMPLETION_INDEX")? {
        let Some(count) = shards else {
            return Err(format!(
                "JOB_COMPLETION_INDEX={i} is set (a Kubernetes Indexed Job) but not the number of shards: pass --shards N with the Job's completions, or --shard 1/1 to run the whole sweep"
            ));
        };
        let shard = check(i + 1, count)
            .map_err(|e| format!("JOB_COMPLETION_INDEX={i} with --shards {count}: {e}"))?;
        return Ok(Some((shard, format!("JOB_COMPLETION_INDEX={i}"))));
    }
    if let Some(id) = var("SLURM_ARRAY_TASK_ID")? {
        if let Some(step) = var("SLURM_ARRAY_TASK_STEP")?.filter(|&s| s != 1) {
            return Err(format!(
                "SLURM_ARRAY_TASK_STEP={step}: an array job with a step other than 1 does not number shards 1..N; use --array=0-N-1 or --shard K/N"
            ));
        }
        let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let count = match (shards, var("SLURM_ARRAY_TASK_COUNT")?) {
            (Some(n), Some(c)) if n != c => {
                return Err(format!(
                    "--shards {n} disagrees with SLURM_ARRAY_TASK_COUNT={c}"
                ));
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => {
                return Err(format!(
                    "SLURM_ARRAY_TASK_ID={id} is set but not SLURM_ARRAY_TASK_COUNT: pass --shards N"
                ));
            }
        };
        let k = id.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
        })?;
        let shard = check(k + 1, count).map_err(|e| {
            format!("SLURM_ARRAY_TASK_ID={id} (minimum {min}) with {count} shards: {e}")
        })?;
        return Ok(Some((shard, format!("SLURM_ARRAY_TASK_ID={id}"))));
    }
    if let Some(n) = shards {
        return Err(format!(
            "--shards {n} needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the environment to pick a shard; pass --shard K/N to pick one by hand"
        ));
    }
    Ok(None)
}

/// Options whose value does not change what a sweep computes, only where or how fast
/// (`--out`, `--jobs`) or which slice of it runs (`--shard`, `--shards`): left out of the
/// sweep's arguments, so the shards of one sweep record the same ones.
const PER_SHARD_OPTIONS: [(&str, Option<&str>); 4] = [
    ("--out", Some("-o")),
    ("--jobs", Some("-j")),
    ("--shard", None),
    ("--shards", None),
];

/// `arguments` (after `schedlab run`) without [`PER_SHARD_OPTIONS`], in any of clap's
/// spellings (`--out DIR`, `--out=DIR`, `-o DIR`, `-oDIR`).
pub fn sweep_arguments(arguments: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut args = arguments.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            // Everything after `--` is a path, even if it looks like an option.
            kept.push(arg.clone());
            kept.extend(args.by_ref().cloned());
            break;
        }
        let mut dropped = false;
        for (long, short) in PER_SHARD_OPTIONS {
            if arg == long || Some(arg.as_str()) == short {
                // The value is the next argument.
                args.next();
                dropped = true;
            } else if arg.starts_with(&format!("{long}="))
                || short.is_some_and(|s| arg.len() > s.len() && arg.starts_with(s))
            {
                dropped = true;
            }
        }
        if !dropped {
            kept.push(arg.clone());
        }
    }
    kept
}

/// The `shard` record of a shard's `OUT/manifest.json`: which slice it is and of which
/// sweep, and, once it has finished, what became of each of its runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShardRecord {
    /// K, 1-based.
    pub index: usize,
    /// N.
    pub count: usize,
    /// What chose the shard: `--shard`, `JOB_COMPLETION_INDEX=3`, `SLURM_ARRAY_TASK_ID=7`.
    pub source: String,
    /// The sweep's arguments without the per-shard ones ([`sweep_arguments`]): with the
    /// manifest's version, commit, files, seeds and overrides, the sweep's identity.
    pub sweep_arguments: Vec<String>,
    /// The number of runs the whole sweep planned (every shard).
    pub planned_runs: usize,
    /// False while the shard runs and if it was interrupted: `merge` refuses it.
    pub complete: bool,
    /// This shard's runs in plan order (empty until complete).
    pub runs: Vec<ShardRun>,
}

/// One run of a shard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShardRun {
    /// 0-based position in the whole sweep's plan.
    pub index: usize,
    /// The run's folder, relative to the shard's output directory, `/`-separated.
    pub dir: String,
    /// How it ended.
    pub status: RunStatus,
}

/// How one run of a shard ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// It has a row in summary.csv and its folder.
    Ok,
    /// It finished (a row in summary.csv) but writing its folder failed.
    NoFolder,
    /// It failed: no row, no folder.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn shards_parse_and_bad_ones_are_named() {
        assert_eq!(parse_shard("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(parse_shard(" 1 / 1 "), Ok(Shard { index: 1, count: 1 }));
        assert!(parse_shard("0/3").unwrap_err().contains("K counts from 1"));
        assert!(
            parse_shard("4/3")
                .unwrap_err()
                .contains("shard 4 of 3 does not exist")
        );
        assert!(parse_shard("1/0").unwrap_err().contains("at least 1"));
        assert!(parse_shard("x/y").unwrap_err().contains("K \"x\""));
        assert!(parse_shard("3").unwrap_err().contains("expected K/N"));
        assert!(parse_count("0").is_err());
        assert_eq!(parse_count("8"), Ok(8));
    }

    #[test]
    fn runs_are_dealt_round_robin() {
        let owned = |index| -> Vec<usize> {
            (0..7)
                .filter(|&i| Shard { index, count: 3 }.owns(i))
                .collect()
        };
        assert_eq!(owned(1), [0, 3, 6]);
        assert_eq!(owned(2), [1, 4]);
        assert_eq!(owned(3), [2, 5]);
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_environment_picks_the_shard() {
        let s = |index, count| Shard { index, count };
        let none = env(&[]);
        assert_eq!(resolve(None, None, &none), Ok(None));
        assert_eq!(
            resolve(Some(s(2, 3)), None, &env(&[("JOB_COMPLETION_INDEX", "0")])),
            Ok(Some((s(2, 3), "--shard".into())))
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            resolve(None, Some(3), &k8s),
            Ok(Some((s(3, 3), "JOB_COMPLETION_INDEX=2".into())))
        );
        assert!(
            resolve(None, None, &k8s)
                .unwrap_err()
                .contains("--shards N")
        );
        assert!(
            resolve(None, Some(2), &k8s)
                .unwrap_err()
                .contains("does not exist")
        );
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "11"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            resolve(None, None, &slurm),
            Ok(Some((s(2, 4), "SLURM_ARRAY_TASK_ID=11".into())))
        );
        assert!(
            resolve(None, Some(5), &slurm)
                .unwrap_err()
                .contains("disagrees")
        );
        let stepped = env(&[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_STEP", "2")]);
        assert!(
            resolve(None, Some(4), &stepped)
                .unwrap_err()
                .contains("step")
        );
        assert!(resolve(None, Some(3), &none).unwrap_err().contains("needs"));
        let bad = env(&[("JOB_COMPLETION_INDEX", "x")]);
        assert!(resolve(None, Some(3), &bad).unwrap_err().contains("\"x\""));
        assert!(
            resolve(Some(s(1, 2)), Some(3), &none)
                .unwrap_err()
                .contains("disagree")
        );
    }

    #[test]
    fn per_shard_options_are_left_out_of_the_sweep_arguments() {
        let args: Vec<String> = [
            "a.yaml",
            "--out",
            "o1",
            "--seeds",
            "3",
            "-o",
            "o2",
            "-oo3",
            "--out=o4",
            "-j",
            "2",
            "-j2",
            "--jobs=2",
            "--shard",
            "1/3",
            "--shard=2/3",
            "--shards",
            "3",
            "--seed",
            "5",
            "--",
            "-o",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            sweep_arguments(&args),
            ["a.yaml", "--seeds", "3", "--seed", "5", "--", "-o"]
        );
    }
}
