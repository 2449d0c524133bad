//! schedlab's small real orchestrator: a control plane with a Kubernetes-shaped REST API
//! that schedules with the same `schedulers` crate as the simulator, and node agents that
//! run pods as real processes. Async I/O (tokio) stays inside this crate.

pub mod api;
pub mod client;
pub mod control_plane;
pub mod controllers;
pub mod loops;
pub mod node;
pub mod objects;
pub mod scheduling;
pub mod tls;
