//! `GET .../pods/<name>/log`: `container`, `previous`, `tailLines`, `timestamps`,
//! `sinceSeconds`, `limitBytes` and `follow` (new lines as they appear, until the pod goes away,
//! the client leaves or the cluster's faults change).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::status;
use super::{ApiState, Target};
use crate::logs;

fn render(lines: &[(SystemTime, String)], timestamps: bool) -> String {
    let mut out = String::new();
    for (t, l) in lines {
        if timestamps {
            out.push_str(&crate::clock::rfc3339_nanos(*t));
            out.push(' ');
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// Serves a pod's log.
pub(super) async fn pod_log(
    state: &Arc<ApiState>,
    target: &Target,
    q: &HashMap<String, String>,
) -> Response {
    let cluster = &state.cluster;
    let ns = target.namespace.clone().unwrap_or_default();
    let name = target.name.clone().unwrap_or_default();
    let Some(pod) = cluster.store.get("pods", &ns, &name) else {
        return status::not_found("", "pods", &name);
    };
    let flag = |k: &str| q.get(k).is_some_and(|v| v == "true" || v == "1");
    let container = match logs::pick_container(&pod, q.get("container").map(String::as_str)) {
        Ok(c) => c,
        Err(e) => return status::bad_request(&e.0),
    };
    let previous = flag("previous");
    let timestamps = flag("timestamps");
    let mut lines = match logs::lines(cluster, &pod, &container, previous) {
        Ok(l) => l,
        Err(e) => return status::bad_request(&e.0),
    };
    if let Some(s) = q.get("sinceSeconds").and_then(|s| s.parse::<u64>().ok()) {
        let from = cluster.now() - Duration::from_secs(s);
        lines.retain(|(t, _)| *t >= from);
    }
    if let Some(n) = q.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut text = render(&lines, timestamps);
    if let Some(limit) = q.get("limitBytes").and_then(|n| n.parse::<usize>().ok()) {
        if text.len() > limit {
            let mut cut = limit;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
    }
    if !flag("follow") || previous {
        return (
            http::StatusCode::OK,
            [(http::header::CONTENT_TYPE, "text/plain")],
            text,
        )
            .into_response();
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let last = lines
        .last()
        .map(|(t, _)| *t)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let state = state.clone();
    tokio::spawn(async move {
        if tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        let mut last = last;
        let mut epoch = state.cluster.fault_epoch.subscribe();
        loop {
            let added = state.cluster.logs.added.notified();
            tokio::select! {
                _ = added => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = tx.closed() => return,
                _ = epoch.changed() => return,
            }
            let Some(pod) = state.cluster.store.get("pods", &ns, &name) else {
                return;
            };
            let Ok(now_lines) = logs::lines(&state.cluster, &pod, &container, false) else {
                return;
            };
            let fresh: Vec<_> = now_lines.into_iter().filter(|(t, _)| *t > last).collect();
            if let Some((t, _)) = fresh.last() {
                last = *t;
                if tx
                    .send(Bytes::from(render(&fresh, timestamps)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    (
        http::StatusCode::OK,
        [(http::header::CONTENT_TYPE, "text/plain")],
        super::stream_body(rx),
    )
        .into_response()
}
