//! `demo-cluster`: serves the demo clusters described by a config file until stopped, and writes
//! what clients need (URLs, CA files, tokens) to a state directory:
//! `state.json`, `env` (shell `export` lines) and `<cluster>-ca.crt`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// A Kubernetes API server simulator for Greenroom's demo and tests.
#[derive(Parser, Debug)]
#[command(name = "demo-cluster", version)]
struct Cli {
    /// The simulator's config file.
    #[arg(long, default_value = "catalog/clusters/demo-clusters.yaml")]
    config: PathBuf,
    /// Where to write state.json, env and the CA files.
    #[arg(long, default_value = "target/demo-cluster")]
    state_dir: PathBuf,
    /// First port for clusters (then +1 each, then the STS endpoint); 0 = any free port.
    #[arg(long, default_value_t = 7443)]
    base_port: u16,
    /// Control API port; 0 = any free port.
    #[arg(long, default_value_t = 7440)]
    control_port: u16,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    /// Freeze time: nothing changes except through the control API (for tests).
    #[arg(long)]
    frozen: bool,
    /// Seconds between restarts of crash-looping containers (when not frozen).
    #[arg(long, default_value_t = 45)]
    restart_every: u64,
    /// Seconds between BOOKMARK events on watches that allow them.
    #[arg(long, default_value_t = 10)]
    bookmark_every: u64,
}

fn env_name(cluster: &str) -> String {
    format!("DEMO_{}", cluster.to_uppercase().replace(['-', '.'], "_"))
}

fn write_state(
    dir: &std::path::Path,
    running: &demo_cluster::Running,
    aws_user: Option<&demo_cluster::aws::IamUser>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut env =
        String::from("# Written by demo-cluster at start; source it before starting the portal.\n");
    env.push_str(&format!(
        "export DEMO_CONTROL_URL='{}'\n",
        running.control_url
    ));
    if let Some(u) = &running.sts_url {
        env.push_str(&format!("export DEMO_STS_URL='{u}'\n"));
    }
    if let Some(user) = aws_user {
        // The fake account's keys, for a portal configured with authProvider: aws.
        env.push_str(&format!(
            "export DEMO_AWS_ACCESS_KEY_ID='{}'\nexport DEMO_AWS_SECRET_ACCESS_KEY='{}'\n",
            user.access_key_id, user.secret_access_key
        ));
    }
    if let Some(pem) = &running.sts_ca_pem {
        let f = dir.join("sts-ca.crt");
        std::fs::write(&f, pem)?;
        env.push_str(&format!("export DEMO_STS_CA_FILE='{}'\n", f.display()));
    }
    for c in &running.clusters {
        let p = env_name(&c.name);
        env.push_str(&format!("export {p}_URL='{}'\n", c.url));
        if let (Some(pem), Some(data)) = (&c.ca_pem, c.ca_data()) {
            let f = dir.join(format!("{}-ca.crt", c.name));
            std::fs::write(&f, pem)?;
            env.push_str(&format!(
                "export {p}_CA_FILE='{}'\nexport {p}_CA_DATA='{data}'\n",
                f.display()
            ));
        }
        if let Some((_, t)) = c.tokens.first() {
            env.push_str(&format!("export {p}_TOKEN='{t}'\n"));
        }
        for (a, t) in &c.tokens {
            env.push_str(&format!(
                "export {p}_TOKEN_{}='{t}'\n",
                a.to_uppercase().replace('-', "_")
            ));
        }
    }
    let state = serde_json::to_string_pretty(&running.describe()).unwrap_or_default();
    // Written last and atomically: scripts wait for state.json to know the clusters are up.
    std::fs::write(dir.join("env"), env)?;
    let tmp = dir.join("state.json.tmp");
    std::fs::write(&tmp, state)?;
    std::fs::rename(tmp, dir.join("state.json"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match demo_cluster::SimConfig::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = demo_cluster::Options {
        base_port: cli.base_port,
        control_port: cli.control_port,
        tls: !cli.http,
        life: demo_cluster::Life {
            enabled: !cli.frozen,
            restart_every: Duration::from_secs(cli.restart_every),
            ..Default::default()
        },
        bookmark_every: Duration::from_secs(cli.bookmark_every.max(1)),
        ..Default::default()
    };
    let _ = std::fs::remove_file(cli.state_dir.join("state.json"));
    let running = match demo_cluster::start(&config, &opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "demo-cluster: control API {}; state in {}",
        running.control_url,
        cli.state_dir.display()
    );
    for c in &running.clusters {
        eprintln!("  {} → {}", c.name, c.url);
    }
    let aws_user = config.aws.as_ref().and_then(|a| a.users.first());
    if let Err(e) = write_state(&cli.state_dir, &running, aws_user) {
        eprintln!("error: cannot write {}: {e}", cli.state_dir.display());
        return ExitCode::from(1);
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    ExitCode::SUCCESS
}
