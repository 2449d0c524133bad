//! Container images a scenario knows the size of (`images:`), and how fast a node pulls
//! them: what ImageLocality weighs and what a pod waits for before it starts on a node
//! that lacks its images.
//!
//! The kubelet pulls one image at a time per node (its default `serializeImagePulls:
//! true`), at the node's `pullBandwidth`; an image being pulled for one pod is not pulled
//! again for the next (the runtime shares it). Simplified, stated: an image's size is
//! what it costs to pull (compressed and unpacked sizes are one figure), a pull never
//! fails, and nodes never garbage-collect images.

use std::collections::BTreeMap;

use schedulers::images::NodeImage;

use crate::time::SimTime;

/// The scenario's images: their sizes and the nodes' pull bandwidth.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageCatalog {
    /// Normalized image name to its size in bytes (`images.sizes`).
    pub sizes: BTreeMap<String, i64>,
    /// Bytes per second one node pulls (`images.pullBandwidth`); `None`: pulls take no
    /// time, only the scenario's `startLatency`.
    pub pull_bandwidth: Option<u64>,
}

impl ImageCatalog {
    /// The image `name` as a node holding it lists it (size 0 when the catalog lacks it).
    pub fn node_image(&self, name: &str) -> NodeImage {
        NodeImage {
            names: vec![name.to_owned()],
            size_bytes: self.sizes.get(name).copied().unwrap_or(0),
        }
    }

    /// How long pulling `bytes` takes.
    pub fn pull_time(&self, bytes: i64) -> SimTime {
        match self.pull_bandwidth {
            Some(bw) if bw > 0 && bytes > 0 => SimTime::from_secs_f64(bytes as f64 / bw as f64),
            _ => SimTime::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_time_is_size_over_bandwidth() {
        let mut c = ImageCatalog::default();
        c.sizes.insert("app:v1".into(), 100 << 20);
        assert_eq!(
            c.pull_time(100 << 20),
            SimTime::ZERO,
            "no bandwidth: instant"
        );
        c.pull_bandwidth = Some(50 << 20);
        assert_eq!(c.pull_time(100 << 20), SimTime::from_secs(2));
        assert_eq!(c.node_image("app:v1").size_bytes, 100 << 20);
        assert_eq!(c.node_image("other:latest").size_bytes, 0);
    }
}
