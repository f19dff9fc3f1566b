//! `serviceAccount`: the configured `serviceAccountToken`, or — when none is configured and the
//! process runs in a pod — the projected token at
//! `/var/run/secrets/kubernetes.io/serviceaccount/token`, re-read whenever the file changes
//! (kubelet rotates it), with `ca.crt` from the same directory.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use super::{AuthError, Credential};
use crate::kubernetes::config::ClusterDetails;

/// Where Kubernetes mounts a pod's service-account secrets.
pub const IN_CLUSTER_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The strategy, with its cache of the in-cluster token.
pub struct ServiceAccountAuth {
    dir: PathBuf,
    cached: Mutex<Option<(SystemTime, String)>>,
}

impl ServiceAccountAuth {
    /// Reads in-cluster secrets from `dir` (normally [`IN_CLUSTER_DIR`]).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            cached: Mutex::new(None),
        }
    }

    /// The in-cluster CA, if present.
    pub fn ca(&self) -> Option<Vec<u8>> {
        std::fs::read(self.dir.join("ca.crt")).ok()
    }

    /// The token: configured, or in-cluster (re-read when its modification time changes).
    pub fn credential(&self, cluster: &ClusterDetails) -> Result<Credential, AuthError> {
        if let Some(t) = &cluster.service_account_token {
            return Ok(Credential::Bearer(t.trim().to_string()));
        }
        let path = self.dir.join("token");
        let missing =
            || AuthError::NoServiceAccountToken(cluster.name.clone(), path.display().to_string());
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|_| missing())?;
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, token)) = cached.as_ref() {
            if *at == modified {
                return Ok(Credential::Bearer(token.clone()));
            }
        }
        let token = std::fs::read_to_string(&path)
            .map_err(|_| missing())?
            .trim()
            .to_string();
        *cached = Some((modified, token.clone()));
        Ok(Credential::Bearer(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(token: Option<&str>) -> ClusterDetails {
        ClusterDetails {
            service_account_token: token.map(str::to_string),
            ..ClusterDetails::new("c", "https://127.0.0.1:6443", "serviceAccount")
        }
    }

    #[test]
    fn configured_token_then_rotating_in_cluster_token() {
        let dir = std::env::temp_dir().join(format!("greenroom-sa-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let auth = ServiceAccountAuth::new(dir.clone());
        assert_eq!(
            auth.credential(&cluster(Some(" abc\n"))).ok(),
            Some(Credential::Bearer("abc".into()))
        );
        assert!(matches!(
            auth.credential(&cluster(None)),
            Err(AuthError::NoServiceAccountToken(..))
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("token"), "first\n").expect("write");
        assert_eq!(
            auth.credential(&cluster(None)).ok(),
            Some(Credential::Bearer("first".into()))
        );
        // Rotation: a new file (new mtime) is read again.
        std::fs::write(dir.join("token"), "second").expect("write");
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join("token"))
            .expect("open");
        f.set_modified(later).expect("mtime");
        assert_eq!(
            auth.credential(&cluster(None)).ok(),
            Some(Credential::Bearer("second".into()))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
