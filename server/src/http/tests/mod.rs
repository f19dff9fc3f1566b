//! Router behaviour through `router(state).oneshot(request)`: real axum, real Leptos SSR.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use axum::body::Body;
use http::{Request, StatusCode};
use tower::ServiceExt;

use super::*;
use crate::backend::PortalBackend;
use crate::catalog::store::CatalogStore;
use crate::settings::{AppSettings, BackendSettings, Listen, Settings};
use app::backend::{Backend, BoxFuture};
use app::wire::clusters::{ClustersOverview, RowHealth};
use app::wire::kubernetes::{FleetHealth, KubernetesView, LogRequest, PodDetail, PodLogs, PodRef};
use app::wire::{
    ApiExplorer, CatalogFilters, CatalogListPage, EntityDetail, EntityLink, ImportAnalysis,
    PortalInfo, ProblemView, SearchResults, Viewer,
};

mod catalog;

/// One site root for all tests of this process, written once (tests run concurrently).
fn site_root() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("greenroom-http-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).expect("mkdir");
        std::fs::write(dir.join("pkg/greenroom.css"), "body{}").expect("write css");
        dir
    })
    .clone()
}

/// The repository's bundled example catalog (`catalog/all.yaml`), every kind allowed.
pub(crate) fn bundled_catalog() -> crate::catalog::store::Snapshot {
    use crate::catalog::config::CatalogConfig;
    use crate::catalog::location::{LocationSpec, LocationType};
    use crate::catalog::rules::Rule;
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/all.yaml");
    let config = CatalogConfig {
        locations: vec![LocationSpec {
            kind: LocationType::File,
            target: all
                .canonicalize()
                .expect("catalog/all.yaml")
                .display()
                .to_string(),
            rules: Vec::new(),
            optional: false,
        }],
        rules: vec![Rule::allowing(&[
            "Component",
            "System",
            "API",
            "Resource",
            "Location",
            "Domain",
            "Group",
            "User",
        ])],
    };
    crate::catalog::reload::load(&config, &crate::catalog::location::HttpUrlReader)
}

fn state(title: &str) -> AppState {
    let settings = Settings {
        app: AppSettings {
            title: title.into(),
            base_url: "http://localhost:7007".into(),
        },
        backend: BackendSettings {
            base_url: "http://localhost:7007".into(),
            static_tokens: Vec::new(),
            metrics_listen: None,
            shutdown_delay: None,
            listen: Listen {
                host: "127.0.0.1".into(),
                port: 7007,
            },
        },
    };
    let addr: SocketAddr = "127.0.0.1:7007".parse().expect("addr");
    let catalog = Arc::new(CatalogStore::new(bundled_catalog()));
    AppState {
        auth: Arc::new(crate::auth::Auth::new(
            crate::auth::config::AuthConfig::open(),
            &settings,
            Arc::clone(&catalog),
        )),
        leptos: leptos_options(&site_root(), addr),
        backend: Arc::new(ChangingClusters(PortalBackend::new(
            &settings,
            Arc::clone(&catalog),
            Arc::new(crate::permission::Permissions::disabled()),
        ))),
        catalog,
        catalog_writes: None,
        static_tokens: Arc::new(Vec::new()),
        kubernetes: None,
        metrics: Arc::default(),
        permissions: Arc::new(crate::permission::Permissions::disabled()),
    }
}

/// The portal's backend, but the Kubernetes tab's clusters change on every read: read `n` of an
/// entity's view shows one cluster, `read-n` (without `kubernetes:` the real one answers "not
/// configured" every time).
struct ChangingClusters(PortalBackend);

/// How often each entity's Kubernetes view was read.
fn kubernetes_reads() -> &'static std::sync::Mutex<std::collections::HashMap<String, usize>> {
    static READS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, usize>>> =
        std::sync::OnceLock::new();
    READS.get_or_init(Default::default)
}

impl Backend for ChangingClusters {
    fn kubernetes_view(
        &self,
        _viewer: Option<&Viewer>,
        entity_ref: String,
    ) -> BoxFuture<KubernetesView> {
        let mut reads = kubernetes_reads().lock().expect("reads");
        let n = reads.entry(entity_ref).or_default();
        *n += 1;
        let view = KubernetesView {
            configured: true,
            refresh_interval_ms: 10_000,
            clusters: vec![app::wire::kubernetes::ClusterView {
                name: format!("read-{n}"),
                ..Default::default()
            }],
            ..Default::default()
        };
        Box::pin(async move { Ok(view) })
    }

    fn portal_info(&self) -> PortalInfo {
        self.0.portal_info()
    }
    fn catalog_list(&self, viewer: Option<&Viewer>, filters: &CatalogFilters) -> CatalogListPage {
        self.0.catalog_list(viewer, filters)
    }
    fn entity(
        &self,
        viewer: Option<&Viewer>,
        ns: &str,
        kind: &str,
        name: &str,
    ) -> Option<EntityDetail> {
        self.0.entity(viewer, ns, kind, name)
    }
    fn search(&self, viewer: Option<&Viewer>, query: &str, limit: usize) -> SearchResults {
        self.0.search(viewer, query, limit)
    }
    fn api_explorer(&self, viewer: Option<&Viewer>, t: &str, l: &str, page: usize) -> ApiExplorer {
        self.0.api_explorer(viewer, t, l, page)
    }
    fn catalog_problems(&self, viewer: Option<&Viewer>) -> Vec<ProblemView> {
        self.0.catalog_problems(viewer)
    }
    fn help(&self, topic: &str) -> Option<String> {
        self.0.help(topic)
    }
    fn catalog_health(
        &self,
        viewer: Option<&Viewer>,
        refs: Vec<String>,
    ) -> BoxFuture<Option<(u64, Vec<RowHealth>)>> {
        self.0.catalog_health(viewer, refs)
    }
    fn clusters_overview(&self, viewer: Option<&Viewer>) -> BoxFuture<ClustersOverview> {
        self.0.clusters_overview(viewer)
    }
    fn fleet_health(&self, viewer: Option<&Viewer>, entity_ref: String) -> BoxFuture<FleetHealth> {
        self.0.fleet_health(viewer, entity_ref)
    }
    fn pod_detail(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
        pod: PodRef,
    ) -> BoxFuture<PodDetail> {
        self.0.pod_detail(viewer, entity_ref, pod)
    }
    fn pod_logs(
        &self,
        viewer: Option<&Viewer>,
        entity_ref: String,
        request: LogRequest,
    ) -> BoxFuture<PodLogs> {
        self.0.pod_logs(viewer, entity_ref, request)
    }
    fn analyze_import(&self, viewer: Option<&Viewer>, url: String) -> BoxFuture<ImportAnalysis> {
        self.0.analyze_import(viewer, url)
    }
    fn register_import(
        &self,
        viewer: Option<&Viewer>,
        target: String,
    ) -> BoxFuture<Vec<EntityLink>> {
        self.0.register_import(viewer, target)
    }
    fn unregister_location(&self, viewer: Option<&Viewer>, id: String) -> BoxFuture<()> {
        self.0.unregister_location(viewer, id)
    }
}

/// All tests share one multi-threaded runtime and one router, built once, as in the server.
/// (Building routers — `generate_route_list` — while other threads render pages can stall those
/// renders; the server builds its router once before it accepts connections.)
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime")
        })
        .block_on(future)
}

pub(crate) fn app() -> axum::Router {
    static ROUTER: std::sync::OnceLock<axum::Router> = std::sync::OnceLock::new();
    ROUTER.get_or_init(|| router(state("Acme Portal"))).clone()
}

async fn get(path: &str) -> (StatusCode, http::HeaderMap, String) {
    let res = app()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[test]
fn backstage_health_endpoints_answer_ok() {
    block_on(async {
        for path in [
            "/.backstage/health/v1/readiness",
            "/.backstage/health/v1/liveness",
            "/healthz",
        ] {
            let (status, headers, body) = get(path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(headers["content-type"], "application/json", "{path}");
            let json: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(json, serde_json::json!({ "status": "ok" }), "{path}");
        }
    })
}

#[test]
fn unknown_path_is_a_real_404_page() {
    block_on(async {
        let (status, _, body) = get("/no/such/page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("Page not found"), "{body}");
        assert!(
            body.contains("Acme Portal"),
            "the 404 page keeps the chrome: {body}"
        );
    })
}

#[test]
fn catalog_page_is_server_rendered_with_the_configured_title() {
    block_on(async {
        let (status, _, body) = get("/catalog").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<h1>Catalog</h1>"), "{body}");
        assert!(
            body.contains("<title>Catalog | Acme Portal</title>"),
            "{body}"
        );
        assert!(
            body.contains("/pkg/greenroom.js"),
            "hydration script missing: {body}"
        );
    })
}

#[test]
fn root_redirects_to_the_catalog() {
    block_on(async {
        let (status, headers, _) = get("/").await;
        assert!(status.is_redirection(), "{status}");
        assert_eq!(headers["location"], "/catalog");
    })
}

#[test]
fn entity_page_tabs_are_sub_paths() {
    block_on(async {
        let (status, _, body) = get("/catalog/default/component/example1/kubernetes").await;
        assert_eq!(status, StatusCode::OK);
        // Without Leptos' empty hydration markers (`<!>` after a dynamic text).
        assert!(
            body.replace("<!>", "").contains("<h1>example1</h1>"),
            "{body}"
        );
        assert!(
            body.contains(r#"href="/catalog/default/component/example1/kubernetes""#),
            "{body}"
        );
        assert!(
            body.contains(r#"href="/catalog/default/component/example1""#),
            "{body}"
        );
    })
}

/// Leptos builds a tab's view three times while it renders the page (to find its resources, to
/// wait for them, to write the HTML); the data must be read once, or the HTML and the value the
/// browser hydrates from can differ (here every read differs: a hydration panic in the browser).
#[test]
fn a_tab_reads_its_data_once_per_page_and_the_html_matches_what_the_browser_hydrates() {
    block_on(async {
        let (status, _, body) = get("/catalog/default/component/checkout-service/kubernetes").await;
        assert_eq!(status, StatusCode::OK);
        let reads = kubernetes_reads()
            .lock()
            .expect("reads")
            .iter()
            .filter(|(entity, _)| entity.eq_ignore_ascii_case("component:default/checkout-service"))
            .map(|(_, n)| *n)
            .sum::<usize>();
        assert_eq!(reads, 1, "{body}");
        assert!(body.contains(r#"data-cluster="read-1""#), "{body}");
        let serialized: Vec<&str> = body
            .split("__RESOLVED_RESOURCES[")
            .skip(1)
            .filter(|r| r.contains("read-"))
            .collect();
        assert!(!serialized.is_empty(), "{body}");
        for value in serialized {
            assert_eq!(
                value.matches("read-").count(),
                value.matches("read-1").count(),
                "{value}"
            );
        }
    })
}

#[test]
fn static_assets_are_served_from_the_site_root() {
    block_on(async {
        let (status, _, body) = get("/pkg/greenroom.css").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "body{}");
    })
}

#[test]
fn responses_are_compressed_when_asked() {
    block_on(async {
        let res = app()
            .oneshot(
                Request::get("/catalog")
                    .header("accept-encoding", "gzip")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(res.headers()["content-encoding"], "gzip");
    })
}

#[test]
fn every_post_is_capped_server_functions_included() {
    block_on(async {
        use leptos::server_fn::ServerFn as _;
        let big = vec![b'x'; super::MAX_REQUEST_BODY_BYTES + 1];
        for path in [
            "/api/catalog/validate-entity",
            "/api/catalog/entities/by-refs",
            app::backend::ListCatalog::PATH,
            app::backend::GetPodLogs::PATH,
            "/api/anything-at-all",
        ] {
            let res = app()
                .oneshot(
                    Request::post(path)
                        .header("content-type", "application/json")
                        .header("content-length", big.len())
                        .body(Body::from(big.clone()))
                        .expect("request"),
                )
                .await
                .expect("infallible");
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        }
    })
}

#[test]
fn unknown_methods_do_not_create_metric_series() {
    block_on(async {
        for m in ["FOOBAR", "X-EVIL-1", "X-EVIL-2"] {
            let method = http::Method::from_bytes(m.as_bytes()).expect("method");
            let _ = app()
                .oneshot(
                    Request::builder()
                        .method(method)
                        .uri("/catalog")
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("infallible");
        }
        let (_, _, text) = get("/metrics").await;
        assert!(
            !text.contains("FOOBAR") && !text.contains("X-EVIL"),
            "{text}"
        );
        assert!(text.contains("method=\"other\""), "{text}");
    })
}
