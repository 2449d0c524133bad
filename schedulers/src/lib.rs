//! The cluster model a scheduler sees, the [`Scheduler`] trait, and schedlab's built-in
//! scheduling algorithms.
//!
//! This crate knows nothing about time or the event loop: the simulator (`sim`) and the
//! real node agent both drive the same schedulers through the same trait.
//!
//! - [`ClusterState`] holds [`Node`]s and [`Pod`]s with the per-node bookkeeping of
//!   requested resources ([`Resources`], integer millicores and bytes).
//! - [`Scheduler::schedule`] receives a [`Cycle`]: the cluster, the pending pods in queue
//!   order, and the means to bind them or declare them unschedulable with a [`Diagnosis`].
//! - [`Registry`] is the one factory of schedulers: a [`SchedulerSpec`] (a name such as
//!   `first-fit`, with validated arguments such as `tetris:cpuWeight=2`) in, a fresh
//!   `Box<dyn Scheduler>` out; see [`spec`] for the syntax and the arguments' types.
//! - With the `yaml` feature, `yaml` reads Kubernetes-style YAML (located types, one error
//!   type, one locator) and `framework::config` a `KubeSchedulerConfiguration`, so that a
//!   control plane can read one without the simulator.
//!
//! ```
//! use std::sync::Arc;
//! use schedulers::*;
//! use rand::SeedableRng;
//!
//! let mut cluster = ClusterState::default();
//! let mut alloc = Resources::cpu_mem(4000, 16 << 30);
//! alloc.set(ResourceKind::PODS, 110);
//! for name in ["a", "b"] {
//!     cluster.add_node(NodeSpec { name: name.into(), allocatable: alloc, ..Default::default() });
//! }
//! let mut c = ContainerResources::default();
//! c.set_request(ResourceKind::CPU, 3000);
//! let template = Arc::new(PodTemplate { name: "web".into(), containers: vec![c], ..Default::default() });
//! let pods: Vec<PodId> = (0..2).map(|i| cluster.add_pod(Pod::from_template(template.clone(), i))).collect();
//!
//! let mut scheduler = Registry::builtin().create("first-fit").unwrap();
//! let mut rng = SchedulerRng::seed_from_u64(1);
//! let mut decisions = Vec::new();
//! scheduler.schedule(&mut Cycle::new(&mut cluster, &pods, &mut rng, &mut decisions));
//! assert_eq!(decisions, vec![
//!     Decision::Bound { pod: pods[0], node: NodeId(0) },
//!     Decision::Bound { pod: pods[1], node: NodeId(1) },
//! ]);
//! ```
#![deny(missing_docs)]

pub mod algorithms;
pub mod cluster;
pub mod exec;
pub mod field_path;
pub mod filters;
pub mod fit_index;
pub mod framework;
pub mod gang;
pub mod gpu;
pub mod images;
pub mod labels;
pub mod namespaces;
pub mod node;
pub mod pdb;
pub mod pod;
pub mod pod_affinity;
pub mod quantity;
pub mod rank_set;
pub mod reason;
pub mod registry;
pub mod resources;
pub mod scheduler;
pub mod score_tree;
pub mod shape_cache;
pub mod spec;
pub mod spelling;
pub mod suggest;
pub mod taints;
pub mod volumes;
#[cfg(feature = "yaml")]
pub mod yaml;

pub use cluster::{BindError, ChangeCursor, ClusterState, NodeError};
pub use gang::{GangScheduler, PodGroupSpec};
pub use labels::{
    Labels, NodeAffinity, NodeSelectorTerm, PreferredTerm, SelectorOperator, SelectorRequirement,
};
pub use namespaces::{NamespaceId, Namespaces};
pub use node::{Node, NodeId, NodeSpec};
pub use pdb::{
    Budget, EvictionBlocked, IntOrPercent, PodDisruptionBudget, eviction_allowed,
    eviction_allowed_with,
};
pub use pod::{
    ContainerResources, HostPort, OwnerKind, Pod, PodId, PodPhase, PodTemplate, PreemptionPolicy,
    Protocol, QosClass,
};
pub use pod_affinity::{
    InclusionPolicy, LabelSelector, PodAffinity, PodAffinityTerm, TopologySpreadConstraint,
    WeightedPodAffinityTerm, WhenUnsatisfiable,
};
pub use reason::Reason;
pub use registry::{BuildContext, Registry, UnknownScheduler};
pub use resources::{ResourceKind, ResourceNames, Resources};
pub use scheduler::{Cycle, Decision, Diagnosis, Placement, Scheduler, SchedulerRng};
pub use spec::{ArgError, ArgValue, Args, Param, SchedulerSpec, SpecError};
pub use taints::{Taint, TaintEffect, Toleration, TolerationOperator};
