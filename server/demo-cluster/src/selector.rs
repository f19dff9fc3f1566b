//! Label and field selectors, parsed and matched as kube-apiserver does.
//!
//! Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k`
//! (does not exist), joined by commas. Field selectors: `=`, `==`, `!=` on the fields the
//! resource supports (see [`FieldSelector::matches`]); an unsupported field is an error, like the
//! API server's `field label not supported`.

use serde_json::Value;

/// A selector string that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectorError {
    /// The label selector is malformed.
    #[error("unable to parse requirement: {0}")]
    Label(String),
    /// The field selector is malformed or names an unsupported field.
    #[error("{0}")]
    Field(String),
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    /// `key=value` / `key==value`.
    Equals(String, String),
    /// `key!=value`: true also when the key is absent.
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)`: true also when the key is absent.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    /// Parses the `labelSelector` query parameter.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in split_top_level(input) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part)?);
        }
        Ok(Self(reqs))
    }

    /// Whether an object with these labels matches.
    pub fn matches(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside `( )`.
fn split_top_level(input: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&input[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
    });
    name_ok && prefix_ok
}

fn valid_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

fn parse_requirement(part: &str) -> Result<Requirement, SelectorError> {
    let err = |why: &str| SelectorError::Label(format!("{part}: {why}"));
    let key_of = |k: &str| -> Result<String, SelectorError> {
        let k = k.trim();
        if valid_key(k) {
            Ok(k.to_string())
        } else {
            Err(err("invalid label key"))
        }
    };
    let value_of = |v: &str| -> Result<String, SelectorError> {
        let v = v.trim();
        if valid_value(v) {
            Ok(v.to_string())
        } else {
            Err(err("invalid label value"))
        }
    };
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key_of(k)?));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(key_of(k)?, value_of(v)?));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(Requirement::Equals(key_of(k)?, value_of(v)?));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(Requirement::Equals(key_of(k)?, value_of(v)?));
    }
    // Set-based: `key in (a,b)` / `key notin (a,b)`.
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let rest = words[1].trim_start();
        let (op, list) = if let Some(l) = rest.strip_prefix("notin") {
            ("notin", l)
        } else if let Some(l) = rest.strip_prefix("in") {
            ("in", l)
        } else {
            return Err(err("expected 'in' or 'notin'"));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| err("expected a parenthesised list of values"))?;
        if inner.trim().is_empty() {
            return Err(err(
                "for 'in', 'notin' operators, values set can't be empty",
            ));
        }
        let values = inner
            .split(',')
            .map(value_of)
            .collect::<Result<Vec<_>, _>>()?;
        let key = key_of(words[0])?;
        return Ok(if op == "in" {
            Requirement::In(key, values)
        } else {
            Requirement::NotIn(key, values)
        });
    }
    Ok(Requirement::Exists(key_of(part)?))
}

/// One `field=value` / `field!=value` term.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTerm {
    /// The field path, e.g. `status.phase`.
    pub field: String,
    /// The value compared with.
    pub value: String,
    /// `!=` instead of `=`.
    pub negated: bool,
}

/// A parsed field selector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(pub Vec<FieldTerm>);

impl FieldSelector {
    /// Parses `fieldSelector` for a resource; `supported` lists the fields it allows beyond
    /// `metadata.name` and `metadata.namespace`.
    pub fn parse(input: &str, supported: &[&str]) -> Result<Self, SelectorError> {
        let mut terms = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value, negated) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, false)
            } else {
                return Err(SelectorError::Field(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !["metadata.name", "metadata.namespace"].contains(&field)
                && !supported.contains(&field)
            {
                return Err(SelectorError::Field(format!(
                    "field label not supported: {field}"
                )));
            }
            terms.push(FieldTerm {
                field: field.to_string(),
                value: value.trim().to_string(),
                negated,
            });
        }
        Ok(Self(terms))
    }

    /// Whether the object matches every term (a missing field compares as "").
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|t| {
            let mut cur = object;
            for seg in t.field.split('.') {
                cur = cur.get(seg).unwrap_or(&Value::Null);
            }
            let actual = cur.as_str().unwrap_or("");
            (actual == t.value) != t.negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn every_operator_against_a_table() {
        let app =
            labels(json!({"app": "cart", "tier": "backend", "backstage.io/kubernetes-id": "x"}));
        let none = labels(json!({}));
        let cases: &[(&str, bool, bool)] = &[
            // selector, matches `app`, matches `none`
            ("", true, true),
            ("app=cart", true, false),
            ("app==cart", true, false),
            ("app=web", false, false),
            ("app!=web", true, true),
            ("app!=cart", false, true),
            ("app in (cart,web)", true, false),
            ("app in (web)", false, false),
            ("app notin (web)", true, true),
            ("app notin (cart, web)", false, true),
            ("tier", true, false),
            ("!tier", false, true),
            ("app=cart,tier=backend", true, false),
            ("app=cart,tier=frontend", false, false),
            ("app in (cart),!missing,tier", true, false),
            ("backstage.io/kubernetes-id=x", true, false),
            (" app = cart , tier in ( backend ) ", true, false),
        ];
        for (sel, want_app, want_none) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(Some(&app)), *want_app, "{sel} on app labels");
            assert_eq!(s.matches(Some(&none)), *want_none, "{sel} on no labels");
            assert_eq!(s.matches(None), *want_none, "{sel} on absent labels");
        }
    }

    #[test]
    fn malformed_selectors_are_errors() {
        for bad in [
            "app in cart",
            "app in ()",
            "-bad=x",
            "app=(x)",
            "a b c",
            "app=x y",
            "/x=1",
        ] {
            assert!(
                LabelSelector::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn field_selectors() {
        let pod =
            json!({"metadata": {"name": "p1", "namespace": "ns"}, "status": {"phase": "Running"}});
        let ok = |s: &str| FieldSelector::parse(s, &["status.phase"]).map(|f| f.matches(&pod));
        assert_eq!(ok("metadata.name=p1"), Ok(true));
        assert_eq!(ok("metadata.name==p2"), Ok(false));
        assert_eq!(ok("status.phase!=Running"), Ok(false));
        assert_eq!(ok("status.phase=Running,metadata.namespace=ns"), Ok(true));
        assert!(
            matches!(ok("spec.nodeName=x"), Err(SelectorError::Field(m)) if m.contains("not supported"))
        );
        assert!(ok("nonsense").is_err());
    }
}

/// Whether a pod (any object) matches a structured `LabelSelector` object
/// (`{matchLabels, matchExpressions}`), as workload selectors are written.
pub fn matches_object(selector: &Value, object: &Value) -> bool {
    let mut reqs = Vec::new();
    if let Some(ml) = selector["matchLabels"].as_object() {
        for (k, v) in ml {
            reqs.push(Requirement::Equals(
                k.clone(),
                v.as_str().unwrap_or("").to_string(),
            ));
        }
    }
    for e in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap_or("").to_string();
        let values: Vec<String> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        reqs.push(match e["operator"].as_str().unwrap_or("") {
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            _ => Requirement::DoesNotExist(key),
        });
    }
    LabelSelector(reqs).matches(object["metadata"]["labels"].as_object())
}
