//! Which of the known clusters an entity lives on (Backstage's service locators).

use serde_json::Value;

use super::config::{ClusterDetails, ServiceLocator};
use super::lookup::CLUSTER;

/// The clusters to search for an entity.
pub fn select(
    method: ServiceLocator,
    entity: &Value,
    clusters: Vec<ClusterDetails>,
) -> Vec<ClusterDetails> {
    match method {
        ServiceLocator::MultiTenant => clusters,
        ServiceLocator::SingleTenant => match entity["metadata"]["annotations"][CLUSTER]
            .as_str()
            .filter(|s| !s.is_empty())
        {
            Some(name) => clusters.into_iter().filter(|c| c.name == name).collect(),
            None => clusters,
        },
        ServiceLocator::CatalogRelation => {
            let ns = entity["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default");
            let targets: Vec<String> = entity["relations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] == "dependsOn")
                .filter_map(|r| r["targetRef"].as_str().map(str::to_lowercase))
                .collect();
            clusters
                .into_iter()
                .filter(|c| targets.contains(&format!("resource:{ns}/{}", c.name).to_lowercase()))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(name: &str) -> ClusterDetails {
        ClusterDetails::new(name, "https://x", "serviceAccount")
    }

    fn names(v: Vec<ClusterDetails>) -> Vec<String> {
        v.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn the_three_methods() {
        let all = || vec![cluster("greenroom-demo"), cluster("demo-us")];
        let pinned = json!({"metadata": {"name": "payment-gateway", "annotations": {"backstage.io/kubernetes-cluster": "greenroom-demo"}}});
        let free = json!({"metadata": {"name": "x"}});
        assert_eq!(
            names(select(ServiceLocator::MultiTenant, &pinned, all())),
            vec!["greenroom-demo", "demo-us"]
        );
        assert_eq!(
            names(select(ServiceLocator::SingleTenant, &pinned, all())),
            vec!["greenroom-demo"]
        );
        assert_eq!(
            names(select(ServiceLocator::SingleTenant, &free, all())),
            vec!["greenroom-demo", "demo-us"]
        );
        let related = json!({"metadata": {"name": "x", "namespace": "default"}, "relations": [{"type": "dependsOn", "targetRef": "resource:default/demo-us"}, {"type": "ownedBy", "targetRef": "resource:default/greenroom-demo"}]});
        assert_eq!(
            names(select(ServiceLocator::CatalogRelation, &related, all())),
            vec!["demo-us"]
        );
        assert!(select(ServiceLocator::CatalogRelation, &free, all()).is_empty());
    }
}
