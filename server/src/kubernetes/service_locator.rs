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
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    let picked = picks(method, entity, &names);
    clusters
        .into_iter()
        .enumerate()
        .filter(|(i, _)| picked.contains(i))
        .map(|(_, c)| c)
        .collect()
}

/// [`select`] by cluster name: the positions in `names` of the clusters to search.
pub fn picks(method: ServiceLocator, entity: &Value, names: &[&str]) -> Vec<usize> {
    let all = 0..names.len();
    match method {
        ServiceLocator::MultiTenant => all.collect(),
        ServiceLocator::SingleTenant => match entity["metadata"]["annotations"][CLUSTER]
            .as_str()
            .filter(|s| !s.is_empty())
        {
            Some(name) => all.filter(|i| names[*i] == name).collect(),
            None => all.collect(),
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
            all.filter(|i| targets.contains(&format!("resource:{ns}/{}", names[*i]).to_lowercase()))
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
