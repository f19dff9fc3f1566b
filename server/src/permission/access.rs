//! What a request may do: [`Access`] (the viewer and the permission service, as an axum
//! extractor, for handlers) and [`KubernetesAccess`] (one viewer's Kubernetes decisions, which
//! the lookups, the tab and the pod panel all take).

use std::sync::Arc;

use app::wire::Viewer;

use super::conditions::Resource;
use super::KUBERNETES_RESOURCES_READ;
use super::{Decision, Permission, Permissions};
use super::{CATALOG_ENTITY_READ, KUBERNETES_CLUSTERS_READ, KUBERNETES_PROXY};

/// Who is asking and the permission service, for a handler: `Access` as an axum extractor
/// reads both from the request (the sign-in gate put the viewer there; the router the
/// service). A router without the service answers 500 rather than deciding without it.
#[derive(Clone, Debug)]
pub struct Access {
    /// The viewer (None: nobody signed in, on the few open routes).
    pub viewer: Option<Viewer>,
    /// The service.
    pub permissions: Arc<Permissions>,
}

impl Access {
    /// The decision on `permission` for this request's viewer.
    pub fn decide(&self, permission: &Permission) -> Decision {
        self.permissions.decide(self.viewer.as_ref(), permission)
    }

    /// The Kubernetes decisions for this request's viewer.
    pub fn kubernetes(&self) -> KubernetesAccess {
        KubernetesAccess::of(&self.permissions, self.viewer.as_ref())
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Access {
    type Rejection = (axum::http::StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let permissions = parts.extensions.get::<Arc<Permissions>>().cloned().ok_or((
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the permission service is not wired into this router",
        ))?;
        Ok(Access {
            viewer: parts.extensions.get::<Viewer>().cloned(),
            permissions,
        })
    }
}

/// What one viewer may do on the Kubernetes side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubernetesAccess {
    /// `catalog.entity.read`: the entity must be readable at all (Backstage's Kubernetes
    /// backend reads it from the catalog with the user's credentials).
    pub catalog: Decision,
    /// `kubernetes.clusters.read`, per cluster.
    pub clusters: Decision,
    /// `kubernetes.resources.read`, per entity.
    pub resources: Decision,
    /// `kubernetes.proxy`, per entity.
    pub proxy: Decision,
}

impl KubernetesAccess {
    /// Everything allowed (permissions off; benchmarks and internal callers).
    pub fn all() -> Self {
        KubernetesAccess {
            catalog: Decision::Allow,
            clusters: Decision::Allow,
            resources: Decision::Allow,
            proxy: Decision::Allow,
        }
    }

    /// The decisions of `viewer`.
    pub fn of(permissions: &Permissions, viewer: Option<&Viewer>) -> Self {
        KubernetesAccess {
            catalog: permissions.decide(viewer, &CATALOG_ENTITY_READ),
            clusters: permissions.decide(viewer, &KUBERNETES_CLUSTERS_READ),
            resources: permissions.decide(viewer, &KUBERNETES_RESOURCES_READ),
            proxy: permissions.decide(viewer, &KUBERNETES_PROXY),
        }
    }

    /// Whether the cluster is visible.
    pub fn cluster(&self, name: &str) -> bool {
        self.clusters.permits(Resource::Cluster(name))
    }
}
