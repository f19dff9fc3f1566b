//! End to end over TLS: EKS tokens (signed with aws-sigv4, as the portal will sign them) against
//! the bundled `backstage-tutorial-cluster`, including credentials from the fake STS's
//! AssumeRole; and the helpers of `aws` itself. Unit tests of `aws` (not in tests/) to share its
//! signing helpers ([`support`]).

pub(super) mod support;

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use super::{ct_eq, looks_like_region, partition_for_region, unique_id, xml_escape};
use support::{assume_role, creds_from, token, Creds};

const CLUSTER: &str = "backstage-tutorial-cluster";
const ROLE: &str = "arn:aws:iam::123456789012:role/backstage-tutorial-role";

async fn started() -> (crate::Running, Creds) {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../catalog/clusters/demo-clusters.yaml");
    let config = crate::SimConfig::load(&path).expect("bundled config");
    let user = config
        .aws
        .as_ref()
        .and_then(|a| a.users.first())
        .cloned()
        .expect("a user");
    let running = crate::start(&config, &crate::Options::default())
        .await
        .expect("start");
    (
        running,
        Creds::user(&user.access_key_id, &user.secret_access_key),
    )
}

async fn pods_with(running: &crate::Running, token: &str) -> Result<usize, kube::Error> {
    let c = running.cluster(CLUSTER).expect("cluster");
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"{}\", certificate-authority-data: \"{}\"}}}}]\nusers: [{{name: u, user: {{token: \"{token}\"}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\ncurrent-context: x\n",
        c.url,
        c.ca_data().expect("tls")
    );
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(cfg).expect("client");
    let pods: Api<Pod> = Api::namespaced(client, "backstage");
    Ok(pods
        .list(&ListParams::default().labels("backstage.io/kubernetes-id=backstage-app"))
        .await?
        .items
        .len())
}

fn code(r: Result<usize, kube::Error>) -> Option<u16> {
    match r {
        Err(kube::Error::Api(s)) => Some(s.code),
        _ => None,
    }
}

#[tokio::test]
async fn eks_tokens_from_the_right_key_pass_and_tampered_ones_fail() {
    let (running, creds) = started().await;
    let now = crate::clock::now();
    let good = token(&creds, CLUSTER, now);
    assert_eq!(
        pods_with(&running, &good)
            .await
            .expect("EKS token accepted"),
        2
    );
    assert_eq!(
        code(pods_with(&running, &token(&creds, "some-other-cluster", now)).await),
        Some(401)
    );
    let old = now - std::time::Duration::from_secs(16 * 60);
    assert_eq!(
        code(pods_with(&running, &token(&creds, CLUSTER, old)).await),
        Some(401)
    );
    let wrong_secret = Creds::user(&creds.akid, "not-the-secret");
    assert_eq!(
        code(pods_with(&running, &token(&wrong_secret, CLUSTER, now)).await),
        Some(401)
    );
    // A service-account token of another cluster means nothing here.
    let sa = running
        .cluster("greenroom-demo")
        .and_then(|c| c.token("greenroom-reader"))
        .expect("t")
        .to_string();
    assert_eq!(code(pods_with(&running, &sa).await), Some(401));
}

#[tokio::test]
async fn assumed_role_credentials_from_the_fake_sts_are_accepted() {
    let (running, creds) = started().await;
    let sts = running.sts.clone().expect("sts");
    let now = crate::clock::now();
    let resp = assume_role(&sts, &creds, ROLE, &[], now);
    let temp = creds_from(&resp);
    assert!(temp.akid.starts_with("ASIA"));
    assert_eq!(
        pods_with(&running, &token(&temp, CLUSTER, now))
            .await
            .expect("role session accepted"),
        2
    );
    // Without the session token the temporary key is useless.
    let stripped = Creds {
        token: None,
        ..temp
    };
    assert_eq!(
        code(pods_with(&running, &token(&stripped, CLUSTER, now)).await),
        Some(401)
    );
    // The role with an external id refuses a caller that does not pass it.
    let partner = "arn:aws:iam::123456789012:role/greenroom-cross-account";
    assert_eq!(assume_role(&sts, &creds, partner, &[], now).status, 403);
    assert_eq!(
        assume_role(
            &sts,
            &creds,
            partner,
            &[("ExternalId", "greenroom-demo-external-id")],
            now
        )
        .status,
        200
    );
    assert_eq!(sts.calls("AssumeRole"), 3);
}

#[test]
fn regions_partitions_and_ids() {
    for ok in [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "us-isob-east-1",
        "cn-north-1",
    ] {
        assert!(looks_like_region(ok), "{ok}");
    }
    for bad in [
        "us-east",
        "useast-1",
        "us-east-10",
        "US-east-1",
        "us--1",
        "evil.com",
    ] {
        assert!(!looks_like_region(bad), "{bad}");
    }
    assert_eq!(partition_for_region("cn-north-1"), "aws-cn");
    assert_eq!(partition_for_region("us-gov-west-1"), "aws-us-gov");
    let id = unique_id("AROA", "123456789012", "role", "r");
    assert_eq!(id.len(), 21);
    assert_eq!(id, unique_id("AROA", "123456789012", "role", "r"));
    assert_ne!(id, unique_id("AROA", "123456789012", "role", "q"));
    assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"abc", b"ab"));
}
