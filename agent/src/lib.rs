//! schedlab's small real orchestrator: a control plane with a Kubernetes-shaped REST API
//! that schedules with the same `schedulers` crate as the simulator, and node agents that
//! run pods as real processes. Async I/O (tokio) stays inside this crate.
pub mod node;
