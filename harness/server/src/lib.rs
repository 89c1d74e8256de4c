//! An axum server running on a background task, owned by a handle: dropping the handle stops
//! accepting connections and lets requests in flight finish. Emulators return one so a test or
//! `ssoproof serve` keeps a server alive exactly as long as it holds the handle.
//!
//! Handlers may extract `ConnectInfo<SocketAddr>` (the peer), over plain TCP and TLS alike.
//! [`tls`] serves the same routers over HTTPS with a throwaway local certificate authority.

pub mod tls;

use std::io;
use std::net::SocketAddr;

use axum::serve::{Listener, ListenerExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server. Dropping it shuts the server down gracefully in the background;
/// [`ServerHandle::shutdown`] does the same and waits until the server has stopped.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    // Dropping the sender resolves the server's shutdown signal: no explicit `Drop` needed.
    stop: oneshot::Sender<()>,
    task: JoinHandle<io::Result<()>>,
}

impl ServerHandle {
    /// Serves `router` on `listener` until the handle is dropped or shut down.
    pub fn spawn<L>(listener: L, router: axum::Router) -> io::Result<ServerHandle>
    where
        L: Listener<Addr = SocketAddr>,
    {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        // axum provides `ConnectInfo` for a bare `TcpListener` only; a tapped listener of any
        // kind gets it too, which is what the TLS listener needs (the IdP's admin API answers
        // loopback peers only, over HTTPS as over HTTP).
        let listener = listener.tap_io(|_| {});
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, service).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move { server.await });
        Ok(ServerHandle { addr, stop, task })
    }

    /// The address the server listens on (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(self) -> io::Result<()> {
        let ServerHandle { stop, task, .. } = self;
        drop(stop);
        match task.await {
            Ok(result) => result,
            Err(e) => Err(io::Error::other(format!("the server task failed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_until_shut_down_and_tells_handlers_the_peer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move {
                    format!("up for {}", peer.ip())
                },
            ),
        );
        let handle = ServerHandle::spawn(listener, router).unwrap();
        let url = format!("http://{}/", handle.local_addr());
        let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert_eq!(body, "up for 127.0.0.1");
        handle.shutdown().await.unwrap();
        assert!(reqwest::get(&url).await.is_err(), "the port still answers");
    }
}
