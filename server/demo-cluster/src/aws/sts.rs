//! A fake AWS STS endpoint: `GetCallerIdentity` and `AssumeRole` over the Query API (GET query
//! or POST `application/x-www-form-urlencoded`), signed with SigV4 and answered with the XML
//! (and error XML) AWS sends.
//!
//! Owns: the request → response logic, AWS error codes, role trust checks (trusted principals
//! and external id; no IAM policy evaluation) and the per-action call counters. Does not own:
//! keys (the private `keys` module), signature maths ([`super::sigv4`]) or the HTTP server:
//! the caller passes method, target, headers and body to [`Sts::handle`] (over HTTP/2 it must
//! pass `:authority` as a `host` header, since `host` is always signed).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use time::{macros::format_description, OffsetDateTime};

use super::config::{AwsConfig, ConfigError};
use super::keys::{KeyError, KeyStore, KnownKey};
use super::sigv4::{parse_query, Authorization, Request, SigV4Error};
use super::{ct_eq, looks_like_region, partition_for_region, xml_escape, Identity, Principal};

/// XML namespace of every STS response.
pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The STS API version.
pub const STS_VERSION: &str = "2011-06-15";
/// How far `X-Amz-Date` may be from the server clock (either way), as AWS allows.
const MAX_SKEW: time::Duration = time::Duration::minutes(15);

/// An STS failure, one variant per AWS error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    /// The request carries no signature at all (`MissingAuthenticationToken`, 403).
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// The signature parameters are malformed (`IncompleteSignature`, 400).
    #[error("{0}")]
    IncompleteSignature(String),
    /// Unknown access key, or a session token missing, unexpected or wrong
    /// (`InvalidClientTokenId`, 403).
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    /// The temporary credentials have expired (`ExpiredToken`, 403).
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    /// Wrong signature, scope or clock (`SignatureDoesNotMatch`, 403).
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    /// The caller may not assume the role (`AccessDenied`, 403).
    #[error("{0}")]
    AccessDenied(String),
    /// No `Action` parameter (`MissingAction`, 400).
    #[error("Missing Action")]
    MissingAction,
    /// Unknown action or version (`InvalidAction`, 400).
    #[error("Could not find operation {action} for version {version}")]
    InvalidAction {
        /// The requested action.
        action: String,
        /// The requested API version.
        version: String,
    },
    /// A parameter is missing or out of range (`ValidationError`, 400).
    #[error("{0}")]
    ValidationError(String),
    /// The system random source failed (`InternalFailure`, 500).
    #[error("random number generator failed")]
    InternalFailure,
}

impl StsError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            StsError::MissingAuthenticationToken => "MissingAuthenticationToken",
            StsError::IncompleteSignature(_) => "IncompleteSignature",
            StsError::InvalidClientTokenId => "InvalidClientTokenId",
            StsError::ExpiredToken => "ExpiredToken",
            StsError::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            StsError::AccessDenied(_) => "AccessDenied",
            StsError::MissingAction => "MissingAction",
            StsError::InvalidAction { .. } => "InvalidAction",
            StsError::ValidationError(_) => "ValidationError",
            StsError::InternalFailure => "InternalFailure",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self) -> u16 {
        match self {
            StsError::IncompleteSignature(_)
            | StsError::MissingAction
            | StsError::InvalidAction { .. }
            | StsError::ValidationError(_) => 400,
            StsError::InternalFailure => 500,
            _ => 403,
        }
    }
}

/// The HTTP response to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsResponse {
    /// HTTP status.
    pub status: u16,
    /// Always `text/xml`, as STS sends.
    pub content_type: &'static str,
    /// XML body.
    pub body: String,
}

/// The simulated STS and its key store; share it between tasks with `Arc`.
#[derive(Debug)]
pub struct Sts {
    config: AwsConfig,
    keys: KeyStore,
    calls: Mutex<HashMap<String, u64>>,
}

impl Sts {
    /// Builds the STS for a validated configuration.
    pub fn new(config: AwsConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            keys: KeyStore::new(config.users.clone()),
            config,
            calls: Mutex::new(HashMap::new()),
        })
    }

    /// The simulated account id.
    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }

    /// How many requests named `action` (e.g. `AssumeRole`) reached [`Sts::handle`], failed or not.
    pub fn calls(&self, action: &str) -> u64 {
        self.counters().get(action).copied().unwrap_or(0)
    }

    /// The key store shared with EKS token verification.
    pub(crate) fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Verifies an EKS bearer token for this STS's keys; see [`super::verify_eks_token`].
    pub fn verify_eks_token(
        &self,
        token: &str,
        cluster_id: &str,
        now: SystemTime,
    ) -> Result<Principal, super::TokenError> {
        super::verify_eks_token(self, token, cluster_id, now)
    }

    /// Answers one STS request. `path_and_query` is the request target as sent (`/?Action=...`).
    pub fn handle(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> StsResponse {
        let request_id = self.keys.request_id();
        let (status, body) = match self.process(method, path_and_query, headers, body, now) {
            Ok((action, result)) => (
                200,
                format!(
                    "<{action}Response xmlns=\"{STS_XMLNS}\"><{action}Result>{result}</{action}Result>\
                     <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
                ),
            ),
            Err(e) => (
                e.status(),
                format!(
                    "<ErrorResponse xmlns=\"{STS_XMLNS}\"><Error><Type>{}</Type><Code>{}</Code>\
                     <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                    if e.status() >= 500 { "Receiver" } else { "Sender" },
                    e.code(),
                    xml_escape(&e.to_string())
                ),
            ),
        };
        StsResponse {
            status,
            content_type: "text/xml",
            body,
        }
    }

    fn process(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(String, String)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<(&'static str, String), StsError> {
        let req = Request::new(method, path_and_query, headers, body);
        let mut params =
            parse_query(req.query).map_err(|e| StsError::ValidationError(e.to_string()))?;
        let is_form = req.header("content-type").is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        match method {
            "GET" => {}
            "POST" if is_form => {
                let text = std::str::from_utf8(body)
                    .map_err(|_| StsError::ValidationError("request body is not UTF-8".into()))?;
                params.extend(
                    parse_query(text).map_err(|e| StsError::ValidationError(e.to_string()))?,
                );
            }
            "POST" => {}
            other => {
                return Err(StsError::ValidationError(format!(
                    "HTTP method {other} is not supported"
                )))
            }
        }
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if let Some(action) = param("Action") {
            *self.counters().entry(action.to_owned()).or_default() += 1;
        }

        let (auth, key) = self.authenticate(&req, now)?;
        let partition = partition_for_region(&auth.credential.region);
        let caller = key.identity.principal(&self.config.account_id, partition);
        let action = param("Action").ok_or(StsError::MissingAction)?;
        let version = param("Version").unwrap_or(STS_VERSION);
        match (action, version) {
            ("GetCallerIdentity", STS_VERSION) => Ok((
                "GetCallerIdentity",
                format!(
                    "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
                    xml_escape(&caller.arn),
                    xml_escape(&key.identity.caller_user_id(&self.config.account_id)),
                    xml_escape(&caller.account)
                ),
            )),
            ("AssumeRole", STS_VERSION) => self
                .assume_role(&key.identity, &caller, partition, &param, now)
                .map(|xml| ("AssumeRole", xml)),
            (action, version) => Err(StsError::InvalidAction {
                action: action.to_owned(),
                version: version.to_owned(),
            }),
        }
    }

    /// Reads and checks the signature: key known, token right, clock close, signature valid.
    fn authenticate(
        &self,
        req: &Request<'_>,
        now: SystemTime,
    ) -> Result<(Authorization, KnownKey), StsError> {
        let auth = Authorization::from_request(req).map_err(|e| match e {
            SigV4Error::Missing => StsError::MissingAuthenticationToken,
            other => StsError::IncompleteSignature(other.to_string()),
        })?;
        if auth.credential.service != "sts" {
            return Err(StsError::SignatureDoesNotMatch(
                "Credential should be scoped to correct service: 'sts'. ".into(),
            ));
        }
        if !looks_like_region(&auth.credential.region) {
            return Err(StsError::SignatureDoesNotMatch(
                "Credential should be scoped to a valid region. ".into(),
            ));
        }
        let key = self.keys.check(&auth, now).map_err(|e| match e {
            KeyError::Expired => StsError::ExpiredToken,
            _ => StsError::InvalidClientTokenId,
        })?;
        let now_dt = OffsetDateTime::from(now);
        let skew = MAX_SKEW;
        if auth.time + skew < now_dt {
            return Err(StsError::SignatureDoesNotMatch(format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                auth.amz_date,
                amz_date(now_dt - skew),
                amz_date(now_dt)
            )));
        }
        if auth.time > now_dt + skew {
            return Err(StsError::SignatureDoesNotMatch(format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                auth.amz_date,
                amz_date(now_dt + skew),
                amz_date(now_dt)
            )));
        }
        auth.verify(req, &key.secret).map_err(|e| match e {
            SigV4Error::SignatureMismatch(_) => StsError::SignatureDoesNotMatch(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
                    .into(),
            ),
            SigV4Error::UnsignedPayload(_) | SigV4Error::PayloadHashMismatch { .. } => {
                StsError::SignatureDoesNotMatch(e.to_string())
            }
            other => StsError::IncompleteSignature(other.to_string()),
        })?;
        Ok((auth, key))
    }

    fn assume_role<'p>(
        &self,
        caller_identity: &Identity,
        caller: &Principal,
        partition: &str,
        param: &impl Fn(&str) -> Option<&'p str>,
        now: SystemTime,
    ) -> Result<String, StsError> {
        let invalid = |field: &str, value: &str, rule: &str| {
            StsError::ValidationError(format!(
                "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
            ))
        };
        let null = |field: &str| {
            StsError::ValidationError(format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ))
        };
        let role_arn = param("RoleArn").ok_or_else(|| null("roleArn"))?;
        let session = param("RoleSessionName").ok_or_else(|| null("roleSessionName"))?;
        let session_ok = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        if !(2..=64).contains(&session.len()) || !session.chars().all(session_ok) {
            return Err(invalid(
                "roleSessionName",
                session,
                "Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}",
            ));
        }
        let duration = match param("DurationSeconds") {
            None => 3600,
            Some(v) => match v.parse::<u32>() {
                Ok(d) if (900..=43200).contains(&d) => d,
                _ => {
                    return Err(invalid(
                        "durationSeconds",
                        v,
                        "Member must have value between 900 and 43200",
                    ))
                }
            },
        };
        let denied = || {
            StsError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ))
        };
        let (account, role_name) = parse_role_arn(role_arn)
            .ok_or_else(|| invalid("roleArn", role_arn, "Member must be an IAM role ARN"))?;
        let role = self
            .config
            .roles
            .iter()
            .find(|r| r.name == role_name && account == self.config.account_id)
            .ok_or_else(denied)?;
        let root = format!("arn:{partition}:iam::{}:root", self.config.account_id);
        if !role
            .trusted_principals
            .iter()
            .any(|p| *p == caller.canonical_arn || *p == root)
        {
            return Err(denied());
        }
        if let Some(expected) = &role.external_id {
            let given = param("ExternalId").unwrap_or_default();
            if !ct_eq(given.as_bytes(), expected.as_bytes()) {
                return Err(denied());
            }
        }
        if matches!(caller_identity, Identity::AssumedRole { .. }) && duration > 3600 {
            return Err(StsError::ValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
            ));
        }
        if duration > role.max_session_duration.unwrap_or(43200) {
            return Err(StsError::ValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .into(),
            ));
        }

        let identity = Identity::AssumedRole {
            role: role.name.clone(),
            session: session.to_owned(),
        };
        let principal = identity.principal(&self.config.account_id, partition);
        let issued = self
            .keys
            .issue(
                identity.clone(),
                Duration::from_secs(u64::from(duration)),
                now,
            )
            .map_err(|_| StsError::InternalFailure)?;
        let expiration = OffsetDateTime::from(issued.expires)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .map_err(|_| StsError::InternalFailure)?;
        Ok(format!(
            "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
             <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
             <AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>",
            issued.access_key_id,
            xml_escape(&issued.secret),
            xml_escape(&issued.session_token),
            xml_escape(&identity.caller_user_id(&self.config.account_id)),
            xml_escape(&principal.arn)
        ))
    }

    fn counters(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        // A counter map is consistent even if a holder panicked: every update is one increment.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The account and role name in `arn:<partition>:iam::<account>:role/<path/>name`.
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    match arn.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "iam", "", account, resource] if partition.starts_with("aws") => {
            let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
            (!name.is_empty()).then_some((*account, name))
        }
        _ => None,
    }
}

fn amz_date(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::tests::support::*;
    use super::*;

    fn ci() -> Creds {
        Creds::user(CI_KEY, CI_SECRET)
    }

    fn code(resp: &StsResponse) -> &str {
        xml_value(&resp.body, "Code")
    }

    fn caller_identity(sts: &Sts, creds: &Creds, now: SystemTime) -> StsResponse {
        let form = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
        let (headers, body) = signed_post(creds, &form, now);
        sts.handle("POST", "/", &headers, &body, now)
    }

    #[test]
    fn get_caller_identity_for_a_user_by_post_and_presigned_get() {
        let sts = sts();
        let resp = caller_identity(&sts, &ci(), t0());
        assert_eq!(
            (resp.status, resp.content_type),
            (200, "text/xml"),
            "{}",
            resp.body
        );
        assert!(resp.body.starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
        ));
        assert_eq!(
            xml_value(&resp.body, "Arn"),
            "arn:aws:iam::123456789012:user/greenroom-ci"
        );
        assert_eq!(xml_value(&resp.body, "Account"), ACCOUNT);
        assert!(xml_value(&resp.body, "UserId").starts_with("AIDA"));
        assert_eq!(xml_value(&resp.body, "RequestId").len(), 36);

        // The presigned URL inside an EKS token is also a valid STS request.
        let url = presigned_url(
            &ci(),
            "sts.eu-west-1.amazonaws.com",
            "eu-west-1",
            "c1",
            t0(),
        );
        let path = url.trim_start_matches("https://sts.eu-west-1.amazonaws.com");
        let headers = vec![
            ("Host".to_owned(), "sts.eu-west-1.amazonaws.com".to_owned()),
            ("x-k8s-aws-id".to_owned(), "c1".to_owned()),
        ];
        let resp = sts.handle("GET", path, &headers, b"", t0() + Duration::from_secs(600));
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(sts.calls("GetCallerIdentity"), 2);
    }

    #[test]
    fn assume_role_then_use_the_session() {
        let sts = sts();
        let resp = assume_role(&sts, &ci(), ROLE_ARN, &[], t0());
        let temp = creds_from(&resp);
        assert!(temp.akid.starts_with("ASIA") && temp.akid.len() == 20);
        assert_eq!(temp.secret.len(), 40);
        assert_eq!(xml_value(&resp.body, "Expiration"), "2026-11-24T11:00:00Z");
        assert_eq!(
            xml_value(&resp.body, "Arn"),
            "arn:aws:sts::123456789012:assumed-role/backstage-tutorial-role/portal-session"
        );
        let role_id = xml_value(&resp.body, "AssumedRoleId");
        assert!(
            role_id.starts_with("AROA") && role_id.ends_with(":portal-session"),
            "{role_id}"
        );

        let who = caller_identity(&sts, &temp, t0());
        assert_eq!(who.status, 200, "{}", who.body);
        assert_eq!(
            xml_value(&who.body, "Arn"),
            "arn:aws:sts::123456789012:assumed-role/backstage-tutorial-role/portal-session"
        );
        assert_eq!(xml_value(&who.body, "UserId"), role_id);

        // Role chaining with the external id, within the one-hour chaining limit.
        let chained = assume_role(
            &sts,
            &temp,
            EXTERNAL_ROLE_ARN,
            &[("ExternalId", "greenroom-ext")],
            t0(),
        );
        assert_eq!(chained.status, 200, "{}", chained.body);
        let long = [("ExternalId", "greenroom-ext"), ("DurationSeconds", "7200")];
        let too_long = assume_role(&sts, &temp, EXTERNAL_ROLE_ARN, &long, t0());
        assert_eq!((too_long.status, code(&too_long)), (400, "ValidationError"));

        // Session credentials without their token, and after expiry.
        let no_token = Creds {
            token: None,
            ..temp.clone()
        };
        let resp = caller_identity(&sts, &no_token, t0());
        assert_eq!((resp.status, code(&resp)), (403, "InvalidClientTokenId"));
        let later = t0() + Duration::from_secs(3601);
        let resp = caller_identity(&sts, &temp, later);
        assert_eq!((resp.status, code(&resp)), (403, "ExpiredToken"));
        assert_eq!(sts.calls("AssumeRole"), 3);
        assert_eq!(sts.calls("GetCallerIdentity"), 3);
    }

    #[test]
    fn assume_role_is_refused_when_not_allowed() {
        let sts = sts();
        let outsider = Creds::user(OTHER_KEY, OTHER_SECRET);
        let resp = assume_role(&sts, &outsider, ROLE_ARN, &[], t0());
        assert_eq!((resp.status, code(&resp)), (403, "AccessDenied"));
        assert_eq!(
            xml_value(&resp.body, "Message"),
            "User: arn:aws:iam::123456789012:user/outsider is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::123456789012:role/backstage-tutorial-role"
        );
        for extra in [&[("ExternalId", "wrong")][..], &[]] {
            let resp = assume_role(&sts, &ci(), EXTERNAL_ROLE_ARN, extra, t0());
            assert_eq!(
                (resp.status, code(&resp)),
                (403, "AccessDenied"),
                "{extra:?}"
            );
        }
        let resp = assume_role(
            &sts,
            &ci(),
            EXTERNAL_ROLE_ARN,
            &[("ExternalId", "greenroom-ext")],
            t0(),
        );
        assert_eq!(resp.status, 200, "{}", resp.body);
        let missing = "arn:aws:iam::123456789012:role/nope";
        assert_eq!(
            code(&assume_role(&sts, &ci(), missing, &[], t0())),
            "AccessDenied"
        );
        let other_account = "arn:aws:iam::210987654321:role/backstage-tutorial-role";
        assert_eq!(
            code(&assume_role(&sts, &ci(), other_account, &[], t0())),
            "AccessDenied"
        );
        let malformed = assume_role(&sts, &ci(), "backstage-tutorial-role", &[], t0());
        assert_eq!(
            (malformed.status, code(&malformed)),
            (400, "ValidationError")
        );
        let resp = assume_role(&sts, &ci(), ROLE_ARN, &[("DurationSeconds", "100")], t0());
        assert_eq!((resp.status, code(&resp)), (400, "ValidationError"));
        let resp = assume_role(&sts, &ci(), ROLE_ARN, &[("DurationSeconds", "43200")], t0());
        assert_eq!(xml_value(&resp.body, "Expiration"), "2026-11-24T22:00:00Z");
    }

    #[test]
    fn signature_and_key_errors() {
        let sts = sts();
        let wrong_secret = Creds::user(CI_KEY, OTHER_SECRET);
        let resp = caller_identity(&sts, &wrong_secret, t0());
        assert_eq!((resp.status, code(&resp)), (403, "SignatureDoesNotMatch"));
        assert!(resp.body.starts_with(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
        ));

        let unknown = Creds::user("AKIAUNKNOWNKEY000000", CI_SECRET);
        let resp = caller_identity(&sts, &unknown, t0());
        assert_eq!((resp.status, code(&resp)), (403, "InvalidClientTokenId"));

        // The body is signed: changing it after signing breaks the signature.
        let (headers, _) = signed_post(
            &ci(),
            &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
            t0(),
        );
        let other_body = b"Action=AssumeRole&Version=2011-06-15";
        let resp = sts.handle("POST", "/", &headers, other_body, t0());
        assert_eq!(code(&resp), "SignatureDoesNotMatch");

        let form = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")];
        let (headers, body) = signed_post_with(&ci(), &form, t0(), true);
        let resp = sts.handle("POST", "/", &headers, &body, t0());
        assert_eq!(
            code(&resp),
            "SignatureDoesNotMatch",
            "UNSIGNED-PAYLOAD is refused"
        );

        let stale = caller_identity(&sts, &ci(), t0());
        assert_eq!(stale.status, 200);
        let (headers, body) = signed_post(&ci(), &form, t0());
        let resp = sts.handle(
            "POST",
            "/",
            &headers,
            &body,
            t0() + Duration::from_secs(16 * 60),
        );
        assert_eq!(code(&resp), "SignatureDoesNotMatch");
        assert!(xml_value(&resp.body, "Message").starts_with("Signature expired: 20261124T100000Z"));

        let plain = [(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )];
        let resp = sts.handle("POST", "/", &plain, b"Action=GetCallerIdentity", t0());
        assert_eq!(
            (resp.status, code(&resp)),
            (403, "MissingAuthenticationToken")
        );
    }

    #[test]
    fn unknown_actions_are_escaped_and_counted() {
        let sts = sts();
        let (headers, body) = signed_post(
            &ci(),
            &[("Action", "Get<Token>"), ("Version", "2011-06-15")],
            t0(),
        );
        let resp = sts.handle("POST", "/", &headers, &body, t0());
        assert_eq!((resp.status, code(&resp)), (400, "InvalidAction"));
        assert!(resp
            .body
            .contains("Could not find operation Get&lt;Token&gt; for version 2011-06-15"));
        assert_eq!(sts.calls("Get<Token>"), 1);
        assert_eq!(sts.calls("AssumeRole"), 0);
    }
}
