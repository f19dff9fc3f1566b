//! What keeps a long-lived response honest after it was authorized (the Kubernetes tab's live
//! view, a followed log):
//!
//! - it ends when the viewer's session does (the browser then reconnects, and the sign-in gate
//!   answers for the session it has then);
//! - it is re-checked, with its viewer's groups read again, when decisions may have changed
//!   (policy files reloaded, the catalog changed: owners, memberships), and ends if its
//!   viewer's decisions changed. The checks start before the stream is authorized, so a change
//!   while it is being set up is not missed;
//! - one viewer holds at most `kubernetes.live.maxSubscribersPerUser` of them, so that one
//!   account cannot take the `kubernetes.live.maxSubscribers` places the whole portal shares.
//!   Viewers are told apart by identity (user, or static token); guests of a portal without
//!   sign-in are one identity, so they share only the global places.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::wire::Viewer;
use tokio::sync::watch;

use crate::auth::SessionDeadline;
use crate::permission::Access;

/// Open streams per viewer, at most `max` each.
#[derive(Debug)]
pub struct Places {
    max: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// One stream's place; dropping it frees the place.
#[derive(Debug)]
pub struct Place {
    places: Arc<Places>,
    who: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.places.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.who) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.who);
            }
        }
    }
}

/// Why a place was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("you have {0} live views and followed logs open (the limit per user set by kubernetes.live.maxSubscribersPerUser); close some, or the page falls back to refreshing")]
pub struct TooManyOfYours(pub usize);

impl Places {
    /// At most `max` streams per viewer.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::default(),
        })
    }

    /// A place for a stream of `viewer`; `None` for a viewer without an identity of its own
    /// (a guest), who is held to the global limit only.
    pub fn take(
        self: &Arc<Self>,
        viewer: Option<&Viewer>,
    ) -> Result<Option<Place>, TooManyOfYours> {
        let Some(who) = viewer.and_then(identity) else {
            return Ok(None);
        };
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(who.clone()).or_default();
        if *n >= self.max {
            return Err(TooManyOfYours(self.max));
        }
        *n += 1;
        Ok(Some(Place {
            places: Arc::clone(self),
            who,
        }))
    }

    /// Streams open per identity (for tests).
    #[cfg(test)]
    fn count(&self, who: &str) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(who)
            .copied()
            .unwrap_or(0)
    }
}

/// Who a viewer is for the per-user limit: the user entity, or the static token's subject.
fn identity(viewer: &Viewer) -> Option<String> {
    match viewer.provider.as_str() {
        "guest" => None,
        "static" => Some(format!("static token {}", viewer.display_name)),
        _ if viewer.entity_ref.is_empty() => None,
        _ => Some(viewer.entity_ref.to_lowercase()),
    }
}

/// `access` with its viewer's groups read again from `catalog` (the sign-in gate resolved them
/// when the stream was opened; a member who left a group since must lose what the group gave).
/// Guests keep their configured refs, static tokens have none.
pub fn refreshed(access: &Access, catalog: &crate::catalog::store::Snapshot) -> Access {
    let viewer = access.viewer.clone().map(|mut v| {
        if !matches!(v.provider.as_str(), "guest" | "static") && !v.entity_ref.is_empty() {
            v.ownership_refs =
                crate::auth::resolve::user_facts(catalog, &v.entity_ref).ownership_refs;
        }
        v
    });
    Access {
        viewer,
        permissions: Arc::clone(&access.permissions),
    }
}

/// What a stream must look at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// The policy in force or the catalog changed: re-decide.
    PolicyChanged,
    /// The viewer's session is over: end.
    SessionEnded,
}

/// Waits for the next [`Recheck`] of one stream.
#[derive(Debug)]
pub struct Rechecks {
    deadline: Option<tokio::time::Instant>,
    changes: watch::Receiver<u64>,
}

impl Rechecks {
    /// For a stream authorized by `access`, whose session (if any) ends at `deadline`.
    pub fn new(access: &Access, deadline: Option<SessionDeadline>) -> Self {
        let now = crate::auth::session::now();
        Self {
            deadline: deadline.map(|SessionDeadline(at)| {
                tokio::time::Instant::now() + Duration::from_secs(at.saturating_sub(now))
            }),
            changes: access.permissions.changes(),
        }
    }

    /// The next thing to re-check (pends for ever when nothing can change).
    pub async fn next(&mut self) -> Recheck {
        let session = async {
            match self.deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let policy = async {
            if self.changes.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = session => Recheck::SessionEnded,
            () = policy => Recheck::PolicyChanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(r: &str) -> Viewer {
        Viewer {
            entity_ref: r.into(),
            provider: "oidc".into(),
            ..Viewer::default()
        }
    }

    #[test]
    fn each_user_has_places_of_their_own_and_guests_have_none() {
        let places = Places::new(2);
        let a = user("user:default/jane");
        let first = places.take(Some(&a)).expect("1st").expect("a place");
        let _second = places.take(Some(&a)).expect("2nd");
        assert_eq!(places.take(Some(&a)).unwrap_err(), TooManyOfYours(2));
        // Another user is not held up by Jane.
        assert!(places.take(Some(&user("user:default/joe"))).is_ok());
        // The same user in other letters is the same user.
        assert!(places.take(Some(&user("User:default/Jane"))).is_err());
        drop(first);
        assert!(places.take(Some(&a)).is_ok());
        let guest = Viewer {
            entity_ref: "user:development/guest".into(),
            provider: "guest".into(),
            ..Viewer::default()
        };
        for _ in 0..5 {
            assert!(places.take(Some(&guest)).expect("guest").is_none());
        }
        assert!(places.take(None).expect("nobody").is_none());
    }

    #[test]
    fn a_freed_place_leaves_no_entry() {
        let places = Places::new(1);
        let p = places.take(Some(&user("user:default/jane"))).expect("ok");
        assert_eq!(places.count("user:default/jane"), 1);
        drop(p);
        assert_eq!(places.count("user:default/jane"), 0);
        assert!(places.open.lock().expect("lock").is_empty());
    }
}
