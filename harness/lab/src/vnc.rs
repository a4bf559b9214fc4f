//! A minimal RFB 3.8 server: offers one security type (None or VNC authentication) and, after
//! a successful handshake, a ServerInit for a tiny desktop. VNC authentication is checked
//! server-side by DES-decrypting the client's response and comparing it with the challenge.

use des::cipher::{BlockDecrypt, KeyInit};
use des::Des;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::limits::Limits;

/// Which security type a simulated VNC desktop offers.
#[derive(Debug)]
pub(crate) enum Desktop {
    /// Security type 1: no password at all.
    Open,
    /// Security type 2 with this password (only its first 8 bytes count, as in real VNC).
    Password(&'static str),
}

const NAME: &[u8] = b"JCS desktop";

/// Serves one RFB handshake.
pub(crate) async fn serve<S>(mut stream: S, desktop: &Desktop, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let session = async {
        stream.write_all(b"RFB 003.008\n").await?;
        let mut version = [0u8; 12];
        stream.read_exact(&mut version).await?;
        if &version[..8] != b"RFB 003." {
            return Ok(());
        }
        let offered = match desktop {
            Desktop::Open => 1u8,
            Desktop::Password(_) => 2,
        };
        stream.write_all(&[1, offered]).await?;
        let chosen = stream.read_u8().await?;
        if chosen != offered {
            return refuse(&mut stream, b"security type not offered").await;
        }
        if let Desktop::Password(password) = desktop {
            let mut challenge = [0u8; 16];
            getrandom::fill(&mut challenge).map_err(|_| std::io::ErrorKind::Other)?;
            stream.write_all(&challenge).await?;
            let mut answer = [0u8; 16];
            stream.read_exact(&mut answer).await?;
            if decrypt(password, answer) != challenge {
                return refuse(&mut stream, b"Authentication failed").await;
            }
        }
        stream.write_all(&[0, 0, 0, 0]).await?;
        let _shared = stream.read_u8().await?;
        let mut init = vec![0, 64, 0, 48]; // 64 x 48
        init.extend_from_slice(&[32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
        init.extend_from_slice(&(NAME.len() as u32).to_be_bytes());
        init.extend_from_slice(NAME);
        stream.write_all(&init).await?;
        stream.flush().await
    };
    if let Ok(Err(error)) = tokio::time::timeout(limits.idle_timeout, session).await {
        tracing::trace!(%error, "vnc session ended");
    }
}

async fn refuse<S: AsyncWrite + Unpin>(stream: &mut S, reason: &[u8]) -> std::io::Result<()> {
    let mut out = vec![0, 0, 0, 1];
    out.extend_from_slice(&(reason.len() as u32).to_be_bytes());
    out.extend_from_slice(reason);
    stream.write_all(&out).await?;
    stream.shutdown().await
}

/// DES-decrypts a client response with the VNC key of `password` (bytes bit-reversed,
/// zero-padded or cut to 8).
fn decrypt(password: &str, mut answer: [u8; 16]) -> [u8; 16] {
    let mut key = [0u8; 8];
    for (k, b) in key.iter_mut().zip(password.bytes()) {
        *k = b.reverse_bits();
    }
    let cipher = Des::new(&key.into());
    for block in answer.chunks_exact_mut(8) {
        cipher.decrypt_block(block.into());
    }
    answer
}
