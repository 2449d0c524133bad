//! [`Reader`]: the located Kubernetes types of [`super::kube`] turned into this crate's
//! model types, each value checked as the API server checks it and each failure pointing
//! at the value's line and column.
//!
//! The checks are split by topic: single values and resource lists here, then labels and
//! label selectors, node affinity, taints and tolerations, inter-pod affinity and topology
//! spread, and the rest of a pod's spec (ports, limits, priority, object names).

mod labels;
mod node_affinity;
mod pod;
mod pod_affinity;
mod taints;

pub use node_affinity::NodeAffinityRules;

use crate::quantity::{QuantityError, parse_bytes, parse_count, parse_cpu_millis};
use crate::resources::{ResourceKind, ResourceNames, Resources};

use super::message::{did_you_mean, one_of, quoted, shown, with_hint};
use super::scalar::{QuantityMap, Scalar};
use super::{Location, Spanned, YamlError};
use crate::field_path;
use crate::spelling::Spelled;

/// What every check returns.
type Result<T> = std::result::Result<T, YamlError>;

/// Pod slots a node offers when its `allocatable` leaves `pods` out (the kubelet default).
const DEFAULT_MAX_PODS: i64 = 110;
/// The resource names that need no domain prefix.
const BUILTIN_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage", "pods"];

/// Reads the located values of one file into model types; every error it returns names
/// that file.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    file: &'a str,
}

impl<'a> Reader<'a> {
    /// A reader of the file `file`, as it is to be named in messages.
    pub fn new(file: &'a str) -> Reader<'a> {
        Reader { file }
    }

    /// The file, as named in messages.
    pub fn file(&self) -> &'a str {
        self.file
    }

    /// An error at `at` about `field`.
    pub fn err(&self, at: &Location, field: &str, message: impl Into<String>) -> YamlError {
        YamlError::at(self.file, at, field, message)
    }

    /// A value Kubernetes spells with a fixed word (`NoSchedule`); `what` names it in the
    /// message, which lists the words and suggests the nearest.
    pub fn spelled<T: Spelled>(&self, v: &Spanned<String>, field: &str, what: &str) -> Result<T> {
        T::from_spelling(&v.value).ok_or_else(|| {
            self.err(
                &v.referenced,
                field,
                format!(
                    "unknown {what} {}{}; expected {}",
                    quoted(&v.value),
                    did_you_mean(&v.value, T::spellings()),
                    one_of(T::spellings())
                ),
            )
        })
    }

    /// A name that must not be empty; `what` names it in the message (`a label key`).
    pub fn non_empty(&self, v: &Spanned<String>, field: &str, what: &str) -> Result<String> {
        if v.value.is_empty() {
            return Err(self.err(
                &v.referenced,
                field,
                format!("expected {what}, got an empty string"),
            ));
        }
        Ok(v.value.clone())
    }

    /// An integer in `min..=max`; `what` describes the expected value for the message.
    pub fn integer(
        &self,
        v: &Spanned<Scalar>,
        field: &str,
        min: i128,
        max: i128,
        what: &str,
    ) -> Result<i128> {
        let text = &v.value.0;
        // The range is worth stating when the number was out of it, or always when it is
        // small enough to be a rule of its own (a weight from 1 to 100); a negative number
        // for "a non-negative integer" needs no range to explain it.
        let range = format!(" from {min} to {max}");
        let bound = match text.parse::<i128>() {
            Ok(n) if (min..=max).contains(&n) => return Ok(n),
            Ok(n) if n < 0 && min == 0 => String::new(),
            Ok(_) => range,
            Err(_) if max - min <= 1000 => range,
            Err(_) => String::new(),
        };
        Err(self.err(
            &v.referenced,
            field,
            format!("expected {what}{bound}, got {}", shown(text)),
        ))
    }

    /// A Kubernetes `int32` that no rule of the API server bounds further (kube-scheduler's
    /// plugin arguments, which their own validation checks).
    pub fn int32(&self, v: &Spanned<Scalar>, field: &str) -> Result<i32> {
        v.value.0.parse::<i32>().map_err(|_| {
            self.err(
                &v.referenced,
                field,
                format!("expected an integer (32 bits), got {}", shown(&v.value.0)),
            )
        })
    }

    /// A non-negative Kubernetes `int32` count (`minReplicas`, `maxReplicas`): the API
    /// server refuses what does not fit, and the controllers compute in `i32`.
    pub fn count_i32(&self, v: &Spanned<Scalar>, field: &str) -> Result<i32> {
        let n = self.integer(
            v,
            field,
            0,
            i32::MAX.into(),
            "a non-negative 32-bit integer",
        )?;
        // In range by the check above.
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// A `u32` count (`count`, `replicas`).
    pub fn count_u32(&self, v: &Spanned<Scalar>, field: &str) -> Result<u32> {
        let n = self.integer(v, field, 0, u32::MAX.into(), "a non-negative integer")?;
        // In range by the check above.
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// A finite number that is positive, or non-negative when `allow_zero`.
    pub fn number(&self, v: &Spanned<Scalar>, field: &str, allow_zero: bool) -> Result<f64> {
        let text = &v.value.0;
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (x > 0.0 || (allow_zero && x == 0.0)) => Ok(x),
            _ => {
                let what = if allow_zero {
                    "a non-negative number"
                } else {
                    "a positive number"
                };
                Err(self.err(
                    &v.referenced,
                    field,
                    format!("expected {what}, got {}", shown(text)),
                ))
            }
        }
    }

    /// A quantity of resource `kind`, in its base unit (millicores, bytes or a count).
    pub fn quantity(&self, kind: ResourceKind, v: &Spanned<Scalar>, field: &str) -> Result<i64> {
        let parse: fn(&str) -> std::result::Result<i64, QuantityError> = match kind {
            ResourceKind::CPU => parse_cpu_millis,
            ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => parse_bytes,
            _ => parse_count,
        };
        parse(&v.value.0).map_err(|e| {
            let example = match kind {
                ResourceKind::CPU => "a cpu quantity such as 500m, 2 or 1.5",
                ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => {
                    "a size such as 512Mi, 4Gi or 1G"
                }
                _ => "a count such as 1, 8 or 110",
            };
            let hint = with_hint(&e.reason, example);
            self.err(&v.referenced, field, format!("{e}{hint}"))
        })
    }

    /// The kind a resource name stands for; extended resources are numbered in `names` in
    /// the order they are first seen.
    pub fn resource_kind(
        &self,
        names: &mut ResourceNames,
        key: &Spanned<String>,
        field: &str,
    ) -> Result<ResourceKind> {
        let name = key.value.as_str();
        if let Some(kind) = names.lookup(name) {
            return Ok(kind);
        }
        // Kubernetes extended resources are domain-prefixed (`nvidia.com/gpu`); hugepages
        // are the one unprefixed family. Anything else is most likely a typo of a built-in.
        if !(name.contains('/') || name.starts_with("hugepages-")) {
            return Err(self.err(
                &key.referenced,
                field,
                format!(
                    "unknown resource {name:?}{}; expected cpu, memory, ephemeral-storage, pods or an extended resource with a domain prefix such as nvidia.com/gpu",
                    did_you_mean(name, BUILTIN_RESOURCES)
                ),
            ));
        }
        names
            .intern(name)
            .map_err(|e| self.err(&key.referenced, field, e.to_string()))
    }

    /// A node's `allocatable`: pods default to 110, other kinds to zero.
    pub fn allocatable(
        &self,
        names: &mut ResourceNames,
        map: Option<&QuantityMap>,
        base: &str,
    ) -> Result<Resources> {
        let mut r = Resources::ZERO;
        r.set(ResourceKind::PODS, DEFAULT_MAX_PODS);
        for (key, value) in map.map(|m| m.0.as_slice()).unwrap_or_default() {
            let field = field_path::key(base, &key.value);
            let kind = self.resource_kind(names, key, &field)?;
            r.set(kind, self.quantity(kind, value, &field)?);
        }
        Ok(r)
    }

    /// The kind of a key in a pod's `requests`, `limits` or `overhead`, where pod slots
    /// cannot be asked for: every pod takes exactly one.
    pub fn pod_resource_kind(
        &self,
        names: &mut ResourceNames,
        key: &Spanned<String>,
        field: &str,
    ) -> Result<ResourceKind> {
        let kind = self.resource_kind(names, key, field)?;
        if kind == ResourceKind::PODS {
            return Err(self.err(
                &key.referenced,
                field,
                "`pods` is only set in a node's allocatable; every pod takes one pod slot",
            ));
        }
        Ok(kind)
    }

    /// A resource list on the pod side (`overhead`, `limits`), in file order.
    pub fn pod_quantities(
        &self,
        names: &mut ResourceNames,
        map: &QuantityMap,
        base: &str,
    ) -> Result<Vec<(ResourceKind, i64)>> {
        let mut out = Vec::new();
        for (key, value) in &map.0 {
            let field = field_path::key(base, &key.value);
            let kind = self.pod_resource_kind(names, key, &field)?;
            out.push((kind, self.quantity(kind, value, &field)?));
        }
        Ok(out)
    }
}

/// Shared by the tests of every topic: reading a located value from YAML text, and
/// checking where an error points.
#[cfg(test)]
pub(crate) mod testing {
    use serde::Deserialize;

    use super::super::{Spanned, YamlError, parse_options};
    use super::Reader;

    /// The file the tests' values come from.
    pub const FILE: &str = "t.yaml";

    /// A reader of [`FILE`].
    pub fn reader() -> Reader<'static> {
        Reader::new(FILE)
    }

    /// `text` read as a located `T`.
    pub fn value<T: for<'de> Deserialize<'de>>(text: &str) -> Spanned<T> {
        serde_saphyr::from_str_with_options(text, parse_options())
            .unwrap_or_else(|e| panic!("{text:?} is no located value: {e}"))
    }

    /// Asserts the position, field and message of an error.
    #[track_caller]
    pub fn assert_error(e: &YamlError, line: u64, column: u64, field: &str, message: &str) {
        assert_eq!(
            (e.line, e.column, e.field.as_deref(), e.message.as_str()),
            (Some(line), Some(column), Some(field), message),
            "{e}"
        );
        assert_eq!(e.path, FILE);
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_error, reader, value};
    use super::*;

    #[test]
    fn integers_say_their_range_when_it_is_a_rule() {
        let r = reader();
        let v = value::<Scalar>("42");
        assert_eq!(r.integer(&v, "f", 1, 100, "an integer").unwrap(), 42);
        let e = r
            .integer(&value("0"), "w", 1, 100, "an integer")
            .unwrap_err();
        assert_error(&e, 1, 1, "w", "expected an integer from 1 to 100, got 0");
        let e = r
            .integer(
                &value("-1"),
                "n",
                0,
                u32::MAX.into(),
                "a non-negative integer",
            )
            .unwrap_err();
        assert_error(&e, 1, 1, "n", "expected a non-negative integer, got -1");
        let e = r
            .integer(
                &value("lots"),
                "n",
                0,
                u32::MAX.into(),
                "a non-negative integer",
            )
            .unwrap_err();
        assert_error(&e, 1, 1, "n", "expected a non-negative integer, got lots");
        assert_eq!(r.int32(&value("-7"), "x").unwrap(), -7);
        let e = r.int32(&value("3000000000"), "x").unwrap_err();
        assert_error(
            &e,
            1,
            1,
            "x",
            "expected an integer (32 bits), got 3000000000",
        );
        assert_eq!(r.count_u32(&value("3"), "c").unwrap(), 3);
    }

    #[test]
    fn numbers_and_names() {
        let r = reader();
        assert_eq!(r.number(&value("0.5"), "x", false).unwrap(), 0.5);
        assert_eq!(r.number(&value("0"), "x", true).unwrap(), 0.0);
        let e = r.number(&value("0"), "x", false).unwrap_err();
        assert_error(&e, 1, 1, "x", "expected a positive number, got 0");
        let e = r.number(&value(".inf"), "x", true).unwrap_err();
        assert_error(&e, 1, 1, "x", "expected a non-negative number, got .inf");
        let e = r.non_empty(&value("\"\""), "name", "a name").unwrap_err();
        assert_error(&e, 1, 1, "name", "expected a name, got an empty string");
    }

    #[test]
    fn resource_lists() {
        let r = reader();
        let mut names = ResourceNames::default();
        let map = value::<QuantityMap>("{cpu: 1.5, memory: 1Gi, example.com/foo: 2}");
        let got = r
            .allocatable(&mut names, Some(&map.value), "allocatable")
            .unwrap();
        assert_eq!(got.get(ResourceKind::CPU), 1500);
        assert_eq!(got.get(ResourceKind::MEMORY), 1 << 30);
        assert_eq!(got.get(ResourceKind::PODS), DEFAULT_MAX_PODS);
        let foo = names.lookup("example.com/foo").unwrap();
        assert_eq!(got.get(foo), 2);

        let map = value::<QuantityMap>("{cpu: 12Q}");
        let e = r
            .allocatable(&mut names, Some(&map.value), "a")
            .unwrap_err();
        assert_eq!(
            (e.line, e.column, e.field.as_deref()),
            (Some(1), Some(7), Some("a.cpu"))
        );
        assert!(e.message.starts_with("invalid quantity \"12Q\""), "{e}");
        let map = value::<QuantityMap>("{cpus: 1}");
        let e = r
            .pod_quantities(&mut names, &map.value, "limits")
            .unwrap_err();
        assert_error(
            &e,
            1,
            2,
            "limits.cpus",
            "unknown resource \"cpus\" (did you mean cpu?); expected cpu, memory, ephemeral-storage, pods or an extended resource with a domain prefix such as nvidia.com/gpu",
        );
        let map = value::<QuantityMap>("{pods: 1}");
        let e = r
            .pod_quantities(&mut names, &map.value, "overhead")
            .unwrap_err();
        assert_error(
            &e,
            1,
            2,
            "overhead.pods",
            "`pods` is only set in a node's allocatable; every pod takes one pod slot",
        );
    }
}
