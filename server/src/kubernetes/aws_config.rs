//! The top-level `aws:` block (Backstage's `@backstage/integration-aws-node` keys):
//! `mainAccount` (accessKeyId, secretAccessKey, region, and Greenroom's `roleName`),
//! `accounts[]` (accountId, accessKeyId, secretAccessKey, roleName, externalId, region,
//! partition) and `accountDefaults` (roleName, externalId, region, partition).
//!
//! `mainAccount.roleName` is what the seed article writes; Backstage ignores it. Greenroom
//! honours it: the named role in the main account (whose id `GetCallerIdentity` tells) is assumed.

use crate::config::{Config, ConfigError};

/// Static keys.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeys")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// `aws.mainAccount`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MainAccount {
    /// Static keys; else the environment (`AWS_ACCESS_KEY_ID`, ...).
    pub keys: Option<StaticKeys>,
    /// STS region.
    pub region: Option<String>,
    /// A role in the main account to assume (Greenroom; the seed's first block).
    pub role_name: Option<String>,
}

/// `aws.accounts[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Twelve-digit id.
    pub account_id: String,
    /// Static keys for this account.
    pub keys: Option<StaticKeys>,
    /// Role to assume in it.
    pub role_name: Option<String>,
    /// ExternalId for the assumption.
    pub external_id: Option<String>,
    /// STS region.
    pub region: Option<String>,
    /// Partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: Option<String>,
}

/// `aws.accountDefaults`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountDefaults {
    /// Role assumed in accounts without an entry.
    pub role_name: Option<String>,
    /// ExternalId.
    pub external_id: Option<String>,
    /// STS region.
    pub region: Option<String>,
    /// Partition.
    pub partition: Option<String>,
}

/// The whole block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    /// Main account.
    pub main: MainAccount,
    /// Other accounts.
    pub accounts: Vec<Account>,
    /// Defaults.
    pub defaults: AccountDefaults,
}

fn keys(c: &Config, owner: &str, errors: &mut Vec<ConfigError>) -> Option<StaticKeys> {
    let id = c.get_optional_string("accessKeyId").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let secret = c
        .get_optional_string("secretAccessKey")
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    match (id, secret) {
        (Some(a), Some(s)) => Some(StaticKeys {
            access_key_id: a.trim().to_string(),
            secret_access_key: s.trim().to_string(),
        }),
        (Some(_), None) => {
            errors.push(c.invalid_value("secretAccessKey", format!("{owner} has an access key ID configured, but no secret access key (is its environment variable set?)")));
            None
        }
        (None, Some(_)) => {
            errors.push(c.invalid_value("accessKeyId", format!("{owner} has a secret access key configured, but no access key ID (is its environment variable set?)")));
            None
        }
        (None, None) => None,
    }
}

fn opt(c: &Config, key: &str, errors: &mut Vec<ConfigError>) -> Option<String> {
    c.get_optional_string(key).unwrap_or_else(|e| {
        errors.push(e);
        None
    })
}

/// Reads `aws:`; an absent block is the default (credentials from the environment).
pub fn read(config: &Config) -> Result<AwsConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut out = AwsConfig::default();
    match config.get_optional_config("aws.mainAccount") {
        Ok(Some(m)) => {
            out.main = MainAccount {
                keys: keys(&m, "the main AWS account", &mut errors),
                region: opt(&m, "region", &mut errors),
                role_name: opt(&m, "roleName", &mut errors),
            };
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    match config.get_optional_config_array("aws.accounts") {
        Ok(Some(items)) => {
            for a in items {
                let account_id = match a.get_string("accountId") {
                    Ok(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) => id,
                    Ok(id) => {
                        errors.push(a.invalid_value(
                            "accountId",
                            format!("'{id}' is not a twelve-digit AWS account id"),
                        ));
                        continue;
                    }
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let owner = format!("AWS integration account {account_id}");
                let account = Account {
                    keys: keys(&a, &owner, &mut errors),
                    role_name: opt(&a, "roleName", &mut errors),
                    external_id: opt(&a, "externalId", &mut errors),
                    region: opt(&a, "region", &mut errors),
                    partition: opt(&a, "partition", &mut errors),
                    account_id,
                };
                if account.external_id.is_some() && account.role_name.is_none() {
                    errors.push(a.invalid_value(
                        "externalId",
                        format!("{owner} has an external ID configured, but no role name."),
                    ));
                }
                out.accounts.push(account);
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    match config.get_optional_config("aws.accountDefaults") {
        Ok(Some(d)) => {
            out.defaults = AccountDefaults {
                role_name: opt(&d, "roleName", &mut errors),
                external_id: opt(&d, "externalId", &mut errors),
                region: opt(&d, "region", &mut errors),
                partition: opt(&d, "partition", &mut errors),
            };
        }
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: serde_json::Value) -> Config {
        Config::from_json_layers(vec![("app-config.yaml".to_string(), v)])
    }

    #[test]
    fn both_seed_blocks() {
        // `mainAccount: {roleName, region}` with empty accounts and defaults.
        let a = read(&cfg(json!({"aws": {"mainAccount": {"roleName": "backstage-tutorial-role", "region": "us-east-1"}, "accounts": null, "accountDefaults": null}}))).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(a.main.role_name.as_deref(), Some("backstage-tutorial-role"));
        assert_eq!(a.main.region.as_deref(), Some("us-east-1"));
        assert!(a.main.keys.is_none() && a.accounts.is_empty());
        // `mainAccount:` empty, one account with static keys.
        let b = read(&cfg(json!({"aws": {"mainAccount": null, "accounts": [{"accountId": "123456789012", "accessKeyId": "AKIA1", "secretAccessKey": " s3cret ", "region": "us-east-1"}], "accountDefaults": null}}))).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            b.accounts[0]
                .keys
                .as_ref()
                .map(|k| k.secret_access_key.as_str()),
            Some("s3cret")
        );
        assert!(!format!("{b:?}").contains("s3cret"), "Debug hides secrets");
        assert_eq!(read(&cfg(json!({}))).ok(), Some(AwsConfig::default()));
    }

    #[test]
    fn aws_errors_name_the_account() {
        let errs = read(&cfg(json!({"aws": {"accounts": [{"accountId": "12", "accessKeyId": "A"}, {"accountId": "123456789012", "accessKeyId": "A"}, {"accountId": "123456789013", "externalId": "x"}]}}))).err().unwrap_or_default();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|e| e.contains("aws.accounts[0].accountId") && e.contains("twelve-digit")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("aws.accounts[1].secretAccessKey")
                    && e.contains("no secret access key")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.contains("aws.accounts[2].externalId") && e.contains("no role name")),
            "{text:?}"
        );
    }
}
