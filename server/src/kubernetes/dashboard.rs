//! Links into a cluster's dashboard, in Backstage's formats (`dashboardApp`): `standard`
//! (Kubernetes Dashboard), `rancher`, `openshift`, `gke`, `aks`, `headlamp`, and `eks` (the
//! dashboard URL itself; Backstage has no EKS formatter).

use serde_json::Value;

use super::lookup::URI_COMPONENT;
use super::types::ClusterAttributes;

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, URI_COMPONENT).to_string()
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

fn param<'a>(p: &'a Option<Value>, k: &str) -> Option<&'a str> {
    p.as_ref()?.get(k)?.as_str()
}

/// The cluster's own link (no object).
pub fn cluster_link(c: &ClusterAttributes) -> Option<String> {
    if let Some(u) = &c.dashboard_url {
        return Some(u.clone());
    }
    match c.dashboard_app.as_deref() {
        Some("gke") => {
            let (p, r, n) = (
                param(&c.dashboard_parameters, "projectId")?,
                param(&c.dashboard_parameters, "region")?,
                param(&c.dashboard_parameters, "clusterName")?,
            );
            Some(format!("https://console.cloud.google.com/kubernetes/clusters/details/{r}/{n}/details?project={p}"))
        }
        _ => None,
    }
}

/// A link to one object (`kind` lower-case: deployment, pod, service, ingress, statefulset,
/// horizontalpodautoscaler, ...).
pub fn object_link(
    c: &ClusterAttributes,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Option<String> {
    let app = c.dashboard_app.as_deref().unwrap_or("standard");
    let (ns, n) = (enc(namespace), enc(name));
    match app {
        "standard" => {
            let base = with_slash(c.dashboard_url.as_deref()?);
            let kind = if kind == "horizontalpodautoscaler" {
                "deployment"
            } else {
                kind
            };
            matches!(
                kind,
                "deployment" | "pod" | "ingress" | "service" | "statefulset"
            )
            .then(|| format!("{base}#/{kind}/{ns}/{n}?namespace={ns}"))
        }
        "rancher" => {
            let base = c.dashboard_url.as_deref()?.trim_end_matches('/');
            let path = match kind {
                "deployment" => "apps.deployment",
                "ingress" => "networking.k8s.io.ingress",
                "service" => "service",
                "horizontalpodautoscaler" => "autoscaling.horizontalpodautoscaler",
                "pod" => "pod",
                _ => return None,
            };
            Some(format!("{base}/explorer/{path}/{ns}/{n}"))
        }
        "openshift" => {
            let base = with_slash(c.dashboard_url.as_deref()?);
            let path = match kind {
                "deployment" => "deployments",
                "ingress" => "ingresses",
                "service" => "services",
                "horizontalpodautoscaler" => "horizontalpodautoscalers",
                "pod" => "pods",
                _ => return None,
            };
            Some(format!("{base}k8s/ns/{ns}/{path}/{n}"))
        }
        "gke" => {
            let (p, r, cl) = (
                param(&c.dashboard_parameters, "projectId")?,
                param(&c.dashboard_parameters, "region")?,
                param(&c.dashboard_parameters, "clusterName")?,
            );
            let kind = if kind == "horizontalpodautoscaler" {
                "deployment"
            } else {
                kind
            };
            let page = if matches!(kind, "ingress" | "pod") {
                "details"
            } else {
                "overview"
            };
            Some(format!("https://console.cloud.google.com/kubernetes/{kind}/{r}/{cl}/{ns}/{n}/{page}?project={p}"))
        }
        "aks" => {
            let (s, g, cl) = (
                param(&c.dashboard_parameters, "subscriptionId")?,
                param(&c.dashboard_parameters, "resourceGroup")?,
                param(&c.dashboard_parameters, "clusterName")?,
            );
            let id = format!("/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ContainerService/managedClusters/{cl}");
            let resource = serde_json::json!({"kind": kind, "metadata": {"name": name, "namespace": namespace}}).to_string();
            Some(format!("https://portal.azure.com/#blade/Microsoft_Azure_ContainerService/AksK8ResourceMenuBlade/overview-Deployment/aksClusterId/{}/resource/{}", enc(&id), enc(&resource)))
        }
        "headlamp" => {
            let base = c.dashboard_url.as_deref()?.trim_end_matches('/');
            let cluster = param(&c.dashboard_parameters, "clusterName").unwrap_or("default");
            let section = match kind {
                "deployment" => "deployments",
                "pod" => "pods",
                "service" => "services",
                "ingress" => "ingresses",
                "statefulset" => "statefulsets",
                "daemonset" => "daemonsets",
                "horizontalpodautoscaler" => "horizontalpodautoscalers",
                _ => return None,
            };
            Some(format!("{base}?to=/c/{cluster}/{section}/{ns}/{n}"))
        }
        _ => c.dashboard_url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(url: Option<&str>, app: Option<&str>, params: Option<Value>) -> ClusterAttributes {
        ClusterAttributes {
            name: "c".into(),
            title: None,
            dashboard_url: url.map(str::to_string),
            dashboard_app: app.map(str::to_string),
            dashboard_parameters: params,
        }
    }

    #[test]
    fn formats() {
        let std = attrs(Some("https://dash.example"), None, None);
        assert_eq!(
            object_link(&std, "deployment", "ns", "web").as_deref(),
            Some("https://dash.example/#/deployment/ns/web?namespace=ns")
        );
        assert_eq!(
            object_link(&std, "horizontalpodautoscaler", "ns", "web").as_deref(),
            Some("https://dash.example/#/deployment/ns/web?namespace=ns")
        );
        assert_eq!(
            object_link(
                &attrs(Some("https://r.example/"), Some("rancher"), None),
                "deployment",
                "ns",
                "web"
            )
            .as_deref(),
            Some("https://r.example/explorer/apps.deployment/ns/web")
        );
        assert_eq!(
            object_link(
                &attrs(Some("https://o.example"), Some("openshift"), None),
                "service",
                "ns",
                "web"
            )
            .as_deref(),
            Some("https://o.example/k8s/ns/ns/services/web")
        );
        let gke = attrs(
            None,
            Some("gke"),
            Some(json!({"projectId": "p", "region": "europe-west1", "clusterName": "prod"})),
        );
        assert_eq!(object_link(&gke, "pod", "ns", "web-1").as_deref(), Some("https://console.cloud.google.com/kubernetes/pod/europe-west1/prod/ns/web-1/details?project=p"));
        assert_eq!(cluster_link(&gke).as_deref(), Some("https://console.cloud.google.com/kubernetes/clusters/details/europe-west1/prod/details?project=p"));
        let hl = attrs(
            Some("https://headlamp.example"),
            Some("headlamp"),
            Some(json!({"clusterName": "main"})),
        );
        assert_eq!(
            object_link(&hl, "pod", "ns", "x").as_deref(),
            Some("https://headlamp.example?to=/c/main/pods/ns/x")
        );
        assert!(object_link(
            &attrs(
                Some("u"),
                Some("aks"),
                Some(json!({"subscriptionId": "s", "resourceGroup": "g", "clusterName": "c"}))
            ),
            "deployment",
            "n",
            "d"
        )
        .is_some_and(|l| l.starts_with("https://portal.azure.com/")));
        assert_eq!(
            object_link(
                &attrs(Some("https://eks.example"), Some("eks"), None),
                "pod",
                "n",
                "p"
            )
            .as_deref(),
            Some("https://eks.example")
        );
        assert_eq!(object_link(&attrs(None, None, None), "pod", "n", "p"), None);
    }
}
