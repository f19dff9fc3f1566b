//! Greenroom's user interface: the HTML shell, the router, pages, shared components, wire types
//! and the `#[server]` functions the browser calls.
//!
//! This crate is compiled twice: with `ssr` into the server binary and with `hydrate` into the
//! browser bundle. It therefore owns no server-side logic itself; under `ssr` it only declares
//! [`backend::Backend`], the seam through which server functions reach the `server` crate.

#![recursion_limit = "256"]

pub mod backend;
pub mod components;
pub mod page_data;
pub mod pages;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
};

use crate::components::layout::Layout;
use crate::pages::{
    api_docs::ApiDocsPage,
    catalog::CatalogPage,
    clusters::ClustersPage,
    entity::{
        ApiTab, DefinitionTab, DependenciesTab, DiagramTab, EntityPage, KubernetesTab, OverviewTab,
    },
    help::HelpPage,
    not_found::NotFound,
    problems::ProblemsPage,
    register::RegisterPage,
    search::SearchPage,
};

/// The name of the wasm/JS/CSS bundle under `/pkg/` (cargo-leptos `name`).
pub const BUNDLE_NAME: &str = "greenroom";

/// The split bundle's loader (`scripts/build.sh`; the name Leptos looks for).
const SPLIT_LOADER: &str = "__wasm_split.______________________.js";

/// The HTML document around [`App`], rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                // The split bundle's loader, which the main module imports: asked for before
                // the page's chunks (preloaded by Leptos below, from the split manifest), so the
                // main module does not wait behind them over HTTP/1.1.
                <link rel="modulepreload" href=format!("/pkg/{SPLIT_LOADER}")/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The root component: the same tree is rendered by the server and hydrated in the browser.
///
/// Routes render `Async`: the server waits for the page's resources (portal title, entity data;
/// all served from memory) and sends complete HTML, so pages work without JavaScript and the
/// HTTP status (404) is known before headers are sent.
///
/// The Kubernetes tab streams `InOrder` instead: the page down to the tab (head with its title,
/// header, tab bar) is sent at once, since the resources it needs are blocking ones (the HTTP
/// status is known too), and the cluster data follows in the same response as soon as the
/// clusters answer (or their `fetchTimeoutMs` passes), so it shows without JavaScript and before
/// the wasm has loaded. Leptos renders a path in the most blocking mode of its routes, so the
/// entity route itself is `OutOfOrder` and its other tabs `Async`.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    provide_context(page_data::PageLoads::default());
    view! {
        <Stylesheet id="greenroom" href=format!("/pkg/{BUNDLE_NAME}.css")/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") ssr=SsrMode::Async view=|| view! { <Redirect path="/catalog"/> }/>
                    <Route path=path!("/catalog") ssr=SsrMode::Async view={Lazy::<Catalog>::new()}/>
                    <Route path=path!("/catalog-problems") ssr=SsrMode::Async view={Lazy::<Problems>::new()}/>
                    <Route path=path!("/catalog-import") ssr=SsrMode::Async view={Lazy::<Register>::new()}/>
                    <Route path=path!("/help/:topic") ssr=SsrMode::Async view={Lazy::<Help>::new()}/>
                    <Route path=path!("/search") ssr=SsrMode::Async view={Lazy::<Search>::new()}/>
                    <Route path=path!("/api-docs") ssr=SsrMode::Async view={Lazy::<ApiDocs>::new()}/>
                    <Route path=path!("/clusters") ssr=SsrMode::Async view={Lazy::<Clusters>::new()}/>
                    <ParentRoute path=path!("/catalog/:namespace/:kind/:name") ssr=SsrMode::OutOfOrder view=EntityPage>
                        <Route path=path!("") ssr=SsrMode::Async view={Lazy::<Overview>::new()}/>
                        <Route path=path!("kubernetes") ssr=SsrMode::InOrder view={Lazy::<Kubernetes>::new()}/>
                        <Route path=path!("api") ssr=SsrMode::Async view={Lazy::<Api>::new()}/>
                        <Route path=path!("dependencies") ssr=SsrMode::Async view={Lazy::<Dependencies>::new()}/>
                        <Route path=path!("definition") ssr=SsrMode::Async view={Lazy::<Definition>::new()}/>
                        <Route path=path!("diagram") ssr=SsrMode::Async view={Lazy::<Diagram>::new()}/>
                    </ParentRoute>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Declares pages whose code is a wasm chunk of its own (`scripts/build.sh` splits the bundle at
/// these points): the browser loads the shell first and a page's chunk when the page is first
/// shown (for the page being hydrated, in parallel with the main bundle: the server lists its
/// chunks as preloads). On the server they render like any route.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let $route = this;
                $page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    Catalog => CatalogPage,
    Problems => ProblemsPage,
    Register => RegisterPage,
    Help => HelpPage,
    Search => SearchPage,
    ApiDocs => ApiDocsPage,
    Clusters => ClustersPage,
    Overview => OverviewTab,
    Kubernetes => KubernetesTab,
    Api => ApiTab,
    Dependencies => DependenciesTab,
    Definition => DefinitionTab,
    Diagram => DiagramTab,
}
