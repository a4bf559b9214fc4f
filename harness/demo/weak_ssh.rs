//! An SSH device with weak algorithms, simulated: an old dropbear banner and a KEXINIT listing
//! group1 SHA-1 key exchange, DSA host keys, CBC ciphers and MD5 MACs. It goes no further.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::limits::Limits;
use crate::sshinfo::{kexinit_payload, packet, KexInit};

/// The identification line.
pub(crate) const BANNER: &str = "SSH-2.0-dropbear_2012.55";

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The device's KEXINIT lists.
pub(crate) fn kexinit() -> KexInit {
    KexInit {
        kex: names(&["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"]),
        host_key: names(&["ssh-rsa", "ssh-dss"]),
        ciphers_c2s: names(&["aes128-cbc", "3des-cbc", "aes128-ctr"]),
        ciphers_s2c: names(&["aes128-cbc", "3des-cbc", "aes128-ctr"]),
        macs_c2s: names(&["hmac-md5", "hmac-sha1-96", "hmac-sha1"]),
        macs_s2c: names(&["hmac-md5", "hmac-sha1-96", "hmac-sha1"]),
        compression_c2s: names(&["none"]),
        compression_s2c: names(&["none"]),
    }
}

/// Sends the banner and KEXINIT, then reads (and drops) what the client sends until it leaves.
pub(crate) async fn serve(mut stream: TcpStream, limits: &Limits) {
    let mut hello = format!("{BANNER}\r\n").into_bytes();
    hello.extend(packet(&kexinit_payload(&kexinit())));
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
