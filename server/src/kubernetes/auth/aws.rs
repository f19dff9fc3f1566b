//! `aws`: EKS bearer tokens, made the way `aws eks get-token` / aws-iam-authenticator make them —
//! `k8s-aws-v1.` + base64url (no padding) of an STS `GetCallerIdentity` URL presigned with
//! aws-sigv4, with the `x-k8s-aws-id` header (the cluster name, or
//! `authMetadata['kubernetes.io/x-k8s-aws-id']`) signed in.
//!
//! Credentials: `aws.mainAccount` static keys, else `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
//! / `AWS_SESSION_TOKEN`; with `mainAccount.roleName` the role of that name in the main account
//! (found with `GetCallerIdentity`) is assumed. A cluster's `kubernetes.io/aws-assume-role`
//! (+ `kubernetes.io/aws-external-id`) is assumed on top, from the `aws.accounts[]` entry of the
//! role's account when there is one. The STS region is the account's `region`, else
//! `AWS_REGION`, else `us-east-1`.
//!
//! Caching (Backstage re-assumes and re-signs on every request; Greenroom does not): assumed
//! credentials until five minutes before they expire, EKS tokens for ten of their fifteen
//! minutes, the main account id for the process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine;

pub use super::credentials::{AwsCredentials, AwsError, RENEW_BEFORE};
use super::sts::StsClient;
use crate::kubernetes::aws_config::AwsConfig;
use crate::kubernetes::config::ClusterDetails;

/// How long a minted EKS token is reused (they are valid for 15 minutes).
pub const TOKEN_REUSE: Duration = Duration::from_secs(10 * 60);
/// The EKS token for a cluster id, from credentials, at a time (pure; unit-tested).
pub fn eks_token(
    creds: &AwsCredentials,
    region: &str,
    cluster_id: &str,
    time: SystemTime,
) -> Result<String, AwsError> {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let host = format!("sts.{region}.{suffix}");
    let base = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let headers = [("host", host.as_str()), ("x-k8s-aws-id", cluster_id)];
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let identity = creds.sdk().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| AwsError::Sign(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        "GET",
        base.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| AwsError::Sign(e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| AwsError::Sign(e.to_string()))?
        .into_parts();
    let mut url = base;
    for (k, v) in instructions.params() {
        url.push('&');
        url.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair(k, v)
                .finish(),
        );
    }
    Ok(format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    ))
}

/// What time it is, for token reuse and credential renewal (the real clock in the portal; tests
/// move it forward to see renewal without waiting).
pub type Clock = std::sync::Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The strategy with its caches.
pub struct AwsAuth {
    clock: Clock,
    config: AwsConfig,
    env_keys: Option<AwsCredentials>,
    env_region: Option<String>,
    sts: StsClient,
    tokens: Mutex<HashMap<String, (String, SystemTime)>>,
    roles: Mutex<HashMap<String, AwsCredentials>>,
    main_account: Mutex<Option<String>>,
}

fn account_of(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() >= 6 && parts[0] == "arn")
        .then(|| parts[4])
        .filter(|a| !a.is_empty())
}

impl AwsAuth {
    /// From the `aws:` block and the environment.
    pub fn new(config: AwsConfig, env: &HashMap<String, String>) -> Self {
        let env_keys = match (
            env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => Some(AwsCredentials {
                access_key_id: a.clone(),
                secret_access_key: s.clone(),
                session_token: env
                    .get("AWS_SESSION_TOKEN")
                    .filter(|t| !t.is_empty())
                    .cloned(),
                expires: None,
            }),
            _ => None,
        };
        Self {
            clock: std::sync::Arc::new(SystemTime::now),
            config,
            env_keys,
            env_region: env.get("AWS_REGION").filter(|r| !r.is_empty()).cloned(),
            sts: StsClient::new(env),
            tokens: Mutex::new(HashMap::new()),
            roles: Mutex::new(HashMap::new()),
            main_account: Mutex::new(None),
        }
    }

    /// With another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Requests sent to STS so far (what token caching saves).
    pub fn sts_calls(&self) -> u64 {
        self.sts.calls()
    }

    fn region(&self, specific: Option<&String>) -> String {
        specific
            .or(self.config.main.region.as_ref())
            .or(self.env_region.as_ref())
            .cloned()
            .unwrap_or_else(|| "us-east-1".to_string())
    }

    /// The bearer token for a cluster (cached).
    pub async fn token(&self, cluster: &ClusterDetails) -> Result<String, AwsError> {
        let cluster_id = cluster
            .auth_metadata
            .get("kubernetes.io/x-k8s-aws-id")
            .cloned()
            .unwrap_or_else(|| cluster.name.clone());
        let assume = cluster
            .auth_metadata
            .get("kubernetes.io/aws-assume-role")
            .cloned();
        let external = cluster
            .auth_metadata
            .get("kubernetes.io/aws-external-id")
            .cloned();
        let (creds, region) = self
            .credentials_for(assume.as_deref(), external.as_deref())
            .await?;
        let key = format!("{cluster_id}|{}|{region}", creds.access_key_id);
        let now = (self.clock)();
        if let Some((token, at)) = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            if *at + TOKEN_REUSE > now {
                return Ok(token.clone());
            }
        }
        let token = eks_token(&creds, &region, &cluster_id, now)?;
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (token.clone(), now));
        Ok(token)
    }

    async fn credentials_for(
        &self,
        assume: Option<&str>,
        external: Option<&str>,
    ) -> Result<(AwsCredentials, String), AwsError> {
        let Some(arn) = assume else {
            return self.main_credentials().await;
        };
        let account = account_of(arn).ok_or_else(|| AwsError::BadArn(arn.to_string()))?;
        let (base, region) = match self
            .config
            .accounts
            .iter()
            .find(|a| a.account_id == account)
        {
            Some(acc) => self.account_credentials(acc).await?,
            None => self.main_credentials().await?,
        };
        let creds = self.assume(&base, &region, arn, external).await?;
        Ok((creds, region))
    }

    /// The main account: static keys or the environment, then `roleName` assumed if set. With
    /// neither, a single `accounts[]` entry with static keys (the seed's second block).
    async fn main_credentials(&self) -> Result<(AwsCredentials, String), AwsError> {
        let main = &self.config.main;
        let region = self.region(None);
        let single_account = || {
            let with_keys: Vec<_> = self
                .config
                .accounts
                .iter()
                .filter(|a| a.keys.is_some())
                .collect();
            (with_keys.len() == 1).then(|| with_keys[0])
        };
        let base = match (&main.keys, &self.env_keys) {
            (Some(k), _) => AwsCredentials::from_keys(k),
            (None, Some(e)) => e.clone(),
            (None, None) => match single_account() {
                Some(acc) => return self.account_credentials(acc).await,
                None => return Err(AwsError::NoCredentials),
            },
        };
        let Some(role) = &main.role_name else {
            return Ok((base, region));
        };
        let account = self.main_account_id(&base, &region).await?;
        let arn = format!("arn:aws:iam::{account}:role/{role}");
        let creds = self.assume(&base, &region, &arn, None).await?;
        Ok((creds, region))
    }

    async fn main_account_id(
        &self,
        base: &AwsCredentials,
        region: &str,
    ) -> Result<String, AwsError> {
        if let Some(id) = self
            .main_account
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(id);
        }
        let id = self.sts.caller_account(base, region).await?;
        *self.main_account.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.clone());
        Ok(id)
    }

    fn account_credentials<'a>(
        &'a self,
        acc: &'a crate::kubernetes::aws_config::Account,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<(AwsCredentials, String), AwsError>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            let region = self.region(acc.region.as_ref().or(self.config.defaults.region.as_ref()));
            let base = match &acc.keys {
                Some(k) => AwsCredentials::from_keys(k),
                None => match (&self.config.main.keys, &self.env_keys) {
                    (Some(k), _) => AwsCredentials::from_keys(k),
                    (None, Some(e)) => e.clone(),
                    (None, None) => return Err(AwsError::NoCredentials),
                },
            };
            let role = acc
                .role_name
                .as_ref()
                .or(self.config.defaults.role_name.as_ref());
            let Some(role) = role else {
                return Ok((base, region));
            };
            let partition = acc
                .partition
                .as_ref()
                .or(self.config.defaults.partition.as_ref())
                .map(String::as_str)
                .unwrap_or("aws");
            let arn = format!("arn:{partition}:iam::{}:role/{role}", acc.account_id);
            let external = acc
                .external_id
                .as_ref()
                .or(self.config.defaults.external_id.as_ref());
            let creds = self
                .assume(&base, &region, &arn, external.map(String::as_str))
                .await?;
            Ok((creds, region))
        })
    }

    async fn assume(
        &self,
        base: &AwsCredentials,
        region: &str,
        arn: &str,
        external: Option<&str>,
    ) -> Result<AwsCredentials, AwsError> {
        let key = format!("{arn}|{}|{}", external.unwrap_or(""), base.access_key_id);
        let now = (self.clock)();
        if let Some(c) = self
            .roles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            if c.fresh(now) {
                return Ok(c.clone());
            }
        }
        let creds = self
            .sts
            .assume_role(base, region, arn, "greenroom", external)
            .await?;
        tracing::debug!(role = %arn, "assumed AWS role");
        self.roles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, creds.clone());
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
            expires: None,
        }
    }

    /// 2026-11-24T10:00:00Z.
    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_514_400)
    }

    fn url_of(token: &str) -> String {
        let b64 = token
            .strip_prefix("k8s-aws-v1.")
            .unwrap_or_else(|| panic!("prefix"));
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b64)
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    }

    #[test]
    fn eks_token_matches_an_independently_computed_signature() {
        let token = eks_token(&creds(), "us-east-1", "backstage-tutorial-cluster", t0())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!token.contains('='), "base64url without padding");
        let url = url_of(&token);
        assert!(
            url.starts_with(
                "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"
            ),
            "{url}"
        );
        let query: HashMap<String, String> =
            form_urlencoded::parse(url.split_once('?').map(|x| x.1).unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        assert_eq!(
            query.get("X-Amz-Credential").map(String::as_str),
            Some("AKIDEXAMPLE/20261124/us-east-1/sts/aws4_request")
        );
        assert_eq!(
            query.get("X-Amz-SignedHeaders").map(String::as_str),
            Some("host;x-k8s-aws-id")
        );
        assert_eq!(query.get("X-Amz-Expires").map(String::as_str), Some("60"));
        // Computed separately (Python hmac/hashlib, the SigV4 recipe from AWS's docs).
        assert_eq!(
            query.get("X-Amz-Signature").map(String::as_str),
            Some("4c0151fe955998f9dc65594adf82bbaf8ef434bf9f4cb06ff23975572831534a")
        );
        let other = eks_token(&creds(), "us-east-1", "another-cluster", t0()).unwrap_or_default();
        assert_ne!(url_of(&other), url);
    }

    #[test]
    fn temporary_credentials_carry_their_session_token() {
        let mut c = creds();
        c.session_token = Some("FQoGZXIvYXdzE//session".into());
        let url = url_of(&eks_token(&c, "eu-west-1", "c", t0()).unwrap_or_default());
        assert!(url.starts_with("https://sts.eu-west-1.amazonaws.com/"));
        assert!(
            url.contains("X-Amz-Security-Token=FQoGZXIvYXdzE%2F%2Fsession"),
            "{url}"
        );
    }

    #[test]
    fn role_arns_name_their_account() {
        assert_eq!(
            account_of("arn:aws:iam::123456789012:role/backstage"),
            Some("123456789012")
        );
        assert_eq!(account_of("nonsense"), None);
    }
}
