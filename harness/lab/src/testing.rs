//! Helpers for tests that use the lab: start a lab, talk to it over loopback. They panic on
//! failure, as test helpers do.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{DemoLab, LabOptions};

/// Longest any test waits for the lab.
const PATIENCE: Duration = Duration::from_secs(10);

/// Starts a lab with default limits on `subnet`.
pub async fn start_lab(subnet: u8) -> DemoLab {
    DemoLab::start(LabOptions { subnet })
        .await
        .expect("lab starts")
}

/// Sends `request`, half-closes, and returns everything the server sends until it closes.
pub async fn exchange(address: &str, request: &[u8]) -> String {
    let session = async {
        let mut conn = TcpStream::connect(address).await.expect("connect");
        conn.write_all(request).await.expect("send request");
        conn.shutdown().await.expect("half-close");
        let mut reply = Vec::new();
        conn.read_to_end(&mut reply).await.expect("read reply");
        String::from_utf8_lossy(&reply).into_owned()
    };
    tokio::time::timeout(PATIENCE, session)
        .await
        .expect("server answered in time")
}

/// Reads byte by byte until the input ends with `needle`; returns all bytes read.
pub async fn read_until(conn: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let read = async {
        let mut seen = Vec::new();
        while !seen.ends_with(needle) {
            seen.push(conn.read_u8().await.expect("more input"));
        }
        seen
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("expected input arrived in time")
}
