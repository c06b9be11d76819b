//! `chronicle serve`: the HTTP API until SIGTERM or Ctrl-C, then a graceful stop.

use std::net::SocketAddr;
use std::time::Duration;

use chronicle::api::live::LiveLimits;
use chronicle::projection::{Runner, RunnerOptions, builtin};
use chronicle_cli::http::{self, ApiOptions};
use tracing_subscriber::EnvFilter;

use super::{DbArgs, Failure, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on. Port 0 picks a free port (the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:3001", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Allow a non-loopback address. Only behind a gateway that authenticates callers and
    /// sets x-user-id itself: anyone who can reach the port can claim any user id.
    #[arg(long)]
    pub allow_remote: bool,
    /// Seconds before a request (other than a live stream) is answered with 503.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub request_timeout: u64,
    /// Do not run the projector runner inside the server (run `chronicle projectors run` instead).
    #[arg(long)]
    pub no_projectors: bool,
    /// Largest body of a batch append, in bytes.
    #[arg(long, default_value_t = 32 * 1024 * 1024, value_name = "BYTES")]
    pub max_batch_body_bytes: usize,
    /// The built web console to serve at `/` (`npm run ui:build` makes `ui/dist`). Default:
    /// `ui/dist` when it exists in the current folder.
    #[arg(long, env = "CHRONICLE_UI_DIR", value_name = "DIR")]
    pub ui_dir: Option<std::path::PathBuf>,
    /// Serve the API only, even when `ui/dist` exists.
    #[arg(long, conflicts_with = "ui_dir")]
    pub no_ui: bool,
    /// A host name the server also answers for (repeatable): the name a gateway in front of it
    /// uses. Without it, only loopback names with the listening port are served, so a web page
    /// cannot reach the server by rebinding its own name to this machine.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Most live streams one user may hold at once.
    #[arg(long, default_value_t = LiveLimits::default().per_user, value_name = "N")]
    pub max_streams_per_user: usize,
    /// Most live streams the server holds at once.
    #[arg(long, default_value_t = LiveLimits::default().total, value_name = "N")]
    pub max_streams: usize,
}

pub async fn run(args: Args) -> Outcome {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(Failure::usage(format!(
            "refusing to listen on {}: x-user-id is trusted as given, so a non-loopback address is only safe \
             behind a gateway that sets it; pass --allow-remote if that is the case",
            args.listen
        )));
    }
    let store = args.db.open().await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut options = ApiOptions::for_store(&store);
    options.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    options.max_batch_body_bytes = args.max_batch_body_bytes;
    options.ui_dir = console_dir(&args)?;
    options.allowed_hosts = args.allowed_hosts.clone();
    options.live_limits = LiveLimits {
        per_user: args.max_streams_per_user.max(1),
        total: args.max_streams.max(1),
    };
    // One line on stdout (scripts read the address from it); a closed stdout must not matter later.
    let console = match &options.ui_dir {
        Some(dir) => format!("; web console at http://{address}/ from {}", dir.display()),
        None => "; no web console (build it with `npm run ui:build`, or pass --ui-dir)".to_string(),
    };
    println!(
        "chronicle: listening on http://{address} ({} store at {}){console}",
        store.backend_name(),
        store.location()
    );
    tracing::info!(%address, backend = store.backend_name(), "serving");
    let (stop_projectors, projectors_stopped) = tokio::sync::watch::channel(false);
    let projectors = (!args.no_projectors).then(|| {
        let runner = Runner::new(store.clone(), builtin(), RunnerOptions::default());
        tokio::spawn(async move { runner.run(projectors_stopped).await })
    });
    let served = http::serve(listener, store.clone(), options, shutdown_signal()).await;
    let _ = stop_projectors.send(true);
    if let Some(projectors) = projectors {
        let _ = projectors.await;
    }
    served.map_err(|e| Failure::usage(format!("server failed: {e}")))?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The console folder: the one given (which must hold `index.html`), else `ui/dist` if built.
fn console_dir(args: &Args) -> Result<Option<std::path::PathBuf>, Failure> {
    if args.no_ui {
        return Ok(None);
    }
    match &args.ui_dir {
        Some(dir) if dir.join("index.html").is_file() => Ok(Some(dir.clone())),
        Some(dir) => Err(Failure::usage(format!(
            "--ui-dir {}: no index.html there; build the UI with `npm run ui:build` (it writes ui/dist)",
            dir.display()
        ))),
        None => {
            let built = std::path::PathBuf::from("ui/dist");
            Ok(built.join("index.html").is_file().then_some(built))
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
