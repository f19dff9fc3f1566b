//! The load pipeline: pick the files, read and parse each, run the
//! transforms, add the `APP_CONFIG_*` layer on top, and collect every
//! error and warning on the way.

use std::path::Path;

use super::env::{read_env_config, ENV_LAYER_NAME};
use super::error::{ConfigError, ConfigWarning};
use super::files::{config_targets, parse_yaml, read_text, ReadError};
use super::node::{Origin, Value};
use super::reader::{Config, Layer, Shared};
use super::transform::Transformer;
use super::{LoadOptions, LoadedConfig};

/// See [`super::load`].
pub(crate) fn load(opts: &LoadOptions) -> Result<LoadedConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let targets = config_targets(&opts.files, &opts.cwd, &opts.env, &mut errors);
    let mut transformer = Transformer::new(&opts.env);
    let mut layers = Vec::new();
    let mut files = Vec::new();
    let mut sources = Vec::new();

    for path in targets {
        let text = match read_text(&path) {
            Ok(text) => text,
            Err(ReadError::NotFound) => {
                errors.push(ConfigError::FileNotFound { path });
                continue;
            }
            Err(ReadError::Other(message)) => {
                errors.push(ConfigError::Read { path, message });
                continue;
            }
        };
        let name = path.display().to_string();
        files.push(path.clone());
        sources.push(name.clone());
        if let Some(layer) = load_document(&text, &path, name, &mut transformer, &mut errors) {
            layers.push(layer);
        }
    }

    match read_env_config(&opts.env) {
        Ok(Some(root)) => {
            sources.push(ENV_LAYER_NAME.to_string());
            layers.push(Layer {
                name: ENV_LAYER_NAME.to_string(),
                root,
            });
        }
        Ok(None) => {}
        Err(env_errors) => errors.extend(env_errors),
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let warnings = transformer
        .dropped
        .iter()
        .map(|d| ConfigWarning {
            key: d.key.clone(),
            file: d.file.clone(),
            variables: d.variables.clone(),
        })
        .collect();
    let shared = Shared {
        layers,
        dropped: transformer.dropped,
        sources,
    };
    Ok(LoadedConfig {
        config: Config::from_shared(shared),
        warnings,
        files,
        included: transformer.included,
    })
}

/// Parses and transforms one config file. `None` when it contributes no
/// layer (empty document, or an error that was recorded).
fn load_document(
    text: &str,
    path: &Path,
    name: String,
    transformer: &mut Transformer<'_>,
    errors: &mut Vec<ConfigError>,
) -> Option<Layer> {
    let origin = Origin::from(name.as_str());
    let root = match parse_yaml(text, &origin) {
        Ok(root) => root,
        Err(failure) => {
            errors.push(ConfigError::Parse {
                path: path.to_path_buf(),
                message: failure.message,
                line: failure.line,
                column: failure.column,
            });
            return None;
        }
    };
    if matches!(root.value, Value::Null) {
        tracing::debug!(file = %name, "config file is empty");
        return None;
    }
    let result = transformer.document(root, path);
    let had_include_errors = !transformer.errors.is_empty();
    errors.append(&mut transformer.errors);
    match result {
        Some(root) if root.is_object() => {
            tracing::debug!(file = %name, "loaded config file");
            Some(Layer { name, root })
        }
        Some(root) => {
            errors.push(ConfigError::NotAnObject {
                path: path.to_path_buf(),
                got: root.type_name().to_string(),
            });
            None
        }
        None if had_include_errors => None,
        None => {
            errors.push(ConfigError::NotAnObject {
                path: path.to_path_buf(),
                got: "undefined".to_string(),
            });
            None
        }
    }
}
