//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) verification, written from the AWS
//! documentation rather than borrowed from an SDK, so the simulator checks signatures
//! independently of the `aws-sigv4` crate the product signs with.
//!
//! Owns: reading the signature parameters from an `Authorization` header or from presigned
//! query parameters, building the canonical request and string to sign, deriving the signing
//! key and comparing signatures in constant time.
//! Does not own: deciding which keys exist, clock-skew policy or service-specific rules (those
//! live in [`super::sts`] and [`super::eks_token`]). Paths are not dot-segment normalised and
//! S3's single-encoding rules are not implemented: only the non-S3 rules STS uses.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use ring::{digest, hmac};
use time::{macros::format_description, OffsetDateTime, PrimitiveDateTime};

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Hex SHA-256 of an empty body, the payload hash of a presigned GET.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// AWS's URI-encoding set: everything except `A-Za-z0-9-_.~` is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a request's SigV4 signature could not be read or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters are present.
    #[error(
        "request is not signed: no Authorization header and no X-Amz-Signature query parameter"
    )]
    Missing,
    /// The algorithm is not `AWS4-HMAC-SHA256`.
    #[error("unsupported signing algorithm '{0}' (expected AWS4-HMAC-SHA256)")]
    UnsupportedAlgorithm(String),
    /// A required signature element (header, query parameter or Authorization field) is absent.
    #[error("missing {0}")]
    MissingElement(&'static str),
    /// The `Authorization` header is not `Credential=.., SignedHeaders=.., Signature=..`.
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(String),
    /// The credential is not `AKID/yyyymmdd/region/service/aws4_request`.
    #[error("malformed credential '{0}' (expected AKID/yyyymmdd/region/service/aws4_request)")]
    MalformedCredential(String),
    /// `X-Amz-Date` is not `yyyymmddTHHMMSSZ`.
    #[error("invalid X-Amz-Date '{0}' (expected yyyymmddTHHMMSSZ)")]
    InvalidDate(String),
    /// The credential scope's date is not the day of `X-Amz-Date`.
    #[error("credential scope date {scope} does not match X-Amz-Date {date}")]
    ScopeDateMismatch {
        /// Date in the credential scope.
        scope: String,
        /// The request's X-Amz-Date.
        date: String,
    },
    /// `X-Amz-Expires` is not a whole number of seconds.
    #[error("invalid X-Amz-Expires '{0}'")]
    InvalidExpires(String),
    /// A header listed in SignedHeaders is not in the request.
    #[error("signed header '{0}' is not present in the request")]
    MissingSignedHeader(String),
    /// `host` is not among the signed headers (AWS requires it).
    #[error("the host header is not among the signed headers")]
    HostNotSigned,
    /// `x-amz-content-sha256` says the body is unsigned or streamed, which STS does not accept.
    #[error("payload hash '{0}' is not accepted: the body must be signed")]
    UnsignedPayload(String),
    /// `x-amz-content-sha256` is not the SHA-256 of the body that arrived.
    #[error("x-amz-content-sha256 '{declared}' does not match the body's SHA-256 {actual}")]
    PayloadHashMismatch {
        /// The header value.
        declared: String,
        /// SHA-256 of the received body.
        actual: String,
    },
    /// The signature is not 64 lowercase hex digits.
    #[error("signature '{0}' is not 64 lowercase hex digits")]
    MalformedSignature(String),
    /// The query string is not valid percent-encoded UTF-8.
    #[error("query string is not valid percent-encoded UTF-8 near '{0}'")]
    MalformedQuery(String),
    /// The signature does not match the one computed with the key's secret.
    #[error("the request signature does not match the signature calculated for access key {0}")]
    SignatureMismatch(String),
}

/// An HTTP request as received, with the path and query exactly as sent on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// Percent-encoded path, without the query.
    pub path: &'a str,
    /// Raw query string without the leading `?` (may be empty).
    pub query: &'a str,
    /// Header names (any case) and values; repeated names are allowed.
    pub headers: &'a [(String, String)],
    /// Request body.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// Splits `path_and_query` (e.g. `/?Action=GetCallerIdentity`) into path and query.
    pub fn new(
        method: &'a str,
        path_and_query: &'a str,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Self {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Where the signature was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// `Authorization: AWS4-HMAC-SHA256 ...` header.
    Header,
    /// Presigned URL (`X-Amz-Signature` query parameter).
    Query,
}

/// The credential scope `AKID/yyyymmdd/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Access key id that signed the request.
    pub access_key_id: String,
    /// Scope date, `yyyymmdd`.
    pub date: String,
    /// Scope region, e.g. `us-east-1`.
    pub region: String,
    /// Scope service, e.g. `sts`.
    pub service: String,
}

impl Credential {
    /// Parses `AKID/yyyymmdd/region/service/aws4_request`.
    pub fn parse(s: &str) -> Result<Self, SigV4Error> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [akid, date, region, service, "aws4_request"]
                if [akid, date, region, service].iter().all(|p| !p.is_empty()) =>
            {
                Ok(Self {
                    access_key_id: (*akid).to_owned(),
                    date: (*date).to_owned(),
                    region: (*region).to_owned(),
                    service: (*service).to_owned(),
                })
            }
            _ => Err(SigV4Error::MalformedCredential(s.to_owned())),
        }
    }

    /// The scope without the key id: `yyyymmdd/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The signature parameters of a request, read but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Header or presigned query.
    pub location: Location,
    /// Who signed, and for which day, region and service.
    pub credential: Credential,
    /// `X-Amz-Date` as sent.
    pub amz_date: String,
    /// `X-Amz-Date` parsed (UTC).
    pub time: OffsetDateTime,
    /// Lowercase signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// Hex signature as sent.
    pub signature: String,
    /// `X-Amz-Security-Token` (header or query), if any.
    pub security_token: Option<String>,
    /// `X-Amz-Expires` in seconds (presigned only), if any.
    pub expires_in: Option<u64>,
}

impl Authorization {
    /// Reads the signature parameters from the `Authorization` header or, failing that,
    /// from presigned query parameters.
    pub fn from_request(req: &Request<'_>) -> Result<Self, SigV4Error> {
        if let Some(value) = req.header("authorization") {
            return Self::from_header(req, value);
        }
        let params = parse_query(req.query)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if get("X-Amz-Signature").is_none() && get("X-Amz-Algorithm").is_none() {
            return Err(SigV4Error::Missing);
        }
        let required = |name: &'static str| get(name).ok_or(SigV4Error::MissingElement(name));
        let algorithm = required("X-Amz-Algorithm")?;
        if algorithm != ALGORITHM {
            return Err(SigV4Error::UnsupportedAlgorithm(algorithm));
        }
        let expires_in = match get("X-Amz-Expires") {
            Some(v) => Some(v.parse().map_err(|_| SigV4Error::InvalidExpires(v))?),
            None => None,
        };
        Self::build(
            Location::Query,
            &required("X-Amz-Credential")?,
            required("X-Amz-Date")?,
            &required("X-Amz-SignedHeaders")?,
            required("X-Amz-Signature")?,
            get("X-Amz-Security-Token"),
            expires_in,
        )
    }

    fn from_header(req: &Request<'_>, value: &str) -> Result<Self, SigV4Error> {
        let (algorithm, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        if algorithm != ALGORITHM {
            return Err(SigV4Error::UnsupportedAlgorithm(algorithm.to_owned()));
        }
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for field in rest.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            match field.split_once('=') {
                Some(("Credential", v)) => credential = Some(v),
                Some(("SignedHeaders", v)) => signed = Some(v),
                Some(("Signature", v)) => signature = Some(v),
                _ => return Err(SigV4Error::MalformedAuthorization(field.to_owned())),
            }
        }
        let amz_date = req
            .header("x-amz-date")
            .ok_or(SigV4Error::MissingElement("x-amz-date header"))?;
        Self::build(
            Location::Header,
            credential.ok_or(SigV4Error::MissingElement("Credential in Authorization"))?,
            amz_date.trim().to_owned(),
            signed.ok_or(SigV4Error::MissingElement("SignedHeaders in Authorization"))?,
            signature
                .ok_or(SigV4Error::MissingElement("Signature in Authorization"))?
                .to_owned(),
            req.header("x-amz-security-token")
                .map(|t| t.trim().to_owned()),
            None,
        )
    }

    fn build(
        location: Location,
        credential: &str,
        amz_date: String,
        signed_headers: &str,
        signature: String,
        security_token: Option<String>,
        expires_in: Option<u64>,
    ) -> Result<Self, SigV4Error> {
        let credential = Credential::parse(credential)?;
        let time = parse_amz_date(&amz_date)?;
        if amz_date.get(..8) != Some(credential.date.as_str()) {
            return Err(SigV4Error::ScopeDateMismatch {
                scope: credential.date,
                date: amz_date,
            });
        }
        let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if signature.len() != 64 || !signature.chars().all(is_hex) {
            return Err(SigV4Error::MalformedSignature(signature));
        }
        let signed_headers: Vec<String> = signed_headers
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(SigV4Error::HostNotSigned);
        }
        Ok(Self {
            location,
            credential,
            amz_date,
            time,
            signed_headers,
            signature,
            security_token,
            expires_in,
        })
    }

    /// The AWS canonical request for `req` under these signature parameters.
    pub fn canonical_request(&self, req: &Request<'_>) -> Result<String, SigV4Error> {
        let mut headers = String::new();
        for name in &self.signed_headers {
            let values: Vec<String> = req
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            if values.is_empty() {
                return Err(SigV4Error::MissingSignedHeader(name.clone()));
            }
            headers.push_str(&format!("{name}:{}\n", values.join(",")));
        }
        let payload_hash = match (self.location, req.header("x-amz-content-sha256")) {
            (Location::Header, Some(declared)) => {
                let declared = declared.trim();
                if declared == "UNSIGNED-PAYLOAD" || declared.starts_with("STREAMING-") {
                    return Err(SigV4Error::UnsignedPayload(declared.to_owned()));
                }
                let actual = sha256_hex(req.body);
                if declared != actual {
                    return Err(SigV4Error::PayloadHashMismatch {
                        declared: declared.to_owned(),
                        actual,
                    });
                }
                actual
            }
            _ => sha256_hex(req.body),
        };
        Ok(format!(
            "{}\n{}\n{}\n{headers}\n{}\n{payload_hash}",
            req.method,
            canonical_uri(req.path),
            canonical_query(req.query, self.location)?,
            self.signed_headers.join(";"),
        ))
    }

    /// The string to sign for a canonical request.
    pub fn string_to_sign(&self, canonical_request: &str) -> String {
        format!(
            "{ALGORITHM}\n{}\n{}\n{}",
            self.amz_date,
            self.credential.scope(),
            sha256_hex(canonical_request.as_bytes())
        )
    }

    /// Verifies the signature of `req` with `secret_access_key`, comparing in constant time.
    pub fn verify(&self, req: &Request<'_>, secret_access_key: &str) -> Result<(), SigV4Error> {
        let string_to_sign = self.string_to_sign(&self.canonical_request(req)?);
        let key = hmac::Key::new(
            hmac::HMAC_SHA256,
            &signing_key(secret_access_key, &self.credential),
        );
        let provided = hex::decode(&self.signature)
            .map_err(|_| SigV4Error::MalformedSignature(self.signature.clone()))?;
        hmac::verify(&key, string_to_sign.as_bytes(), &provided)
            .map_err(|_| SigV4Error::SignatureMismatch(self.credential.access_key_id.clone()))
    }
}

/// Derives the SigV4 signing key:
/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret_access_key: &str, credential: &Credential) -> Vec<u8> {
    let mut key = format!("AWS4{secret_access_key}").into_bytes();
    for part in [
        credential.date.as_str(),
        credential.region.as_str(),
        credential.service.as_str(),
        "aws4_request",
    ] {
        key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes())
            .as_ref()
            .to_vec();
    }
    key
}

/// Hex HMAC-SHA256 signature of `string_to_sign` (what a signer would send).
pub fn sign(secret_access_key: &str, credential: &Credential, string_to_sign: &str) -> String {
    let key = hmac::Key::new(
        hmac::HMAC_SHA256,
        &signing_key(secret_access_key, credential),
    );
    hex::encode(hmac::sign(&key, string_to_sign.as_bytes()))
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// Parses `yyyymmddTHHMMSSZ` as UTC.
pub fn parse_amz_date(s: &str) -> Result<OffsetDateTime, SigV4Error> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    if s.len() != 16 {
        return Err(SigV4Error::InvalidDate(s.to_owned()));
    }
    PrimitiveDateTime::parse(s, format)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| SigV4Error::InvalidDate(s.to_owned()))
}

/// URI-encodes with AWS's unreserved set (`A-Za-z0-9-_.~` stay as they are).
pub fn uri_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Decodes a query string or form body: pairs split on `&` and the first `=`, `+` read as a
/// space, percent-escapes decoded. Empty pieces are skipped.
pub fn parse_query(raw: &str) -> Result<Vec<(String, String)>, SigV4Error> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_decode_str(&spaced)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| SigV4Error::MalformedQuery(s.to_owned()))
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// The canonical URI: each segment of the wire path URI-encoded once more (non-S3 rule).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// The canonical query: every parameter (minus `X-Amz-Signature` when presigned), encoded,
/// sorted by key then value.
fn canonical_query(raw: &str, location: Location) -> Result<String, SigV4Error> {
    let mut pairs: Vec<(String, String)> = parse_query(raw)?
        .into_iter()
        .filter(|(k, _)| {
            !(location == Location::Query && k.eq_ignore_ascii_case("X-Amz-Signature"))
        })
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn iam_example_headers(signature: &str) -> Vec<(String, String)> {
        [
            ("Host", "iam.amazonaws.com"),
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                &format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date, Signature={signature}"
                ),
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// AWS's published example (IAM ListUsers) from "Create a signed AWS API request".
    #[test]
    fn aws_documented_iam_list_users_example() {
        let expected = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let headers = iam_example_headers(expected);
        let req = Request::new(
            "GET",
            "/?Action=ListUsers&Version=2010-05-08",
            &headers,
            b"",
        );
        let auth = Authorization::from_request(&req).expect("parses");
        let canonical = auth.canonical_request(&req).expect("canonical");
        assert_eq!(
            canonical,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
             content-type:application/x-www-form-urlencoded; charset=utf-8\n\
             host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             content-type;host;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            hex::encode(signing_key(SECRET, &auth.credential)),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        assert_eq!(
            sign(SECRET, &auth.credential, &auth.string_to_sign(&canonical)),
            expected
        );
        assert_eq!(auth.verify(&req, SECRET), Ok(()));
    }

    #[test]
    fn one_changed_hex_digit_or_wrong_secret_fails() {
        let tampered = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d8";
        let headers = iam_example_headers(tampered);
        let req = Request::new(
            "GET",
            "/?Action=ListUsers&Version=2010-05-08",
            &headers,
            b"",
        );
        let auth = Authorization::from_request(&req).expect("parses");
        assert!(matches!(
            auth.verify(&req, SECRET),
            Err(SigV4Error::SignatureMismatch(_))
        ));
        let good =
            iam_example_headers("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
        let req = Request::new("GET", "/?Action=ListUsers&Version=2010-05-08", &good, b"");
        let auth = Authorization::from_request(&req).expect("parses");
        assert!(auth.verify(&req, "not-the-secret").is_err());
        // The query is covered by the signature.
        let req = Request::new("GET", "/?Action=ListUsers&Version=2010-05-09", &good, b"");
        assert!(auth.verify(&req, SECRET).is_err());
    }

    #[test]
    fn canonical_query_encodes_and_sorts() {
        let q = canonical_query(
            "b=2&a=x%2Fy+z&a=1&X-Amz-Signature=ff&c=%7E",
            Location::Query,
        );
        assert_eq!(q.as_deref(), Ok("a=1&a=x%2Fy%20z&b=2&c=~"));
        let q = canonical_query("X-Amz-Signature=ff", Location::Header);
        assert_eq!(q.as_deref(), Ok("X-Amz-Signature=ff"));
        assert_eq!(canonical_uri("/a b/%41"), "/a%20b/%2541");
        assert_eq!(canonical_uri(""), "/");
    }

    #[test]
    fn unsigned_payload_and_malformed_parameters_are_rejected() {
        let mut headers =
            iam_example_headers("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
        headers.push(("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()));
        let req = Request::new("GET", "/", &headers, b"");
        let auth = Authorization::from_request(&req).expect("parses");
        assert_eq!(
            auth.verify(&req, SECRET),
            Err(SigV4Error::UnsignedPayload("UNSIGNED-PAYLOAD".into()))
        );
        // A declared body hash must be the hash of the body that arrived.
        let last = headers.len() - 1;
        headers[last].1 = EMPTY_PAYLOAD_SHA256.into();
        let req = Request::new("GET", "/", &headers, b"x");
        assert!(matches!(
            auth.verify(&req, SECRET),
            Err(SigV4Error::PayloadHashMismatch { .. })
        ));
        assert_eq!(
            Authorization::from_request(&Request::new("GET", "/?Action=X", &[], b"")),
            Err(SigV4Error::Missing)
        );
        assert!(matches!(
            Credential::parse("AKID/20150830/us-east-1/iam"),
            Err(SigV4Error::MalformedCredential(_))
        ));
        assert!(parse_amz_date("20150830T1236Z").is_err());
        assert!(parse_amz_date("20151330T123600Z").is_err());
    }
}
