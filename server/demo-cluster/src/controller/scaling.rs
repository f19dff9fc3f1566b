//! The HorizontalPodAutoscaler controller.

use std::time::Duration;

use serde_json::{json, Value};

use super::pods;
use super::workloads::*;
use crate::clock::rfc3339;
use crate::cluster::Cluster;

impl Cluster {
    /// HPA: desired = ceil(current × utilisation / target), clamped to [min, max].
    pub(crate) fn reconcile_hpa(&self, hpa: &Value) {
        let Some(hpa) = self.store.get(HPAS, ns_of(hpa), name_of(hpa)) else {
            return;
        };
        let target = &hpa["spec"]["scaleTargetRef"];
        if target["kind"] != "Deployment" {
            return;
        }
        let Some(d) = self.store.get(
            DEPLOYMENTS,
            ns_of(&hpa),
            target["name"].as_str().unwrap_or(""),
        ) else {
            return;
        };
        let min = hpa["spec"]["minReplicas"].as_i64().unwrap_or(1);
        let max = hpa["spec"]["maxReplicas"].as_i64().unwrap_or(1);
        let target_util = hpa["spec"]["metrics"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["resource"]["name"] == "cpu"))
            .and_then(|m| m["resource"]["target"]["averageUtilization"].as_i64())
            .unwrap_or(80);
        let pods: Vec<_> = self
            .store
            .all("pods")
            .into_iter()
            .filter(|p| {
                ns_of(p) == ns_of(&d)
                    && pods::is_ready(p)
                    && crate::selector_matches(&d["spec"]["selector"], p)
            })
            .collect();
        let now = self.now();
        let utils: Vec<f64> = pods
            .iter()
            .filter_map(|p| crate::metrics::cpu_utilisation(p, now))
            .collect();
        let current = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let util = if utils.is_empty() {
            None
        } else {
            Some(utils.iter().sum::<f64>() / utils.len() as f64)
        };
        let raw = util
            .map(|u| (current as f64 * u / target_util as f64).ceil() as i64)
            .unwrap_or(current);
        let desired = raw.clamp(min, max);
        if desired != current {
            let mut d2 = (*d).clone();
            d2["spec"]["replicas"] = json!(desired);
            let d2 = self.store.put(DEPLOYMENTS, d2);
            self.reconcile_deployment(&d2);
        }
        let at = rfc3339(now);
        let limited = raw > max || raw < min;
        let mut status = json!({
            "currentReplicas": current.max(desired).min(desired.max(current)),
            "desiredReplicas": desired,
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "message": "recommended size matches current size", "lastTransitionTime": at},
                {"type": "ScalingActive", "status": if util.is_some() { "True" } else { "False" }, "reason": if util.is_some() { "ValidMetricFound" } else { "FailedGetResourceMetric" },
                 "message": if util.is_some() { "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" } else { "the HPA was unable to compute the replica count: no metrics returned from resource metrics API" }, "lastTransitionTime": at},
                if limited {
                    json!({"type": "ScalingLimited", "status": "True", "reason": if raw > max { "TooManyReplicas" } else { "TooFewReplicas" },
                        "message": if raw > max { "the desired replica count is more than the maximum replica count" } else { "the desired replica count is less than the minimum replica count" }, "lastTransitionTime": at})
                } else {
                    json!({"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange", "message": "the desired count is within the acceptable range", "lastTransitionTime": at})
                },
            ],
        });
        status["currentReplicas"] = json!(desired);
        if let Some(u) = util {
            status["currentMetrics"] = json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": u.round() as i64, "averageValue": format!("{}m", crate::metrics::avg_cpu_millis(&pods, now).round() as i64)}}}]);
        }
        if desired != min {
            status["lastScaleTime"] = json!(rfc3339(
                created_of(&d)
                    .map(|c| c.max(now - Duration::from_secs(3000)))
                    .unwrap_or(now)
            ));
        }
        let strip = |s: &Value| {
            let mut s = s.clone();
            for c in s["conditions"].as_array_mut().into_iter().flatten() {
                if let Some(o) = c.as_object_mut() {
                    o.remove("lastTransitionTime");
                }
            }
            if let Some(o) = s.as_object_mut() {
                o.remove("lastScaleTime");
            }
            s
        };
        if strip(&hpa["status"]) != strip(&status) {
            self.put_status(HPAS, &hpa, status);
        }
    }
}
