//! The push load generator behaves like firmware on the wire: a counting proxy between
//! `ironclock sim push` and the real server sees one connection per request with
//! `Connection: close` (or a few kept-alive connections), real-time uploads of 1–3 lines, and a
//! burst of the backlog after a network outage; every punch ends up stored once.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ironclock::sim::push::{run_all, ConnectionMode, SimPushArgs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy saw on one client connection: the bytes the client sent.
#[derive(Default)]
struct Seen {
    connections: Vec<Vec<u8>>,
}

/// Forwards loopback connections to `upstream`, keeping a copy of what each client sent.
async fn counting_proxy(upstream: String) -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let record = record.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let mut sent = Vec::new();
                let up = async {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        sent.extend_from_slice(&buf[..n]);
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
                record.lock().unwrap().connections.push(sent);
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// The requests in one connection's bytes: (request line, has `Connection: close`, body lines).
fn requests(bytes: &[u8]) -> Vec<(String, bool, usize)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some((head, after)) = rest.split_once("\r\n\r\n") {
        let head_lower = head.to_ascii_lowercase();
        let length = head_lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let body = &after[..length.min(after.len())];
        let request_line = head.lines().next().unwrap_or_default().to_string();
        out.push((request_line, head_lower.contains("connection: close"), body.lines().count()));
        rest = &after[length.min(after.len())..];
    }
    out
}

fn args(server: &str, prefix: &str) -> SimPushArgs {
    SimPushArgs {
        devices: 3,
        serial_prefix: prefix.into(),
        punches_per_minute: 120.0,
        duration_secs: 4,
        poll_interval_ms: 400,
        error_delay_ms: Some(200),
        drain_timeout_secs: 20,
        ..SimPushArgs::new(server)
    }
}

#[tokio::test]
async fn close_mode_opens_a_connection_per_request_uploads_live_lines_and_bursts_after_an_outage() {
    for db in support::backends().await {
        let app = support::spawn_app(db, true).await;
        let (proxy, seen) = counting_proxy(app.base.trim_start_matches("http://").to_string()).await;
        let report = run_all(SimPushArgs { outage_at_secs: 1, outage_secs: 2, ..args(&proxy, "CLOSE") }).await.unwrap();

        assert_eq!(report.connection, ConnectionMode::Close);
        assert_eq!(report.still_buffered, 0, "{}", app.backend);
        assert_eq!(report.acknowledged, report.generated);
        assert!(report.generated >= 3 * 6, "{}: 2 punches a second for 4 s per device", app.backend);
        assert!(report.polls > 0 && report.poll_p50_ms > 0.0 && report.poll_p99_ms >= report.poll_p50_ms);
        assert!(report.upload_p50_ms > 0.0 && report.upload_p99_ms >= report.upload_p50_ms);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), report.generated as i64, "{}", app.backend);

        tokio::time::sleep(Duration::from_millis(100)).await; // the proxy records a connection when both sides closed
        let seen = seen.lock().unwrap();
        let all: Vec<Vec<(String, bool, usize)>> = seen.connections.iter().map(|c| requests(c)).collect();
        assert!(all.iter().all(|reqs| reqs.len() <= 1), "{}: one request per connection", app.backend);
        let reqs: Vec<&(String, bool, usize)> = all.iter().flatten().collect();
        assert!(reqs.len() as u64 >= report.polls + report.uploads);
        assert!(reqs.iter().all(|(_, close, _)| *close), "every request says Connection: close");
        let uploads: Vec<usize> =
            reqs.iter().filter(|(line, _, _)| line.contains("table=ATTLOG")).map(|(_, _, n)| *n).collect();
        assert_eq!(uploads.len() as u64, report.uploads);
        assert!(uploads.iter().filter(|n| **n <= 3).count() >= 3, "{}: real-time uploads of 1-3 lines", app.backend);
        assert!(uploads.iter().any(|n| *n > 3), "{}: the backlog after the outage goes out in a burst", app.backend);
    }
}

#[tokio::test]
async fn keep_alive_mode_reuses_a_few_connections() {
    for db in support::backends().await {
        let app = support::spawn_app(db, true).await;
        let (proxy, seen) = counting_proxy(app.base.trim_start_matches("http://").to_string()).await;
        let report =
            run_all(SimPushArgs { connection: ConnectionMode::KeepAlive, ..args(&proxy, "KEEP") }).await.unwrap();
        assert_eq!(report.still_buffered, 0, "{}", app.backend);
        drop(app);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = seen.lock().unwrap();
        let total: usize = seen.connections.iter().map(|c| requests(c).len()).sum();
        assert!(total as u64 >= report.polls + report.uploads, "{}", report.polls);
        assert!(
            seen.connections.len() * 4 < total,
            "{} connections for {total} requests: connections are reused",
            seen.connections.len()
        );
        assert!(seen.connections.iter().flat_map(|c| requests(c)).all(|(_, close, _)| !close));
    }
}
