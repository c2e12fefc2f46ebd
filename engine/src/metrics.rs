//! Engine-wide counters for `/metrics`: operations committed, commit latency, REST requests
//! by route and status, webhook deliveries. Each is a relaxed atomic (or, off the hot path, a
//! small locked map) read when Prometheus scrapes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the commit latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A latency histogram with fixed buckets.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| s <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, n) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The engine's counters.
#[derive(Default)]
pub struct EngineMetrics {
    /// Operations committed (made durable), all models.
    pub ops_committed: AtomicU64,
    /// Time from a model's batch being queued to its being durable.
    pub commit_latency: Histogram,
    /// REST requests by (method, route, status).
    rest: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Webhook delivery attempts that the receiver acknowledged.
    pub webhook_delivered: AtomicU64,
    /// Webhook delivery attempts that failed.
    pub webhook_failed_attempts: AtomicU64,
    /// Webhook deliveries given up after their last attempt.
    pub webhook_given_up: AtomicU64,
}

impl EngineMetrics {
    /// Counts a REST request by its route template (never its concrete path).
    pub fn rest_request(&self, method: &str, route: &str, status: u16) {
        if let Ok(mut m) = self.rest.lock() {
            *m.entry((method.to_string(), route.to_string(), status))
                .or_insert(0) += 1;
        }
    }

    /// Appends these counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        counter(
            out,
            "tandem_operations_committed_total",
            "Operations made durable.",
            self.ops_committed.load(Ordering::Relaxed),
        );
        self.commit_latency.render(
            "tandem_commit_latency_seconds",
            "Time from a model's batch being queued to its being durable.",
            out,
        );
        let _ = writeln!(
            out,
            "# HELP tandem_rest_requests_total REST requests by route and status.\n\
             # TYPE tandem_rest_requests_total counter"
        );
        if let Ok(m) = self.rest.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "tandem_rest_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        counter(
            out,
            "tandem_webhook_deliveries_total",
            "Webhook deliveries the receiver acknowledged.",
            self.webhook_delivered.load(Ordering::Relaxed),
        );
        counter(
            out,
            "tandem_webhook_failed_attempts_total",
            "Webhook delivery attempts that failed.",
            self.webhook_failed_attempts.load(Ordering::Relaxed),
        );
        counter(
            out,
            "tandem_webhook_given_up_total",
            "Webhook deliveries given up after their last attempt.",
            self.webhook_given_up.load(Ordering::Relaxed),
        );
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = EngineMetrics::default();
        m.commit_latency.observe(Duration::from_micros(300));
        m.commit_latency.observe(Duration::from_millis(3));
        m.commit_latency.observe(Duration::from_secs(10));
        m.rest_request("GET", "/api/v1/domains", 200);
        m.rest_request("GET", "/api/v1/domains", 200);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("tandem_commit_latency_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(out.contains("tandem_commit_latency_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(out.contains("tandem_commit_latency_seconds_bucket{le=\"2.5\"} 2\n"));
        assert!(out.contains("tandem_commit_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(out.contains("tandem_commit_latency_seconds_count 3\n"));
        assert!(out.contains(
            "tandem_rest_requests_total{method=\"GET\",route=\"/api/v1/domains\",status=\"200\"} 2\n"
        ));
    }
}
