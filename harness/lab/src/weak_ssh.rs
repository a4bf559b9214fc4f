//! An SSH device with weak algorithms, simulated: an old dropbear banner and a KEXINIT listing
//! group1 SHA-1 key exchange, DSA host keys, CBC ciphers and MD5 MACs. It goes no further.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::limits::Limits;

/// The identification line.
pub(crate) const BANNER: &str = "SSH-2.0-dropbear_2012.55";

/// The device's KEXINIT name-lists, in RFC 4253 section 7.1 order: key exchange, host key,
/// ciphers and MACs each way, compression each way.
const KEXINIT_LISTS: [&[&str]; 8] = [
    &["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"],
    &["ssh-rsa", "ssh-dss"],
    &["aes128-cbc", "3des-cbc", "aes128-ctr"],
    &["aes128-cbc", "3des-cbc", "aes128-ctr"],
    &["hmac-md5", "hmac-sha1-96", "hmac-sha1"],
    &["hmac-md5", "hmac-sha1-96", "hmac-sha1"],
    &["none"],
    &["none"],
];

/// SSH_MSG_KEXINIT (RFC 4253 section 7.1): a fixed cookie, the lists, empty language lists, no
/// guessed packet.
fn kexinit_payload() -> Vec<u8> {
    let mut payload = vec![20];
    payload.extend_from_slice(b"jcstar-lab-ssh!!");
    let empty: &[&str] = &[];
    for list in KEXINIT_LISTS.iter().chain([&empty, &empty]) {
        let text = list.join(",");
        payload.extend_from_slice(&(text.len() as u32).to_be_bytes());
        payload.extend_from_slice(text.as_bytes());
    }
    payload.extend_from_slice(&[0, 0, 0, 0, 0]);
    payload
}

/// An unencrypted binary packet (RFC 4253 section 6): length, padding length, payload and
/// 4 to 11 zero bytes of padding to a multiple of 8.
fn binary_packet(payload: &[u8]) -> Vec<u8> {
    let padding = 4 + (8 - (payload.len() + 5 + 4) % 8) % 8;
    let length = (1 + payload.len() + padding) as u32;
    let mut packet = length.to_be_bytes().to_vec();
    packet.push(padding as u8);
    packet.extend_from_slice(payload);
    packet.resize(packet.len() + padding, 0);
    packet
}

/// Sends the banner and KEXINIT, then reads (and drops) what the client sends until it leaves.
pub(crate) async fn serve(mut stream: TcpStream, limits: &Limits) {
    let mut hello = format!("{BANNER}\r\n").into_bytes();
    hello.extend(binary_packet(&kexinit_payload()));
    if stream.write_all(&hello).await.is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    let mut total = 0usize;
    while let Ok(Ok(n)) = tokio::time::timeout(limits.idle_timeout, stream.read(&mut sink)).await {
        total += n;
        if n == 0 || total > 64 * 1024 {
            break;
        }
    }
}
