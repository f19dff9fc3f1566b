//! Format checks for single values: the rules of Backstage's `KubernetesValidatorFunctions`,
//! `CommonValidatorFunctions` and `makeValidator` (`@backstage/catalog-model`), written as small
//! hand-rolled matchers instead of regular expressions.
//!
//! Owns: what a valid apiVersion, kind, entity name, namespace, label/annotation key and value,
//! tag, link URL and non-empty string look like, and the "expected ..." wording Backstage's
//! `FieldFormatEntityPolicy` uses for each. Does not own: where those values sit in an entity or
//! how errors are reported (see `envelope` and `kinds`).
//!
//! Lengths are counted like JavaScript's `String.length` would count them; every rule that
//! limits length also limits the alphabet to ASCII, so counting bytes gives the same answer.

/// Expectation text for entity names and label values.
pub const EXPECT_OBJECT_NAME: &str = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total";
/// Expectation text for apiVersion, label keys and annotation keys.
pub const EXPECT_PREFIX_SUFFIX: &str = "a valid prefix and/or suffix";
/// Expectation text for namespaces (DNS labels).
pub const EXPECT_DNS_LABEL: &str =
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total";
/// Expectation text for tags.
pub const EXPECT_TAG: &str =
    "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total";
/// Expectation text for kinds.
pub const EXPECT_KIND: &str =
    "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total";
/// Expectation text for link URLs.
pub const EXPECT_URL: &str = "a string that is a valid url";
/// Expectation text for link titles and icons.
pub const EXPECT_NON_EMPTY: &str = "a non empty string";

/// Splits `value` on `/` into an optional prefix and a suffix and checks each part; more than
/// one `/` is invalid (Backstage's `isValidPrefixAndOrSuffix`).
fn is_valid_prefix_and_or_suffix(
    value: &str,
    prefix_ok: fn(&str) -> bool,
    suffix_ok: fn(&str) -> bool,
) -> bool {
    let mut parts = value.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(suffix), None, None) => suffix_ok(suffix),
        (Some(prefix), Some(suffix), None) => prefix_ok(prefix) && suffix_ok(suffix),
        _ => false,
    }
}

/// An RFC 1123 DNS label: 1–63 of `[a-z0-9]`, with runs of `-` allowed only between them.
pub fn is_valid_dns_label(value: &str) -> bool {
    let b = value.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len())
        && b.iter().all(|c| alnum(c) || *c == b'-')
        && b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
}

/// An RFC 1123 DNS subdomain: at most 253 characters of dot-separated DNS labels.
pub fn is_valid_dns_subdomain(value: &str) -> bool {
    (1..=253).contains(&value.len()) && value.split('.').all(is_valid_dns_label)
}

/// `metadata.name` (and label values, and the name part of label/annotation keys): 1–63
/// characters of `[A-Za-z0-9-_.]`, starting and ending with `[A-Za-z0-9]`. Runs of separators
/// are allowed (`a--b`, `a._b`), exactly as Backstage's pattern allows them.
pub fn is_valid_object_name(value: &str) -> bool {
    let b = value.as_bytes();
    let sep = |c: &u8| matches!(c, b'-' | b'_' | b'.');
    (1..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || sep(c))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// `apiVersion`: `version` or `group/version`, where the group is a DNS subdomain and the
/// version is 1–63 of `[a-zA-Z0-9]` (e.g. `backstage.io/v1alpha1`, `v1`).
pub fn is_valid_api_version(value: &str) -> bool {
    is_valid_prefix_and_or_suffix(value, is_valid_dns_subdomain, |v| {
        (1..=63).contains(&v.len()) && v.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

/// `kind`: 1–63 characters, a letter followed by letters and digits.
pub fn is_valid_kind(value: &str) -> bool {
    let b = value.as_bytes();
    (1..=63).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter().all(u8::is_ascii_alphanumeric)
}

/// `metadata.namespace`: a DNS label.
pub fn is_valid_namespace(value: &str) -> bool {
    is_valid_dns_label(value)
}

/// A label key: `name` or `dns.subdomain/name`, the name following [`is_valid_object_name`].
pub fn is_valid_label_key(value: &str) -> bool {
    is_valid_prefix_and_or_suffix(value, is_valid_dns_subdomain, is_valid_object_name)
}

/// A label value: empty, or following [`is_valid_object_name`].
pub fn is_valid_label_value(value: &str) -> bool {
    value.is_empty() || is_valid_object_name(value)
}

/// An annotation key: same rule as [`is_valid_label_key`].
pub fn is_valid_annotation_key(value: &str) -> bool {
    is_valid_label_key(value)
}

/// An annotation value: any string (including empty).
pub fn is_valid_annotation_value(value: &serde_json::Value) -> bool {
    value.is_string()
}

/// A tag (the catalog's default `isValidTag`, which also allows `:`): 1–63 characters,
/// runs of `[a-z0-9:+#]` separated by single `-`.
pub fn is_valid_tag(value: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#')
            })
    };
    (1..=63).contains(&value.len()) && value.split('-').all(part_ok)
}

/// JavaScript's `String.prototype.trim` whitespace: Unicode `White_Space` minus U+0085, plus
/// U+FEFF.
fn is_js_whitespace(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// A string with something other than whitespace in it (Backstage's `isNonEmptyString`).
pub fn is_non_empty_string(value: &str) -> bool {
    !value.trim_matches(is_js_whitespace).is_empty()
}

/// Whether `value` is an absolute URL that the WHATWG URL parser (JavaScript's `new URL`, which
/// Backstage's `isValidUrl` uses) accepts. A hand-written subset of that parser: a scheme is
/// required; `http`, `https`, `ws`, `wss` and `ftp` need a host that, percent-decoded, is UTF-8
/// without forbidden domain characters, whitespace or controls, a valid IPv4 address if its
/// last label is numeric, or a bracketed IPv6 address, and a port of at most 65535; other
/// schemes accept anything but a malformed `//authority`. Full IDNA mapping is not done (only
/// the code points IDNA ignores are dropped), and `file:` URLs are always accepted.
pub fn is_valid_url(value: &str) -> bool {
    // The WHATWG parser trims C0 controls and spaces and drops tabs and newlines.
    let cleaned: String = value
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let Some((scheme, rest)) = cleaned.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" | "ws" | "wss" | "ftp" => {
            let after = rest.trim_start_matches(['/', '\\']);
            let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
            authority_ok(&after[..end], true)
        }
        "file" => true,
        _ => match rest.strip_prefix("//") {
            Some(after) => {
                let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                authority_ok(&after[..end], false)
            }
            None => true,
        },
    }
}

/// Checks `[userinfo@]host[:port]` of a URL; `special` hosts must be non-empty domains or IPs.
fn authority_ok(authority: &str, special: bool) -> bool {
    let host_port = match authority.rsplit_once('@') {
        Some((_, "")) => return false, // credentials without a host
        Some((_, h)) => h,
        None => authority,
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let Some((inside, after)) = v6.split_once(']') else {
                return false;
            };
            if !is_valid_ipv6(inside) {
                return false;
            }
            match after {
                "" => (None, None),
                _ => match after.strip_prefix(':') {
                    Some(p) => (None, Some(p)),
                    None => return false,
                },
            }
        }
        None => match host_port.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(host_port), None),
        },
    };
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|c| c.is_ascii_digit())
            && p.trim_start_matches('0').len() <= 5
            && p.parse::<u32>().map_or(p.is_empty(), |n| n <= 65535)
    });
    match host {
        _ if !port_ok => false,
        None => true, // a bracketed IPv6 address
        Some("") => !special && port.is_none(),
        Some(h) if special => domain_ok(h),
        // Opaque hosts of other schemes only exclude the forbidden host code points.
        Some(h) => !h.chars().any(|c| {
            matches!(
                c,
                '\0' | '\t'
                    | '\n'
                    | '\r'
                    | ' '
                    | '#'
                    | '/'
                    | ':'
                    | '<'
                    | '>'
                    | '?'
                    | '@'
                    | '['
                    | '\\'
                    | ']'
                    | '^'
                    | '|'
            )
        }),
    }
}

/// The host of an `http`-like URL: percent-decoded it must be UTF-8, free of forbidden domain
/// code points, whitespace and controls (after dropping the code points IDNA ignores), not
/// empty, and a valid IPv4 address if it ends in a number.
fn domain_ok(host: &str) -> bool {
    let mut bytes = Vec::with_capacity(host.len());
    let raw = host.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match (raw[i], hex.and_then(|h| std::str::from_utf8(h).ok())) {
            (b'%', Some(h)) => {
                bytes.push(u8::from_str_radix(h, 16).unwrap_or(0));
                i += 3;
            }
            (b, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let Ok(decoded) = String::from_utf8(bytes) else {
        return false;
    };
    let ignored = |c: &char| {
        matches!(
            c,
            '\u{ad}' | '\u{34f}' | '\u{200b}' | '\u{2060}' | '\u{feff}'
        ) || ('\u{180b}'..='\u{180d}').contains(c)
            || ('\u{fe00}'..='\u{fe0f}').contains(c)
    };
    let domain: String = decoded.chars().filter(|c| !ignored(c)).collect();
    let forbidden = |c: char| {
        c.is_control()
            || c.is_whitespace()
            || matches!(
                c,
                '#' | '%' | '/' | ':' | '<' | '>' | '?' | '@' | '[' | '\\' | ']' | '^' | '|'
            )
    };
    !domain.is_empty() && !domain.chars().any(forbidden) && ipv4_ok_if_numeric(&domain)
}

/// The inside of `[...]` in a URL: up to eight groups of 1–4 hex digits separated by `:`, at
/// most one `::`, optionally ending in a dotted IPv4 address (four decimal parts, no leading
/// zeros).
fn is_valid_ipv6(s: &str) -> bool {
    let ipv4 = |p: &str| {
        let parts: Vec<&str> = p.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|d| {
                (1..=3).contains(&d.len())
                    && d.bytes().all(|c| c.is_ascii_digit())
                    && !(d.len() > 1 && d.starts_with('0'))
                    && d.parse::<u16>().is_ok_and(|n| n <= 255)
            })
    };
    // Number of 16-bit pieces in one side of `::`, or None if malformed.
    let pieces = |side: &str, v4_allowed: bool| -> Option<usize> {
        if side.is_empty() {
            return Some(0);
        }
        let groups: Vec<&str> = side.split(':').collect();
        let mut n = 0;
        for (i, g) in groups.iter().enumerate() {
            if v4_allowed && i + 1 == groups.len() && g.contains('.') {
                n += if ipv4(g) { 2 } else { return None };
            } else if (1..=4).contains(&g.len()) && g.bytes().all(|c| c.is_ascii_hexdigit()) {
                n += 1;
            } else {
                return None;
            }
        }
        Some(n)
    };
    match s.split_once("::") {
        Some((head, tail)) => {
            !tail.contains("::")
                && matches!((pieces(head, false), pieces(tail, true)), (Some(h), Some(t)) if h + t <= 7)
        }
        None => pieces(s, true) == Some(8),
    }
}

/// When the last label of a special URL's host looks numeric, the whole host must parse as an
/// IPv4 address the way the WHATWG parser reads them (decimal, `0x` hex or leading-zero octal
/// parts; up to four parts; the last part fills the remaining bytes).
fn ipv4_ok_if_numeric(host: &str) -> bool {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let parse_part = |p: &str| -> Option<u64> {
        if p.is_empty() {
            return None;
        }
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or(p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (p, 10)
        };
        if digits.is_empty() {
            return Some(0);
        }
        if digits.len() > 12 {
            return Some(u64::MAX);
        }
        // from_str_radix alone would accept a leading `+`.
        let all_digits = digits.chars().all(|c| c.is_digit(radix));
        all_digits
            .then(|| u64::from_str_radix(digits, radix).ok())
            .flatten()
    };
    let last = trimmed.rsplit('.').next().unwrap_or(trimmed);
    let looks_numeric = !last.is_empty()
        && (last.bytes().all(|c| c.is_ascii_digit())
            || last
                .strip_prefix("0x")
                .or(last.strip_prefix("0X"))
                .is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())));
    if !looks_numeric {
        return true;
    }
    let parts: Vec<&str> = trimmed.split('.').collect();
    if parts.len() > 4 {
        return false;
    }
    let Some(numbers) = parts
        .iter()
        .map(|p| parse_part(p))
        .collect::<Option<Vec<u64>>>()
    else {
        return false;
    };
    let (last_n, init) = match numbers.split_last() {
        Some(split) => split,
        None => return false,
    };
    let remaining_bytes = 5 - numbers.len() as u32;
    init.iter().all(|n| *n <= 255) && *last_n < 256u64.pow(remaining_bytes)
}
