//! Kubernetes names, validated once at the edge into types. Everything that becomes part of an
//! API-server request path — an API group, version, resource plural, namespace, pod or
//! container name — is one of these types, and they can only be built by a constructor that
//! checks Kubernetes' own rules (apimachinery's `validation.IsDNS1123Label` /
//! `IsDNS1123Subdomain`). So a value from a request body, a catalog annotation or a config file
//! can never carry `/`, `?`, `#`, `%` or `..` into a URL: a crafted `plural` such as
//! `secrets?labelSelector=` is refused with an error naming the field, on every code path.
//!
//! Not here: label selectors ([`super::selector`]).

use std::fmt;

/// Why a name was refused; names the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} '{value}' is not valid: {rule}")]
pub struct NameError {
    /// The field, as the caller names it (`customResources[0].plural`, the annotation key…).
    pub field: String,
    /// The refused value (truncated to 100 characters).
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

impl NameError {
    fn new(field: &str, value: &str, rule: &'static str) -> Self {
        Self {
            field: field.to_string(),
            value: value.chars().take(100).collect(),
            rule,
        }
    }

    /// The same error for another field name (callers know the field better).
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

const LABEL_RULE: &str = "must be a DNS-1123 label (at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit)";
const SUBDOMAIN_RULE: &str = "must be a DNS-1123 subdomain (at most 253 characters: dot-separated DNS-1123 labels of lower-case letters, digits or '-')";

/// Whether `s` is a DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Whether `s` is a DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $check:expr, $rule:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `value`; `field` names it in the error.
            pub fn parse(field: &str, value: &str) -> Result<Self, NameError> {
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok(Self(value.to_string()))
                } else {
                    Err(NameError::new(field, value, $rule))
                }
            }

            /// A name from a literal in this program (the built-in types' table, whose every entry a
            /// unit test parses); never for a value read from outside.
            #[allow(dead_code)] // not every name type has built-in values
            pub(crate) fn from_static(value: &'static str) -> Self {
                Self(value.to_string())
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

name_type!(
    /// An API group: empty (the core group) or a DNS-1123 subdomain (`apps`, `argoproj.io`).
    Group,
    |s| s.is_empty() || is_dns1123_subdomain(s),
    "must be empty (the core group) or a DNS-1123 subdomain such as 'argoproj.io'"
);
name_type!(
    /// An API version (`v1`, `v1beta1`): a DNS-1123 label.
    Version,
    is_dns1123_label,
    LABEL_RULE
);
name_type!(
    /// A resource's plural name (`pods`, `rollouts`): a DNS-1123 label.
    Plural,
    is_dns1123_label,
    LABEL_RULE
);
name_type!(
    /// A namespace: a DNS-1123 label.
    Namespace,
    is_dns1123_label,
    LABEL_RULE
);
name_type!(
    /// An object name such as a pod's: a DNS-1123 subdomain.
    ObjectName,
    is_dns1123_subdomain,
    SUBDOMAIN_RULE
);
name_type!(
    /// A container name: a DNS-1123 label.
    ContainerName,
    is_dns1123_label,
    LABEL_RULE
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kubernetes_rules() {
        for ok in ["a", "pods", "v1beta1", "my-ns", "0abc", &"a".repeat(63)] {
            assert!(Plural::parse("plural", ok).is_ok(), "{ok}");
            assert!(Namespace::parse("namespace", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a.b",
            "a/b",
            "secrets?labelSelector=",
            "..",
            "a%2fb",
            "a b",
            "ä",
            &"a".repeat(64),
        ] {
            let e = Plural::parse("customResources[0].plural", bad).unwrap_err();
            assert_eq!(e.field, "customResources[0].plural");
        }
        assert!(Group::parse("group", "").is_ok());
        assert!(Group::parse("group", "argoproj.io").is_ok());
        assert!(Group::parse("group", "metrics.k8s.io").is_ok());
        for bad in [".", "a..b", "a.", "/apis", "a?b", "Argo.io"] {
            assert!(Group::parse("group", bad).is_err(), "{bad}");
        }
        assert!(ObjectName::parse("pod", "web-1.x").is_ok());
        assert!(ObjectName::parse("pod", "..").is_err());
        assert!(ObjectName::parse("pod", &"a".repeat(254)).is_err());
    }

    #[test]
    fn errors_name_the_field_and_value() {
        let e = Namespace::parse("backstage.io/kubernetes-namespace", "a/../b").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("backstage.io/kubernetes-namespace 'a/../b' is not valid: {LABEL_RULE}")
        );
    }

    proptest! {
        /// Whatever the input, an accepted name carries nothing that changes a URL's structure.
        #[test]
        fn accepted_names_are_url_safe(s in "\\PC{0,80}") {
            for ok in [
                Plural::parse("p", &s).is_ok(),
                Group::parse("g", &s).is_ok(),
                ObjectName::parse("o", &s).is_ok(),
            ] {
                if ok {
                    prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
                    prop_assert!(!s.contains(".."));
                    prop_assert!(s.len() <= 253);
                }
            }
        }

        /// Every well-formed label is accepted.
        #[test]
        fn well_formed_labels_are_accepted(s in "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?") {
            prop_assert!(Plural::parse("p", &s).is_ok());
            let sub = format!("{}.{}", s, s);
            prop_assert!(Group::parse("g", &sub).is_ok());
        }
    }
}
