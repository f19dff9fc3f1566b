//! AWS credentials and the errors of getting them: what the EKS token strategy
//! ([`super::aws`]) signs with and the STS client ([`super::sts`]) assumes roles with.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use crate::kubernetes::aws_config::StaticKeys;

/// Assumed credentials are renewed this long before they expire.
pub const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// AWS credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
    /// When temporary credentials expire.
    pub expires: Option<SystemTime>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    pub(super) fn from_keys(k: &StaticKeys) -> Self {
        Self {
            access_key_id: k.access_key_id.clone(),
            secret_access_key: k.secret_access_key.clone(),
            session_token: None,
            expires: None,
        }
    }

    /// As the AWS SDK's credentials (turned into aws-sigv4's signing identity with `.into()`).
    pub fn sdk(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            self.expires,
            "greenroom",
        )
    }

    pub(super) fn fresh(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|e| e > now + RENEW_BEFORE)
    }
}

/// Why AWS authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No credentials anywhere.
    #[error("no AWS credentials: set aws.mainAccount.accessKeyId/secretAccessKey, an aws.accounts[] entry, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials,
    /// An STS call failed.
    #[error("{0}")]
    Sts(String),
    /// STS answered with an error.
    #[error("STS answered {status}: {code}: {message}")]
    StsRefused {
        /// HTTP status.
        status: u16,
        /// AWS error code (`AccessDenied`, `ExpiredToken`…).
        code: String,
        /// AWS's message (may name the role ARN: log only).
        message: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A role ARN that names no account.
    #[error("'{0}' is not a role ARN (arn:aws:iam::<account>:role/<name>)")]
    BadArn(String),
}
