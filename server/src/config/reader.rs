//! [`Config`]: a read-only view at some key prefix of the loaded config
//! layers, with Backstage `ConfigReader` lookup semantics.
//!
//! Layers are kept separate (one per file, plus the env layer on top) and
//! looked up highest priority first, exactly like Backstage's chain of
//! fallback readers:
//! - a key absent (or made undefined) in a layer falls through to lower ones;
//! - an explicit `null` stops the lookup: the key reads as absent;
//! - the first layer that has a value decides it whole, so arrays and
//!   scalars replace, while `get_optional_config` and `get_optional_value`
//!   merge objects across layers.
//!
//! Typed getters live in `getters.rs`.

use std::fmt;
use std::sync::Arc;

use super::error::ConfigError;
use super::keys;
use super::node::{from_json, Node, Origin, Value};
use super::transform::Dropped;

/// One config source: a file's transformed tree, or the env layer.
#[derive(Debug)]
pub(crate) struct Layer {
    /// File path, or `env` for the `APP_CONFIG_*` layer.
    pub(crate) name: String,
    pub(crate) root: Node,
}

/// What every view of one loaded config shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Lowest priority first.
    pub(crate) layers: Vec<Layer>,
    /// Values made undefined by unset variables.
    pub(crate) dropped: Vec<Dropped>,
    /// Names of all sources read (also those that contributed nothing).
    pub(crate) sources: Vec<String>,
}

/// A step from a layer's root to a view's base.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// One layer as seen by a view: the layer and the path to the view's base.
#[derive(Debug, Clone)]
pub(crate) struct ViewLayer {
    pub(crate) layer: usize,
    pub(crate) path: Vec<Step>,
}

/// Result of looking a key up in one layer.
pub(crate) enum Lookup<'a> {
    Undefined,
    Null(&'a Node),
    Value(&'a Node),
}

/// A read-only view of the merged configuration at some key prefix.
/// Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Config {
    pub(crate) shared: Arc<Shared>,
    /// Highest priority first.
    pub(crate) view: Vec<ViewLayer>,
    pub(crate) prefix: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("prefix", &self.prefix)
            .field("sources", &self.looked_in())
            .finish()
    }
}

impl Config {
    pub(crate) fn from_shared(shared: Shared) -> Config {
        let view = (0..shared.layers.len())
            .rev()
            .map(|layer| ViewLayer {
                layer,
                path: Vec::new(),
            })
            .collect();
        Config {
            shared: Arc::new(shared),
            view,
            prefix: String::new(),
        }
    }

    /// A config with no values at all.
    pub fn empty() -> Config {
        Config::from_json_layers(Vec::new())
    }

    /// A config made of in-memory JSON layers `(source name, value)`, lowest
    /// priority first (handy in tests, like Backstage's `new ConfigReader`).
    pub fn from_json_layers(layers: Vec<(String, serde_json::Value)>) -> Config {
        let sources = layers.iter().map(|(name, _)| name.clone()).collect();
        let layers = layers
            .into_iter()
            .map(|(name, value)| Layer {
                root: from_json(value, &Origin::from(name.as_str())),
                name,
            })
            .collect();
        Config::from_shared(Shared {
            layers,
            dropped: Vec::new(),
            sources,
        })
    }

    /// An error for the value at `key`: right type, unacceptable value, `reason` naming it.
    /// The message names the full key and the file (or variable) the value came from — for a
    /// key that is missing, the file of the object that should hold it.
    pub fn invalid_value(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::InvalidValue {
            key: self.full_key(key),
            origin: self
                .source_of(key)
                .or_else(|| self.source_of(""))
                .unwrap_or_else(|| "<unknown>".into()),
            reason: reason.into(),
        }
    }

    /// Full dotted key of `key` relative to this view, e.g.
    /// `kubernetes.clusterLocatorMethods[0].clusters[1].url`.
    pub fn full_key(&self, key: &str) -> String {
        if key.is_empty() {
            self.prefix.clone()
        } else {
            keys::join(&self.prefix, key)
        }
    }

    /// Whether `key` has a value (not absent, not null) in any layer.
    /// Invalid keys and type conflicts on the way count as "no".
    pub fn has(&self, key: &str) -> bool {
        let Ok(parts) = self.parts(key) else {
            return false;
        };
        for vl in &self.view {
            match self.read(vl, &parts) {
                Ok(Lookup::Undefined) => continue,
                Ok(Lookup::Value(_)) => return true,
                Ok(Lookup::Null(_)) | Err(_) => return false,
            }
        }
        false
    }

    /// Keys of this view's object, highest-priority layer's first, without
    /// keys the top layer sets to null.
    pub fn keys(&self) -> Vec<String> {
        self.keys_from(0)
    }

    fn keys_from(&self, index: usize) -> Vec<String> {
        let Some(node) = self.view.get(index).and_then(|vl| self.base(vl)) else {
            return Vec::new();
        };
        let local: &[(String, Node)] = match &node.value {
            Value::Object(entries) => entries,
            _ => &[],
        };
        let mut out: Vec<String> = local.iter().map(|(k, _)| k.clone()).collect();
        for k in self.keys_from(index + 1) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out.retain(|k| {
            !matches!(
                node.get(k),
                Some(Node {
                    value: Value::Null,
                    ..
                })
            )
        });
        out
    }

    /// Where the value at `key` came from: a file path, or
    /// `env APP_CONFIG_x`; `None` when absent.
    pub fn source_of(&self, key: &str) -> Option<String> {
        let parts = self.parts(key).ok()?;
        for vl in &self.view {
            match self.read(vl, &parts).ok()? {
                Lookup::Undefined => continue,
                Lookup::Null(n) | Lookup::Value(n) => return Some(n.origin.to_string()),
            }
        }
        None
    }

    /// Raw JSON of the value at `key` (`""` for this whole view), objects
    /// merged across layers and nulls removed; `None` when absent or on a
    /// type conflict (see [`Config::try_get_optional_value`]).
    pub fn get_optional_value(&self, key: &str) -> Option<serde_json::Value> {
        self.try_get_optional_value(key).ok().flatten()
    }

    /// Like [`Config::get_optional_value`], but reports invalid keys and
    /// type conflicts on the way.
    pub fn try_get_optional_value(
        &self,
        key: &str,
    ) -> Result<Option<serde_json::Value>, ConfigError> {
        let parts = self.parts(key)?;
        let lookups = self
            .view
            .iter()
            .map(|vl| self.read(vl, &parts))
            .collect::<Result<Vec<_>, _>>()?;
        let mut acc = None;
        for lookup in lookups.into_iter().rev() {
            acc = match lookup {
                Lookup::Undefined => acc,
                Lookup::Null(_) => None,
                Lookup::Value(node) => node.merge_json(acc),
            };
        }
        Ok(acc)
    }

    /// Source names of this view's layers, lowest priority first.
    pub(crate) fn looked_in(&self) -> Vec<String> {
        if self.view.is_empty() {
            return self.shared.sources.clone();
        }
        let mut out: Vec<String> = Vec::new();
        for vl in self.view.iter().rev() {
            if let Some(layer) = self.shared.layers.get(vl.layer) {
                if !out.contains(&layer.name) {
                    out.push(layer.name.clone());
                }
            }
        }
        out
    }

    /// The error for a required value that is absent, saying so when an
    /// unset variable is why.
    pub(crate) fn missing(&self, key: &str) -> ConfigError {
        let full = self.full_key(key);
        match self.shared.dropped.iter().find(|d| d.key == full) {
            Some(d) => ConfigError::MissingUnsetVariable {
                key: full,
                variables: d.variables.clone(),
                file: d.file.clone(),
            },
            None => ConfigError::Missing {
                key: full,
                looked_in: self.looked_in(),
            },
        }
    }

    /// A type error for the value `node` found at `key`.
    pub(crate) fn type_error(&self, key: &str, node: &Node, wanted: &str) -> ConfigError {
        ConfigError::InvalidType {
            key: self.full_key(key),
            origin: node.origin.to_string(),
            got: node.type_name().to_string(),
            wanted: wanted.to_string(),
        }
    }

    pub(crate) fn parts<'k>(&self, key: &'k str) -> Result<Vec<&'k str>, ConfigError> {
        keys::split(key).ok_or_else(|| ConfigError::InvalidKey {
            key: key.to_string(),
        })
    }

    /// The node at a view layer's base.
    pub(crate) fn base(&self, vl: &ViewLayer) -> Option<&Node> {
        let mut node = &self.shared.layers.get(vl.layer)?.root;
        for step in &vl.path {
            node = match (step, &node.value) {
                (Step::Key(k), _) => node.get(k)?,
                (Step::Index(i), Value::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Backstage's `readValue` in one layer.
    pub(crate) fn read<'s>(
        &'s self,
        vl: &ViewLayer,
        parts: &[&str],
    ) -> Result<Lookup<'s>, ConfigError> {
        let Some(mut node) = self.base(vl) else {
            return Ok(Lookup::Undefined);
        };
        for (i, part) in parts.iter().enumerate() {
            node = match &node.value {
                Value::Object(_) => match node.get(part) {
                    Some(child) => child,
                    None => return Ok(Lookup::Undefined),
                },
                Value::Null => return Ok(Lookup::Null(node)),
                _ => return Err(self.type_error(&parts[..i].join("."), node, "object")),
            };
        }
        Ok(match node.value {
            Value::Null => Lookup::Null(node),
            _ => Lookup::Value(node),
        })
    }

    /// The first layer's value for `key`, top down: `None` when absent or
    /// explicitly null.
    pub(crate) fn find(&self, key: &str) -> Result<Option<(&ViewLayer, &Node)>, ConfigError> {
        let parts = self.parts(key)?;
        for vl in &self.view {
            match self.read(vl, &parts)? {
                Lookup::Undefined => continue,
                Lookup::Null(_) => return Ok(None),
                Lookup::Value(node) => return Ok(Some((vl, node))),
            }
        }
        Ok(None)
    }

    /// A view of `key` below `vl`'s base.
    pub(crate) fn child_layer(vl: &ViewLayer, parts: &[&str]) -> ViewLayer {
        let mut path = vl.path.clone();
        path.extend(parts.iter().map(|p| Step::Key(p.to_string())));
        ViewLayer {
            layer: vl.layer,
            path,
        }
    }
}
