//! The portal's Prometheus metrics, kept and encoded by `prometheus-client` (the Prometheus
//! project's Rust client) and served at `/metrics` in the OpenMetrics text format. Every metric
//! the portal has is named once, in [`METRICS`], with its help text and type; call sites name a
//! metric by its exposed name (`…_total` for counters) and a label set.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

/// Label pairs, in the order they are rendered.
pub type Labels = Vec<(&'static str, String)>;

/// The `Content-Type` of [`Registry::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the latency histograms.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What kind of metric a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (exposed with `_total`).
    Counter,
    /// Sampled from live state: every series replaced at once.
    Gauge,
    /// Latency in seconds, in [`BUCKETS`].
    Histogram,
}

/// Every metric of the portal: exposed name, help, kind.
pub const METRICS: &[(&str, &str, Kind)] = &[
    (
        "greenroom_kubernetes_requests_total",
        "Requests sent to Kubernetes API servers, by cluster, verb, resource and HTTP status.",
        Kind::Counter,
    ),
    (
        "greenroom_kubernetes_request_duration_seconds",
        "Time to the response headers of Kubernetes API requests (a watch: until it started).",
        Kind::Histogram,
    ),
    (
        "greenroom_kubernetes_watch_restarts_total",
        "Watches re-listed after an error or a 410 Gone, by cluster and resource.",
        Kind::Counter,
    ),
    (
        "greenroom_kubernetes_cached_objects",
        "Objects held by the watch cache.",
        Kind::Gauge,
    ),
    (
        "greenroom_kubernetes_cached_bytes",
        "Bytes of JSON held by the watch cache.",
        Kind::Gauge,
    ),
    (
        "greenroom_kubernetes_watches",
        "Watches in the cache, by cluster and health.",
        Kind::Gauge,
    ),
    (
        "greenroom_kubernetes_viewers",
        "Browsers subscribed to live Kubernetes updates.",
        Kind::Gauge,
    ),
    (
        "greenroom_kubernetes_feeds",
        "Entities with at least one live subscriber.",
        Kind::Gauge,
    ),
    (
        "greenroom_http_requests_total",
        "HTTP requests served, by route, method and status.",
        Kind::Counter,
    ),
    (
        "greenroom_http_request_duration_seconds",
        "Time to the response headers of HTTP requests, by route.",
        Kind::Histogram,
    ),
];

type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

enum Metric {
    Counter(Family<Labels, Counter>),
    Gauge(Family<Labels, Gauge>),
    Histogram(Histograms),
}

/// The registry. Cheap to share (`Arc`); updates touch only their own series.
pub struct Registry {
    registry: prometheus_client::registry::Registry,
    metrics: Vec<(&'static str, Metric)>,
    /// Held while a gauge family is replaced and while rendering, so that a scrape never sees
    /// a family half replaced and two samplers do not mix their series.
    gauges: std::sync::Mutex<()>,
}

impl Default for Registry {
    fn default() -> Self {
        let mut registry = prometheus_client::registry::Registry::default();
        let mut metrics = Vec::new();
        for &(name, help, kind) in METRICS {
            let metric = match kind {
                Kind::Counter => {
                    let family = Family::<Labels, Counter>::default();
                    // prometheus-client adds the `_total` suffix of counters itself.
                    let base = name.strip_suffix("_total").unwrap_or(name);
                    registry.register(base, help, family.clone());
                    Metric::Counter(family)
                }
                Kind::Gauge => {
                    let family = Family::<Labels, Gauge>::default();
                    registry.register(name, help, family.clone());
                    Metric::Gauge(family)
                }
                Kind::Histogram => {
                    let family: Histograms =
                        Family::new_with_constructor(|| Histogram::new(BUCKETS.into_iter()));
                    registry.register(name, help, family.clone());
                    Metric::Histogram(family)
                }
            };
            metrics.push((name, metric));
        }
        Registry {
            registry,
            metrics,
            gauges: std::sync::Mutex::new(()),
        }
    }
}

impl Registry {
    fn metric(&self, name: &str) -> Option<&Metric> {
        let found = self
            .metrics
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m);
        debug_assert!(found.is_some(), "metric {name} is not listed in METRICS");
        found
    }

    /// Adds `by` to a counter.
    pub fn add(&self, name: &'static str, labels: Labels, by: u64) {
        if let Some(Metric::Counter(f)) = self.metric(name) {
            f.get_or_create(&labels).inc_by(by);
        }
    }

    /// Records one observation in a histogram.
    pub fn observe(&self, name: &'static str, labels: Labels, value: Duration) {
        if let Some(Metric::Histogram(f)) = self.metric(name) {
            f.get_or_create(&labels).observe(value.as_secs_f64());
        }
    }

    /// Replaces a whole gauge family (gauges are sampled from live state).
    pub fn set_gauges(&self, name: &'static str, values: Vec<(Labels, f64)>) {
        if let Some(Metric::Gauge(f)) = self.metric(name) {
            let _replacing = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
            f.clear();
            for (labels, v) in values {
                f.get_or_create(&labels).set(v.round() as i64);
            }
        }
    }

    /// The OpenMetrics text exposition ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _consistent = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        if encode(&mut out, &self.registry).is_err() {
            tracing::warn!("metrics could not be encoded");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exposition_format() {
        let r = Registry::default();
        r.add(
            "greenroom_kubernetes_requests_total",
            vec![("cluster", "a\"b".into()), ("verb", "list".into())],
            2,
        );
        r.observe(
            "greenroom_http_request_duration_seconds",
            vec![("route", "/x".into())],
            Duration::from_millis(3),
        );
        r.set_gauges("greenroom_kubernetes_viewers", vec![(vec![], 5.0)]);
        let text = r.render();
        assert!(text.contains("# TYPE greenroom_kubernetes_requests counter\n"));
        assert!(text
            .contains("greenroom_kubernetes_requests_total{cluster=\"a\\\"b\",verb=\"list\"} 2\n"));
        assert!(
            text.contains(
                "greenroom_http_request_duration_seconds_bucket{le=\"0.0025\",route=\"/x\"} 0\n"
            ) || text.contains(
                "greenroom_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0\n"
            )
        );
        assert!(
            text.contains(
                "greenroom_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n"
            ) || text.contains(
                "greenroom_http_request_duration_seconds_bucket{le=\"0.005\",route=\"/x\"} 1\n"
            )
        );
        assert!(text.contains("greenroom_http_request_duration_seconds_count{route=\"/x\"} 1\n"));
        assert!(text.contains("greenroom_kubernetes_viewers 5\n"));
        assert!(text.ends_with("# EOF\n"));
        // Replacing a gauge family drops the series no longer sampled.
        r.set_gauges("greenroom_kubernetes_viewers", Vec::new());
        assert!(!r.render().contains("greenroom_kubernetes_viewers 5"));
    }
}
