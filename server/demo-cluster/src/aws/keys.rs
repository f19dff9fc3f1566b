//! The key store: which access keys exist, whose they are, and the temporary credentials the
//! simulated STS issues (random, remembered until shortly after they expire).
//!
//! Owns: key lookup with the session-token and expiry rules shared by STS and EKS token
//! verification, and minting temporary credentials. Does not own: signature checks
//! ([`super::sigv4`]) or who may assume which role ([`super::sts`]).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

use super::config::IamUser;
use super::sigv4::Authorization;
use super::{ct_eq, Identity};

/// Expired temporary keys are remembered this long so they fail as expired, not unknown.
const EXPIRED_KEY_MEMORY: Duration = Duration::from_secs(60 * 60);

/// Why a key cannot be used, before any signature check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    /// No user or issued session has this access key id.
    #[error("unknown access key id")]
    Unknown,
    /// A long-term key came with a session token.
    #[error("a long-term key came with a session token")]
    UnexpectedToken,
    /// A temporary key came without its session token.
    #[error("a temporary key came without its session token")]
    MissingToken,
    /// A temporary key came with another session token.
    #[error("the session token does not belong to this key")]
    TokenMismatch,
    /// A temporary key has expired.
    #[error("the temporary key has expired")]
    Expired,
    /// The system random source failed while minting credentials.
    #[error("random number generator failed")]
    Random,
}

/// A key that may sign requests, and whose it is.
#[derive(Debug, Clone)]
pub(crate) struct KnownKey {
    /// Secret access key to verify the signature with.
    pub(crate) secret: String,
    /// Owner of the key.
    pub(crate) identity: Identity,
}

/// Temporary credentials as handed to the caller.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCredentials {
    /// `ASIA` + 16 characters.
    pub(crate) access_key_id: String,
    /// 40-character secret.
    pub(crate) secret: String,
    /// Opaque session token the caller must send with every request.
    pub(crate) session_token: String,
    /// When the credentials stop working.
    pub(crate) expires: SystemTime,
}

#[derive(Debug, Clone)]
struct TemporaryKey {
    secret: String,
    session_token: String,
    expires: SystemTime,
    identity: Identity,
}

/// Configured user keys plus issued temporary keys.
#[derive(Debug)]
pub(crate) struct KeyStore {
    users: Vec<IamUser>,
    temporary: Mutex<HashMap<String, TemporaryKey>>,
    rng: SystemRandom,
}

impl KeyStore {
    /// A store holding the users' long-term keys and no temporary keys.
    pub(crate) fn new(users: Vec<IamUser>) -> Self {
        Self {
            users,
            temporary: Mutex::new(HashMap::new()),
            rng: SystemRandom::new(),
        }
    }

    /// Finds the key that signed `auth` and checks its session token and expiry.
    pub(crate) fn check(
        &self,
        auth: &Authorization,
        now: SystemTime,
    ) -> Result<KnownKey, KeyError> {
        let akid = auth.credential.access_key_id.as_str();
        if let Some(user) = self.users.iter().find(|u| u.access_key_id == akid) {
            if auth.security_token.is_some() {
                return Err(KeyError::UnexpectedToken);
            }
            return Ok(KnownKey {
                secret: user.secret_access_key.clone(),
                identity: Identity::User {
                    name: user.name.clone(),
                },
            });
        }
        let temp = self
            .temporary()
            .get(akid)
            .cloned()
            .ok_or(KeyError::Unknown)?;
        let token = auth
            .security_token
            .as_deref()
            .ok_or(KeyError::MissingToken)?;
        if !ct_eq(token.as_bytes(), temp.session_token.as_bytes()) {
            return Err(KeyError::TokenMismatch);
        }
        if now >= temp.expires {
            return Err(KeyError::Expired);
        }
        Ok(KnownKey {
            secret: temp.secret,
            identity: temp.identity,
        })
    }

    /// Mints random temporary credentials for `identity`, valid for `lifetime` from `now`.
    pub(crate) fn issue(
        &self,
        identity: Identity,
        lifetime: Duration,
        now: SystemTime,
    ) -> Result<IssuedCredentials, KeyError> {
        const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut token = [0u8; 96];
        self.rng.fill(&mut token).map_err(|_| KeyError::Random)?;
        let issued = IssuedCredentials {
            access_key_id: format!("ASIA{}", self.random_chars(16, BASE32)?),
            secret: self.random_chars(40, BASE64)?,
            session_token: base64::engine::general_purpose::STANDARD.encode(token),
            expires: now + lifetime,
        };
        let mut temporary = self.temporary();
        temporary.retain(|_, k| k.expires + EXPIRED_KEY_MEMORY > now);
        temporary.insert(
            issued.access_key_id.clone(),
            TemporaryKey {
                secret: issued.secret.clone(),
                session_token: issued.session_token.clone(),
                expires: issued.expires,
                identity,
            },
        );
        Ok(issued)
    }

    /// A random request id shaped like AWS's (a UUID); all zeros if the RNG fails, since it is
    /// only cosmetic.
    pub(crate) fn request_id(&self) -> String {
        let mut b = [0u8; 16];
        if self.rng.fill(&mut b).is_err() {
            b = [0; 16];
        }
        let h = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    /// `n` characters drawn uniformly from `alphabet` (32 or 64 symbols, so no modulo bias).
    fn random_chars(&self, n: usize, alphabet: &[u8]) -> Result<String, KeyError> {
        let mut bytes = vec![0u8; n];
        self.rng.fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(bytes
            .iter()
            .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
            .collect())
    }

    fn temporary(&self) -> MutexGuard<'_, HashMap<String, TemporaryKey>> {
        // Every update is a single retain/insert, so a poisoned map is still consistent.
        self.temporary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
