//! Page data: resources whose first value the server serializes into the page, decoded in the
//! browser the way server functions' answers are.
//!
//! Leptos' default resource codec decodes the serialized page data with `serde_json::from_str`,
//! while server function answers are decoded with `from_slice`: the wasm bundle then carries two
//! copies of every wire type's deserializer (one per reader), about a seventh of its code. This
//! codec decodes page data with `from_slice` too, so there is one copy. Same JSON on the wire.

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

/// [`Resource::new`], with [`Json`].
#[track_caller]
pub fn page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// [`Resource::new_blocking`], with [`Json`]: the response waits for it (page title, status).
#[track_caller]
pub fn blocking_page_data<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageData<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, true)
}
