//! The session cookie: who signed in, sealed (AES-256-GCM, authenticated, the cookie's name
//! bound in) with a key derived from `auth.session.secret`, by the `cookie` crate's private jar.
//! A tampered value, a cookie sealed with another secret or one past its lifetime opens to
//! nothing. Replicas sharing the secret accept each other's cookies; nothing is kept server-side.
//!
//! Lifetime: a session ends when unused for the idle lifetime (`auth.backstageTokenExpiration`)
//! and at the latest [`SESSION_MAX_AGE`](super::config::SESSION_MAX_AGE) after sign-in. It is
//! re-sealed with a fresh idle deadline once less than half of it is left.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cookie::{Cookie, CookieJar, Key, SameSite};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::SESSION_MAX_AGE;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "greenroom-session";

/// What a session cookie holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user entity ref, canonical (`user:default/jane`).
    pub user: String,
    /// The provider that signed the user in (`oidc`, `guest`).
    pub provider: String,
    /// Display name from the identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email from the identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Picture URL from the identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Unix seconds of sign-in.
    pub signed_in_at: u64,
    /// Unix seconds after which the session is over unless refreshed.
    pub expires_at: u64,
}

/// Seals and opens cookies with one key.
#[derive(Clone)]
pub struct SessionCodec {
    key: Key,
    idle: Duration,
    secure: bool,
}

impl std::fmt::Debug for SessionCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCodec")
            .field("idle", &self.idle)
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl SessionCodec {
    /// A codec for `secret`; cookies get `Secure` when the portal is served over https.
    pub fn new(secret: &str, idle: Duration, secure: bool) -> Self {
        // HKDF needs 32 bytes of input; hashing first makes any secret length safe to pass.
        let master = Sha256::digest(secret.as_bytes());
        SessionCodec {
            key: Key::derive_from(&master),
            idle,
            secure,
        }
    }

    /// A new session for `user`, starting `now`.
    pub fn start(&self, user: String, provider: &str, now: u64) -> Session {
        Session {
            user,
            provider: provider.into(),
            name: None,
            email: None,
            picture: None,
            signed_in_at: now,
            expires_at: now + self.idle.as_secs(),
        }
    }

    /// The `Set-Cookie` value carrying `session`.
    pub fn cookie(&self, session: &Session) -> String {
        let json = serde_json::to_string(session).unwrap_or_default();
        let max_age = session.expires_at.saturating_sub(now());
        self.seal(SESSION_COOKIE, &json, "/", Duration::from_secs(max_age))
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear(&self) -> String {
        clear_cookie(SESSION_COOKIE, "/", self.secure)
    }

    /// The session in a `Cookie` request header value, if one is there, intact and current.
    pub fn open(&self, cookie_header: &str, now: u64) -> Option<Session> {
        let session: Session = self.open_value(cookie_header, SESSION_COOKIE)?;
        let current = session.expires_at > now
            && session.signed_in_at <= now + 60
            && now < session.signed_in_at + SESSION_MAX_AGE.as_secs();
        current.then_some(session)
    }

    /// Whether `session` should be re-sealed with a later deadline (less than half left).
    pub fn needs_refresh(&self, session: &Session, now: u64) -> bool {
        session.expires_at.saturating_sub(now) < self.idle.as_secs() / 2
    }

    /// `session` with a fresh idle deadline (never past the maximum age).
    pub fn refreshed(&self, mut session: Session, now: u64) -> Session {
        let cap = session.signed_in_at + SESSION_MAX_AGE.as_secs();
        session.expires_at = (now + self.idle.as_secs()).min(cap);
        session
    }

    /// A sealed short-lived cookie `name` holding `value` (the OIDC flow's state).
    pub fn seal_value<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        path: &str,
        ttl: Duration,
    ) -> String {
        let json = serde_json::to_string(value).unwrap_or_default();
        self.seal(name, &json, path, ttl)
    }

    /// Opens cookie `name` of a `Cookie` header sealed by [`Self::seal_value`].
    pub fn open_value<T: DeserializeOwned>(&self, cookie_header: &str, name: &str) -> Option<T> {
        let mut jar = CookieJar::new();
        for c in Cookie::split_parse(cookie_header.to_owned()).flatten() {
            if c.name() == name {
                jar.add_original(c.into_owned());
            }
        }
        let opened = jar.private(&self.key).get(name)?;
        serde_json::from_str(opened.value()).ok()
    }

    /// The `Set-Cookie` value removing cookie `name` at `path`.
    pub fn clear_value(&self, name: &str, path: &str) -> String {
        clear_cookie(name, path, self.secure)
    }

    fn seal(&self, name: &str, plain: &str, path: &str, ttl: Duration) -> String {
        let mut jar = CookieJar::new();
        let mut c = Cookie::new(name.to_owned(), plain.to_owned());
        c.set_path(path.to_owned());
        c.set_http_only(true);
        c.set_same_site(SameSite::Lax);
        c.set_secure(self.secure);
        c.set_max_age(cookie::time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        jar.private_mut(&self.key).add(c);
        jar.get(name).map(|c| c.to_string()).unwrap_or_default()
    }
}

fn clear_cookie(name: &str, path: &str, secure: bool) -> String {
    let mut c = Cookie::new(name.to_owned(), "");
    c.set_path(path.to_owned());
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_secure(secure);
    c.set_max_age(cookie::time::Duration::ZERO);
    c.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn codec() -> SessionCodec {
        SessionCodec::new(SECRET, Duration::from_secs(3600), true)
    }

    /// The `name=value` part of a Set-Cookie value, as a browser sends it back.
    fn sent(set_cookie: &str) -> String {
        set_cookie.split(';').next().unwrap_or_default().to_string()
    }

    #[test]
    fn a_sealed_session_opens_with_the_same_secret_only() {
        let c = codec();
        let t = now();
        let s = c.start("user:default/jane".into(), "oidc", t);
        let set = c.cookie(&s);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Secure"));
        assert!(set.contains("Path=/"));
        assert!(!set.contains("jane"), "the value is encrypted: {set}");
        assert_eq!(c.open(&sent(&set), t), Some(s.clone()));
        let other = SessionCodec::new(
            "another-secret-another-secret-12",
            Duration::from_secs(3600),
            true,
        );
        assert_eq!(other.open(&sent(&set), t), None);
        // Among other cookies.
        assert_eq!(c.open(&format!("a=b; {}; c=d", sent(&set)), t), Some(s));
    }

    #[test]
    fn tampered_or_forged_cookies_open_to_nothing() {
        let c = codec();
        let t = now();
        let set = c.cookie(&c.start("user:default/jane".into(), "oidc", t));
        let value = sent(&set);
        let (name, v) = value.split_once('=').expect("name=value");
        let mut bytes = v.as_bytes().to_vec();
        for i in [0, bytes.len() / 2, bytes.len() - 2] {
            let mut b = bytes.clone();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let forged = format!("{name}={}", String::from_utf8_lossy(&b));
            assert_eq!(c.open(&forged, t), None, "flipped byte {i}");
        }
        bytes.truncate(10);
        assert_eq!(
            c.open(&format!("{name}={}", String::from_utf8_lossy(&bytes)), t),
            None
        );
        let plain = format!(
            "{SESSION_COOKIE}={}",
            serde_json::json!({"user": "user:default/admin", "provider": "oidc",
                "signed_in_at": t, "expires_at": t + 100})
        );
        assert_eq!(c.open(&plain, t), None);
        // A sealed value moved to another cookie name does not open either (the name is bound).
        let moved = c.seal_value(
            "other",
            &c.start("user:default/x".into(), "oidc", t),
            "/",
            Duration::from_secs(60),
        );
        let moved = sent(&moved).replacen("other=", &format!("{SESSION_COOKIE}="), 1);
        assert_eq!(c.open(&moved, t), None);
    }

    #[test]
    fn sessions_expire_when_idle_and_at_the_maximum_age() {
        let c = codec();
        let t = now();
        let s = c.start("user:default/jane".into(), "oidc", t);
        let value = sent(&c.cookie(&s));
        assert!(c.open(&value, t + 3599).is_some());
        assert!(c.open(&value, t + 3600).is_none());
        assert!(!c.needs_refresh(&s, t + 1000));
        assert!(c.needs_refresh(&s, t + 2000));
        let r = c.refreshed(s.clone(), t + 2000);
        assert_eq!(r.expires_at, t + 5600);
        let late = c.refreshed(s, t + SESSION_MAX_AGE.as_secs() - 10);
        assert_eq!(late.expires_at, t + SESSION_MAX_AGE.as_secs());
        let late_value = sent(&c.cookie(&late));
        assert!(c.open(&late_value, t + SESSION_MAX_AGE.as_secs()).is_none());
        assert!(c.clear().contains("Max-Age=0"));
    }
}
