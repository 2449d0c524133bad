//! The one factory of schedulers: a [`SchedulerSpec`] (a name and arguments) in, a fresh
//! `Box<dyn Scheduler>` out.
//!
//! A [`Registry`] knows, by name: the built-in algorithms with the parameters each
//! declares ([`Registry::builtin`]), algorithms registered by a user of this crate
//! ([`Registry::register`], [`Registry::register_with_args`]), kube-scheduler profiles of a
//! `KubeSchedulerConfiguration` ([`Registry::register_profile`]), and external programs
//! (`exec:PATH`). [`Registry::build`] also looks among the profiles a scenario brings with
//! it, which the host hands over in a [`BuildContext`] with what else it knows when the run
//! starts (the GPU workload a trace replay expects, for `fgd`). Hosts (the `schedlab`
//! command line, the examples crate, a future control plane) build every scheduler here,
//! so a name and its arguments mean the same everywhere.
//!
//! Arguments are validated once, in [`Registry::check`] or [`Registry::build`], against
//! the algorithm's [`Param`]s; the errors name the scheduler and the argument (see
//! [`crate::spec`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::algorithms::artifact::{self, ArtifactPolicy};
use crate::algorithms::{
    ArtifactRandom, BestFit, Drf, Fgd, FirstFit, Flow, LeastAllocated, MostAllocated, RandomFit,
    RoundRobin, Tetris, WorstFit,
};
use crate::cluster::GpuTask;
use crate::exec::{self, ExecScheduler};
use crate::framework::plugin_registry::ResolvedProfile;
use crate::framework::{FrameworkScheduler, Profile};
use crate::scheduler::Scheduler;
use crate::spec::{Args, Param, SchedulerSpec, SpecError};
use crate::suggest::closest;

/// Builds a fresh scheduler instance of an algorithm without parameters; every run gets
/// its own.
pub type Factory = Box<dyn Fn() -> Box<dyn Scheduler> + Send + Sync>;

/// Builds a fresh scheduler instance from validated arguments and what the host knows.
pub type ArgsFactory = Box<dyn Fn(&Args, &BuildContext<'_>) -> Box<dyn Scheduler> + Send + Sync>;

/// What the host knows when it builds a scheduler for a run, beyond its arguments.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildContext<'a> {
    /// The profiles of the scenario's own `schedulerConfig`, by name: looked up before the
    /// registry's names, as a scenario's own configuration should be.
    pub profiles: &'a [(String, ResolvedProfile)],
    /// The GPU workload the run expects, as task kinds with counts (a trace replay's whole
    /// trace); empty when the host knows none. `fgd`'s `workload=scenario` measures
    /// fragmentation against it.
    pub gpu_workload: &'a [(GpuTask, u64)],
}

/// One registered algorithm.
pub struct Entry {
    /// One line saying what it does.
    pub summary: &'static str,
    /// The parameters it takes, in declaration order (empty: it refuses any argument).
    pub params: Vec<Param>,
    factory: ArgsFactory,
}

/// Schedulers by name, iterated in name order, and the factory that builds them.
pub struct Registry {
    entries: BTreeMap<String, Entry>,
    /// How long an `exec:` program may take to answer one message.
    exec_timeout: Duration,
}

impl Default for Registry {
    /// No scheduler yet; `exec:` programs get [`exec::DEFAULT_TIMEOUT`].
    fn default() -> Registry {
        Registry {
            entries: BTreeMap::new(),
            exec_timeout: exec::DEFAULT_TIMEOUT,
        }
    }
}

/// A scheduler name that nothing is registered under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScheduler {
    /// The name asked for.
    pub name: String,
    /// Every registered name.
    pub known: Vec<String>,
}

impl fmt::Display for UnknownScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown scheduler {:?}", self.name)?;
        let known: Vec<&str> = self.known.iter().map(String::as_str).collect();
        if let Some(near) = closest(&self.name, &known) {
            write!(f, "; did you mean {near:?}?")?;
        }
        if let Some((name, _)) = self.name.split_once('(') {
            // `tetris(cpuWeight=2)`, the other common way of writing arguments.
            write!(
                f,
                "; arguments go after a colon: {}:ARG=VALUE,...",
                name.trim()
            )?;
        }
        write!(f, " (known: {})", self.known.join(", "))
    }
}

impl std::error::Error for UnknownScheduler {}

/// A second registration under a name already taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a scheduler named \"{0}\" is already registered")]
pub struct DuplicateScheduler(pub String);

/// What a spec names, once resolved.
enum Target<'a> {
    Entry(&'a Entry),
    Profile(&'a ResolvedProfile),
    Exec(&'a Path),
}

impl Registry {
    /// Every built-in algorithm, with its parameters.
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        let plain: Vec<(&str, &'static str, Factory)> = vec![
            (
                "kube-default",
                "kube-scheduler's default profile: filter, score, normalize, weight (see framework)",
                Box::new(|| Box::new(FrameworkScheduler::new(Profile::kube_default()))),
            ),
            (
                Drf::NAME,
                "Dominant Resource Fairness across namespaces (weighted), first-fit placement",
                Box::new(|| Box::new(Drf::default())),
            ),
            (
                FirstFit::NAME,
                "the first node in node order that passes the filters",
                Box::new(|| Box::new(FirstFit::default())),
            ),
            (
                LeastAllocated::NAME,
                "kube-scheduler's LeastAllocated score on CPU and memory: spreads load",
                Box::new(|| Box::new(LeastAllocated::default())),
            ),
            (
                RandomFit::NAME,
                "a node drawn uniformly from those that pass the filters",
                Box::new(|| Box::new(RandomFit::default())),
            ),
            (
                BestFit::NAME,
                "the node with the least left of the pod's dominant resource: packs",
                Box::new(|| Box::new(BestFit::default())),
            ),
            (
                MostAllocated::NAME,
                "kube-scheduler's MostAllocated score on CPU and memory: packs",
                Box::new(|| Box::new(MostAllocated::default())),
            ),
            (
                WorstFit::NAME,
                "the node with the most left of the pod's dominant resource: spreads",
                Box::new(|| Box::new(WorstFit::default())),
            ),
            (
                RoundRobin::NAME,
                "the next feasible node after the last one chosen, cyclically",
                Box::new(|| Box::new(RoundRobin::default())),
            ),
        ];
        for (name, summary, factory) in plain {
            r.register(name, summary, factory)
                .expect("built-in names are distinct");
        }
        let with_args: Vec<(&str, &'static str, &[Param], ArgsFactory)> = vec![
            (
                Fgd::NAME,
                "fragmentation gradient descent for shared GPUs (Weng et al., ATC 2023)",
                Fgd::PARAMS,
                Box::new(|args, ctx| Box::new(Fgd::from_args(args, ctx.gpu_workload))),
            ),
            (
                Flow::NAME,
                "Firmament-style batch placement of the whole queue by min-cost max-flow",
                Flow::PARAMS,
                Box::new(|args, _| Box::new(Flow::from_args(args))),
            ),
            (
                Tetris::NAME,
                "Tetris (SIGCOMM 2014): best alignment of pod demand and node free resources",
                Tetris::PARAMS,
                Box::new(|args, _| Box::new(Tetris::from_args(args))),
            ),
            (
                ArtifactRandom::NAME,
                ArtifactRandom::SUMMARY,
                ArtifactRandom::PARAMS,
                Box::new(|args, _| Box::new(ArtifactRandom::from_args(args))),
            ),
            artifact_entry::<artifact::DotProductScore>(),
            artifact_entry::<artifact::GpuClusteringScore>(),
            artifact_entry::<artifact::GpuPackingScore>(),
            artifact_entry::<artifact::BestFitScore>(),
        ];
        for (name, summary, params, factory) in with_args {
            r.register_with_args(name, summary, params, factory)
                .expect("built-in names are distinct");
        }
        r
    }

    /// Adds an algorithm without parameters (it refuses any argument); refuses a name
    /// already taken.
    pub fn register(
        &mut self,
        name: &str,
        summary: &'static str,
        factory: Factory,
    ) -> Result<(), DuplicateScheduler> {
        self.register_with_args(name, summary, &[], Box::new(move |_, _| factory()))
    }

    /// Adds an algorithm that takes the arguments `params` declares; `factory` gets them
    /// validated, with every default filled in. Refuses a name already taken.
    pub fn register_with_args(
        &mut self,
        name: &str,
        summary: &'static str,
        params: &[Param],
        factory: ArgsFactory,
    ) -> Result<(), DuplicateScheduler> {
        if self.entries.contains_key(name) {
            return Err(DuplicateScheduler(name.to_string()));
        }
        let entry = Entry {
            summary,
            params: params.to_vec(),
            factory,
        };
        self.entries.insert(name.to_string(), entry);
        Ok(())
    }

    /// Adds a kube-scheduler profile (of a `--scheduler-config` file) under `name`; each
    /// run gets a fresh [`FrameworkScheduler`] of it. Refuses a name already taken.
    pub fn register_profile(
        &mut self,
        name: &str,
        summary: &'static str,
        profile: ResolvedProfile,
    ) -> Result<(), DuplicateScheduler> {
        let factory =
            move || -> Box<dyn Scheduler> { Box::new(FrameworkScheduler::new(profile.build())) };
        self.register(name, summary, Box::new(factory))
    }

    /// Sets how long `exec:` programs built from now on may take to answer one message.
    pub fn set_exec_timeout(&mut self, timeout: Duration) {
        self.exec_timeout = timeout;
    }

    /// True when `name` is registered (not counting `exec:` programs, which need no
    /// registration, nor a scenario's own profiles).
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Names and summaries, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.entries.iter().map(|(n, e)| (n.as_str(), e.summary))
    }

    /// The parameters of the algorithm registered as `name`.
    pub fn params(&self, name: &str) -> Option<&[Param]> {
        self.entries.get(name).map(|e| e.params.as_slice())
    }

    /// Checks `spec` without building anything: its name is one of `profiles` (a
    /// scenario's own), a registered one or `exec:PATH` with a program that can be run,
    /// and its arguments are valid. Returns the run's label (see [`crate::spec`]). The
    /// scenario loader checks each `schedulers:` entry with it.
    pub fn check(
        &self,
        spec: &SchedulerSpec,
        profiles: &[(String, ResolvedProfile)],
    ) -> Result<String, SpecError> {
        let (_, args) = self.resolve(spec, profiles)?;
        Ok(args.label(&spec.name))
    }

    /// A fresh scheduler for `spec`, for one run: a profile of `ctx.profiles` if one has
    /// the name, else the registered algorithm with the validated arguments, else the
    /// `exec:PATH` program.
    pub fn build(
        &self,
        spec: &SchedulerSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Box<dyn Scheduler>, SpecError> {
        let (target, args) = self.resolve(spec, ctx.profiles)?;
        Ok(match target {
            Target::Entry(entry) => (entry.factory)(&args, ctx),
            Target::Profile(profile) => Box::new(FrameworkScheduler::new(profile.build())),
            Target::Exec(program) => Box::new(ExecScheduler::new(
                spec.name.clone(),
                program,
                self.exec_timeout,
            )),
        })
    }

    /// A fresh instance of the algorithm registered as `name`, with its default arguments
    /// and an empty [`BuildContext`].
    pub fn create(&self, name: &str) -> Result<Box<dyn Scheduler>, UnknownScheduler> {
        match self.entries.get(name) {
            Some(e) => Ok((e.factory)(
                &Args::defaults(&e.params),
                &BuildContext::default(),
            )),
            None => Err(self.unknown(name, &[])),
        }
    }

    /// What `spec` names and its validated arguments.
    fn resolve<'a>(
        &'a self,
        spec: &'a SchedulerSpec,
        profiles: &'a [(String, ResolvedProfile)],
    ) -> Result<(Target<'a>, Args), SpecError> {
        let name = spec.name.as_str();
        let (target, params) = if let Some((_, p)) = profiles.iter().find(|(n, _)| n == name) {
            (Target::Profile(p), &[][..])
        } else if let Some(entry) = self.entries.get(name) {
            (Target::Entry(entry), entry.params.as_slice())
        } else if let Some(path) = name.strip_prefix(exec::PREFIX) {
            let program = Path::new(path);
            exec::check_program(program).map_err(|message| SpecError::Program {
                name: name.to_string(),
                message,
            })?;
            (Target::Exec(program), &[][..])
        } else {
            return Err(self.unknown(name, profiles).into());
        };
        let args = Args::validate(name, params, &spec.args)?;
        Ok((target, args))
    }

    /// The error for `name`, listing the registered names and `profiles`' in name order.
    fn unknown(&self, name: &str, profiles: &[(String, ResolvedProfile)]) -> UnknownScheduler {
        let mut known: Vec<String> = self.entries.keys().cloned().collect();
        known.extend(profiles.iter().map(|(n, _)| n.clone()));
        known.sort();
        known.dedup();
        UnknownScheduler {
            name: name.to_string(),
            known,
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

/// The registry entry of one of the FGD artifact's score policies
/// ([`crate::algorithms::artifact`]).
fn artifact_entry<P: ArtifactPolicy>() -> (&'static str, &'static str, &'static [Param], ArgsFactory)
{
    (
        P::NAME,
        P::SUMMARY,
        artifact::PARAMS,
        Box::new(|args, _| Box::new(artifact::Artifact::<P>::from_args(args))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ArgErrorKind, ArgValue};

    fn spec(text: &str) -> SchedulerSpec {
        SchedulerSpec::parse(text).unwrap()
    }

    #[test]
    fn builtins_declare_their_parameters_and_the_rest_take_none() {
        let r = Registry::builtin();
        let params =
            |name| -> Vec<&str> { r.params(name).unwrap().iter().map(|p| p.name).collect() };
        assert_eq!(
            params("tetris"),
            ["cpuWeight", "memoryWeight", "gpuWeight", "otherWeight"]
        );
        assert_eq!(params("flow"), ["placementWeight", "waitWeight", "maxWait"]);
        assert_eq!(
            params("fgd"),
            [
                "workload",
                "popularityThreshold",
                "kindsStep",
                "score",
                "nodeOrder"
            ]
        );
        for name in [
            "artifact-dotprod",
            "artifact-gpu-clustering",
            "artifact-gpu-packing",
            "artifact-best-fit",
            "artifact-random",
        ] {
            assert_eq!(params(name), ["nodeOrder"], "{name}");
        }
        for (name, _) in r.iter() {
            let p = r.params(name).unwrap();
            if !["tetris", "flow", "fgd"].contains(&name) && !name.starts_with("artifact-") {
                assert!(p.is_empty(), "{name}");
            }
            // Defaults are valid values, and the bare name labels the default spec.
            for param in p {
                assert!(!param.doc.is_empty(), "{name}.{}", param.name);
                let mut one = SchedulerSpec::named(name);
                one.args
                    .insert(param.name.into(), ArgValue::Text(param.default.to_string()));
                assert_eq!(
                    r.check(&one, &[]).as_deref(),
                    Ok(name),
                    "{name}.{}",
                    param.name
                );
            }
        }
    }

    #[test]
    fn check_labels_and_refuses_with_the_argument_named() {
        let r = Registry::builtin();
        assert_eq!(r.check(&spec("first-fit"), &[]).unwrap(), "first-fit");
        assert_eq!(
            r.check(&spec("tetris:memoryWeight=2,cpuWeight=0.5"), &[])
                .unwrap(),
            "tetris:cpuWeight=0.5,memoryWeight=2"
        );
        let SpecError::Argument(e) = r.check(&spec("first-fit:x=1"), &[]).unwrap_err() else {
            panic!("not an argument error");
        };
        assert_eq!(
            (e.scheduler.as_str(), e.argument.as_str()),
            ("first-fit", "x")
        );
        let SpecError::Argument(e) = r.check(&spec("flow:maxwait=10"), &[]).unwrap_err() else {
            panic!("not an argument error");
        };
        assert!(
            matches!(
                e.kind,
                ArgErrorKind::Unknown {
                    suggestion: Some("maxWait"),
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            matches!(r.build(&spec("fgd:workload=trace"), &BuildContext::default()),
                Err(SpecError::Argument(ref e)) if e.argument == "workload")
        );
    }

    #[test]
    fn unknown_names_suggest_and_explain_the_syntax() {
        let r = Registry::builtin();
        let e = r.check(&spec("tetirs"), &[]).unwrap_err().to_string();
        assert!(
            e.starts_with(r#"unknown scheduler "tetirs"; did you mean "tetris"? (known: "#),
            "{e}"
        );
        let e = r
            .check(&spec("tetris(cpuWeight=2)"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("arguments go after a colon: tetris:ARG=VALUE,..."),
            "{e}"
        );
        let e = r.check(&spec("exec:/no/such/program"), &[]).unwrap_err();
        assert!(matches!(e, SpecError::Program { .. }), "{e}");
    }

    #[test]
    fn registered_extras_and_profiles_build_and_refuse_arguments() {
        let mut r = Registry::builtin();
        r.register(
            "mine",
            "one of mine",
            Box::new(|| Box::new(FirstFit::default())),
        )
        .unwrap();
        assert_eq!(
            r.register("mine", "again", Box::new(|| Box::new(FirstFit::default()))),
            Err(DuplicateScheduler("mine".into()))
        );
        let ctx = BuildContext::default();
        assert_eq!(r.build(&spec("mine"), &ctx).unwrap().name(), "first-fit");
        assert!(r.build(&spec("mine:a=1"), &ctx).is_err());
    }
}
