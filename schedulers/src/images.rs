//! Container images: the images each node holds (`status.images`), what they weigh, and
//! how many nodes hold each, for ImageLocality's score and the kubelet's pull delay.
//!
//! Follows kube-scheduler v1.35: the scheduler's snapshot keeps, for every image name a
//! node lists, its size and the number of nodes listing it (`ImageStateSummary`), and a
//! pod's images are matched by their normalized name ([`normalized_image_name`]: a name
//! without a tag gets `:latest`). Each name of a node image is an entry of its own, as
//! upstream keys the summary by name.
//!
//! Simplified, stated: a node's image list changes the moment a pull finishes (the kubelet
//! reports it at its next status update, every 10 s by default), and images are never
//! garbage-collected from a node.

use std::collections::HashMap;

use crate::node::NodeId;

/// An image a node holds (a `status.images[]` entry): every name it goes by and its size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeImage {
    /// Its names (`nginx:1.25`, `docker.io/library/nginx:1.25`, a digest ...).
    pub names: Vec<String>,
    /// Its size in bytes (`sizeBytes`).
    pub size_bytes: i64,
}

/// An image name as the container runtime reports it: with a tag (`:latest` added when the
/// name has none) or a digest, as kube-scheduler's `normalizedImageName`.
pub fn normalized_image_name(name: &str) -> String {
    // A colon before the last slash is a registry's port, not a tag.
    let tagged = match (name.rfind(':'), name.rfind('/')) {
        (Some(colon), Some(slash)) => colon > slash,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if tagged {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

/// Interned image names and which nodes hold each: the cluster's side of image locality.
#[derive(Debug, Clone, Default)]
pub struct ImageBooks {
    /// Image name to its id.
    ids: HashMap<String, u32>,
    /// `sizes[id]`: the image's size in bytes (the largest any node reported).
    sizes: Vec<i64>,
    /// `holders[id]`: nodes in the cluster that hold it.
    holders: Vec<u32>,
    /// `on_node[n]`: the ids of the images node `n` holds, sorted.
    on_node: Vec<Vec<u32>>,
}

impl ImageBooks {
    /// The id of an image name some node holds or held.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// An image's size in bytes and the number of nodes in the cluster holding it.
    pub fn state(&self, id: u32) -> (i64, u32) {
        (self.sizes[id as usize], self.holders[id as usize])
    }

    /// Whether node `node` holds image `id`.
    pub fn on_node(&self, node: NodeId, id: u32) -> bool {
        self.on_node
            .get(node.index())
            .is_some_and(|held| held.binary_search(&id).is_ok())
    }

    /// Whether node `node` holds the image named `name`.
    pub fn holds(&self, node: NodeId, name: &str) -> bool {
        self.id(name).is_some_and(|id| self.on_node(node, id))
    }

    /// No node has reported any image, so image locality has nothing to score.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Records a new node `node` holding `images`.
    pub(crate) fn push_node(&mut self, node: NodeId, images: &[NodeImage]) {
        debug_assert_eq!(node.index(), self.on_node.len());
        self.on_node.push(Vec::new());
        for image in images {
            self.add(node, image);
        }
    }

    /// Records that `node` now holds `image` (a finished pull); returns whether anything
    /// changed.
    pub(crate) fn add(&mut self, node: NodeId, image: &NodeImage) -> bool {
        let mut changed = false;
        for name in &image.names {
            let id = match self.ids.get(name) {
                Some(&id) => id,
                None => {
                    let id = self.sizes.len() as u32;
                    self.ids.insert(name.clone(), id);
                    self.sizes.push(0);
                    self.holders.push(0);
                    id
                }
            };
            let size = &mut self.sizes[id as usize];
            *size = (*size).max(image.size_bytes);
            let held = &mut self.on_node[node.index()];
            if let Err(at) = held.binary_search(&id) {
                held.insert(at, id);
                self.holders[id as usize] += 1;
                changed = true;
            }
        }
        changed
    }

    /// Node `node` left the cluster: its images no longer count.
    pub(crate) fn remove_node(&mut self, node: NodeId) {
        if let Some(held) = self.on_node.get_mut(node.index()) {
            for id in held.drain(..) {
                self.holders[id as usize] -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream's `TestNormalizedImageName` cases.
    #[test]
    fn names_without_a_tag_get_latest() {
        let digest = "root@sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2";
        for (input, output) in [
            ("root", "root:latest"),
            ("gcr.io:5000/root", "gcr.io:5000/root:latest"),
            ("root:tag", "root:tag"),
            (digest, digest),
        ] {
            assert_eq!(normalized_image_name(input), output, "{input}");
        }
    }

    #[test]
    fn holders_count_nodes_and_leave_with_them() {
        let mut books = ImageBooks::default();
        let img = |names: &[&str], size| NodeImage {
            names: names.iter().map(|n| n.to_string()).collect(),
            size_bytes: size,
        };
        books.push_node(NodeId(0), &[img(&["a:1", "a:latest"], 10)]);
        books.push_node(NodeId(1), &[img(&["a:1"], 10)]);
        let a1 = books.id("a:1").unwrap();
        assert_eq!(books.state(a1), (10, 2));
        assert_eq!(books.state(books.id("a:latest").unwrap()), (10, 1));
        assert!(books.on_node(NodeId(1), a1));
        assert!(!books.on_node(NodeId(1), books.id("a:latest").unwrap()));
        assert!(!books.add(NodeId(1), &img(&["a:1"], 10)), "already held");
        books.remove_node(NodeId(0));
        assert_eq!(books.state(a1), (10, 1));
        assert!(!books.on_node(NodeId(0), a1));
    }
}
