//! Test helpers that sign with the `aws-sigv4` crate (the library the product uses), so the
//! independent verifier is cross-checked against it; plus a shared fixture configuration.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;

use super::super::{AwsConfig, IamRole, IamUser, Sts};

/// Header or query name/value pairs.
pub type Pairs = Vec<(String, String)>;

pub const ACCOUNT: &str = "123456789012";
pub const CI_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const CI_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const OTHER_KEY: &str = "AKIAI44QH8DHBEXAMPLE";
pub const OTHER_SECRET: &str = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/backstage-tutorial-role";
pub const EXTERNAL_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/partner-role";

/// 2026-11-24T10:00:00Z.
pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_514_400)
}

pub fn sts() -> Sts {
    let user = |name: &str, key: &str, secret: &str| IamUser {
        name: name.into(),
        access_key_id: key.into(),
        secret_access_key: secret.into(),
    };
    Sts::new(AwsConfig {
        account_id: ACCOUNT.into(),
        users: vec![
            user("greenroom-ci", CI_KEY, CI_SECRET),
            user("outsider", OTHER_KEY, OTHER_SECRET),
        ],
        roles: vec![
            IamRole {
                name: "backstage-tutorial-role".into(),
                trusted_principals: vec!["arn:aws:iam::123456789012:user/greenroom-ci".into()],
                external_id: None,
                max_session_duration: None,
            },
            IamRole {
                name: "partner-role".into(),
                trusted_principals: vec![
                    "arn:aws:iam::123456789012:user/greenroom-ci".into(),
                    "arn:aws:iam::123456789012:role/backstage-tutorial-role".into(),
                ],
                external_id: Some("greenroom-ext".into()),
                max_session_duration: None,
            },
        ],
    })
    .expect("fixture config is valid")
}

/// Temporary or long-term credentials to sign with.
#[derive(Debug, Clone)]
pub struct Creds {
    pub akid: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Creds {
    pub fn user(akid: &str, secret: &str) -> Self {
        Self {
            akid: akid.into(),
            secret: secret.into(),
            token: None,
        }
    }
}

fn settings(location: SignatureLocation, unsigned: bool) -> SigningSettings {
    let mut s = SigningSettings::default();
    s.signature_location = location;
    if unsigned {
        s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if location == SignatureLocation::QueryParams {
        s.expires_in = Some(Duration::from_secs(60));
    }
    s
}

fn signed<'a>(
    creds: &Creds,
    region: &str,
    time: SystemTime,
    location: SignatureLocation,
    request: SignableRequest<'a>,
    unsigned: bool,
) -> (Pairs, Pairs) {
    let identity = Credentials::new(
        &creds.akid,
        &creds.secret,
        creds.token.clone(),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(settings(location, unsigned))
        .build()
        .expect("signing params")
        .into();
    let (instructions, _) = sign(request, &params).expect("sign").into_parts();
    let (headers, query) = instructions.into_parts();
    let headers = headers
        .iter()
        .map(|h| (h.name().to_owned(), h.value().to_owned()))
        .collect();
    let query = query
        .into_iter()
        .map(|(k, v): (&str, Cow<'_, str>)| (k.to_owned(), v.into_owned()))
        .collect();
    (headers, query)
}

/// A presigned `GetCallerIdentity` URL for `host`, as `aws eks get-token` makes.
pub fn presigned_url(
    creds: &Creds,
    host: &str,
    region: &str,
    cluster_id: &str,
    time: SystemTime,
) -> String {
    let base = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let headers = [("host", host), ("x-k8s-aws-id", cluster_id)];
    let request = SignableRequest::new(
        "GET",
        base.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(&[]),
    )
    .expect("signable");
    let (_, query) = signed(
        creds,
        region,
        time,
        SignatureLocation::QueryParams,
        request,
        false,
    );
    let mut url = base;
    for (k, v) in query {
        let pair: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(&k, &v)
            .finish();
        url.push('&');
        url.push_str(&pair);
    }
    url
}

pub fn token_from_url(url: &str) -> String {
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

pub fn token(creds: &Creds, cluster_id: &str, time: SystemTime) -> String {
    token_from_url(&presigned_url(
        creds,
        "sts.eu-west-1.amazonaws.com",
        "eu-west-1",
        cluster_id,
        time,
    ))
}

/// A POST form request to a local STS endpoint, signed in the Authorization header the way
/// AWS SDKs call STS. Returns (headers, body).
pub fn signed_post(
    creds: &Creds,
    form: &[(&str, &str)],
    time: SystemTime,
) -> (Vec<(String, String)>, Vec<u8>) {
    signed_post_with(creds, form, time, false)
}

/// Like [`signed_post`]; `unsigned` signs with `UNSIGNED-PAYLOAD` and sends x-amz-content-sha256.
pub fn signed_post_with(
    creds: &Creds,
    form: &[(&str, &str)],
    time: SystemTime,
    unsigned: bool,
) -> (Vec<(String, String)>, Vec<u8>) {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        ser.append_pair(k, v);
    }
    let body = ser.finish().into_bytes();
    let host = "127.0.0.1:4566";
    let content_type = "application/x-www-form-urlencoded";
    let base = [("host", host), ("content-type", content_type)];
    let request = SignableRequest::new(
        "POST",
        format!("http://{host}/"),
        base.into_iter(),
        if unsigned {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(&body)
        },
    )
    .expect("signable");
    let (mut headers, _) = signed(
        creds,
        "us-east-1",
        time,
        SignatureLocation::Headers,
        request,
        unsigned,
    );
    headers.extend(base.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    (headers, body)
}

/// Pulls `<tag>value</tag>` out of an XML body.
pub fn xml_value<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..]
        .find(&format!("</{tag}>"))
        .expect("closing tag")
        + start;
    &xml[start..end]
}

/// Calls `AssumeRole` on `sts` as `creds`.
pub fn assume_role(
    sts: &Sts,
    creds: &Creds,
    role_arn: &str,
    extra: &[(&str, &str)],
    now: SystemTime,
) -> super::super::StsResponse {
    let mut form = vec![
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", role_arn),
        ("RoleSessionName", "portal-session"),
    ];
    form.extend_from_slice(extra);
    let (headers, body) = signed_post(creds, &form, now);
    sts.handle("POST", "/", &headers, &body, now)
}

/// The credentials in an `AssumeRole` response.
pub fn creds_from(resp: &super::super::StsResponse) -> Creds {
    assert_eq!(resp.status, 200, "{}", resp.body);
    Creds {
        akid: xml_value(&resp.body, "AccessKeyId").to_owned(),
        secret: xml_value(&resp.body, "SecretAccessKey").to_owned(),
        token: Some(xml_value(&resp.body, "SessionToken").to_owned()),
    }
}

/// Decodes a token back to its URL.
pub fn url_of(token: &str) -> String {
    let payload = token.strip_prefix("k8s-aws-v1.").expect("prefix");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    String::from_utf8(bytes).expect("utf8")
}
