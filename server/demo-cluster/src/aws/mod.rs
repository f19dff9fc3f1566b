//! Offline AWS authentication for the demo cluster, verified the way AWS does it: an
//! independent SigV4 verifier ([`sigv4`]), EKS bearer-token verification modelled on
//! aws-iam-authenticator ([`eks_token`]) and a framework-free fake STS endpoint ([`sts`]) that
//! answers `GetCallerIdentity` and `AssumeRole` for the users and roles in [`AwsConfig`].
//!
//! Does not own: HTTP serving (the caller passes requests to [`Sts::handle`]), mapping AWS
//! principals to Kubernetes users and groups, or any network access — nothing here talks to AWS.

mod config;
pub mod eks_token;
mod keys;
pub mod sigv4;
pub mod sts;

#[cfg(test)]
mod tests;

pub use config::{AwsConfig, ConfigError, IamRole, IamUser};
pub use eks_token::{verify_eks_token, TokenError};
pub use sts::{Sts, StsError, StsResponse};

/// An authenticated AWS identity, shaped like aws-iam-authenticator's `Identity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The ARN `GetCallerIdentity` reports, e.g. `arn:aws:sts::123456789012:assumed-role/r/s`.
    pub arn: String,
    /// The twelve-digit account id.
    pub account: String,
    /// The unique id without the session part (`AIDA...` for users, `AROA...` for roles).
    pub user_id: String,
    /// The role session name for assumed-role credentials, `None` for IAM users.
    pub session_name: Option<String>,
    /// The IAM form of the ARN (`arn:aws:iam::<acct>:role/<role>` for assumed roles), which
    /// EKS matches against aws-auth / access entries.
    pub canonical_arn: String,
}

/// Who owns an access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    /// A configured IAM user.
    User { name: String },
    /// A session of a role, issued by this module's STS.
    AssumedRole { role: String, session: String },
}

impl Identity {
    /// The principal in `account` under `partition` (`aws`, `aws-cn`, `aws-us-gov`).
    pub(crate) fn principal(&self, account: &str, partition: &str) -> Principal {
        match self {
            Identity::User { name } => {
                let arn = format!("arn:{partition}:iam::{account}:user/{name}");
                Principal {
                    canonical_arn: arn.clone(),
                    arn,
                    account: account.to_owned(),
                    user_id: unique_id("AIDA", account, "user", name),
                    session_name: None,
                }
            }
            Identity::AssumedRole { role, session } => Principal {
                arn: format!("arn:{partition}:sts::{account}:assumed-role/{role}/{session}"),
                account: account.to_owned(),
                user_id: unique_id("AROA", account, "role", role),
                session_name: Some(session.clone()),
                canonical_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
            },
        }
    }

    /// `GetCallerIdentity`'s `UserId`: `AIDA...` for users, `AROA...:session` for role sessions.
    pub(crate) fn caller_user_id(&self, account: &str) -> String {
        let p = self.principal(account, "aws");
        match p.session_name {
            Some(session) => format!("{}:{session}", p.user_id),
            None => p.user_id,
        }
    }
}

/// A stable IAM-style unique id (`AIDA`/`AROA` + 17 base32 characters) derived from the name,
/// so the same configuration always yields the same ids.
pub(crate) fn unique_id(prefix: &str, account: &str, kind: &str, name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let seed = format!("{account}/{kind}/{name}");
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let suffix: String = digest
        .as_ref()
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    format!("{prefix}{suffix}")
}

/// The partition a region belongs to.
pub(crate) fn partition_for_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Whether `s` looks like a region: `[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d`.
pub(crate) fn looks_like_region(s: &str) -> bool {
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let parts: Vec<&str> = s.split('-').collect();
    let (country, middle, digit) = match parts.as_slice() {
        [c, m @ .., d] => (*c, m, *d),
        _ => return false,
    };
    let middle_ok = match middle {
        [direction] => lower(direction),
        [qualifier, direction] => {
            (*qualifier == "gov"
                || qualifier
                    .strip_prefix("iso")
                    .is_some_and(|r| r.bytes().all(|b| b.is_ascii_lowercase())))
                && lower(direction)
        }
        _ => false,
    };
    country.len() == 2
        && lower(country)
        && middle_ok
        && digit.len() == 1
        && digit.bytes().all(|b| b.is_ascii_digit())
}

/// Constant-time equality for secrets such as session tokens.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Escapes text for XML element content.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
