//! Label selectors (`app=cart,tier in (web,api),!canary`), parsed once into kube-rs'
//! [`kube::core::Selector`], so the selector sent to the API server and the one matched in
//! memory (cluster-wide watches, the pod panel's ownership check) are the same value.
//!
//! Hand-written because kube-core has the typed selector and its matching, but no parser from
//! the string form; this one follows apimachinery's `labels.Parse` grammar and rules: keys are
//! `[prefix/]name` (prefix a DNS-1123 subdomain, name at most 63 characters of `[A-Za-z0-9-_.]`
//! starting and ending alphanumeric), values the same or empty; operators `=`, `==`, `!=`,
//! `in`, `notin`, existence and `!` non-existence. `>`/`<` (node selectors only) are refused.
//! Bounded: at most [`MAX_LEN`] bytes and [`MAX_REQUIREMENTS`] requirements.

use std::collections::{BTreeMap, BTreeSet};

use kube::core::{Expression, Selector, SelectorExt as _};

use super::names::is_dns1123_subdomain;

/// Longest selector accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Most requirements in one selector.
pub const MAX_REQUIREMENTS: usize = 64;

/// Why a selector was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("label selector '{selector}' is not valid: {reason}")]
pub struct SelectorError {
    /// The selector (truncated to 200 characters).
    pub selector: String,
    /// What is wrong.
    pub reason: Problem,
}

/// What is wrong with a selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("longer than {MAX_LEN} bytes")]
    TooLong,
    #[error("more than {MAX_REQUIREMENTS} requirements")]
    TooManyRequirements,
    #[error("unexpected character '{0}' at byte {1}")]
    Character(char, usize),
    #[error("'{0}' is not a valid label key ([prefix/]name, name at most 63 characters of letters, digits, '-', '_' or '.')")]
    Key(String),
    #[error("'{0}' is not a valid label value (at most 63 characters of letters, digits, '-', '_' or '.', alphanumeric at both ends)")]
    Value(String),
    /// What the grammar wanted there, and what came (a token, or "the end").
    #[error("expected {0}, found {1}")]
    Expected(&'static str, String),
    /// What the grammar wanted there.
    #[error("expected {0}")]
    Missing(&'static str),
    #[error("a value set for in/notin cannot be empty")]
    EmptySet,
    /// The key, and what came after it.
    #[error("expected an operator after '{0}', found {1}")]
    Operator(String, String),
}

fn found(t: Option<&Token>) -> String {
    t.map_or_else(|| "the end".to_string(), |t| format!("{t:?}"))
}

/// A validated label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector {
    selector: Selector,
    text: String,
    terms: Vec<Term>,
}

/// A requirement an index by label can answer: the objects having label `key`, with one of
/// `values` (`=`, `==`, `in`), or with any value (`values` is `None`: existence). Negative
/// requirements (`!=`, `notin`, `!key`) are not terms: they are checked on the candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The label key.
    pub key: String,
    /// The values allowed, or any.
    pub values: Option<Vec<String>>,
}

impl LabelSelector {
    /// Parses a selector string ("" selects everything).
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let err = |reason: Problem| SelectorError {
            selector: s.chars().take(200).collect(),
            reason,
        };
        if s.len() > MAX_LEN {
            return Err(err(Problem::TooLong));
        }
        let tokens = lex(s).map_err(err)?;
        let exprs = Parser { tokens, pos: 0 }.selector().map_err(err)?;
        if exprs.len() > MAX_REQUIREMENTS {
            return Err(err(Problem::TooManyRequirements));
        }
        let terms = exprs
            .iter()
            .filter_map(|e| match e {
                Expression::Equal(k, v) => Some(Term {
                    key: k.clone(),
                    values: Some(vec![v.clone()]),
                }),
                Expression::In(k, set) => Some(Term {
                    key: k.clone(),
                    values: Some(set.iter().cloned().collect()),
                }),
                Expression::Exists(k) => Some(Term {
                    key: k.clone(),
                    values: None,
                }),
                _ => None,
            })
            .collect();
        let selector: Selector = exprs.into_iter().collect();
        let text = selector.to_string();
        Ok(Self {
            selector,
            text,
            terms,
        })
    }

    /// Whether these labels match.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.matches(labels)
    }

    /// The selector in its normal form, as sent to the API server ("" = everything).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The requirements an index by label can answer (every object matching the selector has
    /// each of them).
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// kube-rs' form.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }
}

impl std::fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Open,
    Close,
    Comma,
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn lex(s: &str) -> Result<Vec<Token>, Problem> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '=' => {
                if chars.peek().map(|(_, c)| *c) == Some('=') {
                    chars.next();
                    out.push(Token::DoubleEq);
                } else {
                    out.push(Token::Eq);
                }
            }
            '!' => {
                if chars.peek().map(|(_, c)| *c) == Some('=') {
                    chars.next();
                    out.push(Token::NotEq);
                } else {
                    out.push(Token::Not);
                }
            }
            c if ident_char(c) => {
                let mut end = i + c.len_utf8();
                while let Some((j, d)) = chars.peek().copied() {
                    if !ident_char(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                out.push(Token::Ident(s[i..end].to_string()));
            }
            other => return Err(Problem::Character(other, i)),
        }
    }
    Ok(out)
}

/// A label name or value part: at most 63 of `[A-Za-z0-9-_.]`, alphanumeric at both ends.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn check_key(k: &str) -> Result<(), Problem> {
    let ok = match k.split_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && is_qualified_name_part(name),
        None => is_qualified_name_part(k),
    };
    if ok {
        Ok(())
    } else {
        Err(Problem::Key(k.to_string()))
    }
}

fn check_value(v: &str) -> Result<(), Problem> {
    if v.is_empty() || is_qualified_name_part(v) {
        Ok(())
    } else {
        Err(Problem::Value(v.to_string()))
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn key(&mut self) -> Result<String, Problem> {
        match self.next() {
            Some(Token::Ident(k)) => {
                check_key(&k)?;
                Ok(k)
            }
            t => Err(Problem::Expected("a label key", found(t.as_ref()))),
        }
    }

    /// A value after `=`/`!=`: an identifier, or empty when a `,` or the end follows.
    fn value(&mut self) -> Result<String, Problem> {
        match self.peek() {
            Some(Token::Comma) | None => Ok(String::new()),
            Some(Token::Ident(_)) => match self.next() {
                Some(Token::Ident(v)) => {
                    check_value(&v)?;
                    Ok(v)
                }
                _ => Err(Problem::Missing("a value")),
            },
            t => Err(Problem::Expected("a value", found(t))),
        }
    }

    fn set(&mut self) -> Result<BTreeSet<String>, Problem> {
        if self.next() != Some(Token::Open) {
            return Err(Problem::Missing("'(' after in/notin"));
        }
        let mut values = BTreeSet::new();
        loop {
            let v = match self.peek() {
                Some(Token::Ident(_)) => self.value()?,
                Some(Token::Comma) | Some(Token::Close) => String::new(),
                _ => return Err(Problem::Missing("a value or ')'")),
            };
            values.insert(v);
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::Close) => break,
                _ => return Err(Problem::Missing("',' or ')' in a value set")),
            }
        }
        if values.len() == 1 && values.contains("") {
            return Err(Problem::EmptySet);
        }
        Ok(values)
    }

    fn requirement(&mut self) -> Result<Expression, Problem> {
        if self.peek() == Some(&Token::Not) {
            self.next();
            return Ok(Expression::DoesNotExist(self.key()?));
        }
        let key = self.key()?;
        match self.peek() {
            None | Some(Token::Comma) => Ok(Expression::Exists(key)),
            Some(Token::Eq) | Some(Token::DoubleEq) => {
                self.next();
                Ok(Expression::Equal(key, self.value()?))
            }
            Some(Token::NotEq) => {
                self.next();
                Ok(Expression::NotEqual(key, self.value()?))
            }
            Some(Token::Ident(op)) if op == "in" => {
                self.next();
                Ok(Expression::In(key, self.set()?))
            }
            Some(Token::Ident(op)) if op == "notin" => {
                self.next();
                Ok(Expression::NotIn(key, self.set()?))
            }
            t => Err(Problem::Operator(key.clone(), found(t))),
        }
    }

    fn selector(mut self) -> Result<Vec<Expression>, Problem> {
        let mut out = Vec::new();
        if self.tokens.is_empty() {
            return Ok(out);
        }
        loop {
            out.push(self.requirement()?);
            if out.len() > MAX_REQUIREMENTS {
                return Ok(out);
            }
            match self.next() {
                None => return Ok(out),
                Some(Token::Comma) => {}
                t => return Err(Problem::Expected("',' or the end", found(t.as_ref()))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_as_the_api_server_matches() {
        let l = labels(&[("app", "cart"), ("tier", "backend")]);
        for (sel, want) in [
            ("app=cart,tier=backend", true),
            ("app==cart", true),
            (" app = cart ", true),
            ("app=web", false),
            ("app!=web", true),
            ("missing!=x", true),
            ("app in (cart, web)", true),
            ("app notin (cart)", false),
            ("missing notin (cart)", true),
            ("tier", true),
            ("!tier", false),
            ("x", false),
            ("", true),
            ("backstage.io/kubernetes-id=cart", false),
        ] {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&l), want, "{sel}");
        }
    }

    #[test]
    fn malformed_selectors_are_refused() {
        for bad in [
            "app=cart&watch=true",
            "app=ca rt",
            "app=cart?x",
            "a=b,,c=d",
            "app in ()",
            "app in (a",
            "app >1",
            "app=-cart",
            "/app=x",
            "a/b/c=d",
            "=x",
            "app=cart)",
            "app in cart",
            &"a".repeat(64),
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
        let long = vec!["a=b"; MAX_REQUIREMENTS + 1].join(",");
        assert!(LabelSelector::parse(&long).is_err());
        assert!(LabelSelector::parse(&"a".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn the_normal_form_is_what_the_api_server_gets() {
        let s = LabelSelector::parse("app == cart, tier in (web,api)").expect("valid");
        assert_eq!(s.as_str(), "app=cart,tier in (api,web)");
    }

    fn key() -> impl Strategy<Value = String> {
        "([a-z0-9]{1,8}\\.)?[a-z0-9]{1,8}/[A-Za-z0-9]([A-Za-z0-9_.-]{0,10}[A-Za-z0-9])?|[A-Za-z0-9]{1,12}"
    }
    fn value() -> impl Strategy<Value = String> {
        "([A-Za-z0-9]([A-Za-z0-9_.-]{0,10}[A-Za-z0-9])?)?"
    }

    fn expression() -> impl Strategy<Value = Expression> {
        prop_oneof![
            (key(), value()).prop_map(|(k, v)| Expression::Equal(k, v)),
            (key(), value()).prop_map(|(k, v)| Expression::NotEqual(k, v)),
            key().prop_map(Expression::Exists),
            key().prop_map(Expression::DoesNotExist),
            (
                key(),
                proptest::collection::btree_set("[a-z0-9]{1,6}", 1..4)
            )
                .prop_map(|(k, v)| Expression::In(k, v)),
            (
                key(),
                proptest::collection::btree_set("[a-z0-9]{1,6}", 1..4)
            )
                .prop_map(|(k, v)| Expression::NotIn(k, v)),
        ]
    }

    proptest! {
        /// Parsing the printed form of any selector gives the same selector back.
        #[test]
        fn printed_selectors_parse_back(exprs in proptest::collection::vec(expression(), 0..6)) {
            let sel: Selector = exprs.into_iter().collect();
            let parsed = LabelSelector::parse(&sel.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.selector(), &sel);
        }

        /// No input panics, and an accepted selector's normal form carries no URL syntax.
        #[test]
        fn any_input_is_parsed_or_refused(s in "\\PC{0,60}") {
            if let Ok(sel) = LabelSelector::parse(&s) {
                prop_assert!(!sel.as_str().contains(['&', '?', '#', '%', '+']));
                prop_assert_eq!(LabelSelector::parse(sel.as_str()).map(|x| x.as_str().to_string()), Ok(sel.as_str().to_string()));
            }
        }
    }
}
