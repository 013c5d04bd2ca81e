//! SIGTERM while an upload is in flight: the server stops accepting new connections but
//! finishes the upload (stored, `OK:<n>` sent) before it exits.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.contains("200 OK") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start");
}

#[tokio::test]
async fn sigterm_during_an_upload_finishes_the_upload_before_exiting() {
    for db in support::backends().await {
        let key_dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ironclock"))
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                &db.url,
                "--auto-approve-devices",
            ])
            .arg("--data-key-file")
            .arg(key_dir.path().join("k"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_healthy(port);

        let lines: String =
            (0..50).map(|i| format!("{}\t2026-03-02 08:{:02}:00\t0\t1\t0\t0\t0\n", 100 + i, i)).collect();
        let (first, second) = lines.split_at(lines.len() / 2);
        let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            conn,
            "POST /iclock/cdata?SN=TERM0001&table=ATTLOG&Stamp=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: iClock Proxy/1.09\r\nContent-Length: {}\r\n\r\n{first}",
            lines.len()
        )
        .unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));

        let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(300));
        assert!(child.try_wait().unwrap().is_none(), "{}: exited with an upload in flight", db.backend);

        conn.write_all(second.as_bytes()).unwrap();
        let mut reply = String::new();
        let mut buf = [0u8; 4096];
        while !reply.contains("OK:") {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "{}: connection closed without a reply: {reply}", db.backend);
            reply.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(reply.starts_with("HTTP/1.1 200"), "{}: {reply}", db.backend);
        assert!(reply.ends_with("OK:50"), "{}: {reply}", db.backend);
        drop(conn);

        let deadline = Instant::now() + Duration::from_secs(40);
        let exit = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "{}: server did not exit after SIGTERM", db.backend);
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "{}: exit status {exit:?}", db.backend);
        let store = ironclock::store::connect(&db.url, 2).await.unwrap();
        assert_eq!(store.count_punches(None).await.unwrap(), 50, "{}", db.backend);
    }
}
