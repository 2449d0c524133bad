//! The control plane's API server: Kubernetes' REST paths and objects over HTTP.

pub mod audit;
pub mod auth;
pub mod discovery;
pub mod meta;
pub mod metrics;
pub mod resources;
pub mod server;
pub mod status;
pub mod store;
pub mod tables;
