//! The node agent: registers a node with the control plane, runs the pods bound to it as
//! real processes ([`runtime`]) and reports their status ([`agent`]).

pub mod cgroups;
pub mod logs;
pub mod runtime;
