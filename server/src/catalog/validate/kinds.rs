//! Per-kind `spec` rules: the JSON schemas of Backstage's built-in kinds
//! (`@backstage/catalog-model` `schema/kinds/*.schema.json`), the MCP-server variant of `API`
//! (`API.v1alpha1.mcp-server.schema.json`) and the scaffolder's `Template`
//! (`@backstage/plugin-scaffolder-common` `Template.v1beta3.schema.json`), plus the small
//! schema-shape checker they are written in.
//!
//! Owns: which kinds are modelled, which apiVersions each accepts, and the required members,
//! types and allowed values inside `spec`. Does not own: the root and `metadata` (see
//! `envelope`), or whether `spec` is an object at all when a kind does not require it.
//!
//! Like Backstage's kind validators, a modelled kind is matched case-sensitively and only with
//! its own apiVersions; a mismatch is one error and the spec is not looked at. Unknown kinds are
//! not checked here at all.

use serde_json::{Map, Value};

use super::{child, empty_error, item, required_error, type_error, FieldError};

/// The JSON Schema shapes the kind schemas use. Objects always allow unlisted members unless
/// `rest` says what they must look like.
pub(super) enum Shape {
    /// Any string, including "" (`type: string`).
    Str,
    /// A string of at least one character (`type: string, minLength: 1`).
    NonEmptyStr,
    /// A string or a boolean (`type: [string, boolean]`).
    StrOrBool,
    /// Any object (`type: object`).
    AnyObject,
    /// One of these strings (`enum`).
    Enum(&'static [&'static str]),
    /// Exactly this string (`const`).
    Const(&'static str),
    /// An array of `items`, at least `min` long.
    Array { items: &'static Shape, min: usize },
    /// An object with these known members; other members must match `rest` when given.
    Object {
        props: &'static [Prop],
        rest: Option<&'static Shape>,
    },
    /// An object with these members, or an array of such objects (Template `parameters`).
    ObjectOrArrayOf(&'static [Prop]),
}

/// One member of an object shape.
pub(super) struct Prop {
    /// Member name.
    pub name: &'static str,
    /// Whether the member must be present.
    pub required: bool,
    /// What the member's value must look like.
    pub shape: Shape,
}

/// A required member.
pub(super) const fn req(name: &'static str, shape: Shape) -> Prop {
    Prop {
        name,
        required: true,
        shape,
    }
}

/// An optional member.
pub(super) const fn opt(name: &'static str, shape: Shape) -> Prop {
    Prop {
        name,
        required: false,
        shape,
    }
}

/// An object with these members, others unchecked.
pub(super) const fn obj(props: &'static [Prop]) -> Shape {
    Shape::Object { props, rest: None }
}

/// A list of entity references (non-empty strings).
const REFS: Shape = Shape::Array {
    items: &Shape::NonEmptyStr,
    min: 0,
};
/// A list of any strings.
const STRINGS: Shape = Shape::Array {
    items: &Shape::Str,
    min: 0,
};
const LIFECYCLE: Prop = req("lifecycle", Shape::NonEmptyStr);
const OWNER: Prop = req("owner", Shape::NonEmptyStr);
const SYSTEM_REF: Prop = opt("system", Shape::NonEmptyStr);
const PROFILE: Prop = opt(
    "profile",
    obj(&[
        opt("displayName", Shape::NonEmptyStr),
        opt("email", Shape::NonEmptyStr),
        opt("picture", Shape::NonEmptyStr),
    ]),
);

// The `spec` members of each kind, as their JSON schemas list them.
const COMPONENT: &[Prop] = &[
    req("type", Shape::NonEmptyStr),
    LIFECYCLE,
    OWNER,
    SYSTEM_REF,
    opt("subcomponentOf", Shape::NonEmptyStr),
    opt("providesApis", REFS),
    opt("consumesApis", REFS),
    opt("dependsOn", REFS),
];
const API: &[Prop] = &[
    req("type", Shape::NonEmptyStr),
    LIFECYCLE,
    OWNER,
    SYSTEM_REF,
    req("definition", Shape::NonEmptyStr),
];
const API_MCP_SERVER: &[Prop] = &[
    req("type", Shape::Const("mcp-server")),
    LIFECYCLE,
    OWNER,
    SYSTEM_REF,
    req(
        "remotes",
        Shape::Array {
            items: &obj(&[
                req("type", Shape::NonEmptyStr),
                req("url", Shape::NonEmptyStr),
            ]),
            min: 1,
        },
    ),
];
const RESOURCE: &[Prop] = &[
    req("type", Shape::NonEmptyStr),
    OWNER,
    opt("dependsOn", REFS),
    SYSTEM_REF,
];
const SYSTEM: &[Prop] = &[
    OWNER,
    opt("domain", Shape::NonEmptyStr),
    opt("type", Shape::NonEmptyStr),
];
const DOMAIN: &[Prop] = &[
    OWNER,
    opt("subdomainOf", Shape::NonEmptyStr),
    opt("type", Shape::NonEmptyStr),
];
const GROUP: &[Prop] = &[
    req("type", Shape::NonEmptyStr),
    PROFILE,
    opt("parent", Shape::NonEmptyStr),
    req("children", REFS),
    opt("members", REFS),
];
const USER: &[Prop] = &[PROFILE, req("memberOf", REFS)];
const LOCATION: &[Prop] = &[
    opt("type", Shape::NonEmptyStr),
    opt("target", Shape::NonEmptyStr),
    opt("targets", REFS),
    opt("presence", Shape::Enum(&["required", "optional"])),
];

const PERMISSIONS: Prop = opt("backstage:permissions", obj(&[opt("tags", STRINGS)]));
const FORM_DECORATORS: Shape = Shape::Array {
    items: &obj(&[opt("id", Shape::Str), opt("input", Shape::AnyObject)]),
    min: 0,
};
const TEMPLATE: &[Prop] = &[
    req("type", Shape::NonEmptyStr),
    opt("owner", Shape::NonEmptyStr),
    opt("lifecycle", Shape::NonEmptyStr),
    opt("parameters", Shape::ObjectOrArrayOf(&[PERMISSIONS])),
    opt("secrets", obj(&[opt("schema", Shape::AnyObject)])),
    opt(
        "presentation",
        obj(&[opt(
            "buttonLabels",
            obj(&[
                opt("backButtonText", Shape::Str),
                opt("createButtonText", Shape::Str),
                opt("reviewButtonText", Shape::Str),
            ]),
        )]),
    ),
    opt(
        "EXPERIMENTAL_recovery",
        obj(&[opt("EXPERIMENTAL_strategy", Shape::Str)]),
    ),
    opt("formDecorators", FORM_DECORATORS),
    opt("EXPERIMENTAL_formDecorators", FORM_DECORATORS),
    req(
        "steps",
        Shape::Array {
            items: &obj(&[
                opt("id", Shape::Str),
                opt("name", Shape::Str),
                req("action", Shape::Str),
                opt("input", Shape::AnyObject),
                opt("if", Shape::StrOrBool),
                PERMISSIONS,
            ]),
            min: 0,
        },
    ),
    opt(
        "output",
        Shape::Object {
            props: &[
                opt(
                    "links",
                    Shape::Array {
                        items: &obj(&[
                            opt("if", Shape::StrOrBool),
                            opt("url", Shape::NonEmptyStr),
                            opt("entityRef", Shape::NonEmptyStr),
                            opt("title", Shape::NonEmptyStr),
                            opt("icon", Shape::NonEmptyStr),
                        ]),
                        min: 0,
                    },
                ),
                opt(
                    "text",
                    Shape::Array {
                        items: &obj(&[
                            opt("if", Shape::StrOrBool),
                            opt("title", Shape::NonEmptyStr),
                            opt("icon", Shape::NonEmptyStr),
                            opt("content", Shape::Str),
                        ]),
                        min: 0,
                    },
                ),
            ],
            rest: Some(&Shape::Str),
        },
    ),
];

/// The apiVersions every built-in kind's schema accepts.
const BACKSTAGE_VERSIONS: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];

/// A modelled kind: its exact spelling, accepted apiVersions and spec members.
pub(super) struct KindRule {
    /// The kind exactly as Backstage's schema spells it.
    pub kind: &'static str,
    /// The apiVersions its validator accepts.
    pub api_versions: &'static [&'static str],
    spec: &'static [Prop],
}

impl KindRule {
    /// The spec members for this entity: `API` with `spec.type: mcp-server` uses the MCP-server
    /// variant (remotes, no definition).
    fn spec_for(&self, spec: &Map<String, Value>) -> &'static [Prop] {
        let is_mcp = spec.get("type").and_then(Value::as_str) == Some("mcp-server");
        if self.kind == "API" && is_mcp {
            API_MCP_SERVER
        } else {
            self.spec
        }
    }
}

/// A built-in kind (`backstage.io/v1alpha1` or `v1beta1`).
const fn rule(kind: &'static str, spec: &'static [Prop]) -> KindRule {
    KindRule {
        kind,
        api_versions: BACKSTAGE_VERSIONS,
        spec,
    }
}

/// Every modelled kind, with the apiVersions Backstage's validator for it accepts.
const KINDS: &[KindRule] = &[
    rule("Component", COMPONENT),
    rule("API", API),
    rule("Resource", RESOURCE),
    rule("System", SYSTEM),
    rule("Domain", DOMAIN),
    rule("Group", GROUP),
    rule("User", USER),
    rule("Location", LOCATION),
    KindRule {
        kind: "Template",
        api_versions: &["scaffolder.backstage.io/v1beta3"],
        spec: TEMPLATE,
    },
];

/// The modelled kind `kind` names, compared case-insensitively.
pub(super) fn modelled_kind(kind: &str) -> Option<&'static KindRule> {
    KINDS.iter().find(|r| r.kind.eq_ignore_ascii_case(kind))
}

/// Checks kind, apiVersion and spec of a modelled kind; unknown kinds pass. Assumes the envelope
/// has been checked (a non-string kind or apiVersion is skipped here).
pub(super) fn check(root: &Map<String, Value>, out: &mut Vec<FieldError>) {
    let (Some(kind), Some(api_version)) = (
        root.get("kind").and_then(Value::as_str),
        root.get("apiVersion").and_then(Value::as_str),
    ) else {
        return;
    };
    let Some(rule) = modelled_kind(kind) else {
        return;
    };
    if rule.kind != kind {
        out.push(FieldError::new(
            "kind",
            format!(
                "kind \"{kind}\" is not recognized; kinds are case-sensitive, expected \"{}\"",
                rule.kind
            ),
        ));
        return;
    }
    if !super::names::is_valid_api_version(api_version) {
        return; // reported by the envelope check
    }
    if !rule.api_versions.contains(&api_version) {
        out.push(FieldError::new(
            "apiVersion",
            format!(
                "kind {kind} does not support apiVersion {}; expected one of {}",
                super::quote(api_version),
                rule.api_versions.join(", ")
            ),
        ));
        return;
    }
    match root.get("spec") {
        None => out.push(required_error("", "spec")),
        Some(Value::Object(spec)) => check_props(spec, rule.spec_for(spec), "spec", out),
        Some(_) => {} // not an object: reported by the envelope check
    }
}

/// Checks `value` at `path` against `shape`; returns whether it matched.
pub(super) fn check_shape(
    value: &Value,
    shape: &Shape,
    path: &str,
    out: &mut Vec<FieldError>,
) -> bool {
    let before = out.len();
    match (shape, value) {
        (Shape::Str, Value::String(_)) => {}
        (Shape::Str, v) => out.push(type_error(path, "a string", v)),
        (Shape::NonEmptyStr, Value::String(s)) if s.is_empty() => out.push(empty_error(path)),
        (Shape::NonEmptyStr, Value::String(_)) => {}
        (Shape::NonEmptyStr, v) => out.push(type_error(path, "a string", v)),
        (Shape::StrOrBool, Value::String(_) | Value::Bool(_)) => {}
        (Shape::StrOrBool, v) => out.push(type_error(path, "a string or a boolean", v)),
        (Shape::AnyObject, Value::Object(_)) => {}
        (Shape::AnyObject, v) => out.push(type_error(path, "an object", v)),
        (Shape::Enum(allowed), v) => {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                let expected = format!("one of {}", allowed.join(", "));
                out.push(type_error(path, &expected, v));
            }
        }
        (Shape::Const(c), v) => {
            if v.as_str() != Some(c) {
                out.push(type_error(path, &format!("\"{c}\""), v));
            }
        }
        (Shape::Array { items, min }, Value::Array(a)) => {
            if a.len() < *min {
                out.push(FieldError::new(
                    path,
                    format!(
                        "{} must NOT have fewer than {min} items but found {}",
                        super::subject(path),
                        a.len()
                    ),
                ));
            }
            for (i, v) in a.iter().enumerate() {
                check_shape(v, items, &item(path, i), out);
            }
        }
        (Shape::Array { .. }, v) => out.push(type_error(path, "an array", v)),
        (Shape::Object { props, rest }, Value::Object(m)) => {
            check_props(m, props, path, out);
            if let Some(rest) = rest {
                for (k, v) in m
                    .iter()
                    .filter(|(k, _)| !props.iter().any(|p| p.name == *k))
                {
                    check_shape(v, rest, &child(path, k), out);
                }
            }
        }
        (Shape::Object { .. }, v) => out.push(type_error(path, "an object", v)),
        (Shape::ObjectOrArrayOf(props), Value::Object(m)) => check_props(m, props, path, out),
        (Shape::ObjectOrArrayOf(props), Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                match v {
                    Value::Object(m) => check_props(m, props, &item(path, i), out),
                    v => out.push(type_error(&item(path, i), "an object", v)),
                }
            }
        }
        (Shape::ObjectOrArrayOf(_), v) => {
            out.push(type_error(path, "an object or an array of objects", v))
        }
    }
    out.len() == before
}

/// Checks the listed members of an object: required ones present, present ones well-shaped.
pub(super) fn check_props(
    map: &Map<String, Value>,
    props: &[Prop],
    path: &str,
    out: &mut Vec<FieldError>,
) {
    for prop in props {
        match map.get(prop.name) {
            Some(v) => {
                check_shape(v, &prop.shape, &child(path, prop.name), out);
            }
            None if prop.required => out.push(required_error(path, prop.name)),
            None => {}
        }
    }
}
