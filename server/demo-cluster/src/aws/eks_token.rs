//! EKS bearer-token verification (`k8s-aws-v1.` + base64url presigned STS
//! `GetCallerIdentity` URL), with the checks aws-iam-authenticator's `Verify` makes, followed by
//! the signature check STS would make — done locally against this module's key store instead of
//! a call to AWS.
//!
//! Owns: token format, URL, host, parameter, action, clock and credential-scope rules, and the
//! mapping of a verified key to a [`Principal`]. Does not own: keys (held by [`Sts`]) or mapping
//! principals to Kubernetes users (the API server's job).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use time::OffsetDateTime;

use super::keys::KeyError;
use super::sigv4::{parse_query, Authorization, Request, SigV4Error};
use super::sts::{Sts, STS_VERSION};
use super::{looks_like_region, partition_for_region, Principal};

/// Prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// Longest token accepted, as in aws-iam-authenticator.
pub const MAX_TOKEN_LEN: usize = 4096;
/// A token is valid this long after its `X-Amz-Date` (STS ignores `X-Amz-Expires`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How far in the future `X-Amz-Date` may be (client clock skew).
pub const MAX_FUTURE_SKEW: Duration = Duration::from_secs(5 * 60);
/// The header binding a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

const ALLOWED_PARAMS: [&str; 9] = [
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-security-token",
];

/// Why an EKS token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("token is {0} bytes, more than the 4096 allowed")]
    TooLarge(usize),
    /// The token does not start with `k8s-aws-v1.`.
    #[error("token is missing the 'k8s-aws-v1.' prefix")]
    MissingPrefix,
    /// The payload is not unpadded base64url.
    #[error("token payload is not unpadded base64url: {0}")]
    InvalidBase64(String),
    /// The payload is not a URL this verifier can read.
    #[error("token payload is not a valid URL: {0}")]
    InvalidUrl(String),
    /// The URL's scheme is not https.
    #[error("unexpected scheme '{0}' in pre-signed URL (expected https)")]
    NotHttps(String),
    /// The host is not an STS endpoint.
    #[error("unexpected hostname '{0}' in pre-signed URL (expected an STS endpoint)")]
    HostNotAllowed(String),
    /// The path is not `/`.
    #[error("unexpected path '{0}' in pre-signed URL (expected /)")]
    PathNotRoot(String),
    /// The query string cannot be decoded.
    #[error("malformed query string in pre-signed URL: {0}")]
    MalformedQuery(String),
    /// A query parameter outside the allowed set.
    #[error("query parameter '{0}' is not allowed")]
    ParameterNotAllowed(String),
    /// A query parameter appears more than once (names compared case-insensitively).
    #[error("query parameter '{0}' appears more than once")]
    DuplicateParameter(String),
    /// A required query parameter is absent.
    #[error("query parameter '{0}' is missing")]
    MissingParameter(&'static str),
    /// `Action` is not `GetCallerIdentity`.
    #[error("unexpected Action '{0}' in pre-signed URL (expected GetCallerIdentity)")]
    WrongAction(String),
    /// `Version` is not `2011-06-15`.
    #[error("unexpected Version '{0}' in pre-signed URL (expected 2011-06-15)")]
    WrongVersion(String),
    /// `x-k8s-aws-id` is not signed, so the token is not bound to a cluster.
    #[error("x-k8s-aws-id is not among the signed headers")]
    ClusterIdNotSigned,
    /// `host` is not signed.
    #[error("host is not among the signed headers")]
    HostNotSigned,
    /// A signed header other than host and x-k8s-aws-id, which the authenticator never sends.
    #[error("signed header '{0}' is not part of a token request")]
    UnexpectedSignedHeader(String),
    /// `X-Amz-Expires` is not a number of seconds in 0..=900.
    #[error("invalid X-Amz-Expires '{0}' (expected 0..=900)")]
    InvalidExpires(String),
    /// `X-Amz-Date` is not `yyyymmddTHHMMSSZ`.
    #[error("invalid X-Amz-Date '{0}' (expected yyyymmddTHHMMSSZ)")]
    InvalidDate(String),
    /// The token is older than [`TOKEN_LIFETIME`].
    #[error("token expired: X-Amz-Date {date} is {minutes}m old")]
    Expired {
        /// X-Amz-Date.
        date: String,
        /// Age in whole minutes.
        minutes: i64,
    },
    /// `X-Amz-Date` is more than [`MAX_FUTURE_SKEW`] in the future.
    #[error("token not yet valid: X-Amz-Date {date} is {seconds}s in the future")]
    NotYetValid {
        /// X-Amz-Date.
        date: String,
        /// Seconds ahead of now.
        seconds: i64,
    },
    /// `X-Amz-Algorithm` is not `AWS4-HMAC-SHA256`.
    #[error("unsupported X-Amz-Algorithm '{0}'")]
    UnsupportedAlgorithm(String),
    /// `X-Amz-Credential` is malformed.
    #[error("malformed X-Amz-Credential '{0}'")]
    MalformedCredential(String),
    /// The credential scope's date is not the day of `X-Amz-Date`.
    #[error("credential scope date {scope} does not match X-Amz-Date {date}")]
    ScopeDateMismatch {
        /// Scope date.
        scope: String,
        /// X-Amz-Date.
        date: String,
    },
    /// The credential is scoped to a service other than sts.
    #[error("credential is scoped to service '{0}' (expected sts)")]
    WrongService(String),
    /// The credential is scoped to a region other than the host's.
    #[error("credential is scoped to region '{scope}' but the host is in '{host}'")]
    WrongRegion {
        /// Region in the scope.
        scope: String,
        /// Region of the STS host.
        host: String,
    },
    /// `X-Amz-Signature` is not 64 hex digits.
    #[error("malformed X-Amz-Signature '{0}'")]
    MalformedSignature(String),
    /// No user or issued session has this access key id.
    #[error("unknown access key id '{0}'")]
    UnknownAccessKey(String),
    /// A long-term user key came with X-Amz-Security-Token.
    #[error("access key '{0}' is a long-term key but X-Amz-Security-Token was sent")]
    UnexpectedSecurityToken(String),
    /// A temporary key came without X-Amz-Security-Token.
    #[error("access key '{0}' is temporary and requires X-Amz-Security-Token")]
    MissingSecurityToken(String),
    /// A temporary key came with a different session token.
    #[error("X-Amz-Security-Token does not match the session of access key '{0}'")]
    SecurityTokenMismatch(String),
    /// The temporary credentials have expired.
    #[error("temporary credentials '{0}' have expired")]
    CredentialsExpired(String),
    /// The signature does not verify (wrong cluster id, tampering or wrong secret).
    #[error("signature does not match (token for another cluster, altered, or wrong secret)")]
    SignatureMismatch,
    /// Any other signature-parameter problem.
    #[error("invalid signature parameters: {0}")]
    Signature(SigV4Error),
}

impl From<SigV4Error> for TokenError {
    fn from(e: SigV4Error) -> Self {
        match e {
            SigV4Error::UnsupportedAlgorithm(a) => TokenError::UnsupportedAlgorithm(a),
            SigV4Error::MalformedCredential(c) => TokenError::MalformedCredential(c),
            SigV4Error::InvalidDate(d) => TokenError::InvalidDate(d),
            SigV4Error::ScopeDateMismatch { scope, date } => {
                TokenError::ScopeDateMismatch { scope, date }
            }
            SigV4Error::MalformedSignature(s) => TokenError::MalformedSignature(s),
            SigV4Error::MalformedQuery(q) => TokenError::MalformedQuery(q),
            SigV4Error::HostNotSigned => TokenError::HostNotSigned,
            SigV4Error::MissingSignedHeader(h) => TokenError::UnexpectedSignedHeader(h),
            SigV4Error::SignatureMismatch(_) => TokenError::SignatureMismatch,
            SigV4Error::MissingElement(name) => TokenError::MissingParameter(name),
            other => TokenError::Signature(other),
        }
    }
}

/// Verifies `token` for the cluster `cluster_id` at time `now` against `sts`'s keys (configured
/// users and the temporary credentials it issued), returning who signed it.
pub fn verify_eks_token(
    sts: &Sts,
    token: &str,
    cluster_id: &str,
    now: SystemTime,
) -> Result<Principal, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLarge(token.len()));
    }
    let payload = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(TokenError::MissingPrefix)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| TokenError::InvalidBase64(e.to_string()))?;
    let url = String::from_utf8(bytes).map_err(|_| TokenError::InvalidUrl("not UTF-8".into()))?;

    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| TokenError::InvalidUrl("no scheme".into()))?;
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(TokenError::NotHttps(scheme.to_owned()));
    }
    if rest.contains('#') {
        return Err(TokenError::InvalidUrl("fragment not allowed".into()));
    }
    let (host, path_and_query) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let region =
        sts_host_region(host).ok_or_else(|| TokenError::HostNotAllowed(host.to_owned()))?;
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    if path != "/" {
        return Err(TokenError::PathNotRoot(path.to_owned()));
    }

    let params = parse_query(query)?;
    let mut seen: Vec<String> = Vec::new();
    for (name, _) in &params {
        let lower = name.to_ascii_lowercase();
        if !ALLOWED_PARAMS.contains(&lower.as_str()) {
            return Err(TokenError::ParameterNotAllowed(name.clone()));
        }
        if seen.contains(&lower) {
            return Err(TokenError::DuplicateParameter(name.clone()));
        }
        seen.push(lower);
    }
    let get = |name: &'static str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .ok_or(TokenError::MissingParameter(name))
    };
    match get("Action")? {
        "GetCallerIdentity" => {}
        other => return Err(TokenError::WrongAction(other.to_owned())),
    }
    match get("Version")? {
        STS_VERSION => {}
        other => return Err(TokenError::WrongVersion(other.to_owned())),
    }
    let signed = get("X-Amz-SignedHeaders")?;
    if !signed
        .split(';')
        .any(|h| h.eq_ignore_ascii_case(CLUSTER_ID_HEADER))
    {
        return Err(TokenError::ClusterIdNotSigned);
    }
    let expires = get("X-Amz-Expires")?;
    if !expires.parse::<u16>().is_ok_and(|e| e <= 900) {
        return Err(TokenError::InvalidExpires(expires.to_owned()));
    }
    check_date(get("X-Amz-Date")?, now)?;

    // Rebuild the request the authenticator sends to STS: GET <url> with this cluster's id.
    let headers = [
        ("host".to_owned(), host.to_owned()),
        (CLUSTER_ID_HEADER.to_owned(), cluster_id.to_owned()),
    ];
    let req = Request::new("GET", path_and_query, &headers, &[]);
    let auth = Authorization::from_request(&req)?;
    if auth.credential.service != "sts" {
        return Err(TokenError::WrongService(auth.credential.service));
    }
    if auth.credential.region != region {
        return Err(TokenError::WrongRegion {
            scope: auth.credential.region,
            host: region.to_owned(),
        });
    }
    let akid = auth.credential.access_key_id.clone();
    let key = sts.keys().check(&auth, now).map_err(|e| match e {
        KeyError::UnexpectedToken => TokenError::UnexpectedSecurityToken(akid.clone()),
        KeyError::MissingToken => TokenError::MissingSecurityToken(akid.clone()),
        KeyError::TokenMismatch => TokenError::SecurityTokenMismatch(akid.clone()),
        KeyError::Expired => TokenError::CredentialsExpired(akid.clone()),
        KeyError::Unknown | KeyError::Random => TokenError::UnknownAccessKey(akid.clone()),
    })?;
    auth.verify(&req, &key.secret)?;
    Ok(key
        .identity
        .principal(sts.account_id(), partition_for_region(region)))
}

/// The region of an STS host name, or `None` if it is not one: `sts.amazonaws.com` (us-east-1),
/// `sts[-fips].<region>.amazonaws.com`, `sts.<cn-region>.amazonaws.com.cn`.
fn sts_host_region(host: &str) -> Option<&str> {
    if host == "sts.amazonaws.com" {
        return Some("us-east-1");
    }
    let (region, china) = if let Some(r) = host.strip_suffix(".amazonaws.com.cn") {
        (r.strip_prefix("sts.")?, true)
    } else {
        let r = host.strip_suffix(".amazonaws.com")?;
        (
            r.strip_prefix("sts.")
                .or_else(|| r.strip_prefix("sts-fips."))?,
            false,
        )
    };
    (looks_like_region(region) && region.starts_with("cn-") == china).then_some(region)
}

fn check_date(date: &str, now: SystemTime) -> Result<(), TokenError> {
    let signed_at = super::sigv4::parse_amz_date(date)?;
    let age = OffsetDateTime::from(now) - signed_at;
    if age > TOKEN_LIFETIME {
        return Err(TokenError::Expired {
            date: date.to_owned(),
            minutes: age.whole_minutes(),
        });
    }
    if -age > MAX_FUTURE_SKEW {
        return Err(TokenError::NotYetValid {
            date: date.to_owned(),
            seconds: (-age).whole_seconds(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::support::*;
    use super::*;

    const CLUSTER: &str = "greenroom-demo";

    fn ci() -> Creds {
        Creds::user(CI_KEY, CI_SECRET)
    }

    fn minutes(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    /// Re-encodes a token after editing its URL.
    fn edited(token: &str, edit: impl Fn(String) -> String) -> String {
        token_from_url(&edit(url_of(token)))
    }

    #[test]
    fn valid_token_for_an_iam_user() {
        let sts = sts();
        let p = verify_eks_token(
            &sts,
            &token(&ci(), CLUSTER, t0()),
            CLUSTER,
            t0() + minutes(1),
        );
        let p = p.expect("valid");
        assert_eq!(p.arn, "arn:aws:iam::123456789012:user/greenroom-ci");
        assert_eq!(p.canonical_arn, p.arn);
        assert_eq!(p.account, ACCOUNT);
        assert!(p.user_id.starts_with("AIDA") && p.session_name.is_none());
        // The global endpoint is scoped to us-east-1; 15 minutes old is still fine.
        let url = presigned_url(&ci(), "sts.amazonaws.com", "us-east-1", CLUSTER, t0());
        assert!(sts
            .verify_eks_token(&token_from_url(&url), CLUSTER, t0() + minutes(15))
            .is_ok());
        // China: own partition.
        let url = presigned_url(
            &ci(),
            "sts.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
            CLUSTER,
            t0(),
        );
        let p = sts
            .verify_eks_token(&token_from_url(&url), CLUSTER, t0())
            .expect("cn");
        assert_eq!(p.arn, "arn:aws-cn:iam::123456789012:user/greenroom-ci");
        let url = presigned_url(
            &ci(),
            "sts-fips.us-east-2.amazonaws.com",
            "us-east-2",
            CLUSTER,
            t0(),
        );
        assert!(sts
            .verify_eks_token(&token_from_url(&url), CLUSTER, t0())
            .is_ok());
    }

    #[test]
    fn token_for_another_cluster_or_tampered_fails_the_signature() {
        let sts = sts();
        let tok = token(&ci(), "someone-elses-cluster", t0());
        assert_eq!(
            sts.verify_eks_token(&tok, CLUSTER, t0()),
            Err(TokenError::SignatureMismatch)
        );
        let tok = token(&ci(), CLUSTER, t0());
        let tampered = edited(&tok, |mut u| {
            let last = u.pop().expect("non-empty");
            u.push(if last == '0' { '1' } else { '0' });
            u
        });
        assert_eq!(
            sts.verify_eks_token(&tampered, CLUSTER, t0()),
            Err(TokenError::SignatureMismatch)
        );
        let other_secret = Creds::user(CI_KEY, OTHER_SECRET);
        let tok = token(&other_secret, CLUSTER, t0());
        assert_eq!(
            sts.verify_eks_token(&tok, CLUSTER, t0()),
            Err(TokenError::SignatureMismatch)
        );
    }

    #[test]
    fn clock_rules() {
        let sts = sts();
        let tok = token(&ci(), CLUSTER, t0());
        let err = sts
            .verify_eks_token(&tok, CLUSTER, t0() + minutes(16))
            .expect_err("expired");
        assert_eq!(
            err.to_string(),
            "token expired: X-Amz-Date 20261124T100000Z is 16m old"
        );
        let err = sts
            .verify_eks_token(&tok, CLUSTER, t0() - minutes(6))
            .expect_err("future");
        assert_eq!(
            err,
            TokenError::NotYetValid {
                date: "20261124T100000Z".into(),
                seconds: 360
            }
        );
        assert!(sts
            .verify_eks_token(&tok, CLUSTER, t0() - minutes(4))
            .is_ok());
    }

    #[test]
    fn url_shape_is_enforced() {
        let sts = sts();
        let tok = token(&ci(), CLUSTER, t0());
        let check = |edit: &dyn Fn(String) -> String| {
            sts.verify_eks_token(&edited(&tok, edit), CLUSTER, t0())
        };
        assert_eq!(
            check(&|u| format!("{u}&Foo=bar")),
            Err(TokenError::ParameterNotAllowed("Foo".into()))
        );
        assert_eq!(
            check(&|u| format!("{u}&action=GetCallerIdentity")),
            Err(TokenError::DuplicateParameter("action".into()))
        );
        assert_eq!(
            check(&|u| u.replace("Action=GetCallerIdentity", "Action=AssumeRole")),
            Err(TokenError::WrongAction("AssumeRole".into()))
        );
        assert_eq!(
            check(&|u| u.replace("Version=2011-06-15", "Version=2099-01-01")),
            Err(TokenError::WrongVersion("2099-01-01".into()))
        );
        for host in [
            "sts.evil.com",
            "sts.amazonaws.com.evil.com",
            "sts.amazonaws.com:443",
            "sts.cn-north-1.amazonaws.com",
        ] {
            let err = check(&|u| u.replace("sts.eu-west-1.amazonaws.com", host));
            assert_eq!(err, Err(TokenError::HostNotAllowed(host.into())), "{host}");
        }
        assert!(matches!(
            check(&|u| u.replace("https://", "https://evil@")),
            Err(TokenError::HostNotAllowed(_))
        ));
        assert_eq!(
            check(&|u| u.replace("https://", "http://")),
            Err(TokenError::NotHttps("http".into()))
        );
        assert_eq!(
            check(&|u| u.replace(".com/?", ".com/x?")),
            Err(TokenError::PathNotRoot("/x".into()))
        );
        // Right host, but the scope says another region.
        let url = presigned_url(
            &ci(),
            "sts.eu-west-1.amazonaws.com",
            "us-east-1",
            CLUSTER,
            t0(),
        );
        assert_eq!(
            sts.verify_eks_token(&token_from_url(&url), CLUSTER, t0()),
            Err(TokenError::WrongRegion {
                scope: "us-east-1".into(),
                host: "eu-west-1".into()
            })
        );
    }

    #[test]
    fn cluster_id_must_be_signed() {
        let tok = token(&ci(), CLUSTER, t0());
        let unsigned = edited(&tok, |u| {
            u.replace(
                "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
                "X-Amz-SignedHeaders=host",
            )
        });
        assert_ne!(unsigned, tok, "the edit applied");
        let err = sts()
            .verify_eks_token(&unsigned, CLUSTER, t0())
            .expect_err("unsigned");
        assert_eq!(
            err.to_string(),
            "x-k8s-aws-id is not among the signed headers"
        );
    }

    #[test]
    fn encoding_and_key_errors() {
        let sts = sts();
        let tok = token(&ci(), CLUSTER, t0());
        assert_eq!(
            sts.verify_eks_token(&tok[1..], CLUSTER, t0()),
            Err(TokenError::MissingPrefix)
        );
        let url = url_of(&tok);
        let padded = format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE.encode(format!("{url}&"))
        );
        assert!(
            padded.ends_with('='),
            "needs padding to be a meaningful test: {padded}"
        );
        assert!(matches!(
            sts.verify_eks_token(&padded, CLUSTER, t0()),
            Err(TokenError::InvalidBase64(_))
        ));
        let standard = format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode("??>>")
        );
        assert!(matches!(
            sts.verify_eks_token(&standard, CLUSTER, t0()),
            Err(TokenError::InvalidBase64(_))
        ));
        let huge = format!("k8s-aws-v1.{}", "A".repeat(5000));
        assert!(matches!(
            sts.verify_eks_token(&huge, CLUSTER, t0()),
            Err(TokenError::TooLarge(_))
        ));

        let unknown = Creds::user("AKIAUNKNOWNKEY000000", CI_SECRET);
        assert_eq!(
            sts.verify_eks_token(&token(&unknown, CLUSTER, t0()), CLUSTER, t0()),
            Err(TokenError::UnknownAccessKey("AKIAUNKNOWNKEY000000".into()))
        );
        let with_token = Creds {
            token: Some("bogus".into()),
            ..ci()
        };
        assert_eq!(
            sts.verify_eks_token(&token(&with_token, CLUSTER, t0()), CLUSTER, t0()),
            Err(TokenError::UnexpectedSecurityToken(CI_KEY.into()))
        );
    }

    #[test]
    fn temporary_credentials_need_their_session_token() {
        let sts = sts();
        let temp = creds_from(&assume_role(&sts, &ci(), ROLE_ARN, &[], t0()));
        let p = sts
            .verify_eks_token(&token(&temp, CLUSTER, t0()), CLUSTER, t0())
            .expect("temp ok");
        assert_eq!(
            p.arn,
            "arn:aws:sts::123456789012:assumed-role/backstage-tutorial-role/portal-session"
        );
        assert_eq!(
            p.canonical_arn,
            "arn:aws:iam::123456789012:role/backstage-tutorial-role"
        );
        assert!(p.user_id.starts_with("AROA"));
        assert_eq!(p.session_name.as_deref(), Some("portal-session"));

        let no_token = Creds {
            token: None,
            ..temp.clone()
        };
        assert_eq!(
            sts.verify_eks_token(&token(&no_token, CLUSTER, t0()), CLUSTER, t0()),
            Err(TokenError::MissingSecurityToken(temp.akid.clone()))
        );
        let wrong = Creds {
            token: Some("x".repeat(128)),
            ..temp.clone()
        };
        assert_eq!(
            sts.verify_eks_token(&token(&wrong, CLUSTER, t0()), CLUSTER, t0()),
            Err(TokenError::SecurityTokenMismatch(temp.akid.clone()))
        );
        // Default session: one hour. A token signed a minute before expiry is refused after it.
        let late = t0() + minutes(61);
        let tok = token(&temp, CLUSTER, t0() + minutes(59));
        assert!(sts
            .verify_eks_token(&tok, CLUSTER, t0() + minutes(59))
            .is_ok());
        assert_eq!(
            sts.verify_eks_token(&tok, CLUSTER, late),
            Err(TokenError::CredentialsExpired(temp.akid))
        );
    }
}
