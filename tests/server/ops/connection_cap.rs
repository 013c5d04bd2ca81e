//! `--max-connections` bounds the connections served at once (memory under a burst): past the cap
//! a new connection waits in the kernel's accept queue until a slot frees, then is served.

use crate::support;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_connection_past_the_cap_waits_until_a_slot_frees() {
    let db = support::backends().await.remove(0);
    let app = support::spawn_app_with(db, |args| {
        args.workers = 1;
        args.max_connections = 1;
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();

    // A keep-alive connection that has been served holds the only slot while it stays open.
    let mut held = TcpStream::connect(&addr).await.unwrap();
    held.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let n = held.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let waiting = tokio::spawn(async move { client.get(format!("http://{addr}/healthz")).send().await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "a second connection is not served while the cap is reached");

    drop(held);
    let reply = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap().unwrap();
    assert_eq!(reply.status(), 200, "served once the slot is free");
}
