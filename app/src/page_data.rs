//! Page data: resources whose first value the server serializes into the page, decoded in the
//! browser the way server functions' answers are.
//!
//! Leptos' default resource codec decodes the serialized page data with `serde_json::from_str`,
//! while server function answers are decoded with `from_slice`: the wasm bundle then carries two
//! copies of every wire type's deserializer (one per reader), about a seventh of its code. This
//! codec decodes page data with `from_slice` too, so there is one copy. Same JSON on the wire.
//!
//! On the server, one page render loads each page datum once ([`PageLoads`]).

use std::future::Future;

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// JSON, decoded from bytes (see the module doc).
pub struct Json;

impl<T: Serialize> codee::Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, Self::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> codee::Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource loaded on the server with the page and hydrated from its serialized value.
pub type PageData<T> = Resource<T, Json>;

/// [`Resource::new`], with [`Json`]. Within one page render on the server, the resources of one
/// call site with equal sources share one load ([`PageLoads`]): the source must say what is
/// loaded.
#[track_caller]
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S: Serialize + PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, once_per_page(fetcher), false)
}

/// [`Resource::new_blocking`], with [`Json`]: the response waits for it (page title, status).
/// Loaded once per page render, as [`page_data`].
#[track_caller]
pub fn blocking_page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    S: Serialize + PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, once_per_page(fetcher), true)
}

/// In the browser, the fetcher itself.
#[cfg(not(feature = "ssr"))]
#[track_caller]
fn once_per_page<T, S, Fut>(
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> impl Fn(S) -> Fut + Send + Sync + 'static
where
    Fut: Future<Output = T> + Send + 'static,
{
    fetcher
}

/// On the server, the fetcher behind the render's [`PageLoads`] (when there is one).
#[cfg(feature = "ssr")]
#[track_caller]
fn once_per_page<T, S, Fut>(
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> impl Fn(S) -> server::Load<T> + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
    S: Serialize,
    Fut: Future<Output = T> + Send + 'static,
{
    let site = std::panic::Location::caller();
    let loads = use_context::<PageLoads>();
    move |source: S| match &loads {
        Some(loads) => loads.load(site, source, &fetcher),
        None => server::start(fetcher(source)),
    }
}

#[cfg(feature = "ssr")]
pub use server::PageLoads;

#[cfg(feature = "ssr")]
mod server {
    use std::{
        any::{Any, TypeId},
        collections::HashMap,
        future::Future,
        panic::Location,
        pin::Pin,
        sync::{Arc, Mutex},
    };

    use futures_util::future::{FutureExt, Shared};

    /// A load several resources may await.
    pub type Load<T> = Shared<Pin<Box<dyn Future<Output = T> + Send>>>;

    /// The loads of one page render (server only), by call site, value type and source.
    ///
    /// While it renders a page on the server, Leptos builds the view of a nested route (an
    /// entity's tab) three times: the `Outlet` is a reactive closure, called to find the view's
    /// resources, to wait for them, and to write the HTML. Each build creates its resources anew.
    /// Loaded separately, the HTML came from the last load and the value the browser hydrates
    /// from (serialized by the first) from another: when the data changed in between (a cluster
    /// failing as the page renders) the browser found a different tree, a hydration panic, and
    /// the page never became interactive. Shared, every build of one render sees one value, and
    /// the server does the work once instead of three times.
    ///
    /// [`crate::App`] provides one per request.
    #[derive(Clone, Default)]
    pub struct PageLoads(Arc<Mutex<HashMap<Key, Box<dyn Any + Send + Sync>>>>);

    type Key = (&'static Location<'static>, TypeId, String);

    impl PageLoads {
        /// The load of `site` for `source`: the one already started in this render, or a new
        /// one with `fetcher`.
        pub(super) fn load<T, S, Fut>(
            &self,
            site: &'static Location<'static>,
            source: S,
            fetcher: impl FnOnce(S) -> Fut,
        ) -> Load<T>
        where
            T: Clone + Send + Sync + 'static,
            S: serde::Serialize,
            Fut: Future<Output = T> + Send + 'static,
        {
            let Ok(json) = serde_json::to_string(&source) else {
                return start(fetcher(source));
            };
            let key = (site, TypeId::of::<T>(), json);
            let mut loads = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(load) = loads.get(&key).and_then(|l| l.downcast_ref::<Load<T>>()) {
                return load.clone();
            }
            let load = start(fetcher(source));
            loads.insert(key, Box::new(load.clone()));
            load
        }
    }

    /// A load of its own.
    pub(super) fn start<T: Clone>(future: impl Future<Output = T> + Send + 'static) -> Load<T> {
        let future: Pin<Box<dyn Future<Output = T> + Send>> = Box::pin(future);
        future.shared()
    }
}
