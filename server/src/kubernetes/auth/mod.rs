//! Credentials for a cluster, one strategy per `authProvider`: `serviceAccount`
//! ([`service_account`]), `aws` ([`aws`], EKS tokens signed with aws-sigv4, roles assumed through
//! STS), `localKubectlProxy` (anonymous). Backstage's other providers are recognised and answer
//! with a clear per-cluster error. Credentials never leave the server: they go into the
//! `Authorization` header of requests to the cluster and nowhere else.

pub mod aws;
pub mod credentials;
pub mod service_account;
pub mod sts;

use std::collections::HashMap;

use super::config::ClusterDetails;

/// What to send to a cluster.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// Nothing (kubectl proxy).
    Anonymous,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::Anonymous => f.write_str("Anonymous"),
        }
    }
}

/// Why no credential could be made for a cluster (shown as that cluster's error).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A provider Backstage has and Greenroom does not implement yet.
    #[error("authProvider '{0}' is not supported by Greenroom yet (supported: serviceAccount, aws, localKubectlProxy)")]
    Unsupported(String),
    /// A provider name nobody knows (catalog clusters are not checked at start).
    #[error("authProvider '{0}' is unknown")]
    Unknown(String),
    /// serviceAccount without a token, outside a pod.
    #[error("no serviceAccountToken configured for cluster '{0}' and no in-cluster token at {1}")]
    NoServiceAccountToken(String, String),
    /// AWS credentials or STS failed.
    #[error("AWS authentication failed: {0}")]
    Aws(#[from] aws::AwsError),
}

impl AuthError {
    /// What a user may be shown: the kind of failure, never role ARNs, STS hosts or file
    /// paths (the full error goes to the log, see [`super::errors::credential_failure`]).
    pub fn public_message(&self) -> String {
        match self {
            AuthError::Unsupported(_) | AuthError::Unknown(_) => self.to_string(),
            AuthError::NoServiceAccountToken(..) => {
                "no service-account token is configured or mounted".to_string()
            }
            AuthError::Aws(aws::AwsError::NoCredentials) => {
                "AWS authentication failed: no AWS credentials are configured".to_string()
            }
            AuthError::Aws(aws::AwsError::BadArn(_)) => {
                "AWS authentication failed: the role to assume is not a role ARN".to_string()
            }
            AuthError::Aws(aws::AwsError::StsRefused { code, .. }) => {
                let code: String = code
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(64)
                    .collect();
                format!("AWS authentication failed: STS refused it ({code})")
            }
            AuthError::Aws(_) => {
                "AWS authentication failed (the portal's log has the details)".to_string()
            }
        }
    }
}

/// Makes credentials for clusters; shared by every request (it holds the caches).
pub struct Authenticator {
    service_account: service_account::ServiceAccountAuth,
    aws: aws::AwsAuth,
}

impl Authenticator {
    /// From the `aws:` block and the process environment (read once).
    pub fn new(aws_config: super::aws_config::AwsConfig, env: &HashMap<String, String>) -> Self {
        Self {
            service_account: service_account::ServiceAccountAuth::new(
                service_account::IN_CLUSTER_DIR.into(),
            ),
            aws: aws::AwsAuth::new(aws_config, env),
        }
    }

    /// With a different in-cluster secrets directory and AWS parts (for tests and embedding).
    pub fn with_parts(
        service_account: service_account::ServiceAccountAuth,
        aws: aws::AwsAuth,
    ) -> Self {
        Self {
            service_account,
            aws,
        }
    }

    /// With another clock for AWS token reuse and credential renewal.
    pub fn with_aws_clock(mut self, clock: aws::Clock) -> Self {
        self.aws = self.aws.with_clock(clock);
        self
    }

    /// The AWS strategy (its counters are useful to callers that measure caching).
    pub fn aws(&self) -> &aws::AwsAuth {
        &self.aws
    }

    /// The in-cluster CA, when the cluster has none configured and the process runs in a pod.
    pub fn in_cluster_ca(&self, cluster: &ClusterDetails) -> Option<Vec<u8>> {
        if cluster.auth_provider() == "serviceAccount" && cluster.service_account_token.is_none() {
            self.service_account.ca()
        } else {
            None
        }
    }

    /// The credential for a cluster.
    pub async fn credential(&self, cluster: &ClusterDetails) -> Result<Credential, AuthError> {
        match cluster.auth_provider() {
            "serviceAccount" => self.service_account.credential(cluster),
            "aws" => Ok(Credential::Bearer(self.aws.token(cluster).await?)),
            "localKubectlProxy" => Ok(Credential::Anonymous),
            p if super::config::UNSUPPORTED_PROVIDERS.contains(&p) => {
                Err(AuthError::Unsupported(p.to_string()))
            }
            p => Err(AuthError::Unknown(p.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(provider: &str) -> ClusterDetails {
        ClusterDetails::new("c", "http://127.0.0.1:8001", provider)
    }

    #[tokio::test]
    async fn providers_answer_or_say_why_not() {
        let auth = Authenticator::with_parts(
            service_account::ServiceAccountAuth::new("/nonexistent-greenroom-sa".into()),
            aws::AwsAuth::new(Default::default(), &HashMap::new()),
        );
        assert_eq!(
            auth.credential(&cluster("localKubectlProxy")).await.ok(),
            Some(Credential::Anonymous)
        );
        let e = auth
            .credential(&cluster("google"))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(e, "authProvider 'google' is not supported by Greenroom yet (supported: serviceAccount, aws, localKubectlProxy)");
        assert!(matches!(
            auth.credential(&cluster("serviceAccount")).await,
            Err(AuthError::NoServiceAccountToken(..))
        ));
        assert!(auth
            .credential(&cluster("aws"))
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("no AWS credentials"));
        assert_eq!(
            format!("{:?}", Credential::Bearer("secret".into())),
            "Bearer(<redacted>)"
        );
    }
}
