//! Sign-in resolvers: from what an identity provider says (email, preferred username, or
//! oauth2-proxy's forwarded user) to a User entity of the catalog, with Backstage's rules:
//!
//! - `emailMatchingUserEntityProfileEmail`: the one User whose `spec.profile.email` equals the
//!   email, ignoring case;
//! - `emailLocalPartMatchingUserEntityName`: `user:default/<local part>` (only for emails of
//!   `allowedDomains`, when listed);
//! - `preferredUsernameMatchingUserEntityName`, `forwardedUserMatchingUserEntityName`:
//!   `user:default/<name>`.
//!
//! The resolvers are tried in order; the first that finds a User signs in. With
//! `dangerouslyAllowSignInWithoutUserInCatalog` a resolver that finds none signs in as
//! `user:default/<name>` anyway. The identity's ownership refs are the user and the groups it
//! is a direct member of (`memberOf` relations), as Backstage's default.

use serde_json::Value;

use crate::catalog::store::Snapshot;

use super::config::{Resolver, ResolverKind};

/// What the identity provider said about the person signing in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// `email`.
    pub email: Option<String>,
    /// `preferred_username`.
    pub preferred_username: Option<String>,
    /// oauth2-proxy's `X-Forwarded-User`.
    pub forwarded_user: Option<String>,
    /// oauth2-proxy's `X-Forwarded-Preferred-Username`.
    pub forwarded_preferred_username: Option<String>,
}

/// Why nobody could be signed in. The message is shown on the sign-in page.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// No resolver found a User (Backstage's message, then what each resolver saw).
    #[error("Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver. ({0})")]
    NotFound(String),
}

/// The user ref the first matching resolver gives, canonical.
pub fn resolve(
    snapshot: &Snapshot,
    resolvers: &[Resolver],
    claims: &Claims,
) -> Result<String, SignInError> {
    let mut reasons = Vec::new();
    for r in resolvers {
        let (candidate, name_for_fallback) = match r.kind {
            ResolverKind::EmailMatchingUserEntityProfileEmail => {
                let Some(email) = &claims.email else {
                    reasons.push(
                        "Login failed, user profile does not contain a verified email".to_string(),
                    );
                    continue;
                };
                // As Backstage: the email as given, then without a `+tag`.
                let mut found = users_with_email(snapshot, email);
                let stripped = strip_plus_tag(email);
                if found.is_empty() && stripped != *email {
                    found = users_with_email(snapshot, &stripped);
                }
                match found.as_slice() {
                    [one] => (Some(one.clone()), None),
                    [] => (None, stripped.split('@').next().map(String::from)),
                    _ => {
                        reasons.push(format!(
                            "User lookup resulted in multiple matches (email {email})"
                        ));
                        continue;
                    }
                }
            }
            ResolverKind::EmailLocalPartMatchingUserEntityName => {
                let Some(email) = &claims.email else {
                    reasons.push(
                        "Login failed, user profile does not contain a verified email".to_string(),
                    );
                    continue;
                };
                let Some((local, domain)) = email.rsplit_once('@') else {
                    reasons.push(format!("'{email}' is not an email address"));
                    continue;
                };
                if !r.allowed_domains.is_empty()
                    && !r
                        .allowed_domains
                        .iter()
                        .any(|d| d.eq_ignore_ascii_case(domain))
                {
                    reasons.push(format!(
                        "Sign-in user email is not from an allowed domain ({domain})"
                    ));
                    continue;
                }
                (user_named(snapshot, local), Some(local.to_string()))
            }
            ResolverKind::PreferredUsernameMatchingUserEntityName => {
                let Some(name) = &claims.preferred_username else {
                    reasons.push("the identity provider sent no preferred_username".to_string());
                    continue;
                };
                (user_named(snapshot, name), Some(name.clone()))
            }
            ResolverKind::ForwardedUserMatchingUserEntityName => {
                let Some(name) = &claims.forwarded_user else {
                    reasons.push("Request did not contain a user".to_string());
                    continue;
                };
                (user_named(snapshot, name), Some(name.clone()))
            }
            ResolverKind::ForwardedPreferredUsernameMatchingUserEntityName => {
                let Some(name) = &claims.forwarded_preferred_username else {
                    reasons.push("Request did not contain a preferred username".to_string());
                    continue;
                };
                (user_named(snapshot, name), Some(name.clone()))
            }
        };
        if let Some(user) = candidate {
            return Ok(user);
        }
        match name_for_fallback {
            Some(name) if r.allow_without_user && valid_name(&name) => {
                return Ok(format!("user:default/{}", name.to_ascii_lowercase()));
            }
            _ => reasons.push(format!(
                "{}: no matching User in the catalog",
                r.kind.name()
            )),
        }
    }
    Err(SignInError::NotFound(reasons.join("; ")))
}

/// `jane+tag@x` → `jane@x`.
fn strip_plus_tag(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((base, _)) => format!("{base}@{domain}"),
            None => email.to_string(),
        },
        None => email.to_string(),
    }
}

/// A Backstage entity name: 1–63 of `[A-Za-z0-9._-]`, starting and ending alphanumeric.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

fn user_named(snapshot: &Snapshot, name: &str) -> Option<String> {
    if !valid_name(name) {
        return None;
    }
    let r = format!("user:default/{}", name.to_ascii_lowercase());
    snapshot.contains(&r).then_some(r)
}

fn users_with_email(snapshot: &Snapshot, email: &str) -> Vec<String> {
    snapshot
        .entities
        .iter()
        .filter(|e| e.entity_ref.starts_with("user:"))
        .filter(|e| {
            serde_json::from_str::<Value>(e.json.get()).is_ok_and(|v| {
                v.pointer("/spec/profile/email")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.eq_ignore_ascii_case(email))
            })
        })
        .map(|e| e.entity_ref.clone())
        .collect()
}

/// What the catalog says of a User, read with one parse of its entity.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UserFacts {
    /// `spec.profile.displayName`, `email`, `picture`.
    pub profile: (Option<String>, Option<String>, Option<String>),
    /// Its ownership refs: the user, then the groups it is a direct member of (`memberOf`).
    pub ownership_refs: Vec<String>,
}

/// The profile and ownership refs of `user` (just the user itself when the catalog lacks it).
pub fn user_facts(snapshot: &Snapshot, user: &str) -> UserFacts {
    let mut ownership_refs = vec![user.to_string()];
    let Some(v) = snapshot
        .get(user)
        .and_then(|e| serde_json::from_str::<Value>(e.json.get()).ok())
    else {
        return UserFacts {
            profile: (None, None, None),
            ownership_refs,
        };
    };
    for rel in v
        .get("relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if rel.get("type").and_then(Value::as_str) == Some("memberOf") {
            let target = rel.get("targetRef").and_then(Value::as_str);
            if let Some(t) = target.filter(|t| t.starts_with("group:")) {
                if !ownership_refs.iter().any(|o| o == t) {
                    ownership_refs.push(t.to_string());
                }
            }
        }
    }
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(String::from);
    UserFacts {
        profile: (
            s("/spec/profile/displayName"),
            s("/spec/profile/email"),
            s("/spec/profile/picture"),
        ),
        ownership_refs,
    }
}
