//! The node agent: registers a node with the control plane ([`agent`]), runs the pods
//! bound to it as real processes ([`runtime`]) and reports their status.

pub mod agent;
pub mod cgroups;
pub mod kubeconfig;
pub mod logs;
pub mod runtime;
