//! The `aws:` section of the demo-cluster configuration: the simulated account, its IAM users
//! (long-term access keys) and the roles they may assume.
//!
//! Owns: the YAML shape (camelCase) and its validation. Does not own: temporary credentials,
//! which the simulated STS issues at runtime ([`super::sts`]).

use std::fmt;

use serde::Deserialize;

/// Why the `aws:` configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `accountId` is not twelve digits.
    #[error("aws.accountId '{0}' is not a 12-digit AWS account id")]
    InvalidAccountId(String),
    /// A user's access key id is empty, not alphanumeric, or uses the `ASIA` prefix reserved
    /// for temporary credentials.
    #[error("aws user '{user}' has access key id '{key}' (16-128 letters/digits, not ASIA...)")]
    InvalidAccessKeyId {
        /// User name.
        user: String,
        /// The offending key id.
        key: String,
    },
    /// A user's secret access key is empty.
    #[error("aws user '{0}' has an empty secretAccessKey")]
    EmptySecret(String),
    /// Two users share an access key id.
    #[error("aws access key id '{0}' is configured for more than one user")]
    DuplicateAccessKey(String),
    /// A user or role name is empty, repeated, or has characters IAM does not allow.
    #[error(
        "aws {kind} name '{name}' is empty, repeated or not an IAM name ([A-Za-z0-9+=,.@_-], 1-64)"
    )]
    InvalidName {
        /// `user` or `role`.
        kind: &'static str,
        /// The offending name.
        name: String,
    },
    /// A role's `maxSessionDuration` is outside 3600..=43200 seconds.
    #[error("aws role '{role}' has maxSessionDuration {seconds} (IAM allows 3600..=43200)")]
    InvalidMaxSessionDuration {
        /// Role name.
        role: String,
        /// The offending value.
        seconds: u32,
    },
}

/// The simulated AWS account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsConfig {
    /// Twelve-digit account id that owns every user and role.
    pub account_id: String,
    /// IAM users with long-term access keys.
    #[serde(default)]
    pub users: Vec<IamUser>,
    /// IAM roles that users (or other role sessions) may assume through STS.
    #[serde(default)]
    pub roles: Vec<IamRole>,
}

/// An IAM user and its access key.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IamUser {
    /// User name; the ARN is `arn:aws:iam::<account>:user/<name>`.
    pub name: String,
    /// Access key id (conventionally `AKIA...`).
    pub access_key_id: String,
    /// Secret access key used to verify this user's signatures.
    pub secret_access_key: String,
}

impl fmt::Debug for IamUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamUser")
            .field("name", &self.name)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// An IAM role and the principals its trust policy allows to assume it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IamRole {
    /// Role name; the ARN is `arn:aws:iam::<account>:role/<name>`.
    pub name: String,
    /// Canonical ARNs allowed to assume the role (`arn:aws:iam::<acct>:user/<n>`,
    /// `arn:aws:iam::<acct>:role/<n>` for role chaining, or `arn:aws:iam::<acct>:root` for any
    /// principal of that account).
    #[serde(default)]
    pub trusted_principals: Vec<String>,
    /// When set, `AssumeRole` must pass exactly this `ExternalId` (the `sts:ExternalId` condition).
    #[serde(default)]
    pub external_id: Option<String>,
    /// Longest session `AssumeRole` may grant, in seconds. Unset means 43200 (AWS's own
    /// default is 3600; set 3600 to mimic it).
    #[serde(default)]
    pub max_session_duration: Option<u32>,
}

impl AwsConfig {
    /// Checks ids, names and keys; the simulator refuses to start on any error.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::InvalidAccountId(self.account_id.clone()));
        }
        let mut seen_names = Vec::new();
        let mut seen_keys = Vec::new();
        for user in &self.users {
            check_name("user", &user.name, &mut seen_names)?;
            let key = &user.access_key_id;
            if !(16..=128).contains(&key.len())
                || !key.bytes().all(|b| b.is_ascii_alphanumeric())
                || key.starts_with("ASIA")
            {
                return Err(ConfigError::InvalidAccessKeyId {
                    user: user.name.clone(),
                    key: key.clone(),
                });
            }
            if seen_keys.contains(&key) {
                return Err(ConfigError::DuplicateAccessKey(key.clone()));
            }
            seen_keys.push(key);
            if user.secret_access_key.is_empty() {
                return Err(ConfigError::EmptySecret(user.name.clone()));
            }
        }
        let mut seen_roles = Vec::new();
        for role in &self.roles {
            check_name("role", &role.name, &mut seen_roles)?;
            if let Some(seconds) = role.max_session_duration {
                if !(3600..=43200).contains(&seconds) {
                    return Err(ConfigError::InvalidMaxSessionDuration {
                        role: role.name.clone(),
                        seconds,
                    });
                }
            }
        }
        Ok(())
    }
}

fn check_name<'a>(
    kind: &'static str,
    name: &'a str,
    seen: &mut Vec<&'a str>,
) -> Result<(), ConfigError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) || seen.contains(&name) {
        return Err(ConfigError::InvalidName {
            kind,
            name: name.to_owned(),
        });
    }
    seen.push(name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Root {
        aws: AwsConfig,
    }

    #[test]
    fn reads_yaml_and_validates() {
        let yaml = r#"
aws:
  accountId: "123456789012"
  users: [{name: greenroom-ci, accessKeyId: AKIAIOSFODNN7EXAMPLE, secretAccessKey: s3cret}]
  roles:
    - {name: backstage-tutorial-role, trustedPrincipals: ["arn:aws:iam::123456789012:user/greenroom-ci"], externalId: xyz}
"#;
        let cfg = serde_yaml::from_str::<Root>(yaml).expect("yaml").aws;
        assert_eq!(cfg.users[0].access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(cfg.roles[0].external_id.as_deref(), Some("xyz"));
        assert_eq!(cfg.validate(), Ok(()));
        assert!(!format!("{:?}", cfg.users[0]).contains("s3cret"));

        let mut bad = cfg.clone();
        bad.account_id = "12345".into();
        assert_eq!(
            bad.validate(),
            Err(ConfigError::InvalidAccountId("12345".into()))
        );
        let mut bad = cfg.clone();
        bad.users.push(bad.users[0].clone());
        bad.users[1].name = "other".into();
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::DuplicateAccessKey(_))
        ));
        let mut bad = cfg;
        bad.users[0].access_key_id = "ASIAIOSFODNN7EXAMPLE".into();
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::InvalidAccessKeyId { .. })
        ));
    }
}
