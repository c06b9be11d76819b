//! Who may reach the server at all, checked before any handler runs. The caller's identity is
//! the `x-user-id` header, taken as given, so the server must make sure the request really was
//! meant for it: a web page on any site can rebind its own name to 127.0.0.1 (DNS rebinding)
//! and call the API as same-origin, and a page can post across origins without reading the
//! answer.
//!
//! - **Host**: only a loopback name or address with the port the server listens on, or a name
//!   given with `--allow-host` (a gateway in front). Anything else is `421` `host_not_allowed`.
//! - **Origin**: a state-changing request (anything but GET, HEAD, OPTIONS) or a live stream
//!   that carries an `Origin` must come from the server's own origin or an allowed host's;
//!   anything else is `403` `origin_not_allowed`. No CORS headers are ever sent, so no other
//!   origin may read an answer either.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chronicle::ErrorCode;

use super::error::ApiError;

/// The names this server answers to.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// The port the server listens on; loopback hosts must name it (any port when `None`,
    /// for servers built without a listener, such as in-process tests of the router).
    pub port: Option<u16>,
    /// Host names (without port) a gateway may use, lowercase.
    pub names: Vec<String>,
}

impl AllowedHosts {
    /// Whether a `Host` header value names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        if self.names.contains(&name) {
            return true;
        }
        is_loopback(&name) && (self.port.is_none() || port == self.port)
    }

    /// Whether an `Origin` header value is this server's own origin (`host` is the request's
    /// own, already allowed, Host) or an allowed host's.
    pub fn allows_origin(&self, origin: &str, host: &str) -> bool {
        let Some(rest) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false; // "null", file:, extensions
        };
        if rest.eq_ignore_ascii_case(host) {
            return true;
        }
        // Another loopback name for this same server (a page at localhost calling 127.0.0.1).
        split_host(rest).is_some_and(|(name, port)| {
            self.names.contains(&name)
                || (is_loopback(&name) && self.port.is_some() && port == self.port)
        })
    }
}

/// `name[:port]` (names lowercased, IPv6 in brackets) into its parts; `None` when malformed.
fn split_host(host: &str) -> Option<(String, Option<u16>)> {
    let host = host.trim();
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (format!("[{inside}]"), port)
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name.to_string(), Some(port.parse().ok()?)),
            None => (host.to_string(), None),
        }
    };
    if name.is_empty() || name.contains(['/', '@', ' ']) {
        return None;
    }
    Some((name.to_ascii_lowercase(), port))
}

fn is_loopback(name: &str) -> bool {
    if name == "localhost" || name.ends_with(".localhost") || name == "[::1]" {
        return true;
    }
    name.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The middleware: refuses a request for another host, or a cross-origin write or stream.
pub async fn check(allowed: Arc<AllowedHosts>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !allowed.allows_host(&host) {
        return ApiError::new(
            ErrorCode::HostNotAllowed,
            format!(
                "this server does not answer for host {host:?}; it answers for loopback names with its port, \
                 and for names given with --allow-host"
            ),
        )
        .into_response();
    }
    let reads_only = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let streams = request.uri().path().ends_with("/live");
    if !reads_only || streams {
        let origins = request.headers().get_all(header::ORIGIN);
        for origin in origins {
            let origin = origin.to_str().unwrap_or("null");
            if !allowed.allows_origin(origin, &host) {
                return ApiError::new(
                    ErrorCode::OriginNotAllowed,
                    format!(
                        "a request from the page at {origin:?} may not change data or stream from this server"
                    ),
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(port: u16) -> AllowedHosts {
        AllowedHosts {
            port: Some(port),
            names: vec!["chronicle.example.org".into()],
        }
    }

    #[test]
    fn loopback_names_with_the_servers_port_are_allowed() {
        let allowed = local(3001);
        for host in [
            "127.0.0.1:3001",
            "localhost:3001",
            "[::1]:3001",
            "LOCALHOST:3001",
            "127.8.0.1:3001",
        ] {
            assert!(allowed.allows_host(host), "{host}");
        }
        for host in [
            "attacker.example:3001",
            "127.0.0.1:3002",
            "localhost",
            "",
            "127.0.0.1.attacker.example:3001",
            "user@127.0.0.1:3001",
            "[::1:3001",
        ] {
            assert!(!allowed.allows_host(host), "{host:?} is refused");
        }
        assert!(
            allowed.allows_host("chronicle.example.org"),
            "a gateway's name, any port"
        );
        assert!(allowed.allows_host("Chronicle.Example.Org:443"));
    }

    #[test]
    fn only_the_servers_own_origin_or_an_allowed_one_may_write() {
        let allowed = local(3001);
        assert!(allowed.allows_origin("http://127.0.0.1:3001", "127.0.0.1:3001"));
        assert!(allowed.allows_origin("http://localhost:3001", "localhost:3001"));
        assert!(allowed.allows_origin("https://chronicle.example.org", "127.0.0.1:3001"));
        assert!(
            allowed.allows_origin("http://localhost:3001", "127.0.0.1:3001"),
            "the same server by another loopback name"
        );
        for origin in [
            "http://attacker.example",
            "http://localhost:3002",
            "null",
            "file://",
            "http://127.0.0.1:3002",
        ] {
            assert!(
                !allowed.allows_origin(origin, "127.0.0.1:3001"),
                "{origin} is not this server's origin"
            );
        }
    }
}
