//! Resource vectors: every resource a pod can request or a node can offer, as integers.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::Arc;

/// How many resource kinds a [`Resources`] vector holds: four built-in kinds and
/// [`MAX_EXTENDED`] extended ones (such as `nvidia.com/gpu`).
pub const NUM_RESOURCES: usize = 8;
/// How many distinct extended resource names one cluster may use.
pub const MAX_EXTENDED: usize = NUM_RESOURCES - FIRST_EXTENDED;
/// Index of the first extended-resource slot in a [`Resources`] vector.
pub const FIRST_EXTENDED: usize = 4;

/// Index of a resource kind inside a [`Resources`] vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKind(pub u8);

impl ResourceKind {
    /// CPU in millicores.
    pub const CPU: ResourceKind = ResourceKind(0);
    /// Memory in bytes.
    pub const MEMORY: ResourceKind = ResourceKind(1);
    /// Ephemeral storage in bytes.
    pub const EPHEMERAL_STORAGE: ResourceKind = ResourceKind(2);
    /// Pod slots: every pod requests one, a node offers `pods` (110 by default).
    pub const PODS: ResourceKind = ResourceKind(3);

    /// The slot of this kind in a [`Resources`] vector.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A vector of resource amounts: CPU millicores, bytes of memory and ephemeral storage,
/// pod slots and extended resources, indexed by [`ResourceKind`].
///
/// A fixed-size array rather than a map, so that fit checks and bookkeeping are a few
/// vector instructions and never allocate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Resources(pub [i64; NUM_RESOURCES]);

impl Resources {
    /// No resources at all.
    pub const ZERO: Resources = Resources([0; NUM_RESOURCES]);

    /// CPU (millicores) and memory (bytes) only.
    pub const fn cpu_mem(cpu_millis: i64, memory_bytes: i64) -> Resources {
        let mut v = [0; NUM_RESOURCES];
        v[0] = cpu_millis;
        v[1] = memory_bytes;
        Resources(v)
    }

    /// The amount of one kind.
    #[inline]
    pub fn get(&self, kind: ResourceKind) -> i64 {
        self.0[kind.index()]
    }

    /// Sets the amount of one kind.
    #[inline]
    pub fn set(&mut self, kind: ResourceKind, amount: i64) {
        self.0[kind.index()] = amount;
    }

    /// CPU in millicores.
    #[inline]
    pub fn cpu(&self) -> i64 {
        self.0[0]
    }

    /// Memory in bytes.
    #[inline]
    pub fn memory(&self) -> i64 {
        self.0[1]
    }

    /// Pod slots.
    #[inline]
    pub fn pods(&self) -> i64 {
        self.0[3]
    }

    /// True when `self` fits into `free` in every kind.
    ///
    /// Kinds the pod does not ask for pass even when `free` is negative there, as in
    /// kube-scheduler, which only checks the resources a pod requests.
    #[inline]
    pub fn fits_in(&self, free: &Resources) -> bool {
        let mut ok = true;
        for i in 0..NUM_RESOURCES {
            ok &= self.0[i] == 0 || self.0[i] <= free.0[i];
        }
        ok
    }

    /// Element-wise maximum, as Kubernetes combines init containers with the app containers.
    pub fn max(&self, other: &Resources) -> Resources {
        let mut out = *self;
        for i in 0..NUM_RESOURCES {
            out.0[i] = out.0[i].max(other.0[i]);
        }
        out
    }

    /// True when every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&v| v == 0)
    }
}

impl Add for Resources {
    type Output = Resources;
    #[inline]
    fn add(mut self, rhs: Resources) -> Resources {
        self += rhs;
        self
    }
}

impl AddAssign for Resources {
    #[inline]
    fn add_assign(&mut self, rhs: Resources) {
        for i in 0..NUM_RESOURCES {
            self.0[i] += rhs.0[i];
        }
    }
}

impl Sub for Resources {
    type Output = Resources;
    #[inline]
    fn sub(mut self, rhs: Resources) -> Resources {
        self -= rhs;
        self
    }
}

impl SubAssign for Resources {
    #[inline]
    fn sub_assign(&mut self, rhs: Resources) {
        for i in 0..NUM_RESOURCES {
            self.0[i] -= rhs.0[i];
        }
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{cpu: {}m, memory: {}", self.0[0], self.0[1])?;
        if self.0[2] != 0 {
            write!(f, ", ephemeral-storage: {}", self.0[2])?;
        }
        write!(f, ", pods: {}", self.0[3])?;
        for (i, v) in self.0[FIRST_EXTENDED..].iter().enumerate() {
            if *v != 0 {
                write!(f, ", ext{i}: {v}")?;
            }
        }
        f.write_str("}")
    }
}

/// The names of the resource kinds one cluster uses, mapping extended resource names
/// (`nvidia.com/gpu`) to slots.
///
/// Built once when a scenario is loaded; slots are assigned in order of first use, so
/// the mapping is deterministic for a given scenario file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceNames {
    // Shared, so that a `Diagnosis` can keep the names it renders shortfalls of extended
    // resources with for the price of a reference count; names are only added at load time.
    extended: Arc<Vec<String>>,
}

/// The canonical Kubernetes names of the built-in kinds, by slot.
const BUILTIN_NAMES: [&str; FIRST_EXTENDED] = ["cpu", "memory", "ephemeral-storage", "pods"];

impl ResourceNames {
    /// The kind with this Kubernetes name, if it is built in or already registered.
    pub fn lookup(&self, name: &str) -> Option<ResourceKind> {
        if let Some(i) = BUILTIN_NAMES.iter().position(|n| *n == name) {
            return Some(ResourceKind(i as u8));
        }
        self.extended
            .iter()
            .position(|n| n == name)
            .map(|i| ResourceKind((FIRST_EXTENDED + i) as u8))
    }

    /// The kind with this name, registering it as a new extended resource if needed.
    /// Fails when the cluster already uses [`MAX_EXTENDED`] extended resources.
    pub fn intern(&mut self, name: &str) -> Result<ResourceKind, TooManyExtendedResources> {
        if let Some(kind) = self.lookup(name) {
            return Ok(kind);
        }
        if self.extended.len() == MAX_EXTENDED {
            return Err(TooManyExtendedResources {
                name: name.to_string(),
            });
        }
        Arc::make_mut(&mut self.extended).push(name.to_string());
        Ok(ResourceKind(
            (FIRST_EXTENDED + self.extended.len() - 1) as u8,
        ))
    }

    /// The Kubernetes name of a kind.
    pub fn name(&self, kind: ResourceKind) -> &str {
        let i = kind.index();
        if i < FIRST_EXTENDED {
            BUILTIN_NAMES[i]
        } else {
            self.extended
                .get(i - FIRST_EXTENDED)
                .map(String::as_str)
                .unwrap_or("unknown")
        }
    }

    /// Every kind in use, built-in kinds first.
    pub fn kinds(&self) -> impl Iterator<Item = ResourceKind> + '_ {
        (0..FIRST_EXTENDED + self.extended.len()).map(|i| ResourceKind(i as u8))
    }
}

/// A scenario named more extended resources than a [`Resources`] vector has slots for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("too many extended resources: \"{name}\" would be number {} but at most {MAX_EXTENDED} are supported", MAX_EXTENDED + 1)]
pub struct TooManyExtendedResources {
    /// The name that did not fit.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_checks_only_requested_kinds() {
        let req = Resources::cpu_mem(500, 1 << 30);
        let mut free = Resources::cpu_mem(500, 1 << 30);
        free.set(ResourceKind::PODS, -1);
        assert!(!Resources::cpu_mem(501, 0).fits_in(&free));
        assert!(
            req.fits_in(&free),
            "pods not requested, so a negative free count is ignored"
        );
        let mut with_pod = req;
        with_pod.set(ResourceKind::PODS, 1);
        assert!(!with_pod.fits_in(&free));
    }

    #[test]
    fn names_intern_extended_in_order() {
        let mut names = ResourceNames::default();
        assert_eq!(names.lookup("cpu"), Some(ResourceKind::CPU));
        let gpu = names.intern("nvidia.com/gpu").unwrap();
        assert_eq!(gpu.index(), FIRST_EXTENDED);
        assert_eq!(names.intern("nvidia.com/gpu").unwrap(), gpu);
        assert_eq!(names.name(gpu), "nvidia.com/gpu");
        for i in 1..MAX_EXTENDED {
            names.intern(&format!("example.com/r{i}")).unwrap();
        }
        let err = names.intern("one-too-many").unwrap_err();
        assert!(err.to_string().contains("at most 4"), "{err}");
    }
}
