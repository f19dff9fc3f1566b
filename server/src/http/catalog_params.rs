//! The query string of a `/api/catalog` request, checked as Backstage's catalog backend checks it
//! before any handler runs: its OpenAPI validator (express-openapi-validator with
//! `allowUnknownQueryParameters: false`, integers coerced from text, only the first error
//! reported), then its own parsing. Observed with catalog-backend 4.0.5 in node (the differential
//! harness, `end2end/compat`), and read in its dist: `schema/openapi/generated/router.cjs.js`
//! declares each route's parameters; the messages are the validator's (ajv's `errorsText` with
//! `dataVar: 'request'`).
//!
//! Hand-written: the rules are the validator's behaviour on this one API, not a general OpenAPI
//! validation (which would pull a schema engine into the binary for a dozen parameters).

/// Query parameters in order, repeated keys kept.
pub(super) struct Params(Vec<(String, String)>);

/// The parameters each route declares, in the schema's order (the order its type errors are
/// looked for).
pub(super) const ENTITIES: &[&str] = &["fields", "limit", "filter", "offset", "after", "order"];
pub(super) const BY_QUERY: &[&str] = &[
    "fields",
    "limit",
    "offset",
    "orderField",
    "cursor",
    "filter",
    "totalItems",
    "fullTextFilterTerm",
    "fullTextFilterFields",
];
pub(super) const BY_REFS: &[&str] = &["filter"];
pub(super) const FACETS: &[&str] = &["facet", "filter"];
pub(super) const NONE: &[&str] = &[];
/// `POST /locations` (its OpenAPI spec declares both).
pub(super) const CREATE_LOCATION: &[&str] = &["dryRun", "onConflict"];

/// The integer parameters (`minimum: 0`).
const INTEGERS: &[&str] = &["limit", "offset"];

impl Params {
    pub(super) fn parse(raw: Option<&str>) -> Self {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub(super) fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub(super) fn one(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub(super) fn pairs(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The validator's verdict for a route declaring `declared`: the first parameter (in URL
    /// order) that is not declared or, given once, is empty; then the first integer parameter
    /// (in schema order) that is not a non-negative integer. The message is Backstage's.
    pub(super) fn check(&self, declared: &[&str]) -> Result<(), String> {
        let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (key, _) in &self.0 {
            *counts.entry(key.as_str()).or_default() += 1;
        }
        for (key, value) in &self.0 {
            if !declared.contains(&key.as_str()) {
                return Err(format!("Unknown query parameter '{key}'"));
            }
            // A repeated key is an array, which the empty check does not look at.
            if value.is_empty() && counts.get(key.as_str()) == Some(&1) {
                return Err(format!("Empty value found for query parameter '{key}'"));
            }
        }
        for key in declared.iter().filter(|k| INTEGERS.contains(k)) {
            self.integer(key)?;
        }
        Ok(())
    }

    /// A `limit`/`offset` value as the validator coerces it (JavaScript's `Number(text)`,
    /// which accepts `0x10`, `1e1`, ` 2 `; a repeated key is an array, never an integer).
    pub(super) fn integer(&self, key: &str) -> Result<Option<usize>, String> {
        let values = self.all(key);
        let [value] = values.as_slice() else {
            return match values.len() {
                0 => Ok(None),
                _ => Err(format!("request/query/{key} must be integer")),
            };
        };
        match js_number(value) {
            Some(n) if n.fract() == 0.0 || n.is_infinite() => {
                if n < 0.0 {
                    Err(format!("request/query/{key} must be >= 0"))
                } else if n >= usize::MAX as f64 {
                    Ok(Some(usize::MAX))
                } else {
                    Ok(Some(n as usize))
                }
            }
            _ => Err(format!("request/query/{key} must be integer")),
        }
    }
}

/// JavaScript's `Number(text)` for the forms a query string can carry: surrounding whitespace
/// ignored, empty is 0, `0x`/`0o`/`0b` prefixes, decimal with exponent, `Infinity`.
fn js_number(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return Some(0.0);
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if t.len() > 2 && t.as_bytes()[..2].eq_ignore_ascii_case(prefix.as_bytes()) {
            let digits = &t[2..];
            // JavaScript takes digits only (no sign after the prefix).
            if !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            return u128::from_str_radix(digits, radix).ok().map(|v| v as f64);
        }
    }
    match t {
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // Rust also reads `inf`, `nan`, `infinity`; JavaScript does not.
    if t.bytes()
        .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    t.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, declared: &[&str]) -> Result<(), String> {
        Params::parse(Some(query)).check(declared)
    }

    // Each expectation is what catalog-backend 4.0.5 answered to the same query string
    // (end2end/compat and the research run recorded in its run.mjs cases).
    #[test]
    fn unknown_and_empty_parameters_are_refused_in_url_order() {
        assert_eq!(
            check("unknown=1", ENTITIES),
            Err("Unknown query parameter 'unknown'".into())
        );
        assert_eq!(
            check("limit=abc&unknown=1", ENTITIES),
            Err("Unknown query parameter 'unknown'".into())
        );
        assert_eq!(
            check("fields=", ENTITIES),
            Err("Empty value found for query parameter 'fields'".into())
        );
        assert_eq!(check("fields=&fields=", ENTITIES), Ok(()));
        assert_eq!(
            check("fields=x", BY_REFS),
            Err("Unknown query parameter 'fields'".into())
        );
    }

    #[test]
    fn integers_are_coerced_as_javascript_numbers() {
        let int = |q: &str| Params::parse(Some(q)).integer("limit");
        assert_eq!(int("limit=01"), Ok(Some(1)));
        assert_eq!(int("limit=%201"), Ok(Some(1)));
        assert_eq!(int("limit=1e1"), Ok(Some(10)));
        assert_eq!(int("limit=0x10"), Ok(Some(16)));
        assert_eq!(int("limit=2.0"), Ok(Some(2)));
        assert_eq!(int("limit=1e400"), Ok(Some(usize::MAX)));
        assert_eq!(int(""), Ok(None));
        for bad in [
            "limit=abc",
            "limit=1.5",
            "limit=true",
            "limit=1&limit=2",
            "limit=inf",
        ] {
            assert_eq!(
                int(bad),
                Err("request/query/limit must be integer".into()),
                "{bad}"
            );
        }
        assert_eq!(
            Params::parse(Some("offset=-1")).check(ENTITIES),
            Err("request/query/offset must be >= 0".into())
        );
    }
}
