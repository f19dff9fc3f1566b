//! Sign-in, through the whole router (real axum, real Leptos SSR, the bundled catalog): with a
//! provider other than guest configured, anonymous requests to pages are sent to `/sign-in` and
//! every API, server function and `/metrics` answers 401 in Backstage's shape; a session cookie,
//! oauth2-proxy headers from a trusted proxy, or a static token let a request through; tampered
//! cookies, cookies sealed with another secret, proxy headers from anyone else and cross-site
//! state changes are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use crate::support::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use serde_json::Value;
use server::catalog::store::CatalogStore;
use tower::ServiceExt as _;

const SECRET: &str = "an-e2e-session-secret-of-32-chars!";
const TOKEN: &str = "ci-static-token-123";

fn config_yaml(secret: &str) -> String {
    format!(
        r#"app:
  title: Signed Portal
  baseUrl: http://portal.test:7007
backend:
  baseUrl: http://portal.test:7007
  auth:
    externalAccess:
      - type: static
        options: {{ token: {TOKEN}, subject: ci }}
auth:
  session:
    secret: {secret}
  providers:
    guest: {{}}
    oauth2Proxy:
      trustedProxies: [127.0.0.1/32]
      signIn:
        resolvers:
          - resolver: forwardedUserMatchingUserEntityName
          - resolver: emailMatchingUserEntityProfileEmail
catalog:
  rules:
    - allow: [Component, System, API, Resource, Location, Domain, Group, User]
  locations:
    - type: file
      target: {}
"#,
        repo().join("catalog/all.yaml").display()
    )
}

fn site_root() -> std::path::PathBuf {
    static ROOT: OnceLock<std::path::PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("greenroom-sign-in-{}", std::process::id()));
        std::fs::create_dir_all(d.join("pkg")).unwrap();
        std::fs::write(d.join("pkg/greenroom.css"), "body{}").unwrap();
        d
    })
    .clone()
}

fn portal(secret: &str) -> axum::Router {
    portal_with(secret, "", &[])
}

/// The portal with `extra` appended to its config and `files` (name, content) beside it.
fn portal_with(secret: &str, extra: &str, files: &[(&str, &str)]) -> axum::Router {
    let d = dir("sign-in");
    let file = d.0.join("app-config.yaml");
    std::fs::write(&file, format!("{}{extra}", config_yaml(secret))).unwrap();
    for (name, content) in files {
        std::fs::write(d.0.join(name), content).unwrap();
    }
    let loaded = server::config::load(&server::config::LoadOptions {
        files: vec![file],
        cwd: d.0.clone(),
        env: Default::default(),
    })
    .unwrap_or_else(|e| panic!("{e:?}"));
    let settings = server::settings::read(&loaded.config).unwrap_or_else(|e| panic!("{e:?}"));
    let auth = server::auth::config::read(&loaded.config).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(auth.sign_in_required());
    let catalog_config =
        server::catalog::config::read(&loaded.config, &d.0).unwrap_or_else(|e| panic!("{e:?}"));
    let store = Arc::new(CatalogStore::new(server::catalog::reload::load(
        &catalog_config,
        &server::catalog::location::HttpUrlReader,
    )));
    let permission_config =
        server::permission::config::read(&loaded.config, &d.0).unwrap_or_else(|e| panic!("{e:?}"));
    // Loaded on a thread of its own: routers are built inside the tests' runtime.
    let permission_store = Arc::clone(&store);
    let permissions = Arc::new(
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(server::permission::Permissions::load(
                    permission_config,
                    permission_store,
                ))
        })
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("{e:?}")),
    );
    let addr: SocketAddr = "127.0.0.1:7007".parse().unwrap();
    let state = server::http::AppState {
        leptos: server::http::leptos_options(&site_root(), addr),
        backend: Arc::new(server::backend::PortalBackend::new(
            &settings,
            Arc::clone(&store),
            Arc::clone(&permissions),
        )),
        auth: Arc::new(server::auth::Auth::new(auth, &settings, Arc::clone(&store))),
        catalog: store,
        catalog_writes: None,
        static_tokens: Arc::new(settings.backend.static_tokens.clone()),
        kubernetes: None,
        metrics: Arc::default(),
        permissions,
    };
    server::http::router(state)
}

/// One runtime and one router for the whole file (building a router renders the app; the
/// server builds it once before serving).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    })
    .block_on(f)
}

fn app() -> axum::Router {
    static APP: OnceLock<axum::Router> = OnceLock::new();
    APP.get_or_init(|| portal(SECRET)).clone()
}

struct Res {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// `name=value` of the first Set-Cookie for `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_string())
    }
}

async fn send(
    router: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    peer: Option<&str>,
) -> Res {
    let mut req = axum::http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(p) = peer {
        req.extensions_mut()
            .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
    }
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .unwrap();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn server_fn_path() -> &'static str {
    <app::backend::GetPortalInfo as leptos::server_fn::ServerFn>::PATH
}

/// Signs in as guest through the sign-in page's form; the session cookie as a browser sends it.
async fn guest_cookie(router: &axum::Router) -> String {
    let res = send(
        router,
        "POST",
        "/api/auth/guest/start?redirect=%2Fcatalog-problems",
        &[("sec-fetch-site", "same-origin")],
        None,
    )
    .await;
    assert_eq!((res.status / 100, res.location()), (3, "/catalog-problems"));
    res.cookie("greenroom-session").expect("session cookie")
}

#[test]
fn anonymous_requests_are_sent_to_sign_in_or_refused() {
    block_on(async {
        let app = app();
        let page = send(
            &app,
            "GET",
            "/catalog/default/component/checkout-service?x=1",
            &[],
            None,
        )
        .await;
        assert_eq!(page.status / 100, 3, "{}", page.body);
        assert_eq!(
            page.location(),
            "/sign-in?redirect=%2Fcatalog%2Fdefault%2Fcomponent%2Fcheckout-service%3Fx%3D1"
        );
        for (method, uri) in [
            ("GET", "/api/catalog/entities"),
            (
                "GET",
                "/api/catalog/entities/by-name/component/default/checkout-service",
            ),
            ("POST", "/api/kubernetes/services/checkout-service"),
            ("GET", "/api/kubernetes/clusters"),
            (
                "GET",
                "/api/kubernetes/live/component/default/checkout-service",
            ),
            ("POST", server_fn_path()),
            ("GET", "/metrics"),
            ("DELETE", "/catalog"),
        ] {
            let r = send(&app, method, uri, &[], None).await;
            assert_eq!(r.status, 401, "{method} {uri}: {}", r.body);
            assert_eq!(
                r.json()["error"]["name"],
                "AuthenticationError",
                "{method} {uri}"
            );
            assert_eq!(r.json()["error"]["message"], "Missing credentials");
            assert_eq!(r.json()["response"]["statusCode"], 401);
            assert!(
                !r.body.contains("\"kind\"") && !r.body.contains("Checkout"),
                "{method} {uri} leaks data: {}",
                r.body
            );
        }
        let wrong = send(
            &app,
            "GET",
            "/api/catalog/entities",
            &[("authorization", "Bearer nope-nope-nope")],
            None,
        )
        .await;
        assert_eq!(
            (wrong.status, wrong.json()["error"]["message"].as_str()),
            (401, Some("Illegal token"))
        );
        // Open: health, the sign-in page, the bundle.
        for uri in [
            "/healthz",
            "/.backstage/health/v1/readiness",
            "/sign-in",
            "/pkg/greenroom.css",
        ] {
            assert_eq!(send(&app, "GET", uri, &[], None).await.status, 200, "{uri}");
        }
        let sign_in = send(
            &app,
            "GET",
            "/sign-in?redirect=%2Fcatalog-problems",
            &[],
            None,
        )
        .await;
        assert!(
            sign_in.body.contains("Sign in to Signed Portal"),
            "{}",
            sign_in.body
        );
        assert!(sign_in.body.contains("Enter as guest"));
        assert!(sign_in
            .body
            .contains(r#"action="/api/auth/guest/start?redirect=%2Fcatalog-problems""#));
        assert!(sign_in.body.contains("oauth2-proxy"));
        let refresh = send(&app, "GET", "/api/auth/guest/refresh", &[], None).await;
        assert_eq!(refresh.status, 401);
        assert_eq!(
            refresh.json()["error"]["message"],
            "Refresh failed; caused by InputError: Missing session cookie"
        );
    });
}

#[test]
fn a_session_lets_pages_apis_and_server_functions_through() {
    block_on(async {
        let app = app();
        let cookie = guest_cookie(&app).await;
        let h = [("cookie", cookie.as_str())];
        let page = send(&app, "GET", "/catalog", &h, None).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("Signed in as"),
            "the user menu is rendered"
        );
        assert!(
            page.body.contains("/api/auth/guest/logout"),
            "with sign-out"
        );
        assert_eq!(
            send(&app, "GET", "/api/catalog/entities?limit=1", &h, None)
                .await
                .status,
            200
        );
        let sf = send(
            &app,
            "POST",
            server_fn_path(),
            &[
                ("cookie", cookie.as_str()),
                ("content-type", "application/x-www-form-urlencoded"),
                ("sec-fetch-site", "same-origin"),
            ],
            None,
        )
        .await;
        assert_eq!(sf.status, 200, "{}", sf.body);
        let me = send(&app, "GET", "/api/auth/guest/refresh", &h, None)
            .await
            .json();
        assert_eq!(
            me["backstageIdentity"]["identity"]["userEntityRef"],
            "user:development/guest"
        );
        assert_eq!(me["backstageIdentity"]["identity"]["type"], "user");
        // Already signed in: the sign-in page sends you on.
        let s = send(
            &app,
            "GET",
            "/sign-in?redirect=%2Fcatalog-problems",
            &h,
            None,
        )
        .await;
        assert_eq!((s.status / 100, s.location()), (3, "/catalog-problems"));
        // Sign out clears the cookie.
        let out = send(
            &app,
            "POST",
            "/api/auth/guest/logout",
            &[("cookie", cookie.as_str()), ("accept", "text/html")],
            None,
        )
        .await;
        assert_eq!((out.status / 100, out.location()), (3, "/sign-in"));
        let cleared = out.headers.get("set-cookie").unwrap().to_str().unwrap();
        assert!(
            cleared.starts_with("greenroom-session=;") && cleared.contains("Max-Age=0"),
            "{cleared}"
        );
    });
}

#[test]
fn tampered_and_foreign_cookies_are_refused() {
    block_on(async {
        let app = app();
        let cookie = guest_cookie(&app).await;
        let (name, value) = cookie.split_once('=').unwrap();
        let mut b = value.as_bytes().to_vec();
        let i = b.len() / 2;
        b[i] = if b[i] == b'x' { b'y' } else { b'x' };
        let tampered = format!("{name}={}", String::from_utf8_lossy(&b));
        let r = send(
            &app,
            "GET",
            "/api/catalog/entities",
            &[("cookie", tampered.as_str())],
            None,
        )
        .await;
        assert_eq!(r.status, 401);
        // A portal with another secret seals cookies this one does not open, and vice versa.
        let other = portal("another-secret-of-at-least-32-chars");
        let foreign = guest_cookie(&other).await;
        let r = send(
            &app,
            "GET",
            "/api/catalog/entities",
            &[("cookie", foreign.as_str())],
            None,
        )
        .await;
        assert_eq!(r.status, 401);
        let r = send(
            &other,
            "GET",
            "/api/catalog/entities",
            &[("cookie", cookie.as_str())],
            None,
        )
        .await;
        assert_eq!(r.status, 401);
        // A made-up plain cookie.
        let forged = r#"greenroom-session={"user":"user:default/ada-okafor","provider":"oidc","signed_in_at":1,"expires_at":99999999999}"#;
        assert_eq!(
            send(&app, "GET", "/catalog", &[("cookie", forged)], None)
                .await
                .status
                / 100,
            3
        );
    });
}

#[test]
fn proxy_headers_count_only_from_trusted_proxies() {
    block_on(async {
        let app = app();
        let h = [
            ("x-forwarded-user", "ada-okafor"),
            ("x-forwarded-email", "ada.okafor@acme.example"),
        ];
        let me = send(
            &app,
            "GET",
            "/api/auth/oauth2Proxy/refresh",
            &h,
            Some("127.0.0.1:50000"),
        )
        .await;
        assert_eq!(me.status, 200, "{}", me.body);
        let id = &me.json()["backstageIdentity"]["identity"];
        assert_eq!(id["userEntityRef"], "user:default/ada-okafor");
        assert_eq!(
            id["ownershipEntityRefs"],
            serde_json::json!(["user:default/ada-okafor", "group:default/platform"])
        );
        assert_eq!(me.json()["profile"]["displayName"], "Ada Okafor");
        assert_eq!(
            send(
                &app,
                "GET",
                "/api/catalog/entities?limit=1",
                &h,
                Some("127.0.0.1:50000")
            )
            .await
            .status,
            200
        );
        // The same headers from a client that bypassed the proxy, or with no peer known.
        assert_eq!(
            send(
                &app,
                "GET",
                "/api/catalog/entities",
                &h,
                Some("10.1.2.3:50000")
            )
            .await
            .status,
            401
        );
        assert_eq!(
            send(&app, "GET", "/api/catalog/entities", &h, None)
                .await
                .status,
            401
        );
        // By email (second resolver) when the user name matches nobody.
        let by_email = [
            ("x-forwarded-user", "nobody-here"),
            ("x-forwarded-email", "Chloe.Martin@acme.example"),
        ];
        let me = send(
            &app,
            "GET",
            "/api/auth/oauth2Proxy/refresh",
            &by_email,
            Some("127.0.0.1:1"),
        )
        .await;
        assert_eq!(
            me.json()["backstageIdentity"]["identity"]["userEntityRef"],
            "user:default/chloe-martin"
        );
        // Someone the catalog does not know is not signed in.
        let unknown = [
            ("x-forwarded-user", "mallory"),
            ("x-forwarded-email", "mallory@evil.example"),
        ];
        assert_eq!(
            send(
                &app,
                "GET",
                "/api/catalog/entities",
                &unknown,
                Some("127.0.0.1:1")
            )
            .await
            .status,
            401
        );
    });
}

#[test]
fn static_tokens_reach_apis_and_metrics() {
    block_on(async {
        let app = app();
        let auth = format!("Bearer {TOKEN}");
        let h = [("authorization", auth.as_str())];
        assert_eq!(
            send(&app, "GET", "/api/catalog/entities?limit=1", &h, None)
                .await
                .status,
            200
        );
        assert_eq!(send(&app, "GET", "/metrics", &h, None).await.status, 200);
    });
}

#[test]
fn cross_site_state_changes_are_refused() {
    block_on(async {
        let app = app();
        let cookie = guest_cookie(&app).await;
        for extra in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
        ] {
            let r = send(
                &app,
                "POST",
                server_fn_path(),
                &[
                    ("cookie", cookie.as_str()),
                    ("host", "portal.test:7007"),
                    extra,
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                None,
            )
            .await;
            assert_eq!(r.status, 403, "{extra:?}: {}", r.body);
            assert_eq!(r.json()["error"]["name"], "NotAllowedError");
        }
        let login_csrf = send(
            &app,
            "POST",
            "/api/auth/guest/start",
            &[("sec-fetch-site", "cross-site")],
            None,
        )
        .await;
        assert_eq!(login_csrf.status, 403);
        let ok = send(
            &app,
            "POST",
            server_fn_path(),
            &[
                ("cookie", cookie.as_str()),
                ("host", "portal.test:7007"),
                ("origin", "http://portal.test:7007"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            None,
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    });
}

#[test]
fn open_redirects_are_not_possible() {
    block_on(async {
        let app = app();
        for evil in [
            "%2F%2Fevil.example",
            "https%3A%2F%2Fevil.example",
            "%2F%5Cevil.example",
        ] {
            let r = send(
                &app,
                "POST",
                &format!("/api/auth/guest/start?redirect={evil}"),
                &[],
                None,
            )
            .await;
            assert_eq!(r.location(), "/catalog", "{evil}");
        }
    });
}

const POLICY: &str = "\
p, role:default/reader, catalog-entity, read, allow
p, role:default/reader, catalog.location.read, read, allow
g, group:default/storefront, role:default/reader
g, group:default/payments, role:default/payments
";

const CONDITIONS: &str = "\
result: CONDITIONAL
roleEntityRef: role:default/payments
pluginId: catalog
resourceType: catalog-entity
permissionMapping: [read]
conditions:
  rule: IS_ENTITY_OWNER
  resourceType: catalog-entity
  params: { claims: [$ownerRefs] }
";

fn permission_portal() -> axum::Router {
    static APP: OnceLock<axum::Router> = OnceLock::new();
    APP.get_or_init(|| {
        portal_with(
            SECRET,
            "permission:\n  enabled: true\n  rbac:\n    policies-csv-file: rbac.csv\n    conditionalPoliciesFile: conditions.yaml\n",
            &[("rbac.csv", POLICY), ("conditions.yaml", CONDITIONS)],
        )
    })
    .clone()
}

/// The catalog REST API answers each user with what the policy grants: all of it, only what
/// the user's team owns, or nothing; anonymous requests are still refused, tokens allowed.
#[test]
fn the_catalog_api_enforces_the_policy_files() {
    block_on(async {
        let app = permission_portal();
        let as_user = |user: &'static str| [("x-forwarded-user", user)];
        let get = |user: Option<&'static str>, uri: String| {
            let app = app.clone();
            async move {
                match user {
                    Some(u) => send(&app, "GET", &uri, &as_user(u), Some("127.0.0.1:50000")).await,
                    None => send(&app, "GET", &uri, &[], None).await,
                }
            }
        };
        let names = |r: &Res| -> Vec<String> {
            r.json()
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["metadata"]["name"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let components = "/api/catalog/entities?filter=kind=component".to_string();

        assert_eq!(get(None, components.clone()).await.status, 401);

        // storefront (reader): every component.
        let r = get(Some("farah-haddad"), components.clone()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let all = names(&r);
        assert!(
            all.contains(&"checkout-service".to_string())
                && all.contains(&"storefront-web".to_string()),
            "{all:?}"
        );

        // payments (conditional): only its own.
        let r = get(Some("diego-ramirez"), components.clone()).await;
        assert_eq!(r.status, 200);
        let own = names(&r);
        assert!(own.contains(&"checkout-service".to_string()), "{own:?}");
        assert!(!own.contains(&"storefront-web".to_string()), "{own:?}");
        assert!(own.len() < all.len());
        let by_name = |user, name: &str| {
            get(
                Some(user),
                format!("/api/catalog/entities/by-name/component/default/{name}"),
            )
        };
        assert_eq!(
            by_name("diego-ramirez", "checkout-service").await.status,
            200
        );
        let hidden = by_name("diego-ramirez", "storefront-web").await;
        assert_eq!(
            hidden.status, 404,
            "an entity the reader may not see is not found"
        );
        assert_eq!(hidden.json()["error"]["name"], "NotFoundError");
        // Ancestry stops at what the reader may read, and does not name the Location it may
        // not read (Backstage names it).
        let ancestry = get(
            Some("diego-ramirez"),
            "/api/catalog/entities/by-name/component/default/checkout-service/ancestry".into(),
        )
        .await;
        assert_eq!(ancestry.status, 200);
        assert_eq!(
            ancestry.json()["items"],
            serde_json::json!([{
                "entity": ancestry.json()["items"][0]["entity"],
                "parentEntityRefs": []
            }]),
            "{}",
            ancestry.body
        );
        let q = get(
            Some("diego-ramirez"),
            "/api/catalog/entities/by-query?filter=kind=component&limit=500".into(),
        )
        .await;
        assert_eq!(q.json()["totalItems"].as_u64(), Some(own.len() as u64));
        let facets = get(
            Some("diego-ramirez"),
            "/api/catalog/entity-facets?facet=spec.owner&filter=kind=component".into(),
        )
        .await;
        let owners: Vec<&str> = facets.json()["facets"]["spec.owner"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap_or(""))
            .map(|v| if v == "payments" { "payments" } else { "other" })
            .collect();
        assert!(owners.iter().all(|o| *o == "payments"), "{}", facets.body);

        // Locations: a basic permission, only the reader role has it.
        assert_eq!(
            get(Some("farah-haddad"), "/api/catalog/locations".into())
                .await
                .status,
            200
        );
        let denied = get(Some("diego-ramirez"), "/api/catalog/locations".into()).await;
        assert_eq!(denied.status, 403);
        assert_eq!(denied.json()["error"]["name"], "NotAllowedError");

        // data (no role): nothing, though signed in.
        let r = get(Some("hana-sato"), components.clone()).await;
        assert_eq!((r.status, r.body.as_str()), (200, "[]"));
        assert_eq!(by_name("hana-sato", "checkout-service").await.status, 404);

        // A service token is allowed, as in Backstage.
        let bearer = format!("Bearer {TOKEN}");
        let r = send(
            &app,
            "GET",
            &components,
            &[("authorization", bearer.as_str())],
            None,
        )
        .await;
        assert_eq!(names(&r).len(), all.len());
    })
}
