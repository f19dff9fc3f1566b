//! `greenroom`: the single binary that serves the portal (UI + APIs) and validates its
//! configuration. This file only wires the pieces together.

use std::{collections::HashMap, path::PathBuf, process::ExitCode, sync::Arc};

use clap::Parser;

use server::catalog::config::ProcessingInterval;
use server::catalog::store::CatalogStore;
use server::catalog::url_reader::{ReadingAllow, UrlFetcher};
use server::cli::{Cli, Command, ConfigArgs};
use server::{
    auth, backend, catalog, config, http, kubernetes, permission, settings, site, telemetry,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match cli.command {
        Some(Command::Validate(args)) => validate(&args),
        Some(Command::Serve(args)) => serve(&args),
        None => serve(&ConfigArgs { config: Vec::new() }),
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
    catalog: Option<catalog::config::CatalogConfig>,
    /// How each relative `type: file` target of `catalog.locations` was resolved.
    file_targets: Vec<catalog::config::FileTargetNote>,
    /// `backend.reading.allow` and `catalog.processingInterval` (None when invalid).
    reading: Option<(ReadingAllow, ProcessingInterval)>,
    /// `kubernetes:` (None when absent) and `aws:`.
    kubernetes: Option<(
        Option<kubernetes::config::KubernetesConfig>,
        kubernetes::aws_config::AwsConfig,
    )>,
    /// `auth:` (None when invalid).
    auth: Option<auth::config::AuthConfig>,
    /// `permission:` (None when invalid).
    permission: Option<permission::config::PermissionConfig>,
    /// `backend.database`.
    database: Option<server::db::DatabaseConfig>,
    /// `catalog.import.entityFilename` (Backstage's default `catalog-info.yaml`).
    import_filename: String,
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
            catalog: None,
            file_targets: Vec::new(),
            reading: None,
            kubernetes: None,
            auth: None,
            permission: None,
            database: None,
            import_filename: String::new(),
            files: Vec::new(),
            warnings: Vec::new(),
            errors: errors.iter().map(ToString::to_string).collect(),
        },
        Ok(loaded) => {
            let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
            let (settings, mut errors) = match settings::read(&loaded.config) {
                Ok(s) => (Some(s), Vec::new()),
                Err(errs) => (
                    None,
                    errs.iter().map(ToString::to_string).collect::<Vec<_>>(),
                ),
            };
            let catalog = match catalog::config::read(&loaded.config, &options.cwd) {
                Ok(c) => Some(c),
                Err(errs) => {
                    errors.extend(errs.iter().map(ToString::to_string));
                    None
                }
            };
            let file_targets = catalog::config::file_target_notes(&loaded.config, &options.cwd);
            let allow = ReadingAllow::from_config(&loaded.config)
                .map_err(|errs| errors.extend(errs.iter().map(ToString::to_string)))
                .ok();
            let interval = catalog::config::read_processing_interval(&loaded.config)
                .map_err(|e| errors.push(e.to_string()))
                .ok();
            let k8s = kubernetes::config::read(&loaded.config, &options.cwd);
            let aws = kubernetes::aws_config::read(&loaded.config);
            let kubernetes = match (k8s, aws) {
                (Ok(k), Ok(a)) => Some((k, a)),
                (k, a) => {
                    errors.extend(k.err().into_iter().flatten().map(|e| e.to_string()));
                    errors.extend(a.err().into_iter().flatten().map(|e| e.to_string()));
                    None
                }
            };
            let auth = auth::config::read(&loaded.config)
                .map_err(|errs| errors.extend(errs.iter().map(ToString::to_string)))
                .ok();
            let permission = permission::config::read(&loaded.config, &options.cwd)
                .map_err(|errs| errors.extend(errs.iter().map(ToString::to_string)))
                .ok();
            // The default SQLite file goes next to the first config file.
            let config_dir = loaded
                .files
                .first()
                .and_then(|f| f.parent())
                .map(PathBuf::from)
                .unwrap_or_else(|| options.cwd.clone());
            let database = server::db::config::read(&loaded.config, &config_dir, &options.cwd)
                .map_err(|e| errors.push(e.to_string()))
                .ok();
            let import_filename = loaded
                .config
                .get_optional_string("catalog.import.entityFilename")
                .map_err(|e| errors.push(e.to_string()))
                .ok()
                .flatten()
                .unwrap_or_else(|| "catalog-info.yaml".into());
            let mut warnings = warnings;
            // The policy files are part of the configuration: their mistakes are listed too.
            if let Some(p) = permission.as_ref().filter(|p| p.enabled) {
                match permission::config::read_files(p) {
                    Ok(files) => warnings.extend(permission::config::warnings(&files)),
                    Err(errs) => errors.extend(errs),
                }
            }
            Loaded {
                settings,
                catalog,
                file_targets,
                reading: allow.zip(interval),
                kubernetes,
                auth,
                permission,
                database,
                import_filename,
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
    let mut catalog_errors = 0;
    if let Some(config) = &loaded.catalog {
        let allow = loaded.reading.clone().map(|r| r.0).unwrap_or_default();
        let reader = UrlFetcher::new(allow);
        let snapshot = catalog::reload::load(config, &reader);
        for w in &snapshot.warnings {
            eprintln!("warning: catalog: {w}");
        }
        for e in &snapshot.errors {
            eprintln!("error: catalog: {e}");
        }
        for note in &loaded.file_targets {
            println!("catalog: {}", note.describe());
            if let Some(hint) = note.hint() {
                eprintln!("hint: catalog: {hint}");
            }
        }
        catalog_errors = snapshot.errors.len();
        println!(
            "catalog: {} entities from {} location(s), {} error(s), {} warning(s)",
            snapshot.entities.len(),
            config.locations.len(),
            snapshot.errors.len(),
            snapshot.warnings.len()
        );
    }
    if !loaded.errors.is_empty() {
        eprintln!(
            "{} problem(s) found in the configuration",
            loaded.errors.len()
        );
    }
    if catalog_errors > 0 {
        eprintln!("{catalog_errors} problem(s) found in the catalog");
    }
    if loaded.errors.is_empty() && catalog_errors == 0 {
        println!(
            "configuration OK ({} warning(s); files: {})",
            loaded.warnings.len(),
            files_list(&loaded.files)
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn serve(args: &ConfigArgs) -> ExitCode {
    let loaded = load(args);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let (
        Some(settings),
        Some(catalog_config),
        Some(reading),
        Some(kubernetes),
        Some(auth),
        Some(permission),
        Some(database),
    ) = (
        loaded.settings,
        loaded.catalog,
        loaded.reading,
        loaded.kubernetes,
        loaded.auth,
        loaded.permission,
        loaded.database,
    )
    else {
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
    runtime.block_on(run_server(
        settings,
        (auth, permission),
        (catalog_config, database, loaded.import_filename),
        reading,
        kubernetes,
        site_root,
        loaded.files,
    ))
}

async fn run_server(
    settings: settings::Settings,
    (auth_config, permission_config): (
        auth::config::AuthConfig,
        permission::config::PermissionConfig,
    ),
    (catalog_config, database_config, import_filename): (
        catalog::config::CatalogConfig,
        server::db::DatabaseConfig,
        String,
    ),
    (reading_allow, processing_interval): (ReadingAllow, ProcessingInterval),
    (kubernetes_config, aws_config): (
        Option<kubernetes::config::KubernetesConfig>,
        kubernetes::aws_config::AwsConfig,
    ),
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
    // The first load happens before serving, so the first page already shows the catalog.
    let database = match server::db::Database::connect(&database_config).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!(
                "greenroom: cannot open the database ({}; config key backend.database): {e}",
                database_config.describe()
            );
            return ExitCode::FAILURE;
        }
    };
    let registry = match catalog::registry::Registry::open(database).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("greenroom: cannot read the registered locations: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        database = %registry.database().describe(),
        registered_locations = registry.locations().len(),
        "database ready"
    );
    let catalog_config = Arc::new(catalog_config);
    let url_reader: Arc<dyn catalog::location::UrlReader> =
        Arc::new(UrlFetcher::new(reading_allow));
    let first = {
        // A single process reads every URL now; a replica of several starts from what the
        // refresh leader stored (fetching only URLs never read).
        let reader = catalog::shared_reader::DocumentReader::new(
            Arc::clone(&url_reader),
            registry.database().clone(),
            !registry.database().is_shared(),
        );
        let config = Arc::clone(&catalog_config);
        let extra = registry.extra();
        tokio::task::spawn_blocking(move || {
            catalog::reload::load_with(&config, &extra, &reader, None)
        })
        .await
    };
    let (store, previous) = match first {
        Ok((snapshot, previous)) => (Arc::new(CatalogStore::new(snapshot)), previous),
        Err(e) => {
            eprintln!("greenroom: cannot load the catalog: {e}");
            return ExitCode::FAILURE;
        }
    };
    let writes_config = Arc::clone(&catalog_config);
    tokio::spawn(catalog::reload::watch(
        Arc::clone(&store),
        catalog_config,
        Arc::clone(&url_reader),
        processing_interval,
        previous,
        Some(Arc::clone(&registry)),
    ));
    let permissions =
        match permission::Permissions::load(permission_config, Arc::clone(&store)).await {
            Ok(p) => Arc::new(p),
            Err(errors) => {
                for e in &errors {
                    eprintln!("error: {e}");
                }
                eprintln!(
                    "greenroom: cannot start: the permission policy has {} problem(s)",
                    errors.len()
                );
                return ExitCode::FAILURE;
            }
        };
    tokio::spawn(Arc::clone(&permissions).watch());
    let metrics = Arc::new(server::metrics::Registry::default());
    let kubernetes = kubernetes_config.map(|k| {
        let auth = kubernetes::auth::Authenticator::new(aws_config, &environment());
        Arc::new(
            kubernetes::KubernetesService::new(k, auth, Arc::clone(&store))
                .with_registry(Arc::clone(&metrics)),
        )
    });
    if let Some(k) = &kubernetes {
        // Configured clusters are watched from boot; readiness waits for their first lists.
        let (k, deadline) = (Arc::clone(k), k.config().cache.warm_up_timeout);
        tokio::spawn(async move { k.warm_up(deadline).await });
    }
    let live = kubernetes.clone();
    if let Some(listen) = &settings.backend.metrics_listen {
        let bind = listen.bind_address();
        let listener = match tokio::net::TcpListener::bind(&bind).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "greenroom: cannot listen on {bind} (config key backend.metrics.listen): {e}"
                );
                return ExitCode::FAILURE;
            }
        };
        if let Ok(metrics_addr) = listener.local_addr() {
            tracing::info!(%metrics_addr, "metrics on http://{metrics_addr}/metrics");
        }
        let router = http::metrics_router(Arc::clone(&metrics), kubernetes.clone());
        let delay = settings.backend.shutdown_delay;
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(http::shutdown_after(delay))
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let writes = http::catalog_write::CatalogWrites {
        store: Arc::clone(&store),
        registry,
        url_reader,
        config: writes_config,
    };
    let state = http::AppState {
        leptos: http::leptos_options(&site_root, addr),
        backend: Arc::new(
            backend::PortalBackend::new(&settings, Arc::clone(&store), Arc::clone(&permissions))
                .with_kubernetes(kubernetes.clone())
                .with_writes(Some(writes.clone()), &import_filename),
        ),
        auth: Arc::new(auth::Auth::new(auth_config, &settings, Arc::clone(&store))),
        catalog_writes: Some(writes),
        catalog: store,
        static_tokens: Arc::new(settings.backend.static_tokens.clone()),
        kubernetes,
        metrics,
        permissions,
    };
    tracing::info!(
        %addr,
        site_root = %site_root.display(),
        config = %files_list(&files),
        "Greenroom listening on http://{addr}"
    );
    // The peer address lets the sign-in gate honour oauth2-proxy headers only from its proxies.
    let service = http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let shutdown_delay = settings.backend.shutdown_delay;
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        http::shutdown_after(shutdown_delay).await;
        // Live streams never end by themselves: end them so in-flight requests can finish.
        if let Some(k) = live {
            k.shut_down();
        }
    });
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
