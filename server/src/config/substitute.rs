//! `${VAR}` substitution in string values, as Backstage's substitution
//! transform does it.
//!
//! - Placeholders are `${...}` with no `{` or `}` inside; `$${...}` is an
//!   escape that yields the literal `${...}`.
//! - Variable values are trimmed; names and defaults are trimmed too.
//! - `${VAR}` with VAR set to the empty string substitutes "".
//! - `${VAR:-default}` uses the default when VAR is unset *or empty*; if the
//!   default is empty as well the placeholder is undefined.
//! - If any placeholder of a string is undefined, the whole string is
//!   undefined (the key is dropped and lower-priority config shows through).

use std::collections::HashMap;

/// Substitutes every placeholder of `input`. `Err` lists the variables that
/// made the value undefined.
pub(crate) fn substitute(
    input: &str,
    env: &HashMap<String, String>,
) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(input.len());
    let mut unset = Vec::new();
    let mut pos = 0;
    while let Some((start, end, escaped)) = find_placeholder(input, pos) {
        out.push_str(&input[pos..start]);
        let part = &input[start..end];
        if escaped {
            out.push_str(&part[1..]);
        } else {
            let inner = &part[2..part.len() - 1];
            match inner.find(":-") {
                Some(sep) => {
                    let name = js_trim(&inner[..sep]);
                    let fallback = js_trim(&inner[sep + 2..]);
                    match lookup(env, name) {
                        Some(v) if !v.is_empty() => out.push_str(v),
                        _ if !fallback.is_empty() => out.push_str(fallback),
                        _ => unset.push(name.to_string()),
                    }
                }
                None => {
                    let name = js_trim(inner);
                    match lookup(env, name) {
                        Some(v) => out.push_str(v),
                        None => unset.push(name.to_string()),
                    }
                }
            }
        }
        pos = end;
    }
    out.push_str(&input[pos..]);
    if unset.is_empty() {
        Ok(out)
    } else {
        Err(unset)
    }
}

/// The process-env lookup Backstage uses: the value, trimmed.
fn lookup<'a>(env: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| js_trim(v))
}

/// JavaScript's `String.prototype.trim` (Unicode white space plus BOM).
pub(crate) fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Leftmost match of `/\$?\$\{[^{}]*\}/` at or after `from`:
/// `(start, end, escaped)`.
fn find_placeholder(s: &str, from: usize) -> Option<(usize, usize, bool)> {
    let b = s.as_bytes();
    let close = |open: usize| -> Option<usize> {
        for (j, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'}' => return Some(j + 1),
                b'{' => return None,
                _ => {}
            }
        }
        None
    };
    for i in from..b.len() {
        if b[i] != b'$' {
            continue;
        }
        if b.get(i + 1) == Some(&b'$') && b.get(i + 2) == Some(&b'{') {
            if let Some(end) = close(i + 3) {
                return Some((i, end, true));
            }
        }
        if b.get(i + 1) == Some(&b'{') {
            if let Some(end) = close(i + 2) {
                return Some((i, end, false));
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::config::tests::env;

    fn ok(input: &str, e: &HashMap<String, String>) -> String {
        substitute(input, e).expect("substitution should succeed")
    }

    #[test]
    fn plain_strings_are_unchanged() {
        let e = env(&[]);
        assert_eq!(ok("hello $ world {x} $x {}", &e), "hello $ world {x} $x {}");
    }

    #[test]
    fn substitutes_and_trims_values_and_names() {
        let e = env(&[("HOST", "  example.com \n"), ("PORT", "80")]);
        assert_eq!(
            ok("http://${HOST}:${ PORT }/", &e),
            "http://example.com:80/"
        );
    }

    #[test]
    fn unset_variable_makes_whole_value_undefined() {
        let e = env(&[("A", "x")]);
        assert_eq!(
            substitute("${A}-${B}-${C}", &e),
            Err(vec!["B".to_string(), "C".to_string()])
        );
    }

    #[test]
    fn empty_value_substitutes_empty_string() {
        let e = env(&[("EMPTY", "  ")]);
        assert_eq!(ok("a${EMPTY}b", &e), "ab");
    }

    #[test]
    fn fallback_used_when_unset_or_empty() {
        let e = env(&[("EMPTY", ""), ("SET", "v")]);
        assert_eq!(ok("${UNSET:-dflt}", &e), "dflt");
        assert_eq!(ok("${EMPTY:- dflt }", &e), "dflt");
        assert_eq!(ok("${SET:-dflt}", &e), "v");
        assert_eq!(ok("${UNSET:-a b}", &e), "a b");
    }

    #[test]
    fn empty_fallback_is_undefined() {
        let e = env(&[("EMPTY", "")]);
        assert_eq!(substitute("${UNSET:-}", &e), Err(vec!["UNSET".to_string()]));
        assert_eq!(substitute("${EMPTY:-}", &e), Err(vec!["EMPTY".to_string()]));
    }

    #[test]
    fn double_dollar_escapes() {
        let e = env(&[("A", "x")]);
        assert_eq!(ok("$${A}", &e), "${A}");
        assert_eq!(ok("$${UNSET} ${A}", &e), "${UNSET} x");
        assert_eq!(ok("$$${A}", &e), "$${A}");
        assert_eq!(ok("$$A", &e), "$$A");
    }

    #[test]
    fn braces_inside_are_not_placeholders() {
        let e = env(&[]);
        assert_eq!(ok("${a{b}}", &e), "${a{b}}");
        assert_eq!(ok("${unterminated", &e), "${unterminated");
    }

    #[test]
    fn empty_placeholder_is_undefined() {
        assert_eq!(substitute("${}", &env(&[])), Err(vec![String::new()]));
    }

    #[test]
    fn unicode_around_placeholders() {
        let e = env(&[("A", "ü")]);
        assert_eq!(ok("é${A}ß", &e), "éüß");
    }
}
