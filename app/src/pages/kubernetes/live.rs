//! Live updates in the browser: an `EventSource` on `/api/greenroom/kubernetes/live`. Each
//! `view` event replaces the tab's data; while the stream is open the tab does not poll. When
//! it drops, EventSource reconnects by itself (sending `Last-Event-ID`, so the server resends
//! only what is newer) and the tab polls meanwhile; when the server refuses it (404/503, or no
//! EventSource at all) the tab keeps polling at the configured interval.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{EventSource, MessageEvent};

use super::logs::Follow;
use crate::wire::kubernetes::KubernetesView;

/// What the tab shows: nothing yet, the view, or why it could not be loaded.
pub type Current = RwSignal<Option<Result<KubernetesView, String>>>;

/// A `failure` frame's data.
#[derive(serde::Deserialize)]
struct Failure {
    message: String,
}

/// Opens the stream for `entity_ref`; closes it when the calling owner is cleaned up.
pub fn connect(entity_ref: &str, current: Current, pushing: RwSignal<bool>) {
    let url = format!(
        "/api/greenroom/kubernetes/live?entity={}",
        super::query_escape(entity_ref)
    );
    let Ok(source) = EventSource::new(&url) else {
        return;
    };
    let on_view = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(Ok(view)) = ev
            .data()
            .as_string()
            .map(|t| serde_json::from_slice::<KubernetesView>(t.as_bytes()))
        {
            current.set(Some(Ok(view)));
            pushing.set(true);
        }
    });
    let on_failure = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let message = ev
            .data()
            .as_string()
            .and_then(|t| serde_json::from_slice::<Failure>(t.as_bytes()).ok())
            .map_or_else(|| "live update failed".to_string(), |f| f.message);
        current.set(Some(Err(message)));
    });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| pushing.set(false));
    let _ = source.add_event_listener_with_callback("view", on_view.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("failure", on_failure.as_ref().unchecked_ref());
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let held = SendWrapper::new((source, on_view, on_failure, on_error));
    on_cleanup(move || {
        held.0.close();
        drop(held);
    });
}

/// Follows a container log from `url` (`/api/greenroom/kubernetes/logs/follow?…`): each `lines`
/// event appends to `lines` (at most `keep` kept); a reconnect starts over from the server's
/// tail. Closes when the calling owner is cleaned up or the server ends the log.
pub fn follow_log(
    url: &str,
    lines: RwSignal<Vec<(String, String)>>,
    keep: usize,
    state: RwSignal<Follow>,
) {
    state.set(Follow::Connecting);
    let Ok(source) = EventSource::new(url) else {
        state.set(Follow::Unavailable);
        return;
    };
    let restart = RwSignal::new(true);
    let on_lines = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let Some(Ok(batch)) = ev
            .data()
            .as_string()
            .map(|t| serde_json::from_slice::<Vec<(String, String)>>(t.as_bytes()))
        else {
            return;
        };
        lines.update(|l| {
            if restart.get_untracked() {
                l.clear();
                restart.set(false);
            }
            l.extend(batch);
            let extra = l.len().saturating_sub(keep);
            l.drain(..extra);
        });
        state.set(Follow::Streaming);
    });
    let ended_source = source.clone();
    let on_ended = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let message = ev
            .data()
            .as_string()
            .and_then(|t| serde_json::from_slice::<Failure>(t.as_bytes()).ok())
            .map_or_else(|| "the log stream ended".to_string(), |f| f.message);
        ended_source.close();
        state.set(Follow::Ended(message));
    });
    // A refused stream (never opened) is closed by the browser: fall back to re-reading. One
    // that drops reconnects by itself and starts over from the tail.
    let error_source = source.clone();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if error_source.ready_state() == EventSource::CLOSED {
            if !matches!(state.get_untracked(), Follow::Ended(_)) {
                state.set(Follow::Unavailable);
            }
        } else {
            restart.set(true);
        }
    });
    let _ = source.add_event_listener_with_callback("lines", on_lines.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("ended", on_ended.as_ref().unchecked_ref());
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let held = SendWrapper::new((source, on_lines, on_ended, on_error));
    on_cleanup(move || {
        held.0.close();
        drop(held);
    });
}
