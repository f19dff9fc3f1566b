//! The tab's other objects: services with their ports, ingress routes, config map keys, and
//! custom resources (read as JSON: their shape is whatever their CRD says).

use app::wire::kubernetes::{ConfigMapView, CustomResourceView, IngressView, ServiceView};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::kubernetes::objects::{name, namespace, ConfigMap, Ingress, Service};

/// A service: type, cluster IP and `port[:nodePort]/protocol → target` per port.
pub fn service(v: &Service) -> ServiceView {
    ServiceView {
        name: name(&v.metadata).into(),
        namespace: namespace(&v.metadata).into(),
        service_type: v.spec.type_.clone().unwrap_or_default(),
        cluster_ip: v.spec.cluster_ip.clone().unwrap_or_default(),
        ports: v
            .spec
            .ports
            .iter()
            .flatten()
            .map(|p| {
                let node = p.node_port.map(|n| format!(":{n}")).unwrap_or_default();
                let target = match &p.target_port {
                    None => String::new(),
                    Some(IntOrString::Int(n)) => format!(" → {n}"),
                    Some(IntOrString::String(s)) => format!(" → {s}"),
                };
                let protocol = p.protocol.as_deref().unwrap_or("TCP");
                format!("{}{node}/{protocol}{target}", p.port)
            })
            .collect(),
    }
}

/// An ingress: `scheme://host/path` → `service:port` per path (https where TLS lists the host).
pub fn ingress(v: &Ingress) -> IngressView {
    let tls_hosts: Vec<&str> = v
        .spec
        .tls
        .iter()
        .flatten()
        .flat_map(|t| t.hosts.iter().flatten().map(String::as_str))
        .collect();
    let mut routes = Vec::new();
    for r in v.spec.rules.iter().flatten() {
        let host = r.host.as_deref().unwrap_or("");
        let scheme = if tls_hosts.contains(&host) {
            "https"
        } else {
            "http"
        };
        for p in r.http.iter().flat_map(|h| &h.paths) {
            let service = p.backend.service.as_ref();
            let port = service
                .and_then(|b| b.port.as_ref())
                .and_then(|port| port.number.map(|n| n.to_string()).or(port.name.clone()))
                .unwrap_or_default();
            routes.push((
                format!("{scheme}://{host}{}", p.path.as_deref().unwrap_or("/")),
                format!("{}:{port}", service.map_or("", |b| b.name.as_str())),
            ));
        }
    }
    IngressView {
        name: name(&v.metadata).into(),
        namespace: namespace(&v.metadata).into(),
        routes,
    }
}

/// A config map's keys (`data` and `binaryData`), sorted; never its values.
pub fn config_map(v: &ConfigMap) -> ConfigMapView {
    let mut keys: Vec<String> = v.data.keys().chain(v.binary_data.keys()).cloned().collect();
    keys.sort();
    ConfigMapView {
        name: name(&v.metadata).into(),
        namespace: namespace(&v.metadata).into(),
        keys,
    }
}

/// A custom resource: kind, apiVersion, and `status.phase` or its Ready condition.
pub fn custom_resource(v: &Value) -> CustomResourceView {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    CustomResourceView {
        kind: text(&v["kind"]),
        api_version: text(&v["apiVersion"]),
        name: text(&v["metadata"]["name"]),
        namespace: text(&v["metadata"]["namespace"]),
        status: v["status"]["phase"]
            .as_str()
            .map(str::to_string)
            .or_else(|| {
                v["status"]["conditions"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                    .map(|c| format!("Ready={}", text(&c["status"])))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize as _;
    use serde_json::json;

    #[test]
    fn services_ingresses_and_config_maps_as_kubectl_lists_them() {
        // Items of `kubectl get svc,ing,cm -o json`.
        let svc = Service::deserialize(&json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.12", "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080},
                {"name": "grpc", "port": 9090, "targetPort": "grpc"}, {"port": 53, "protocol": "UDP"}]},
            "status": {"loadBalancer": {}}}))
        .expect("a service");
        let s = service(&svc);
        assert_eq!(
            (s.service_type.as_str(), s.cluster_ip.as_str()),
            ("NodePort", "10.96.0.12")
        );
        assert_eq!(
            s.ports,
            ["80:30080/TCP → 8080", "9090/TCP → grpc", "53/UDP"]
        );
        let ing = Ingress::deserialize(&json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "cart", "namespace": "shop"},
            "spec": {"tls": [{"hosts": ["shop.example.com"], "secretName": "tls"}], "rules": [
                {"host": "shop.example.com", "http": {"paths": [{"path": "/cart", "pathType": "Prefix",
                    "backend": {"service": {"name": "cart", "port": {"number": 80}}}}]}},
                {"host": "internal.example", "http": {"paths": [{"pathType": "Prefix",
                    "backend": {"service": {"name": "cart", "port": {"name": "http"}}}}]}}]}}))
        .expect("an ingress");
        assert_eq!(
            ingress(&ing).routes,
            [
                (
                    "https://shop.example.com/cart".to_string(),
                    "cart:80".to_string()
                ),
                (
                    "http://internal.example/".to_string(),
                    "cart:http".to_string()
                )
            ]
        );
        let cm = ConfigMap::deserialize(&json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cart-config", "namespace": "shop"},
            "data": {"b.yaml": "x", "a.properties": "y"}, "binaryData": {"logo.png": "iVBORw0KGgo="}}))
        .expect("a config map");
        assert_eq!(config_map(&cm).keys, ["a.properties", "b.yaml", "logo.png"]);
        let cr = custom_resource(
            &json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "cart"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        assert_eq!(cr.status.as_deref(), Some("Ready=True"));
    }
}
