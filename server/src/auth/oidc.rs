//! OpenID Connect sign-in with the `openidconnect` crate: the authorization code flow with PKCE
//! (S256), `state` and `nonce`, and ID-token verification (signature against the provider's
//! JWKS, issuer, audience, expiry, nonce, access-token hash).
//!
//! Provider metadata and keys are fetched on first use and cached; when a token is signed with a
//! key the cache does not know (the provider rotated its keys), the metadata and JWKS are
//! fetched again once and the token is checked again. A failed fetch is not cached, so a
//! provider that was down is retried on the next sign-in.
//!
//! The HTTP client is ours (hyper-util + rustls with the system roots; `SSL_CERT_FILE` adds a
//! CA) rather than the crate's reqwest feature, which would add a second HTTP stack. It follows
//! no redirects, gives up after [`REQUEST_TIMEOUT`] and reads at most [`MAX_RESPONSE_BYTES`].

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::config::OidcProvider;

/// The longest any request to the provider may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest provider response read.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// What the browser carries (sealed, in a short-lived cookie) from `start` to the callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowState {
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// Where to go after sign-in (a path of this portal).
    pub redirect: String,
}

/// What a verified ID token says about the user.
#[derive(Clone, Debug, Default)]
pub struct VerifiedUser {
    /// `sub`.
    pub subject: String,
    /// `email`, only when the provider says it is verified (`email_verified: true`), as
    /// Backstage: an unverified address must not match someone's User.
    pub email: Option<String>,
    /// `preferred_username`.
    pub preferred_username: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `picture`.
    pub picture: Option<String>,
}

/// Why a sign-in failed; the message is shown on the sign-in page (no secrets, no tokens).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered nonsense.
    #[error("the identity provider is unreachable or answered unexpectedly: {0}")]
    Provider(String),
    /// The provider refused the code exchange.
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The ID token failed verification.
    #[error("the identity provider's ID token was rejected: {0}")]
    Token(String),
    /// The callback did not match a sign-in started here.
    #[error("{0}")]
    Flow(String),
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// One configured OIDC provider and its cached metadata.
pub struct Oidc {
    config: OidcProvider,
    redirect_url: String,
    http: OidcHttp,
    metadata: Mutex<Option<Arc<CoreProviderMetadata>>>,
}

/// The HTTP client handed to `openidconnect` (a named type with a boxed `Send` future: a
/// closure's future would not be `Send` for every lifetime, which axum handlers need).
struct OidcHttp(Client<Https, Full<bytes::Bytes>>);

impl<'c> openidconnect::AsyncHttpClient<'c> for OidcHttp {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("metadata_url", &self.config.metadata_url)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// A client for `config`, called back at `callbackUrl` or
    /// `<backend.baseUrl>/api/auth/oidc/handler/frame`.
    pub fn new(config: OidcProvider, backend_base_url: &str) -> Self {
        let redirect_url = config
            .callback_url
            .clone()
            .unwrap_or_else(|| format!("{backend_base_url}/api/auth/oidc/handler/frame"));
        let https = crate::kubernetes::tls::https_connector(crate::kubernetes::tls::native_roots());
        Oidc {
            config,
            redirect_url,
            http: OidcHttp(Client::builder(hyper_util::rt::TokioExecutor::new()).build(https)),
            metadata: Mutex::new(None),
        }
    }

    /// The authorization URL to send the browser to, and the state to keep until it returns.
    pub async fn start(&self, redirect: String) -> Result<(String, FlowState), OidcError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            if scope != "openid" {
                request = request.add_scope(Scope::new(scope.clone()));
            }
        }
        if let Some(prompt) = &self.config.prompt {
            request = request.add_extra_param("prompt", prompt.clone());
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            FlowState {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                redirect,
            },
        ))
    }

    /// Exchanges the callback's `code` and verifies the ID token against `flow`.
    pub async fn finish(&self, code: &str, flow: &FlowState) -> Result<VerifiedUser, OidcError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata)?;
        let http = &self.http;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(http)
            .await
            .map_err(|e| OidcError::Refused(token_error(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::Refused("the answer holds no ID token".into()))?;
        let nonce = Nonce::new(flow.nonce.clone());
        let verify =
            |client: &CoreClient<_, _, _, _, _, _>| -> Result<VerifiedUser, VerifyFailure> {
                let verifier = client.id_token_verifier();
                let claims = id_token.claims(&verifier, &nonce).map_err(|e| match e {
                    ClaimsVerificationError::SignatureVerification(
                        SignatureVerificationError::NoMatchingKey,
                    ) => VerifyFailure::UnknownKey,
                    other => VerifyFailure::Bad(claims_error(&other)),
                })?;
                if let Some(expected) = claims.access_token_hash() {
                    let alg = id_token
                        .signing_alg()
                        .map_err(|e| VerifyFailure::Bad(e.to_string()))?;
                    let key = id_token
                        .signing_key(&verifier)
                        .map_err(|e| VerifyFailure::Bad(e.to_string()))?;
                    let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                        .map_err(|e| VerifyFailure::Bad(e.to_string()))?;
                    if actual != *expected {
                        return Err(VerifyFailure::Bad(
                            "its access-token hash does not match the access token".into(),
                        ));
                    }
                }
                Ok(user_of(claims))
            };
        let verified = match verify(&client) {
            Ok(user) => Ok(user),
            Err(VerifyFailure::Bad(m)) => Err(OidcError::Token(m)),
            Err(VerifyFailure::UnknownKey) => {
                // Key rotation: fetch the keys again, once.
                let fresh = self.metadata(true).await?;
                let client = self.client(&fresh)?;
                verify(&client).map_err(|e| match e {
                    VerifyFailure::UnknownKey => OidcError::Token(
                        "it is signed with a key the provider does not publish".into(),
                    ),
                    VerifyFailure::Bad(m) => OidcError::Token(m),
                })
            }
        };
        let mut user = verified?;
        // Many providers put profile claims only in the userinfo answer (the ID token of a code
        // flow need not carry them): ask it for what the token did not say.
        let incomplete =
            user.email.is_none() || user.preferred_username.is_none() || user.name.is_none();
        if let (true, Ok(request)) = (
            incomplete,
            client.user_info(
                token.access_token().clone(),
                Some(openidconnect::SubjectIdentifier::new(user.subject.clone())),
            ),
        ) {
            let info: Result<openidconnect::core::CoreUserInfoClaims, _> =
                request.request_async(http).await;
            match info {
                Ok(info) => {
                    if user.email.is_none() && info.email_verified() == Some(true) {
                        user.email = info.email().map(|e| e.as_str().to_string());
                    }
                    user.preferred_username = user
                        .preferred_username
                        .or_else(|| info.preferred_username().map(|u| u.as_str().to_string()));
                    user.name = user.name.or_else(|| {
                        info.name()
                            .and_then(|n| n.get(None))
                            .map(|n| n.as_str().to_string())
                    });
                    user.picture = user.picture.or_else(|| {
                        info.picture()
                            .and_then(|p| p.get(None))
                            .map(|p| p.as_str().to_string())
                    });
                }
                Err(e) => tracing::warn!(error = %e, "OIDC userinfo request failed"),
            }
        }
        Ok(user)
    }

    fn client(
        &self,
        metadata: &CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let redirect = RedirectUrl::new(self.redirect_url.clone())
            .map_err(|e| OidcError::Provider(format!("bad callback URL: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.0.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's metadata with its JWKS; fetched again when `refresh` or not cached.
    async fn metadata(&self, refresh: bool) -> Result<Arc<CoreProviderMetadata>, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let (Some(m), false) = (cached.as_ref(), refresh) {
            return Ok(Arc::clone(m));
        }
        let fetched = Arc::new(self.fetch_metadata().await?);
        *cached = Some(Arc::clone(&fetched));
        Ok(fetched)
    }

    async fn fetch_metadata(&self) -> Result<CoreProviderMetadata, OidcError> {
        let url = &self.config.metadata_url;
        let body = self.get_json(url).await?;
        let metadata: CoreProviderMetadata = serde_json::from_slice(&body).map_err(|e| {
            OidcError::Provider(format!("{url} is not an OpenID discovery document: {e}"))
        })?;
        let jwks_url = metadata.jwks_uri().url().to_string();
        let jwks = self.get_json(&jwks_url).await?;
        let jwks = serde_json::from_slice(&jwks).map_err(|e| {
            OidcError::Provider(format!("{jwks_url} is not a JSON Web Key Set: {e}"))
        })?;
        Ok(metadata.set_jwks(jwks))
    }

    async fn get_json(&self, url: &str) -> Result<Vec<u8>, OidcError> {
        let req = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| OidcError::Provider(format!("bad URL {url}: {e}")))?;
        let res = self
            .http
            .send(req)
            .await
            .map_err(|e| OidcError::Provider(format!("{url}: {e}")))?;
        if !res.status().is_success() {
            return Err(OidcError::Provider(format!(
                "{url} answered HTTP {}",
                res.status().as_u16()
            )));
        }
        Ok(res.into_body())
    }
}

impl OidcHttp {
    /// One request, with the deadline and size limit.
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = req.into_parts();
        let req = http::Request::from_parts(parts, Full::new(bytes::Bytes::from(body)));
        let work = async {
            let res = self
                .0
                .request(req)
                .await
                .map_err(|e| HttpError(connect_error(&e)))?;
            let (parts, body) = res.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| HttpError(format!("reading the answer failed: {e}")))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, work)
            .await
            .map_err(|_| {
                HttpError(format!(
                    "no answer within {} seconds",
                    REQUEST_TIMEOUT.as_secs()
                ))
            })?
    }
}

enum VerifyFailure {
    UnknownKey,
    Bad(String),
}

/// A transport failure talking to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

fn connect_error(e: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    format!("connection failed ({last})")
}

fn claims_error(e: &ClaimsVerificationError) -> String {
    match e {
        ClaimsVerificationError::Expired(_) => "it has expired".into(),
        ClaimsVerificationError::InvalidIssuer(m) => format!("wrong issuer ({m})"),
        ClaimsVerificationError::InvalidAudience(m) => {
            format!("it was issued for another client ({m})")
        }
        ClaimsVerificationError::InvalidNonce(_) => {
            "its nonce does not match this sign-in (replayed or mixed-up sign-in)".into()
        }
        ClaimsVerificationError::SignatureVerification(s) => {
            format!("its signature does not verify ({s})")
        }
        other => other.to_string(),
    }
}

fn token_error<RE: std::error::Error + 'static>(
    e: &openidconnect::RequestTokenError<
        RE,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> String {
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => match r.error_description() {
            Some(d) => format!("{} ({d})", r.error()),
            None => r.error().to_string(),
        },
        openidconnect::RequestTokenError::Request(e) => format!("token request failed: {e}"),
        openidconnect::RequestTokenError::Parse(e, _) => format!("unreadable token answer: {e}"),
        openidconnect::RequestTokenError::Other(m) => m.clone(),
    }
}

fn user_of(claims: &CoreIdTokenClaims) -> VerifiedUser {
    VerifiedUser {
        subject: claims.subject().as_str().to_string(),
        email: claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .map(|e| e.as_str().to_string()),
        preferred_username: claims.preferred_username().map(|u| u.as_str().to_string()),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        picture: claims
            .picture()
            .and_then(|p| p.get(None))
            .map(|p| p.as_str().to_string()),
    }
}
