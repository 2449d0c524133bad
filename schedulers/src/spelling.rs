//! Enums that Kubernetes spells with fixed words (`NoSchedule`, `OrderedReady`, ...).
//!
//! The loader parses these words and `schedlab export` writes them back, so each enum
//! carries its spellings once: [`kubernetes_enum!`] declares the enum from
//! `Variant => "Spelling"` pairs and derives from that one list `ALL` (every value, in
//! declaration order), `NAMES` (the spellings in the same order, for "one of ..." and
//! "did you mean ..." messages), `parse` and `name()`. Writing these by hand let the
//! order of `ALL` and the declaration drift apart; generating them makes it hold.

/// An enum Kubernetes spells with fixed words, as [`kubernetes_enum!`] declares it: what
/// a reader needs to parse one and to say what it expected instead.
pub trait Spelled: Sized + Copy + 'static {
    /// Every spelling, in declaration order.
    fn spellings() -> &'static [&'static str];
    /// The value spelt `s`, if any.
    fn from_spelling(s: &str) -> Option<Self>;
}

/// Declares an enum whose values Kubernetes spells with the given words, with `ALL`,
/// `NAMES`, `parse` and `name()`.
///
/// Attributes before `enum` (doc comments, derives) and before each variant (doc
/// comments, `#[default]`) are kept as written.
///
/// ```
/// schedulers::kubernetes_enum! {
///     /// A toy policy.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Policy {
///         /// The first.
///         Retain => "Retain",
///         /// The second.
///         Delete => "Delete",
///     }
/// }
/// assert_eq!(Policy::parse("Delete"), Some(Policy::Delete));
/// assert_eq!(Policy::parse("delete"), None);
/// assert_eq!(Policy::Retain.name(), "Retain");
/// assert_eq!(Policy::NAMES, ["Retain", "Delete"]);
/// assert_eq!(Policy::ALL, [Policy::Retain, Policy::Delete]);
/// ```
#[macro_export]
macro_rules! kubernetes_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_attr:meta])*
                $variant:ident => $spelling:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        $vis enum $name {
            $(
                $(#[$variant_attr])*
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($spelling),+].len()] = [$($name::$variant),+];
            /// Kubernetes' spellings, in the order of `ALL`: what the loader accepts and
            /// `schedlab export` writes.
            pub const NAMES: [&'static str; [$($spelling),+].len()] = [$($spelling),+];

            /// The value Kubernetes spells `s` (case-sensitive, as the API server).
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($spelling => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Kubernetes' spelling of the value.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $spelling,)+
                }
            }
        }

        impl $crate::spelling::Spelled for $name {
            fn spellings() -> &'static [&'static str] {
                &$name::NAMES
            }

            fn from_spelling(s: &str) -> Option<$name> {
                $name::parse(s)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::labels::SelectorOperator;
    use crate::pod::{PreemptionPolicy, Protocol};
    use crate::pod_affinity::{InclusionPolicy, WhenUnsatisfiable};
    use crate::taints::{TaintEffect, TolerationOperator};
    use crate::volumes::{AccessMode, VolumeBindingMode};

    /// Each spelling parses back to the value at its own position, and names it.
    fn round_trips<T: Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        names: &[&str],
        parse: fn(&str) -> Option<T>,
        name: fn(T) -> &'static str,
    ) {
        assert_eq!(all.len(), names.len());
        for (value, spelling) in all.iter().zip(names) {
            assert_eq!(parse(spelling), Some(*value), "{spelling}");
            assert_eq!(name(*value), *spelling);
        }
        assert_eq!(parse(""), None);
    }

    #[test]
    fn every_spelling_round_trips() {
        round_trips(
            &TaintEffect::ALL,
            &TaintEffect::NAMES,
            TaintEffect::parse,
            TaintEffect::name,
        );
        round_trips(
            &TolerationOperator::ALL,
            &TolerationOperator::NAMES,
            TolerationOperator::parse,
            TolerationOperator::name,
        );
        round_trips(
            &SelectorOperator::ALL,
            &SelectorOperator::NAMES,
            SelectorOperator::parse,
            SelectorOperator::name,
        );
        round_trips(
            &PreemptionPolicy::ALL,
            &PreemptionPolicy::NAMES,
            PreemptionPolicy::parse,
            PreemptionPolicy::name,
        );
        round_trips(
            &Protocol::ALL,
            &Protocol::NAMES,
            Protocol::parse,
            Protocol::name,
        );
        round_trips(
            &WhenUnsatisfiable::ALL,
            &WhenUnsatisfiable::NAMES,
            WhenUnsatisfiable::parse,
            WhenUnsatisfiable::name,
        );
        round_trips(
            &InclusionPolicy::ALL,
            &InclusionPolicy::NAMES,
            InclusionPolicy::parse,
            InclusionPolicy::name,
        );
        round_trips(
            &VolumeBindingMode::ALL,
            &VolumeBindingMode::NAMES,
            VolumeBindingMode::parse,
            VolumeBindingMode::name,
        );
        round_trips(
            &AccessMode::ALL,
            &AccessMode::NAMES,
            AccessMode::parse,
            AccessMode::name,
        );
    }

    #[test]
    fn spellings_are_kubernetes_words_in_declaration_order() {
        assert_eq!(
            SelectorOperator::NAMES,
            ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
        );
        assert_eq!(TaintEffect::ALL[2], TaintEffect::NoExecute);
        assert_eq!(Protocol::NAMES, ["TCP", "UDP", "SCTP"]);
        assert_eq!(
            AccessMode::NAMES,
            [
                "ReadWriteOnce",
                "ReadOnlyMany",
                "ReadWriteMany",
                "ReadWriteOncePod"
            ]
        );
    }
}
