//! Followed logs: one upstream `follow=true` log stream per (cluster, namespace, pod,
//! container), however many viewers follow it, pushed to each browser as Server-Sent Events
//! (instead of every viewer re-reading the tail every 1.5 s).
//!
//! - The upstream starts with the last [`RING_LINES`] lines (`tailLines`), then follows. Its
//!   lines go to a ring of at most [`RING_LINES`] lines and [`RING_BYTES`] bytes (a line longer
//!   than [`MAX_LINE`] bytes is cut); a viewer gets the last `tail` lines of the ring, then every
//!   new line. A slow viewer gets the lines it missed in one batch, or, past the ring, the ring
//!   as it is (it never holds the upstream up, and never queues without bound).
//! - The stream ends by itself (the API server's read timeout, a restarted container): while
//!   viewers remain it is re-opened with `sinceSeconds` just before the last line seen, and the
//!   lines seen already are skipped by timestamp. A pod that no longer exists ends it with a
//!   message. Errors back off from 1 s to 30 s.
//! - The upstream stops when its last viewer leaves. Viewers share
//!   `kubernetes.live.maxSubscribers` places of their own (a follow is not a live view).
//! - Who may follow is decided per viewer before anything is opened: `kubernetes.proxy` on the
//!   entity, the cluster, and the pod carrying the entity's labels (the pod panel's check).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::io::{AsyncBufRead as _, AsyncBufReadExt as _};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::watch;

use super::config::ClusterDetails;
use super::service::KubernetesService;
use super::types::FetchError;

/// Lines an upstream keeps for viewers that join (and asks for when it starts).
pub const RING_LINES: usize = 1000;
/// Bytes an upstream keeps.
pub const RING_BYTES: usize = 1 << 20;
/// Longest line kept, in bytes (longer ones are cut).
pub const MAX_LINE: usize = 16 * 1024;

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// One log line: its sequence number in the upstream, timestamp (RFC 3339, "" if none) and text.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Position in the upstream (1, 2, ...).
    pub seq: u64,
    /// The API server's timestamp.
    pub ts: Arc<str>,
    /// The text.
    pub text: Arc<str>,
}

/// What an upstream has: the ring of recent lines, and why it ended if it did.
#[derive(Default)]
struct Ring {
    lines: VecDeque<Line>,
    bytes: usize,
    next_seq: u64,
    /// The last timestamp seen, and the texts seen at it (a re-opened stream repeats them).
    last_ts: Option<time::OffsetDateTime>,
    at_last_ts: Vec<Arc<str>>,
    ended: Option<String>,
}

impl Ring {
    /// Adds a raw line (`<timestamp> <text>`) unless a re-opened stream repeats it.
    fn push(&mut self, raw: &str) {
        let raw = cut(raw, MAX_LINE);
        let (ts, text) = match raw.split_once(' ') {
            Some((ts, rest)) if ts.len() >= 20 && ts.as_bytes().get(4) == Some(&b'-') => (ts, rest),
            _ => ("", raw),
        };
        // RFC 3339 with a variable number of decimals: compared as times, not as text.
        let at =
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok();
        if let Some(at) = at {
            match self.last_ts.map(|last| at.cmp(&last)) {
                Some(std::cmp::Ordering::Less) => return,
                Some(std::cmp::Ordering::Equal) => {
                    if self.at_last_ts.iter().any(|t| &**t == text) {
                        return;
                    }
                }
                _ => {
                    self.last_ts = Some(at);
                    self.at_last_ts.clear();
                }
            }
        }
        let text: Arc<str> = text.into();
        if at.is_some() {
            self.at_last_ts.push(Arc::clone(&text));
        }
        self.next_seq += 1;
        self.bytes += ts.len() + text.len();
        self.lines.push_back(Line {
            seq: self.next_seq,
            ts: ts.into(),
            text,
        });
        while self.lines.len() > RING_LINES || (self.bytes > RING_BYTES && self.lines.len() > 1) {
            if let Some(l) = self.lines.pop_front() {
                self.bytes -= l.ts.len() + l.text.len();
            }
        }
    }

    /// The lines after `after` (all kept ones if the viewer is behind the ring), at most
    /// `limit` of the newest.
    fn since(&self, after: u64, limit: usize) -> Vec<Line> {
        let start = self.lines.partition_point(|l| l.seq <= after);
        let newer = self.lines.len() - start;
        let skip = newer.saturating_sub(limit);
        self.lines.iter().skip(start + skip).cloned().collect()
    }

    /// Seconds to ask for when re-opening: from just before the last line seen.
    fn since_seconds(&self, now: time::OffsetDateTime) -> Option<i64> {
        let last = self.last_ts?;
        Some(((now - last).whole_seconds() + 2).max(1))
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// What a container's upstream shares with its viewers.
struct Shared {
    ring: Mutex<Ring>,
    /// Bumped on every new line or the end.
    changed: watch::Sender<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Upstream {
    shared: Arc<Shared>,
    task: tokio::task::AbortHandle,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which container's log.
#[derive(Debug, Clone)]
pub struct Target {
    /// The cluster.
    pub cluster: ClusterDetails,
    /// The namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container (`None`: the pod's only one).
    pub container: Option<String>,
    /// The pod's uid when it was checked: a re-opened stream ends if the name now belongs to
    /// another pod (a replacement that may belong to another entity).
    pub uid: Option<String>,
}

/// What identifies an upstream: the cluster (name and connection settings), the pod (name and
/// uid) and the container.
type UpstreamKey = (String, u64, String, String, Option<String>, Option<String>);

/// The followed logs of the process.
pub struct LogFollows {
    svc: Arc<KubernetesService>,
    upstreams: Mutex<HashMap<UpstreamKey, Weak<Upstream>>>,
    viewers: Arc<AtomicUsize>,
}

/// Why a follow was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FollowError {
    /// `kubernetes.live.maxSubscribers` follows are open already.
    #[error("too many followed logs ({0}, the limit set by kubernetes.live.maxSubscribers); the panel falls back to re-reading the log")]
    TooMany(usize),
}

/// One viewer of a followed log; dropping it leaves.
pub struct Follower {
    upstream: Arc<Upstream>,
    rx: watch::Receiver<u64>,
    after: u64,
    first: Option<usize>,
    viewers: Arc<AtomicUsize>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.viewers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a viewer is sent next.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// New lines (the first batch: the last `tail` lines).
    Lines(Vec<Line>),
    /// The upstream ended for good, with the reason.
    Ended(String),
}

impl Follower {
    /// Waits for the next batch (or the end); `None` when the upstream is gone.
    pub async fn next(&mut self) -> Option<Next> {
        loop {
            {
                let ring = lock(&self.upstream.shared.ring);
                let lines = ring.since(self.after, self.first.unwrap_or(usize::MAX));
                if let Some(last) = lines.last() {
                    self.after = last.seq;
                    self.first = None;
                    return Some(Next::Lines(lines));
                }
                if let Some(why) = &ring.ended {
                    return Some(Next::Ended(why.clone()));
                }
            }
            self.rx.changed().await.ok()?;
        }
    }
}

impl LogFollows {
    /// The follows of `svc`.
    pub fn new(svc: Arc<KubernetesService>) -> Self {
        Self {
            svc,
            upstreams: Mutex::default(),
            viewers: Arc::default(),
        }
    }

    /// (viewers, upstream streams open).
    pub fn counts(&self) -> (usize, usize) {
        let upstreams = lock(&self.upstreams)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count();
        (self.viewers.load(Ordering::Relaxed), upstreams)
    }

    /// Follows a container's log, whose access the caller has checked; the first batch holds
    /// the last `tail` lines.
    pub fn follow(&self, target: Target, tail: usize) -> Result<Follower, FollowError> {
        let max = self.svc.config().limits.max_live_subscribers;
        self.viewers
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| FollowError::TooMany(max))?;
        let key = (
            target.cluster.name.clone(),
            target.cluster.watch_identity(),
            target.namespace.clone(),
            target.pod.clone(),
            target.uid.clone(),
            target.container.clone(),
        );
        let upstream = {
            let mut map = lock(&self.upstreams);
            map.retain(|_, w| w.strong_count() > 0);
            // An upstream that ended (the pod went away, the API server refused) is not joined:
            // this follower starts a new one.
            let live = map
                .get(&key)
                .and_then(Weak::upgrade)
                .filter(|u| lock(&u.shared.ring).ended.is_none());
            match live {
                Some(u) => u,
                None => {
                    let shared = Arc::new(Shared {
                        ring: Mutex::default(),
                        changed: watch::Sender::new(0),
                    });
                    let task =
                        tokio::spawn(run(Arc::clone(&self.svc), target, Arc::clone(&shared)))
                            .abort_handle();
                    let u = Arc::new(Upstream { shared, task });
                    map.insert(key, Arc::downgrade(&u));
                    u
                }
            }
        };
        let rx = upstream.shared.changed.subscribe();
        Ok(Follower {
            upstream,
            rx,
            after: 0,
            first: Some(tail.clamp(1, RING_LINES)),
            viewers: Arc::clone(&self.viewers),
        })
    }
}

/// The upstream loop: open, read lines into the ring, re-open while viewers remain.
async fn run(svc: Arc<KubernetesService>, target: Target, shared: Arc<Shared>) {
    let mut backoff = BACKOFF_MIN;
    let mut opened_once = false;
    loop {
        let since = {
            let ring = lock(&shared.ring);
            opened_once
                .then(|| ring.since_seconds(time::OffsetDateTime::now_utc()))
                .flatten()
        };
        let params = LogParams {
            container: target.container.clone(),
            follow: true,
            timestamps: true,
            tail_lines: (!opened_once).then_some(RING_LINES as i64),
            since_seconds: since,
            ..LogParams::default()
        };
        let reopened = opened_once;
        opened_once = true;
        match open(&svc, &target, &params, reopened).await {
            Ok(stream) => {
                let mut stream = std::pin::pin!(stream);
                let mut splitter = LineSplitter::default();
                let mut batch = Vec::new();
                let mut read_any = false;
                loop {
                    // Bytes, not `lines()`: a line is cut at MAX_LINE as it is read (a container
                    // writing one endless line cannot grow the portal's memory) and invalid
                    // UTF-8 is replaced instead of ending the stream.
                    let n = match stream.as_mut().fill_buf().await {
                        Ok(chunk) if !chunk.is_empty() => {
                            splitter.feed(chunk, &mut batch);
                            chunk.len()
                        }
                        _ => break,
                    };
                    stream.as_mut().consume(n);
                    if batch.is_empty() {
                        continue;
                    }
                    read_any = true;
                    // A chunk's lines (the first tail arrives at once) go into the ring under
                    // one lock, so a viewer sees all of them or none.
                    {
                        let mut ring = lock(&shared.ring);
                        for line in batch.drain(..) {
                            ring.push(&line);
                        }
                    }
                    shared.changed.send_modify(|v| *v += 1);
                }
                if read_any {
                    backoff = BACKOFF_MIN;
                }
            }
            Err(Gone(why)) => {
                lock(&shared.ring).ended = Some(why);
                shared.changed.send_modify(|v| *v += 1);
                return;
            }
            Err(Retry(e)) => {
                tracing::debug!(cluster = %target.cluster.name, pod = %target.pod, error = %e.message(), "log stream failed; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Why an upstream could not be opened.
enum OpenError {
    /// For good (the pod or container is gone, or the request is refused): the message.
    Gone(String),
    /// For now.
    Retry(FetchError),
}
use OpenError::{Gone, Retry};

/// Splits a log stream's bytes into lines of at most [`MAX_LINE`] bytes: the rest of a longer
/// line is dropped as it arrives, invalid UTF-8 is replaced.
#[derive(Default)]
struct LineSplitter {
    current: Vec<u8>,
}

impl LineSplitter {
    fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<String>) {
        loop {
            let (part, newline) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            let room = MAX_LINE.saturating_sub(self.current.len());
            self.current
                .extend_from_slice(&part[..part.len().min(room)]);
            if !newline {
                return;
            }
            let line = String::from_utf8_lossy(&self.current);
            out.push(line.strip_suffix('\r').unwrap_or(&line).to_string());
            self.current.clear();
            chunk = &chunk[part.len() + 1..];
        }
    }
}

async fn open(
    svc: &KubernetesService,
    t: &Target,
    params: &LogParams,
    reopened: bool,
) -> Result<impl futures_util::AsyncBufRead, OpenError> {
    let client = svc.streaming_client(&t.cluster).await.map_err(Retry)?;
    let pods: Api<Pod> = Api::namespaced(client, &t.namespace);
    let where_ = format!(
        "pod {}/{} on cluster {}",
        t.namespace, t.pod, t.cluster.name
    );
    // The API server's own words for a refusal are not passed on: they can name the portal's
    // identity (an assumed role, a service account).
    let refused = |code: u16| {
        Gone(format!(
            "The log of {where_} cannot be followed (HTTP {code})."
        ))
    };
    let retry = |e: &kube::Error| {
        Retry(FetchError::fetch(format!(
            "cluster '{}': log stream of {}/{}: {e}",
            t.cluster.name, t.namespace, t.pod
        )))
    };
    // Re-opening by name could reach a replacement pod (of another entity, even): only the pod
    // whose uid was checked is followed.
    if let (true, Some(uid)) = (reopened, &t.uid) {
        match pods.get(&t.pod).await {
            Ok(p) if p.metadata.uid.as_deref() == Some(uid.as_str()) => {}
            Ok(_) => {
                return Err(Gone(format!(
                    "The {where_} was replaced by a new pod of the same name; open it again to follow the new one."
                )))
            }
            Err(kube::Error::Api(s)) if s.code == 404 => {
                return Err(Gone(format!("The {where_} no longer exists.")))
            }
            Err(kube::Error::Api(s)) if s.code == 403 => return Err(refused(s.code)),
            Err(e) => return Err(retry(&e)),
        }
    }
    pods.log_stream(&t.pod, params).await.map_err(|e| match &e {
        // A 400 says why in words that name only the pod (a container still starting...).
        kube::Error::Api(s) if s.code == 400 => Gone(format!(
            "The log of {where_} cannot be followed: {} (400)",
            s.message
        )),
        kube::Error::Api(s) if matches!(s.code, 403 | 404) => refused(s.code),
        _ => retry(&e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.text.to_string()).collect()
    }

    #[test]
    fn lines_are_split_from_bytes_bounded_and_lossy() {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        s.feed(b"one\r\ntw", &mut out);
        s.feed(b"o\n\xff bad\n", &mut out);
        assert_eq!(out, ["one", "two", "\u{fffd} bad"]);
        out.clear();
        // An endless line keeps at most MAX_LINE bytes while it is read.
        for _ in 0..100 {
            s.feed(&[b'x'; 4096], &mut out);
            assert!(s.current.len() <= MAX_LINE);
        }
        s.feed(b"\nnext\n", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), MAX_LINE);
        assert_eq!(out[1], "next");
    }

    #[test]
    fn the_ring_skips_lines_a_reopened_stream_repeats_and_stays_bounded() {
        let mut r = Ring::default();
        r.push("2026-12-06T02:00:00.000000001Z one");
        r.push("2026-12-06T02:00:01Z two");
        r.push("2026-12-06T02:00:01Z three");
        // Re-opened from a second before: everything up to "three" comes again.
        r.push("2026-12-06T02:00:00.000000001Z one");
        r.push("2026-12-06T02:00:01Z two");
        r.push("2026-12-06T02:00:01Z three");
        r.push("2026-12-06T02:00:02Z four");
        r.push("no timestamp");
        assert_eq!(
            texts(&r.since(0, usize::MAX)),
            ["one", "two", "three", "four", "no timestamp"]
        );
        assert_eq!(texts(&r.since(0, 2)), ["four", "no timestamp"]);
        assert_eq!(texts(&r.since(3, usize::MAX)), ["four", "no timestamp"]);
        assert!(r.since(5, usize::MAX).is_empty());
        let now = time::OffsetDateTime::parse(
            "2026-12-06T02:00:12Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.since_seconds(now), Some(12));
        for i in 0..(RING_LINES + 10) {
            r.push(&format!("2026-12-06T03:00:00Z line {i}"));
        }
        assert_eq!(r.lines.len(), RING_LINES);
        // A viewer behind the ring gets what is kept.
        assert_eq!(r.since(1, usize::MAX).len(), RING_LINES);
        let long = format!("2026-12-06T04:00:00Z {}", "x".repeat(3 * MAX_LINE));
        r.push(&long);
        assert!(r.lines.back().is_some_and(|l| l.text.len() < MAX_LINE));
        assert!(r.bytes <= RING_BYTES);
    }
}
