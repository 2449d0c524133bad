//! The resources the API serves, one row each: what discovery lists and what the router
//! resolves a path against.

/// One served resource.
#[derive(Debug)]
pub struct Resource {
    /// Plural name in paths: `pods`.
    pub plural: &'static str,
    /// Singular name: `pod`.
    pub singular: &'static str,
    /// `kind`: `Pod`.
    pub kind: &'static str,
    /// API group, empty for the core group.
    pub group: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl's abbreviations.
    pub short_names: &'static [&'static str],
    /// Subresources served besides the object itself.
    pub subresources: &'static [&'static str],
}

impl Resource {
    /// `v1` or `apps/v1`, as objects' `apiVersion` and discovery spell it.
    pub fn api_version(&self) -> &'static str {
        match self.group {
            "" => "v1",
            "apps" => "apps/v1",
            "batch" => "batch/v1",
            "coordination.k8s.io" => "coordination.k8s.io/v1",
            _ => "v1",
        }
    }
}

/// Every resource the server knows, in discovery order.
pub const RESOURCES: &[Resource] = &[
    Resource {
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        group: "",
        namespaced: false,
        short_names: &["ns"],
        subresources: &[],
    },
    Resource {
        plural: "nodes",
        singular: "node",
        kind: "Node",
        group: "",
        namespaced: false,
        short_names: &["no"],
        subresources: &["status"],
    },
    Resource {
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        group: "",
        namespaced: true,
        short_names: &["po"],
        subresources: &["status", "binding", "log"],
    },
    Resource {
        plural: "events",
        singular: "event",
        kind: "Event",
        group: "",
        namespaced: true,
        short_names: &["ev"],
        subresources: &[],
    },
    Resource {
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        group: "apps",
        namespaced: true,
        short_names: &["deploy"],
        subresources: &["status"],
    },
    Resource {
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        group: "apps",
        namespaced: true,
        short_names: &["rs"],
        subresources: &["status"],
    },
    Resource {
        plural: "jobs",
        singular: "job",
        kind: "Job",
        group: "batch",
        namespaced: true,
        short_names: &[],
        subresources: &["status"],
    },
];

/// The API groups besides the core one, in discovery order.
pub const GROUPS: &[&str] = &["apps", "batch"];

/// The resource served under `group` with plural name `plural`.
pub fn find(group: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

/// The resource of an object's `kind`.
pub fn by_kind(kind: &str) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.kind == kind)
}
