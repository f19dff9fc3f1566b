//! `greenroom`: the single binary that serves the portal (UI + APIs) and validates its
//! configuration. This file only wires the pieces together.

use std::{collections::HashMap, path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;

use server::cli::{Cli, Command, ConfigArgs};
use server::{backend, config, http, settings, site, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Validate(args) => validate(&args),
        Command::Serve(args) => serve(&args),
    }
}

/// The process environment as a map; variables that are not valid UTF-8 are skipped rather
/// than crashing the process.
fn environment() -> HashMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Everything loading produced: settings when valid, and every message to show.
struct Loaded {
    settings: Option<settings::Settings>,
    files: Vec<PathBuf>,
    warnings: Vec<String>,
    errors: Vec<String>,
}

fn load(args: &ConfigArgs) -> Loaded {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let options = config::LoadOptions {
        files: args.config.clone(),
        cwd,
        env: environment(),
    };
    match config::load(&options) {
        Err(errors) => Loaded {
            settings: None,
            files: Vec::new(),
            warnings: Vec::new(),
            errors: errors.iter().map(ToString::to_string).collect(),
        },
        Ok(loaded) => {
            let warnings = loaded.warnings.iter().map(ToString::to_string).collect();
            let (settings, errors) = match settings::read(&loaded.config) {
                Ok(s) => (Some(s), Vec::new()),
                Err(errs) => (None, errs.iter().map(ToString::to_string).collect()),
            };
            Loaded {
                settings,
                files: loaded.files,
                warnings,
                errors,
            }
        }
    }
}

fn files_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn validate(args: &ConfigArgs) -> ExitCode {
    let loaded = load(args);
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    if loaded.errors.is_empty() {
        println!(
            "configuration OK ({} warning(s); files: {})",
            loaded.warnings.len(),
            files_list(&loaded.files)
        );
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} problem(s) found in the configuration",
            loaded.errors.len()
        );
        ExitCode::FAILURE
    }
}

fn serve(args: &ConfigArgs) -> ExitCode {
    let loaded = load(args);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let Some(settings) = loaded.settings else {
        for e in &loaded.errors {
            tracing::error!("{e}");
        }
        eprintln!(
            "greenroom: cannot start: {} configuration problem(s); run `greenroom validate` to list them",
            loaded.errors.len()
        );
        return ExitCode::FAILURE;
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let exe = std::env::current_exe().ok();
    let env = environment();
    let candidates = site::candidates(
        env.get("GREENROOM_SITE_ROOT").map(PathBuf::from),
        env.get("LEPTOS_SITE_ROOT").map(PathBuf::from),
        exe.as_deref(),
        &cwd,
    );
    let site_root = match site::locate(&candidates, app::BUNDLE_NAME) {
        Ok(root) => root,
        Err(e) => {
            eprintln!("greenroom: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("greenroom: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run_server(settings, site_root, loaded.files))
}

async fn run_server(
    settings: settings::Settings,
    site_root: PathBuf,
    files: Vec<PathBuf>,
) -> ExitCode {
    let bind = settings.backend.listen.bind_address();
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("greenroom: cannot listen on {bind} (config key backend.listen): {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("greenroom: cannot read the bound address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = http::AppState {
        leptos: http::leptos_options(&site_root, addr),
        backend: Arc::new(backend::PortalBackend::new(&settings)),
    };
    tracing::info!(
        %addr,
        site_root = %site_root.display(),
        config = %files_list(&files),
        "Greenroom listening on http://{addr}"
    );
    let server = axum::serve(listener, http::router(state).into_make_service())
        .with_graceful_shutdown(http::shutdown_signal());
    match server.await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("greenroom: server error: {e}");
            ExitCode::FAILURE
        }
    }
}
