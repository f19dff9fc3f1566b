//! Backstage's error detection (`@backstage/plugin-kubernetes-common` `detectErrors`), with its
//! rules, severities and wording: pods (readiness probe taking too long, containers waiting,
//! containers restarting) at severity 4, Deployment conditions that are False at 6, HPAs at
//! their maximum at 8. Pure functions over typed objects ([`super::objects`]).

use std::time::SystemTime;

use app::wire::kubernetes::{DetectedError, ProposedFix};
use k8s_openapi::api::core::v1::{ContainerStateWaiting, ContainerStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::objects::{self, Deployment, Hpa, Pod};

#[allow(clippy::too_many_arguments)]
fn error(
    severity: u8,
    cluster: &str,
    meta: &ObjectMeta,
    kind: &str,
    error_type: &str,
    message: String,
    count: i64,
    fix: Option<ProposedFix>,
) -> DetectedError {
    DetectedError {
        severity,
        cluster: cluster.to_string(),
        kind: kind.to_string(),
        name: objects::name(meta).to_string(),
        namespace: objects::namespace(meta).to_string(),
        error_type: error_type.to_string(),
        message,
        occurrence_count: count,
        fix,
    }
}

fn fix(
    root_cause: String,
    actions: &[&str],
    docs_url: Option<&str>,
    look_at: &str,
    container: Option<&str>,
) -> Option<ProposedFix> {
    Some(ProposedFix {
        root_cause,
        actions: actions.iter().map(|a| a.to_string()).collect(),
        docs_url: docs_url.map(str::to_string),
        look_at: look_at.to_string(),
        container: container.map(str::to_string),
    })
}

/// The explanation and fix for a waiting reason (Backstage's wording).
pub fn waiting_fix(reason: &str, container: &str) -> Option<ProposedFix> {
    match reason {
        "InvalidImageName" => fix("The image in the pod is invalid".into(), &["Ensure the image name is correct and valid image name"], Some("https://docs.docker.com/engine/reference/commandline/tag/#extended-description"), "docs", Some(container)),
        "ImagePullBackOff" | "ErrImagePull" => fix(
            "The image either could not be found or Kubernetes does not have permission to pull it".into(),
            &["Ensure the image name is correct", "Ensure Kubernetes has permission to pull this image"],
            Some("https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff"),
            "docs",
            Some(container),
        ),
        "CrashLoopBackOff" => fix(format!("The container {container} has crashed many times, it will be exponentially restarted until it stops crashing"), &["Check the crash logs for stacktraces"], None, "logs", Some(container)),
        "CreateContainerConfigError" => fix(
            "There is missing or mismatching configuration required to start the container".into(),
            &["Ensure ConfigMaps references in the Deployment manifest are correct and the keys exist", "Ensure Secrets references in the Deployment manifest are correct and the keys exist"],
            Some("https://kubernetes.io/docs/tasks/configure-pod-container/configure-pod-configmap/"),
            "docs",
            Some(container),
        ),
        _ => None,
    }
}

/// Errors of one pod.
pub fn pod_errors(cluster: &str, pod: &Pod, now: SystemTime) -> Vec<DetectedError> {
    let mut out = Vec::new();
    let cs: &[ContainerStatus] = pod.status.container_statuses.as_deref().unwrap_or_default();
    let m = &pod.metadata;
    // Readiness probe taking too long.
    let now_s = objects::unix_seconds(now);
    let too_long: Vec<&ContainerStatus> = cs
        .iter()
        .filter(|c| !c.ready)
        .filter(|c| {
            let Some(started) = c
                .state
                .as_ref()
                .and_then(|s| s.running.as_ref())
                .and_then(|r| r.started_at.as_ref())
            else {
                return false;
            };
            let Some(probe) = pod
                .spec
                .containers
                .iter()
                .find(|sc| sc.name == c.name)
                .and_then(|sc| sc.readiness_probe.as_ref())
            else {
                return false;
            };
            let n = |v: Option<i32>| i64::from(v.unwrap_or(0));
            objects::seconds(started)
                + n(probe.initial_delay_seconds)
                + n(probe.period_seconds) * n(probe.failure_threshold)
                < now_s
        })
        .collect();
    if let Some(first) = too_long.first() {
        let name = first.name.as_str();
        let f = fix(
            format!("The container {name} failed to start properly, but is not crashing"),
            &[
                "Ensure that the container starts correctly locally",
                "Check the container's logs looking for error during startup",
            ],
            None,
            "events",
            Some(name),
        );
        for c in &too_long {
            out.push(error(
                4,
                cluster,
                m,
                "Pod",
                "readiness-probe-taking-too-long",
                format!(
                    "The container {} failed to start properly, but is not crashing",
                    c.name
                ),
                1,
                f.clone(),
            ));
        }
    }
    // Containers waiting.
    fn waiting(c: &ContainerStatus) -> Option<&ContainerStateWaiting> {
        c.state.as_ref()?.waiting.as_ref()
    }
    let waiting_f = cs
        .iter()
        .find_map(|c| Some((waiting(c)?.reason.as_deref()?, c.name.as_str())))
        .and_then(|(reason, name)| waiting_fix(reason, name));
    for message in cs.iter().filter_map(|c| waiting(c)?.message.clone()) {
        out.push(error(
            4,
            cluster,
            m,
            "Pod",
            "container-waiting",
            message,
            1,
            waiting_f.clone(),
        ));
    }
    // Containers restarting.
    let restart_f = cs
        .iter()
        .find_map(|c| Some((c.last_state.as_ref()?.terminated.as_ref()?, c.name.as_str())))
        .and_then(|(t, name)| match t.reason.as_deref().unwrap_or("") {
            "Error" | "Unknown" => fix(format!("This container has exited with a non-zero exit code ({})", t.exit_code), &["Check the crash logs for stacktraces"], None, "logs", Some(name)),
            "OOMKilled" => fix(
                format!("The container \"{name}\" has crashed because it has tried to use more memory that it has been allocated"),
                &["Increase the amount of memory assigned to the container", "Ensure the application is memory bounded and is not trying to consume too much memory"],
                Some("https://kubernetes.io/docs/tasks/configure-pod-container/assign-memory-resource/#exceed-a-container-s-memory-limit"),
                "docs",
                Some(name),
            ),
            _ => None,
        });
    for c in cs.iter().filter(|c| c.restart_count > 0) {
        let n = i64::from(c.restart_count);
        out.push(error(
            4,
            cluster,
            m,
            "Pod",
            "containers-restarting",
            format!("container={} restarted {n} times", c.name),
            n,
            restart_f.clone(),
        ));
    }
    out
}

/// Errors of one Deployment: each False condition with a message.
pub fn deployment_errors(cluster: &str, d: &Deployment) -> Vec<DetectedError> {
    d.status
        .conditions
        .iter()
        .flatten()
        .filter(|c| c.status == "False")
        .filter_map(|c| c.message.clone())
        .map(|message| {
            error(
                6,
                cluster,
                &d.metadata,
                "Deployment",
                "condition-message-present",
                message,
                1,
                None,
            )
        })
        .collect()
}

/// Errors of one HPA: at its maximum.
pub fn hpa_errors(cluster: &str, h: &Hpa) -> Vec<DetectedError> {
    let max = i64::from(h.spec.max_replicas);
    let current = h.status.current_replicas.map(i64::from);
    if current == Some(max) {
        vec![error(8, cluster, &h.metadata, "HorizontalPodAutoscaler", "hpa-max-current-replicas", format!("Current number of replicas ({max}) is equal to the configured max number of replicas ({max})"), 1, None)]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize as _;
    use serde_json::{json, Value};

    fn at(t: &str) -> SystemTime {
        let s = t
            .parse::<k8s_openapi::jiff::Timestamp>()
            .map_or(0, |t| t.as_second());
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s as u64)
    }

    fn pod_errors(cluster: &str, v: &Value, now: SystemTime) -> Vec<DetectedError> {
        super::pod_errors(cluster, &Pod::deserialize(v).expect("a pod"), now)
    }

    fn deployment_errors(cluster: &str, v: &Value) -> Vec<DetectedError> {
        super::deployment_errors(cluster, &Deployment::deserialize(v).expect("a deployment"))
    }

    fn hpa_errors(cluster: &str, v: &Value) -> Vec<DetectedError> {
        super::hpa_errors(cluster, &Hpa::deserialize(v).expect("an HPA"))
    }

    #[test]
    fn crash_loop_pod_has_waiting_and_restarting_errors_with_fixes() {
        let pod = json!({"metadata": {"name": "p", "namespace": "payments"}, "spec": {"containers": [{"name": "app"}]}, "status": {"containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=app"}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}});
        let e = pod_errors("c", &pod, at("2026-11-24T10:00:00Z"));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].error_type, "container-waiting");
        assert_eq!(e[0].fix.as_ref().map(|f| f.root_cause.as_str()), Some("The container app has crashed many times, it will be exponentially restarted until it stops crashing"));
        assert_eq!(e[1].message, "container=app restarted 7 times");
        assert_eq!(e[1].occurrence_count, 7);
        assert_eq!(
            e[1].fix.as_ref().map(|f| f.root_cause.as_str()),
            Some("This container has exited with a non-zero exit code (1)")
        );
        assert!(e.iter().all(|x| x.severity == 4 && x.kind == "Pod"));
    }

    #[test]
    fn oom_image_pull_readiness_deployment_and_hpa() {
        let oom = json!({"metadata": {"name": "p"}, "status": {"containerStatuses": [{"name": "gw", "restartCount": 2, "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}, "state": {"running": {}}}]}});
        assert!(pod_errors("c", &oom, SystemTime::now())[0]
            .fix
            .as_ref()
            .is_some_and(|f| f
                .root_cause
                .contains("tried to use more memory that it has been allocated")));
        let pull = json!({"metadata": {"name": "p"}, "status": {"containerStatuses": [{"name": "f", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}});
        assert_eq!(
            pod_errors("c", &pull, SystemTime::now())[0]
                .fix
                .as_ref()
                .map(|f| f.actions.len()),
            Some(2)
        );
        let unready = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "cart", "readinessProbe": {"initialDelaySeconds": 5, "periodSeconds": 10, "failureThreshold": 3}}]},
            "status": {"containerStatuses": [{"name": "cart", "ready": false, "state": {"running": {"startedAt": "2026-11-24T09:00:00Z"}}}]}});
        let e = pod_errors("c", &unready, at("2026-11-24T10:00:00Z"));
        assert_eq!(e[0].error_type, "readiness-probe-taking-too-long");
        assert!(
            pod_errors("c", &unready, at("2026-11-24T09:00:20Z")).is_empty(),
            "still within delay + period × threshold"
        );
        let d = json!({"metadata": {"name": "legacy"}, "status": {"conditions": [{"type": "Available", "status": "False", "message": "Deployment does not have minimum availability."}, {"type": "Progressing", "status": "True", "message": "ok"}]}});
        let e = deployment_errors("c", &d);
        assert_eq!((e.len(), e[0].severity), (1, 6));
        let h = json!({"metadata": {"name": "pc"}, "spec": {"maxReplicas": 4}, "status": {"currentReplicas": 4}});
        assert_eq!(
            hpa_errors("c", &h)[0].message,
            "Current number of replicas (4) is equal to the configured max number of replicas (4)"
        );
        assert!(hpa_errors(
            "c",
            &json!({"spec": {"maxReplicas": 4}, "status": {"currentReplicas": 3}})
        )
        .is_empty());
    }
}
