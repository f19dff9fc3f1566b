//! gRPC `.proto` source, highlighted. Hand-written: highlighting needs only a tokenizer
//! (comments, strings, numbers, words), and the kept options either parse and compile `.proto`
//! files (protox, far more than needed and with its own dependency tree) or ship large syntax
//! sets (syntect, without proto in its defaults). Unterminated strings and comments run to the
//! end of the line or text; nothing here can fail.

use app::wire::{RenderedDefinition, SourceToken, TokenClass};

const KEYWORDS: &[&str] = &[
    "syntax",
    "edition",
    "package",
    "import",
    "public",
    "weak",
    "option",
    "message",
    "enum",
    "service",
    "rpc",
    "returns",
    "stream",
    "oneof",
    "map",
    "repeated",
    "optional",
    "required",
    "reserved",
    "extensions",
    "extend",
    "to",
    "max",
    "group",
    "true",
    "false",
];

const TYPES: &[&str] = &[
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];

pub(super) fn render(text: &str) -> RenderedDefinition {
    let mut tokens: Vec<SourceToken> = Vec::new();
    let mut push = |class: TokenClass, s: &str| match tokens.last_mut() {
        Some(last) if last.class == class => last.text.push_str(s),
        _ => tokens.push(SourceToken {
            class,
            text: s.to_string(),
        }),
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    // After `message`, `enum`, `service`, `rpc` or `returns (`, the next word is a type name.
    let mut name_follows = false;
    while i < bytes.len() {
        let rest = &text[i..];
        let c = bytes[i];
        let len = if rest.starts_with("//") {
            let n = rest.find('\n').unwrap_or(rest.len());
            push(TokenClass::Comment, &rest[..n]);
            n
        } else if rest.starts_with("/*") {
            let n = rest[2..].find("*/").map_or(rest.len(), |e| e + 4);
            push(TokenClass::Comment, &rest[..n]);
            n
        } else if c == b'"' || c == b'\'' {
            let mut n = 1;
            let mut escaped = false;
            for ch in rest[1..].chars() {
                n += ch.len_utf8();
                if ch == '\n' || (!escaped && ch == c as char) {
                    break;
                }
                escaped = !escaped && ch == '\\';
            }
            push(TokenClass::Str, &rest[..n]);
            n
        } else if c.is_ascii_digit() {
            let n = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.'))
                .unwrap_or(rest.len());
            push(TokenClass::Number, &rest[..n]);
            n
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'.' {
            let n = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'))
                .unwrap_or(rest.len());
            let word = &rest[..n];
            let class = if KEYWORDS.contains(&word) {
                TokenClass::Keyword
            } else if TYPES.contains(&word)
                || name_follows
                || word.starts_with(|ch: char| ch.is_ascii_uppercase())
            {
                TokenClass::Type
            } else {
                TokenClass::Plain
            };
            name_follows = matches!(word, "message" | "enum" | "service" | "extend");
            push(class, word);
            n
        } else {
            let n = rest.chars().next().map_or(1, char::len_utf8);
            push(TokenClass::Plain, &rest[..n]);
            n
        };
        i += len.max(1);
    }
    RenderedDefinition::Source(tokens)
}
