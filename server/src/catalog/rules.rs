//! `catalog.rules`: which entity kinds a location may contribute.
//!
//! Mirrors Backstage's `DefaultCatalogRulesEnforcer`: the global rules (or, when `catalog.rules`
//! is unset, the default `allow: [Component, API, Location]`) apply to every location; a
//! `catalog.locations` entry's own `rules` are added to them for everything reached from that
//! root location (Backstage matches those rules against the entity's *origin* location). Kinds
//! compare case-insensitively.
//!
//! Not handled here: the `{kind, spec.type}` object form and the `locations:` matchers of global
//! rules (the config reader only accepts kind lists), and reading the config itself
//! (`catalog::config`).

/// One `catalog.rules` entry: the kinds it allows (compared case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Entity kinds this rule allows, as written in the config (e.g. `Component`).
    pub allow: Vec<String>,
}

impl Rule {
    /// A rule allowing `kinds`.
    pub fn allowing(kinds: &[&str]) -> Rule {
        Rule {
            allow: kinds.iter().map(|k| k.to_string()).collect(),
        }
    }
}

/// Backstage's default when `catalog.rules` is unset: allow Component, API, Location.
pub fn default_rules() -> Vec<Rule> {
    vec![Rule::allowing(&["Component", "API", "Location"])]
}

/// Whether `kind` may come from a root location given the global rules and that root location's
/// own (additive) rules.
pub fn is_allowed(kind: &str, global: &[Rule], location_rules: &[Rule]) -> bool {
    let kind = kind.to_lowercase();
    global
        .iter()
        .chain(location_rules)
        .flat_map(|rule| &rule.allow)
        .any(|allowed| allowed.to_lowercase() == kind)
}

/// The kinds allowed by `rules`, for messages: `Component, API, Location` (or `none`).
pub(crate) fn describe(rules: &[Rule]) -> String {
    let kinds: Vec<&str> = rules
        .iter()
        .flat_map(|rule| &rule.allow)
        .map(String::as_str)
        .collect();
    if kinds.is_empty() {
        "none".to_string()
    } else {
        kinds.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kinds: &[&str]) -> Rule {
        Rule {
            allow: kinds.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn default_rules_allow_exactly_component_api_location() {
        let global = default_rules();
        for kind in [
            "Component",
            "API",
            "Location",
            "component",
            "api",
            "LOCATION",
        ] {
            assert!(is_allowed(kind, &global, &[]), "{kind} should be allowed");
        }
        for kind in ["User", "Group", "System", "Domain", "Resource", "Template"] {
            assert!(!is_allowed(kind, &global, &[]), "{kind} should be denied");
        }
    }

    #[test]
    fn location_rules_add_to_global_rules() {
        let global = vec![rule(&["Component", "System"])];
        let org = vec![rule(&["User", "Group"])];
        assert!(is_allowed("user", &global, &org));
        assert!(is_allowed("Component", &global, &org));
        assert!(!is_allowed("User", &global, &[]));
        assert!(!is_allowed("Domain", &global, &org));
    }

    #[test]
    fn empty_rules_allow_nothing() {
        assert!(!is_allowed("Component", &[], &[]));
        assert!(!is_allowed("", &[rule(&["Component"])], &[]));
    }

    #[test]
    fn describe_lists_kinds_in_order() {
        assert_eq!(describe(&default_rules()), "Component, API, Location");
        assert_eq!(describe(&[]), "none");
        assert_eq!(describe(&[rule(&["A"]), rule(&["B"])]), "A, B");
    }
}
