//! String-to-number and string-to-boolean conversion with the rules of
//! Backstage's `ConfigReader` (`Number(value)` and the yes/no regexes), so
//! `"8080"` reads as a number and `"yes"`/`"off"` as booleans.

use super::substitute::js_trim;

/// JavaScript's `Number(string)`: trims white space; "" is 0; accepts
/// decimal (`+1.5e3`, `.5`, `5.`), `0x`/`0o`/`0b` integers and `Infinity`.
/// `None` where JavaScript gives `NaN`.
pub(crate) fn js_number(s: &str) -> Option<f64> {
    let t = js_trim(s);
    if t.is_empty() {
        return Some(0.0);
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => Some(16),
        Some("0o" | "0O") => Some(8),
        Some("0b" | "0B") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = &t[2..];
        if digits.is_empty() {
            return None;
        }
        let mut value = 0f64;
        for c in digits.chars() {
            value = value * f64::from(radix) + f64::from(c.to_digit(radix)?);
        }
        return Some(value);
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return Some(if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    // Rust's parser also takes "inf"/"nan"; JavaScript's only digits.
    if !unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Backstage's boolean strings: `y|yes|true|1|on` and `n|no|false|0|off`,
/// case-insensitive, after trimming.
pub(crate) fn js_bool(s: &str) -> Option<bool> {
    let t = js_trim(s).to_ascii_lowercase();
    match t.as_str() {
        "y" | "yes" | "true" | "1" | "on" => Some(true),
        "n" | "no" | "false" | "0" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_javascript() {
        let cases: [(&str, Option<f64>); 20] = [
            ("8080", Some(8080.0)),
            ("  42\n", Some(42.0)),
            ("-1.5", Some(-1.5)),
            ("+3", Some(3.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("1e3", Some(1000.0)),
            ("1E-2", Some(0.01)),
            ("0x1F", Some(31.0)),
            ("0o17", Some(15.0)),
            ("0b101", Some(5.0)),
            ("", Some(0.0)),
            ("Infinity", Some(f64::INFINITY)),
            ("abc", None),
            ("12px", None),
            ("inf", None),
            ("NaN", None),
            ("0x", None),
            ("-0x10", None),
            ("1_000", None),
        ];
        for (input, want) in cases {
            assert_eq!(js_number(input), want, "Number({input:?})");
        }
        assert_eq!(js_number("."), None);
        assert_eq!(js_number("e5"), None);
    }

    #[test]
    fn booleans_like_backstage() {
        for t in ["true", "TRUE", " yes ", "y", "1", "on", "On"] {
            assert_eq!(js_bool(t), Some(true), "{t}");
        }
        for f in ["false", "No", "n", "0", "off", "OFF "] {
            assert_eq!(js_bool(f), Some(false), "{f}");
        }
        for bad in ["", "2", "truthy", "nope"] {
            assert_eq!(js_bool(bad), None, "{bad}");
        }
    }
}
