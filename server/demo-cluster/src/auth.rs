//! Authentication and authorization of API requests: service-account bearer tokens, EKS tokens
//! checked the way aws-iam-authenticator checks them, optional anonymous access, and per-account
//! denied resources that answer 403 (so clients can show RBAC failures).

use std::sync::Arc;

use crate::aws::Sts;

/// Who a request is from.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Kubernetes user name, e.g. `system:serviceaccount:greenroom:reader`.
    pub name: String,
    /// Denied resources (`secrets`, `pods/log`, ...).
    pub forbid: Vec<String>,
}

/// One accepted bearer token.
#[derive(Debug, Clone)]
pub struct TokenEntry {
    /// The token.
    pub token: String,
    /// Its user.
    pub user: User,
}

/// EKS token verification for one cluster.
pub struct Eks {
    /// The cluster id tokens are signed for.
    pub cluster_id: String,
    /// ARNs that are mapped to a user.
    pub map_arns: Vec<String>,
    /// Resources denied to them.
    pub forbid: Vec<String>,
    /// The STS that knows the keys.
    pub sts: Arc<Sts>,
}

/// A cluster's authenticator.
pub struct Access {
    /// Service-account tokens.
    pub tokens: Vec<TokenEntry>,
    /// Requests without credentials are `system:anonymous` with full read.
    pub anonymous: bool,
    /// EKS tokens.
    pub eks: Option<Eks>,
}

/// Why authentication failed (logged at debug; the client sees only "Unauthorized").
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No Authorization header and anonymous access is off.
    #[error("no credentials")]
    Missing,
    /// An unknown bearer token.
    #[error("unknown token")]
    Unknown,
    /// An EKS token failed verification.
    #[error("EKS token rejected: {0}")]
    Eks(String),
    /// A valid EKS identity that the cluster does not map to a user.
    #[error("ARN {0} is not mapped in aws-auth")]
    Unmapped(String),
}

impl Access {
    /// Authenticates the Authorization header.
    pub fn authenticate(&self, header: Option<&str>) -> Result<User, AuthError> {
        let Some(token) = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
        else {
            return if self.anonymous && header.is_none() {
                Ok(User {
                    name: "system:anonymous".into(),
                    forbid: Vec::new(),
                })
            } else {
                Err(AuthError::Missing)
            };
        };
        if token.starts_with("k8s-aws-v1.") {
            let eks = self.eks.as_ref().ok_or(AuthError::Unknown)?;
            let p = eks
                .sts
                .verify_eks_token(token, &eks.cluster_id, crate::clock::now())
                .map_err(|e| AuthError::Eks(e.to_string()))?;
            if !eks.map_arns.iter().any(|a| *a == p.canonical_arn) {
                return Err(AuthError::Unmapped(p.canonical_arn));
            }
            return Ok(User {
                name: p.arn,
                forbid: eks.forbid.clone(),
            });
        }
        // Constant-time comparison: a timing side channel on a demo cluster does not matter
        // much, but the habit does.
        self.tokens
            .iter()
            .find(|t| constant_time_eq(t.token.as_bytes(), token.as_bytes()))
            .map(|t| t.user.clone())
            .ok_or(AuthError::Unknown)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl User {
    /// Whether the user may `verb` the resource (`pods`, `pods/log`); returns the API server's
    /// Forbidden message when not.
    pub fn authorize(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<(), String> {
        let full = match subresource {
            Some(s) => format!("{resource}/{s}"),
            None => resource.to_string(),
        };
        let denied = self.forbid.iter().any(|f| {
            *f == full
                || (subresource.is_none() && *f == resource)
                || *f == format!("{full}.{group}")
        });
        if !denied {
            return Ok(());
        }
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        Err(format!("{full} is forbidden: User \"{}\" cannot {verb} resource \"{full}\" in API group \"{group}\" {scope}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access {
            tokens: vec![
                TokenEntry {
                    token: "good".into(),
                    user: User {
                        name: "system:serviceaccount:default:reader".into(),
                        forbid: vec![],
                    },
                },
                TokenEntry {
                    token: "limited".into(),
                    user: User {
                        name: "system:serviceaccount:default:limited".into(),
                        forbid: vec!["secrets".into(), "pods/log".into()],
                    },
                },
            ],
            anonymous: false,
            eks: None,
        }
    }

    #[test]
    fn tokens_and_forbidden_resources() {
        let a = access();
        assert!(matches!(a.authenticate(None), Err(AuthError::Missing)));
        assert!(matches!(
            a.authenticate(Some("Bearer nope")),
            Err(AuthError::Unknown)
        ));
        assert!(matches!(
            a.authenticate(Some("Basic Zm9vOmJhcg==")),
            Err(AuthError::Missing)
        ));
        let good = a
            .authenticate(Some("Bearer good"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(good
            .authorize("list", "", "secrets", None, Some("payments"))
            .is_ok());
        let limited = a
            .authenticate(Some("Bearer limited"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            limited.authorize("list", "", "secrets", None, Some("payments")),
            Err("secrets is forbidden: User \"system:serviceaccount:default:limited\" cannot list resource \"secrets\" in API group \"\" in the namespace \"payments\"".into())
        );
        assert!(limited
            .authorize("get", "", "pods", Some("log"), Some("x"))
            .is_err());
        assert!(limited.authorize("list", "", "pods", None, None).is_ok());
        assert!(limited
            .authorize("list", "", "secrets", None, None)
            .unwrap_err()
            .ends_with("at the cluster scope"));
    }
}
