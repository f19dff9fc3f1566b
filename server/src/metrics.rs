//! A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
//! text exposition format (version 0.0.4) at `/metrics`. Written here rather than pulled in as
//! a crate: the portal needs a dozen series, not a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Label pairs, in the order they are rendered.
pub type Labels = Vec<(&'static str, String)>;

/// Upper bounds (seconds) of the latency histograms.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Families {
    counters: BTreeMap<&'static str, BTreeMap<Labels, f64>>,
    gauges: BTreeMap<&'static str, BTreeMap<Labels, f64>>,
    histograms: BTreeMap<&'static str, BTreeMap<Labels, Histogram>>,
}

/// The registry. Cheap to share (`Arc`); every update takes a short lock.
#[derive(Default)]
pub struct Registry {
    families: Mutex<Families>,
}

/// What a metric is, for `# HELP`.
fn help(name: &str) -> &'static str {
    match name {
        "greenroom_kubernetes_requests_total" => {
            "Requests sent to Kubernetes API servers, by cluster, verb, resource and HTTP status."
        }
        "greenroom_kubernetes_request_duration_seconds" => {
            "Time to the response headers of Kubernetes API requests (a watch: until it started)."
        }
        "greenroom_kubernetes_watch_restarts_total" => {
            "Watches re-listed after an error or a 410 Gone, by cluster and resource."
        }
        "greenroom_kubernetes_cached_objects" => "Objects held by the watch cache.",
        "greenroom_kubernetes_cached_bytes" => "Bytes of JSON held by the watch cache.",
        "greenroom_kubernetes_watches" => "Watches in the cache, by cluster and health.",
        "greenroom_kubernetes_viewers" => "Browsers subscribed to live Kubernetes updates.",
        "greenroom_kubernetes_feeds" => "Entities with at least one live subscriber.",
        "greenroom_http_requests_total" => "HTTP requests served, by route, method and status.",
        "greenroom_http_request_duration_seconds" => {
            "Time to the response headers of HTTP requests, by route."
        }
        _ => "",
    }
}

fn lock(m: &Mutex<Families>) -> std::sync::MutexGuard<'_, Families> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    /// Adds `by` to a counter.
    pub fn add(&self, name: &'static str, labels: Labels, by: f64) {
        *lock(&self.families)
            .counters
            .entry(name)
            .or_default()
            .entry(labels)
            .or_default() += by;
    }

    /// Records one observation in a histogram.
    pub fn observe(&self, name: &'static str, labels: Labels, value: Duration) {
        let secs = value.as_secs_f64();
        let mut f = lock(&self.families);
        let h = f
            .histograms
            .entry(name)
            .or_default()
            .entry(labels)
            .or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Replaces a whole gauge family (gauges are sampled from live state when scraped).
    pub fn set_gauges(&self, name: &'static str, values: Vec<(Labels, f64)>) {
        lock(&self.families)
            .gauges
            .insert(name, values.into_iter().collect());
    }

    /// A counter's current value (tests and benchmarks read it).
    pub fn counter(&self, name: &str, matching: &[(&str, &str)]) -> f64 {
        let f = lock(&self.families);
        f.counters
            .get(name)
            .map(|series| {
                series
                    .iter()
                    .filter(|(l, _)| {
                        matching
                            .iter()
                            .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
                    })
                    .map(|(_, v)| v)
                    .sum()
            })
            .unwrap_or(0.0)
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let f = lock(&self.families);
        let mut out = String::new();
        for (name, series) in &f.counters {
            header(&mut out, name, "counter");
            for (l, v) in series {
                sample(&mut out, name, l, None, *v);
            }
        }
        for (name, series) in &f.gauges {
            header(&mut out, name, "gauge");
            for (l, v) in series {
                sample(&mut out, name, l, None, *v);
            }
        }
        for (name, series) in &f.histograms {
            header(&mut out, name, "histogram");
            let bucket = format!("{name}_bucket");
            for (l, h) in series {
                for (i, b) in BUCKETS.iter().enumerate() {
                    sample(
                        &mut out,
                        &bucket,
                        l,
                        Some(&b.to_string()),
                        h.counts[i] as f64,
                    );
                }
                sample(&mut out, &bucket, l, Some("+Inf"), h.count as f64);
                sample(&mut out, &format!("{name}_sum"), l, None, h.sum);
                sample(&mut out, &format!("{name}_count"), l, None, h.count as f64);
            }
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help(name));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn sample(out: &mut String, name: &str, labels: &Labels, le: Option<&str>, value: f64) {
    out.push_str(name);
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if !parts.is_empty() {
        out.push('{');
        out.push_str(&parts.join(","));
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
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
            2.0,
        );
        r.observe(
            "greenroom_http_request_duration_seconds",
            vec![("route", "/x".into())],
            Duration::from_millis(3),
        );
        r.set_gauges("greenroom_kubernetes_viewers", vec![(vec![], 5.0)]);
        let text = r.render();
        assert!(text.contains("# TYPE greenroom_kubernetes_requests_total counter\n"));
        assert!(text
            .contains("greenroom_kubernetes_requests_total{cluster=\"a\\\"b\",verb=\"list\"} 2\n"));
        assert!(text.contains(
            "greenroom_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0\n"
        ));
        assert!(text.contains(
            "greenroom_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n"
        ));
        assert!(text.contains("greenroom_http_request_duration_seconds_count{route=\"/x\"} 1\n"));
        assert!(text.contains("greenroom_kubernetes_viewers 5\n"));
        assert_eq!(
            r.counter("greenroom_kubernetes_requests_total", &[("verb", "list")]),
            2.0
        );
    }
}
