//! AsyncAPI 2.x and 3.x. No kept Rust crate models AsyncAPI (the crates on crates.io are
//! unmaintained code generators), so the document is read as YAML and walked here: servers,
//! channels (2.x `publish`/`subscribe`, 3.x `address` plus `operations`), and each message's
//! payload fields. Only local `$ref`s (`#/components/...`) are followed, a few hops deep;
//! nothing is fetched.

use app::wire::{ApiChannel, ApiInfo, AsyncApiDoc, RenderedDefinition, SchemaField, SchemaType};
use serde_yaml::Value;

use super::{cap, Rendered, MAX_FIELDS, MAX_ITEMS};

/// Most `$ref` hops followed from one place.
const MAX_HOPS: usize = 8;

pub(super) fn render(text: &str) -> Rendered {
    let doc: Value = serde_yaml::from_str(text)
        .map_err(|e| format!("The AsyncAPI definition could not be read: {e}"))?;
    let version = str_of(doc.get("asyncapi"))
        .ok_or("The AsyncAPI definition has no `asyncapi` version field")?
        .to_string();
    let info = doc.get("info");
    let servers = doc
        .get("servers")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(name, s)| {
                    let name = str_of(Some(name)).unwrap_or_default();
                    let protocol = str_of(s.get("protocol")).unwrap_or_default();
                    let at = str_of(s.get("url"))
                        .map(str::to_string)
                        .or_else(|| {
                            str_of(s.get("host")).map(|h| {
                                format!("{h}{}", str_of(s.get("pathname")).unwrap_or_default())
                            })
                        })
                        .unwrap_or_default();
                    format!("{name}: {at} ({protocol})")
                })
                .collect()
        })
        .unwrap_or_default();
    let mut notes = Vec::new();
    let mut channels: Vec<ApiChannel> = doc
        .get("channels")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .take(MAX_ITEMS + 1)
                .map(|(key, channel)| {
                    read_channel(&doc, str_of(Some(key)).unwrap_or_default(), channel)
                })
                .collect()
        })
        .unwrap_or_default();
    cap(&mut channels, MAX_ITEMS, "channels", &mut notes);
    // 3.x: operations name their channel by reference and carry the action.
    if let Some(ops) = doc.get("operations").and_then(Value::as_mapping) {
        for (_, op) in ops.iter().take(MAX_ITEMS) {
            let (Some(action), Some(target)) = (
                str_of(op.get("action")),
                op.get("channel").and_then(|c| str_of(c.get("$ref"))),
            ) else {
                continue;
            };
            let id = target.rsplit('/').next().unwrap_or(target);
            if let Some(c) = channels
                .iter_mut()
                .find(|c| c.name == id || c.name.ends_with(&format!("({id})")))
            {
                if !c.actions.iter().any(|a| a == action) {
                    c.actions.push(action.to_string());
                }
            }
        }
    }
    Ok((
        RenderedDefinition::AsyncApi(AsyncApiDoc {
            version,
            info: ApiInfo {
                title: str_of(info.and_then(|i| i.get("title")))
                    .unwrap_or_default()
                    .to_string(),
                version: str_of(info.and_then(|i| i.get("version")))
                    .unwrap_or_default()
                    .to_string(),
                description: str_of(info.and_then(|i| i.get("description"))).map(str::to_string),
                servers,
            },
            channels,
        }),
        notes,
    ))
}

fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// `value`, or what its local `$ref` points at (a few hops deep).
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..MAX_HOPS {
        let Some(target) = str_of(value.get("$ref")) else {
            return value;
        };
        let Some(pointer) = target.strip_prefix('#') else {
            return value;
        };
        let mut at = doc;
        for part in pointer.split('/').filter(|p| !p.is_empty()) {
            let part = part.replace("~1", "/").replace("~0", "~");
            match at.get(part.as_str()) {
                Some(next) => at = next,
                None => return value,
            }
        }
        value = at;
    }
    value
}

fn read_channel(doc: &Value, key: &str, channel: &Value) -> ApiChannel {
    let channel = resolve(doc, channel);
    let name = match str_of(channel.get("address")) {
        Some(address) if address != key => format!("{address} ({key})"),
        _ => key.to_string(),
    };
    let mut actions = Vec::new();
    let mut messages = Vec::new();
    for action in ["publish", "subscribe"] {
        if let Some(op) = channel.get(action) {
            actions.push(action.to_string());
            if let Some(m) = op.get("message") {
                collect_messages(doc, m, &mut messages);
            }
        }
    }
    if let Some(m) = channel.get("messages").and_then(Value::as_mapping) {
        for (id, message) in m.iter().take(MAX_FIELDS) {
            let mut found = Vec::new();
            collect_messages(doc, message, &mut found);
            for mut f in found {
                if f.name.is_empty() {
                    f.name = str_of(Some(id)).unwrap_or_default().to_string();
                }
                messages.push(f);
            }
        }
    }
    messages.truncate(MAX_FIELDS);
    ApiChannel {
        name,
        description: str_of(channel.get("description")).map(str::to_string),
        actions,
        messages,
    }
}

fn collect_messages(doc: &Value, message: &Value, out: &mut Vec<SchemaType>) {
    let ref_name = str_of(message.get("$ref")).and_then(|r| r.rsplit('/').next());
    let m = resolve(doc, message);
    if let Some(list) = m.get("oneOf").and_then(Value::as_sequence) {
        for one in list.iter().take(MAX_FIELDS) {
            if out.len() >= MAX_FIELDS {
                break;
            }
            // oneOf of oneOf is not followed further.
            let one = resolve(doc, one);
            if one.get("oneOf").is_none() {
                collect_messages(doc, one, out);
            }
        }
        return;
    }
    let name = str_of(m.get("name"))
        .or_else(|| str_of(m.get("title")))
        .or(ref_name)
        .unwrap_or_default()
        .to_string();
    let payload = m.get("payload").map(|p| resolve(doc, p));
    let mut fields: Vec<SchemaField> = Vec::new();
    if let Some(p) = payload {
        properties(doc, p, 0, &mut fields);
    }
    if fields.is_empty() {
        if let Some(p) = payload {
            fields.push(super::field("payload", type_text(doc, p, 0)));
        }
    }
    out.push(SchemaType {
        kind: "message".into(),
        name,
        description: str_of(m.get("summary"))
            .or_else(|| str_of(m.get("description")))
            .map(str::to_string),
        fields,
    });
}

/// The fields of an object schema, with those of every `allOf` member (as far as a few levels).
fn properties(doc: &Value, schema: &Value, depth: usize, out: &mut Vec<SchemaField>) {
    if depth > 3 || out.len() >= MAX_FIELDS {
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_sequence) {
        for member in all.iter().take(8) {
            properties(doc, resolve(doc, member), depth + 1, out);
        }
    }
    let Some(props) = schema.get("properties").and_then(Value::as_mapping) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_sequence)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (field, property) in props.iter().take(MAX_FIELDS - out.len()) {
        let field = str_of(Some(field)).unwrap_or_default();
        let resolved = resolve(doc, property);
        out.push(SchemaField {
            name: field.to_string(),
            place: String::new(),
            type_text: type_text(doc, property, 0),
            required: required.contains(&field),
            description: str_of(resolved.get("description")).map(str::to_string),
        });
    }
}

/// A JSON Schema's type for people (`string (date-time)`, `array of Item`).
fn type_text(doc: &Value, schema: &Value, depth: usize) -> String {
    if let Some(r) = str_of(schema.get("$ref")) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) if t == "array" && depth < 6 => match schema.get("items") {
            Some(items) => {
                let items = if items.get("$ref").is_some() {
                    items
                } else {
                    resolve(doc, items)
                };
                format!("array of {}", type_text(doc, items, depth + 1))
            }
            None => "array".into(),
        },
        Some(Value::String(t)) => t.clone(),
        Some(Value::Sequence(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    };
    match str_of(schema.get("format")) {
        Some(f) => format!("{base} ({f})"),
        None => base,
    }
}
