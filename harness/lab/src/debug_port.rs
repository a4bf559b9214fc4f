//! An undocumented vendor debug console: a prompt that answers every line with an error.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::limits::{self, Limits, ReadError};

const PROMPT: &[u8] = b"debug> ";

/// Runs one debug console session on `stream`.
pub(crate) async fn serve<S>(stream: S, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = BufReader::new(stream);
    if let Err(error) = session(&mut stream, limits).await {
        tracing::trace!(%error, "debug console session ended");
    }
}

async fn session<S>(stream: &mut BufReader<S>, limits: &Limits) -> Result<(), ReadError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        stream.write_all(PROMPT).await?;
        let line = limits::within(
            limits.idle_timeout,
            limits::read_line(stream, limits.max_line),
        )
        .await;
        let line = match line {
            Ok(Some(line)) => limits::printable(&line),
            Ok(None) => return Ok(()),
            Err(ReadError::TooLong) => {
                stream.write_all(b"\r\nline too long\r\n").await?;
                return Err(ReadError::TooLong);
            }
            Err(error) => return Err(error),
        };
        match line.trim() {
            "" => {}
            "exit" | "quit" => return Ok(stream.shutdown().await?),
            command => {
                let reply = format!("{command}: unknown command\r\n");
                stream.write_all(reply.as_bytes()).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;

    use crate::testing::{read_until, start_lab};

    #[tokio::test]
    async fn debug_console_prompts_and_rejects_commands() {
        let _lab = start_lab(108).await;
        let mut conn = TcpStream::connect("127.77.108.1:9527").await.unwrap();
        assert_eq!(read_until(&mut conn, b"debug> ").await, b"debug> ");
        conn.write_all(b"help\r\n").await.unwrap();
        let reply = read_until(&mut conn, b"debug> ").await;
        assert_eq!(reply, b"help: unknown command\r\ndebug> ");
    }
}
