//! `?watch=true`: a stream of `{"type": ..., "object": ...}` lines. Starts from a
//! resourceVersion (replaying retained history; an ERROR event with a 410 Expired Status when it
//! is older than the history, as the API server sends it), or with synthetic ADDED events for
//! every current object when none is given. Label/field filters turn transitions into
//! ADDED/DELETED. BOOKMARKs when `allowWatchBookmarks=true`; the stream ends after
//! `timeoutSeconds`, when the cluster's faults change, or when the client falls too far behind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::status;
use super::{ApiState, Target};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Event, EventType};

struct Filter {
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, o: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| o["metadata"]["namespace"] == ns)
            && self
                .name
                .as_deref()
                .is_none_or(|n| o["metadata"]["name"] == n)
            && self.labels.matches(o["metadata"]["labels"].as_object())
            && self.fields.matches(o)
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

/// What a stored event means to this watcher, if anything.
fn translate(filter: &Filter, e: &Event) -> Option<(&'static str, Arc<Value>)> {
    let now = filter.matches(&e.object);
    let before = e.old.as_ref().is_some_and(|o| filter.matches(o));
    match e.kind {
        EventType::Added if now => Some(("ADDED", e.object.clone())),
        EventType::Deleted if before => Some(("DELETED", e.object.clone())),
        EventType::Modified if now && before => Some(("MODIFIED", e.object.clone())),
        EventType::Modified if now => Some(("ADDED", e.object.clone())),
        EventType::Modified if before => Some(("DELETED", e.object.clone())),
        _ => None,
    }
}

/// Starts a watch.
pub(super) fn watch(
    state: &Arc<ApiState>,
    target: &Target,
    q: &HashMap<String, String>,
) -> Response {
    if target.ty.list_only {
        return status::method_not_supported(&target.ty.plural);
    }
    let labels =
        match LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or("")) {
            Ok(s) => s,
            Err(e) => return status::bad_request(&e.to_string()),
        };
    let fields = match crate::selector::FieldSelector::parse(
        q.get("fieldSelector").map(String::as_str).unwrap_or(""),
        &target.ty.fields,
    ) {
        Ok(s) => s,
        Err(e) => return status::bad_request(&e.to_string()),
    };
    let filter = Filter {
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        labels,
        fields,
    };
    let id = target.ty.id();
    let store = &state.cluster.store;
    let rv_param = q
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0");
    let initial_events = q.get("sendInitialEvents").is_some_and(|v| v == "true");
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    // Everything that goes out before the live part.
    let mut first: Vec<Bytes> = Vec::new();
    let (from_rv, events) = match rv_param {
        Some(v) if !initial_events => {
            let Ok(since) = v.parse::<u64>() else {
                return status::bad_request(&format!(
                    "resourceVersion: Invalid value: \"{v}\": must be a number"
                ));
            };
            match store.watch_from(since) {
                Ok((past, rx)) => {
                    let mut last = since;
                    for e in past.iter().filter(|e| e.resource == id) {
                        if let Some((kind, o)) = translate(&filter, e) {
                            first.push(line(kind, &o));
                        }
                        last = e.rv;
                    }
                    (past.last().map(|e| e.rv).unwrap_or(last), rx)
                }
                Err(too_old) => {
                    let body = line(
                        "ERROR",
                        &status::status_object(410, "Expired", &too_old.to_string(), None),
                    );
                    return (
                        http::StatusCode::OK,
                        [(http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                        .into_response();
                }
            }
        }
        _ => {
            let (rv, map, rx) = store.snapshot_and_watch(&id);
            for o in map.values().filter(|o| filter.matches(o)) {
                first.push(line("ADDED", o));
            }
            if initial_events {
                first.push(line("BOOKMARK", &bookmark(target, rv, true)));
            }
            (rv, rx)
        }
    };
    let epoch = state.cluster.fault_epoch.subscribe();
    let every = state.bookmark_every;
    let target = target.clone();
    tokio::spawn(async move {
        for b in first {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        pump(
            tx, events, filter, id, from_rv, target, bookmarks, every, timeout, epoch,
        )
        .await;
    });
    (
        http::StatusCode::OK,
        [
            (http::header::CONTENT_TYPE, "application/json"),
            (http::header::CACHE_CONTROL, "no-cache, private"),
        ],
        super::stream_body(rx),
    )
        .into_response()
}

fn bookmark(target: &Target, rv: u64, initial_end: bool) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": target.ty.kind, "apiVersion": target.ty.api_version(), "metadata": meta})
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    tx: mpsc::Sender<Bytes>,
    mut events: broadcast::Receiver<Arc<Event>>,
    filter: Filter,
    id: String,
    mut last: u64,
    target: Target,
    bookmarks: bool,
    every: Duration,
    timeout: Duration,
    mut epoch: tokio::sync::watch::Receiver<u64>,
) {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = tx.closed() => return,
            _ = epoch.changed() => return,
            _ = tick.tick(), if bookmarks => {
                if tx.send(line("BOOKMARK", &bookmark(&target, last, false))).await.is_err() {
                    return;
                }
            }
            ev = events.recv() => match ev {
                Ok(e) => {
                    if e.rv <= last {
                        continue;
                    }
                    last = e.rv;
                    if e.resource != id {
                        continue;
                    }
                    if let Some((kind, o)) = translate(&filter, &e) {
                        if tx.send(line(kind, &o)).await.is_err() {
                            return;
                        }
                    }
                }
                // Too slow to keep up: the API server closes such watches; the client re-watches.
                Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
