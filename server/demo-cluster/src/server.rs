//! Serving a router on a port, over TLS or plain HTTP, obeying the cluster's connection faults:
//! `refuse` closes the listening socket (clients get "connection refused") until cleared, and
//! `close` accepts and drops each connection before the handshake.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::cluster::Cluster;

/// Binds now (so the port is known) and serves until the process ends.
pub async fn serve(
    cluster: Arc<Cluster>,
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: axum::Router,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(run(cluster, bound, listener, tls, router));
    Ok(bound)
}

async fn run(
    cluster: Arc<Cluster>,
    addr: SocketAddr,
    first: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    router: axum::Router,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut epoch = cluster.fault_epoch.subscribe();
    let mut listener = Some(first);
    loop {
        if cluster.faults().refuse {
            listener = None;
            if epoch.changed().await.is_err() {
                return;
            }
            continue;
        }
        let l = match listener.take() {
            Some(l) => l,
            None => match TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(cluster = %cluster.name, %addr, error = %e, "cannot listen again; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        tokio::select! {
            accepted = l.accept() => {
                listener = Some(l);
                let Ok((stream, _)) = accepted else { continue };
                if cluster.faults().close {
                    drop(stream);
                    continue;
                }
                let router = router.clone();
                let acceptor = acceptor.clone();
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    let service = hyper_util::service::TowerToHyperService::new(router);
                    let builder = hyper::server::conn::http1::Builder::new();
                    let serve = async {
                        match acceptor {
                            Some(a) => {
                                let Ok(tls) = a.accept(stream).await else { return };
                                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                            }
                            None => {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    };
                    // A server that goes down (or starts dropping connections) also drops the
                    // kept-alive ones.
                    tokio::select! {
                        _ = serve => {}
                        _ = connection_fault(&cluster) => {}
                    }
                });
            }
            changed = epoch.changed() => {
                listener = Some(l);
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Resolves when the faults change to ones that end open connections.
async fn connection_fault(cluster: &Cluster) {
    let mut epoch = cluster.fault_epoch.subscribe();
    loop {
        if epoch.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        let f = cluster.faults();
        if f.refuse || f.close {
            return;
        }
    }
}
