//! A small AWS STS client: `AssumeRole` and `GetCallerIdentity` as signed form POSTs (SigV4 by
//! aws-sigv4), the way AWS SDKs call STS. The endpoint is `https://sts.<region>.amazonaws.com`,
//! or the SDKs' standard override `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`; extra CAs come
//! from the standard `AWS_CA_BUNDLE`. Answers are read with `quick-xml`'s serde reader.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};

use super::credentials::{AwsCredentials, AwsError};

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Largest STS answer read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// The client; cheap to share.
pub struct StsClient {
    endpoint: Option<String>,
    http: Client<Https, Full<Bytes>>,
    calls: AtomicU64,
}

fn roots(env: &HashMap<String, String>) -> rustls::RootCertStore {
    let mut roots = crate::kubernetes::tls::native_roots();
    if let Some(bundle) = env.get("AWS_CA_BUNDLE") {
        match std::fs::read(bundle) {
            Ok(pem) => match crate::kubernetes::tls::certs_from_pem(&pem) {
                Ok(certs) => {
                    for c in certs {
                        let _ = roots.add(rustls::pki_types::CertificateDer::from(c));
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %bundle, error = %e, "AWS_CA_BUNDLE holds no usable certificate")
                }
            },
            Err(e) => tracing::warn!(file = %bundle, error = %e, "cannot read AWS_CA_BUNDLE"),
        }
    }
    roots
}

/// STS's error answer: `<ErrorResponse><Error><Code/><Message/></Error></ErrorResponse>`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorResponse {
    #[serde(default)]
    error: StsErrorBody,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct StsErrorBody {
    code: String,
    message: String,
}

/// `<AssumeRoleResponse><AssumeRoleResult><Credentials>...`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResponse {
    assume_role_result: Option<AssumeRoleResult>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleResult {
    credentials: Option<StsCredentials>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    expiration: Option<String>,
}

/// `<GetCallerIdentityResponse><GetCallerIdentityResult><Account/>...`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CallerIdentityResponse {
    get_caller_identity_result: Option<CallerIdentityResult>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CallerIdentityResult {
    account: Option<String>,
}

/// An STS answer parsed by `quick-xml` (namespaces and element order as AWS sends them, or
/// any other: only element names are read).
fn parse<T: serde::de::DeserializeOwned>(xml: &str, what: &str) -> Result<T, AwsError> {
    quick_xml::de::from_str(xml)
        .map_err(|e| AwsError::Sts(format!("{what} answer is not the XML STS sends: {e}")))
}

impl StsClient {
    /// A client for the environment's endpoint and CA settings.
    pub fn new(env: &HashMap<String, String>) -> Self {
        let https = crate::kubernetes::tls::https_connector(roots(env));
        let endpoint = env
            .get("AWS_ENDPOINT_URL_STS")
            .or_else(|| env.get("AWS_ENDPOINT_URL"))
            .filter(|e| !e.is_empty())
            .map(|e| e.trim_end_matches('/').to_string());
        Self {
            endpoint,
            http: Client::builder(hyper_util::rt::TokioExecutor::new()).build(https),
            calls: AtomicU64::new(0),
        }
    }

    /// How many requests were sent to STS.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn endpoint(&self, region: &str) -> String {
        self.endpoint.clone().unwrap_or_else(|| {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://sts.{region}.{suffix}")
        })
    }

    /// One signed call; the XML body of a 200 answer.
    async fn call(
        &self,
        creds: &AwsCredentials,
        region: &str,
        form: &[(&str, &str)],
    ) -> Result<String, AwsError> {
        let url = format!("{}/", self.endpoint(region));
        let uri: http::Uri = url
            .parse()
            .map_err(|e| AwsError::Sts(format!("bad STS endpoint '{url}': {e}")))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = [("host", host.as_str()), ("content-type", content_type)];
        let identity = creds.sdk().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name("sts")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| AwsError::Sign(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            url.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| AwsError::Sign(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| AwsError::Sign(e.to_string()))?
            .into_parts();
        let mut req = http::Request::post(uri)
            .header("host", &host)
            .header("content-type", content_type);
        for (k, v) in instructions.headers() {
            req = req.header(k, v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| AwsError::Sts(e.to_string()))?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        // One deadline for the headers and the body; the body is bounded (STS answers are a
        // few KiB).
        let exchange = async {
            let resp = self.http.request(req).await.map_err(|e| {
                AwsError::Sts(format!(
                    "cannot reach STS at {url}: {}",
                    crate::kubernetes::errors::chain(&e)
                ))
            })?;
            let status = resp.status();
            let bytes = http_body_util::Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| AwsError::Sts(format!("reading the STS answer from {url}: {e}")))?
                .to_bytes();
            Ok::<_, AwsError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(Duration::from_secs(10), exchange)
            .await
            .map_err(|_| AwsError::Sts(format!("STS at {url} did not answer within 10 s")))??;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if !status.is_success() {
            let error = quick_xml::de::from_str::<ErrorResponse>(&text)
                .unwrap_or_default()
                .error;
            return Err(AwsError::StsRefused {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            });
        }
        Ok(text)
    }

    /// `AssumeRole`: temporary credentials for `role_arn`.
    pub async fn assume_role(
        &self,
        creds: &AwsCredentials,
        region: &str,
        role_arn: &str,
        session: &str,
        external_id: Option<&str>,
    ) -> Result<AwsCredentials, AwsError> {
        let mut form = vec![
            ("Action", "AssumeRole"),
            ("Version", "2011-06-15"),
            ("RoleArn", role_arn),
            ("RoleSessionName", session),
        ];
        if let Some(x) = external_id {
            form.push(("ExternalId", x));
        }
        let xml = self.call(creds, region, &form).await?;
        let answer: AssumeRoleResponse = parse(&xml, "AssumeRole")?;
        let c = answer
            .assume_role_result
            .and_then(|r| r.credentials)
            .ok_or_else(|| AwsError::Sts("AssumeRole answer has no Credentials".into()))?;
        let get = |value: Option<String>, t: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| AwsError::Sts(format!("AssumeRole answer has no {t}")))
        };
        let expires = c
            .expiration
            .as_deref()
            .and_then(|e| {
                time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(|d| {
                SystemTime::UNIX_EPOCH + Duration::from_secs(d.unix_timestamp().max(0) as u64)
            });
        Ok(AwsCredentials {
            access_key_id: get(c.access_key_id, "AccessKeyId")?,
            secret_access_key: get(c.secret_access_key, "SecretAccessKey")?,
            session_token: Some(get(c.session_token, "SessionToken")?),
            expires,
        })
    }

    /// `GetCallerIdentity`: the account id of the credentials.
    pub async fn caller_account(
        &self,
        creds: &AwsCredentials,
        region: &str,
    ) -> Result<String, AwsError> {
        let xml = self
            .call(
                creds,
                region,
                &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
            )
            .await?;
        let answer: CallerIdentityResponse = parse(&xml, "GetCallerIdentity")?;
        answer
            .get_caller_identity_result
            .and_then(|r| r.account)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| AwsError::Sts("GetCallerIdentity answer has no Account".into()))
    }
}
