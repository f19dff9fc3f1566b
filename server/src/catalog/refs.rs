//! Entity references: `[<kind>:][<namespace>/]<name>`, parsed with the rules of Backstage's
//! `parseEntityRef` (catalog-model) and printed in the canonical lower-case form of its
//! `stringifyEntityRef`.
//!
//! Backstage does not restrict the characters of a reference part: only empty parts and a missing
//! kind (when no default applies) are errors, so `kind:ns/a/b` is the name `a/b` and `a:b:c` is
//! kind `a`, name `b:c`. Checking that names follow the naming rules belongs to entity validation,
//! not here.

use thiserror::Error;

/// Namespace of entities that do not set `metadata.namespace` (Backstage's `DEFAULT_NAMESPACE`).
pub const DEFAULT_NAMESPACE: &str = "default";

/// A reference to an entity, with the parts as written (case kept).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EntityRef {
    /// The entity kind, e.g. `Component`.
    pub kind: String,
    /// The namespace, e.g. `default`.
    pub namespace: String,
    /// The entity name, e.g. `artist-lookup`.
    pub name: String,
}

impl EntityRef {
    /// The canonical form `kind:namespace/name`, all lower-case, as Backstage stores refs
    /// (`relations[].targetRef`, `entity_ref` columns, search values).
    pub fn canonical(&self) -> String {
        RefParts {
            kind: &self.kind,
            namespace: &self.namespace,
            name: &self.name,
        }
        .canonical()
    }
}

impl std::fmt::Display for EntityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Appends `s` lower-cased, without allocating for the (common) ASCII case.
fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Why a string is not an entity reference; the messages are Backstage's.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RefError {
    /// The reference was the empty string.
    #[error("Entity reference must not be empty")]
    Empty,
    /// A part was present but empty (`:name`, `kind:/name`, `kind:ns/`).
    #[error("Entity reference \"{input}\" was not on the form [<kind>:][<namespace>/]<name>")]
    Malformed {
        /// The reference as given.
        input: String,
    },
    /// No kind in the reference and no default kind for the field it came from.
    #[error(
        "Entity reference {} had missing or empty kind (e.g. did not start with \"component:\" or similar)",
        json_quote(.input)
    )]
    MissingKind {
        /// The reference as given.
        input: String,
    },
    /// No namespace in the reference and an empty default namespace.
    #[error("Entity reference {} had missing or empty namespace", json_quote(.input))]
    MissingNamespace {
        /// The reference as given.
        input: String,
    },
}

/// `JSON.stringify` of a string, which Backstage uses to quote refs in some messages.
fn json_quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// A parsed reference borrowing its parts from the input and the defaults; the allocation-free
/// form of [`EntityRef`] for hot paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefParts<'a> {
    /// The entity kind as written (or the default).
    pub kind: &'a str,
    /// The namespace as written (or the default).
    pub namespace: &'a str,
    /// The entity name as written.
    pub name: &'a str,
}

impl RefParts<'_> {
    /// The canonical lower-case `kind:namespace/name`.
    pub fn canonical(&self) -> String {
        let mut out =
            String::with_capacity(self.kind.len() + self.namespace.len() + self.name.len() + 2);
        self.push_canonical(&mut out);
        out
    }

    /// Appends the canonical form to `out` (for callers that pack many refs in one buffer).
    pub fn push_canonical(&self, out: &mut String) {
        push_lower(out, self.kind);
        out.push(':');
        push_lower(out, self.namespace);
        out.push('/');
        push_lower(out, self.name);
    }

    /// An owned [`EntityRef`] with the same parts.
    pub fn to_entity_ref(&self) -> EntityRef {
        EntityRef {
            kind: self.kind.to_owned(),
            namespace: self.namespace.to_owned(),
            name: self.name.to_owned(),
        }
    }
}

/// Parses `[<kind>:][<namespace>/]<name>` like Backstage's `parseEntityRef`.
///
/// The first `:` ends the kind unless a `/` comes before it; the first `/` after the kind ends
/// the namespace; the rest is the name. Missing parts take `default_kind` /
/// `default_namespace`; parts keep their case.
pub fn parse_ref(
    s: &str,
    default_kind: Option<&str>,
    default_namespace: &str,
) -> Result<EntityRef, RefError> {
    parse_ref_parts(s, default_kind, default_namespace).map(|p| p.to_entity_ref())
}

/// [`parse_ref`] without allocating: the parts borrow from `s` and the defaults.
pub fn parse_ref_parts<'a>(
    s: &'a str,
    default_kind: Option<&'a str>,
    default_namespace: &'a str,
) -> Result<RefParts<'a>, RefError> {
    if s.is_empty() {
        return Err(RefError::Empty);
    }
    let slash = s.find('/');
    let colon = match (s.find(':'), slash) {
        (Some(c), Some(sl)) if sl < c => None,
        (c, _) => c,
    };
    let kind = colon.map(|c| &s[..c]);
    let name_start = colon.map_or(0, |c| c + 1);
    let namespace = slash.map(|sl| &s[name_start..sl]);
    let name = &s[slash.map_or(name_start, |sl| sl + 1)..];
    if kind == Some("") || namespace == Some("") || name.is_empty() {
        return Err(RefError::Malformed {
            input: s.to_owned(),
        });
    }
    let kind = match kind.or(default_kind) {
        Some(k) if !k.is_empty() => k,
        _ => {
            return Err(RefError::MissingKind {
                input: s.to_owned(),
            })
        }
    };
    let namespace = namespace.unwrap_or(default_namespace);
    if namespace.is_empty() {
        return Err(RefError::MissingNamespace {
            input: s.to_owned(),
        });
    }
    Ok(RefParts {
        kind,
        namespace,
        name,
    })
}

/// The ref of an entity document (Backstage's `getCompoundEntityRef`): `kind`,
/// `metadata.namespace` (absent, null or empty means `default`) and `metadata.name`.
/// `None` when kind or name is missing, empty or not a string.
pub fn entity_ref_of(entity: &serde_json::Value) -> Option<EntityRef> {
    entity_ref_parts(entity).map(|p| p.to_entity_ref())
}

/// [`entity_ref_of`] without allocating.
pub fn entity_ref_parts(entity: &serde_json::Value) -> Option<RefParts<'_>> {
    let kind = entity.get("kind")?.as_str().filter(|k| !k.is_empty())?;
    let metadata = entity.get("metadata")?;
    let name = metadata.get("name")?.as_str().filter(|n| !n.is_empty())?;
    let namespace = match metadata.get("namespace") {
        None | Some(serde_json::Value::Null) => DEFAULT_NAMESPACE,
        Some(ns) => match ns.as_str()? {
            "" => DEFAULT_NAMESPACE,
            ns => ns,
        },
    };
    Some(RefParts {
        kind,
        namespace,
        name,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(kind: &str, namespace: &str, name: &str) -> EntityRef {
        EntityRef {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    #[test]
    fn parses_every_form() {
        let cases: &[(&str, Option<&str>, &str, EntityRef)] = &[
            (
                "team-a",
                Some("Group"),
                "default",
                r("Group", "default", "team-a"),
            ),
            (
                "user:jdoe",
                Some("Group"),
                "default",
                r("user", "default", "jdoe"),
            ),
            (
                "ops/team-a",
                Some("Group"),
                "default",
                r("Group", "ops", "team-a"),
            ),
            (
                "Component:Ops/Foo",
                None,
                "default",
                r("Component", "Ops", "Foo"),
            ),
            (
                "team-a",
                Some("Group"),
                "prod",
                r("Group", "prod", "team-a"),
            ),
            // A slash before the colon means there is no kind.
            ("ns/a:b", Some("API"), "default", r("API", "ns", "a:b")),
            // Only the first colon and the first slash split.
            ("a:b:c", None, "default", r("a", "default", "b:c")),
            ("k:ns/a/b", None, "default", r("k", "ns", "a/b")),
            // No character rules: Backstage keeps spaces and dots as written.
            (
                "group:team a.b",
                None,
                "default",
                r("group", "default", "team a.b"),
            ),
        ];
        for (input, kind, ns, want) in cases {
            assert_eq!(&parse_ref(input, *kind, ns).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn rejects_empty_parts_with_backstage_messages() {
        let malformed = |s: &str| {
            format!("Entity reference \"{s}\" was not on the form [<kind>:][<namespace>/]<name>")
        };
        let cases: &[(&str, Option<&str>, String)] = &[
            (
                "",
                Some("Group"),
                "Entity reference must not be empty".into(),
            ),
            (":foo", Some("Group"), malformed(":foo")),
            ("group:/foo", None, malformed("group:/foo")),
            ("group:ns/", None, malformed("group:ns/")),
            ("group:", None, malformed("group:")),
            ("/foo", Some("Group"), malformed("/foo")),
            (
                "foo",
                None,
                "Entity reference \"foo\" had missing or empty kind (e.g. did not start with \
                 \"component:\" or similar)"
                    .into(),
            ),
            (
                "ns/foo",
                None,
                "Entity reference \"ns/foo\" had missing or empty kind (e.g. did not start with \
                 \"component:\" or similar)"
                    .into(),
            ),
        ];
        for (input, kind, want) in cases {
            let err = parse_ref(input, *kind, "default").unwrap_err();
            assert_eq!(&err.to_string(), want, "{input}");
        }
        assert_eq!(
            parse_ref("foo", Some("Group"), "").unwrap_err(),
            RefError::MissingNamespace {
                input: "foo".into()
            }
        );
        // An empty default kind is no default.
        assert!(matches!(
            parse_ref("foo", Some(""), "default"),
            Err(RefError::MissingKind { .. })
        ));
    }

    #[test]
    fn canonical_is_lower_case() {
        assert_eq!(
            r("Group", "Default", "Team-A").canonical(),
            "group:default/team-a"
        );
        assert_eq!(r("API", "ns", "Ünïcode").to_string(), "api:ns/ünïcode");
    }

    #[test]
    fn entity_ref_of_defaults_namespace() {
        let e = json!({"kind": "Component", "metadata": {"name": "Foo"}});
        assert_eq!(entity_ref_of(&e), Some(r("Component", "default", "Foo")));
        let e = json!({"kind": "User", "metadata": {"name": "guest", "namespace": "development"}});
        assert_eq!(entity_ref_of(&e), Some(r("User", "development", "guest")));
        let e = json!({"kind": "User", "metadata": {"name": "guest", "namespace": ""}});
        assert_eq!(entity_ref_of(&e).unwrap().namespace, "default");
        assert_eq!(
            entity_ref_of(&json!({"kind": "User", "metadata": {}})),
            None
        );
        assert_eq!(entity_ref_of(&json!({"metadata": {"name": "x"}})), None);
        assert_eq!(
            entity_ref_of(&json!({"kind": "User", "metadata": {"name": "x", "namespace": 3}})),
            None
        );
    }
}
