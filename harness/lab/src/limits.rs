//! Bounds shared by every simulated server: read caps, deadlines and connection caps.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};

/// Resource bounds applied to every listener and connection of a lab.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest line (in bytes, without its terminator) a line-based service accepts.
    pub max_line: usize,
    /// Largest request head (request line plus headers) an HTTP or RTSP service accepts.
    pub max_head: usize,
    /// How long a connection may stay silent while the server waits for input.
    pub idle_timeout: Duration,
    /// Longest lifetime of one connection, however busy it is.
    pub session_timeout: Duration,
    /// Concurrent connections per listener; further connections are accepted and closed at once.
    pub max_connections: usize,
    /// How long a guarded demo login stays locked after too many failures (S1.1-04 personas).
    pub lockout_window: Duration,
    /// Longest wait a guarded demo login's growing delay reaches (S1.1-04 personas).
    pub max_login_delay: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 256,
            max_head: 8 * 1024,
            idle_timeout: Duration::from_secs(30),
            session_timeout: Duration::from_secs(300),
            max_connections: 256,
            lockout_window: Duration::from_secs(30),
            max_login_delay: Duration::from_secs(10),
        }
    }
}

/// Why reading from a client stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The client sent more than the cap allows.
    #[error("input exceeds the size cap")]
    TooLong,
    /// The client stayed silent past the deadline.
    #[error("client idle past the deadline")]
    Idle,
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Runs `fut`, failing with [`ReadError::Idle`] if it takes longer than `deadline`.
pub(crate) async fn within<T>(
    deadline: Duration,
    fut: impl Future<Output = Result<T, ReadError>>,
) -> Result<T, ReadError> {
    tokio::time::timeout(deadline, fut)
        .await
        .unwrap_or(Err(ReadError::Idle))
}

/// Reads one `\n`-terminated line of at most `cap` bytes, without its `\r\n` or `\n`.
///
/// Returns `None` at end of input when nothing was read; a final unterminated line is
/// returned as is.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    cap: usize,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok((!line.is_empty()).then_some(line));
        }
        let (taken, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        line.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        if done {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() > cap {
            return Err(ReadError::TooLong);
        }
        if done {
            return Ok(Some(line));
        }
    }
}

/// Reads a request head (request line and header lines up to the blank line) of at most
/// `cap` bytes in total, skipping blank lines before the request line.
///
/// Returns `None` when the client closed without sending anything.
pub(crate) async fn read_head<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    cap: usize,
) -> Result<Option<Vec<String>>, ReadError> {
    let mut lines = Vec::new();
    let mut used = 0usize;
    loop {
        let Some(line) = read_line(reader, cap - used).await? else {
            return Ok((!lines.is_empty()).then_some(lines));
        };
        used += line.len() + 2;
        if used > cap {
            return Err(ReadError::TooLong);
        }
        if line.is_empty() {
            if lines.is_empty() {
                continue;
            }
            return Ok(Some(lines));
        }
        lines.push(String::from_utf8_lossy(&line).into_owned());
    }
}

/// Reads one request head (see [`read_head`]) within the idle timeout and head cap of `limits`.
pub(crate) async fn next_head<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limits: &Limits,
) -> Result<Option<Vec<String>>, ReadError> {
    within(limits.idle_timeout, read_head(reader, limits.max_head)).await
}

/// Reads and discards exactly `len` bytes (a request body the server ignores).
pub(crate) async fn discard<R: AsyncRead + Unpin>(
    reader: &mut R,
    len: u64,
) -> Result<(), ReadError> {
    let copied = tokio::io::copy(&mut reader.take(len), &mut tokio::io::sink()).await?;
    if copied < len {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    Ok(())
}

/// Closes a connection gracefully: flushes and shuts down our side, then drains what the
/// client still sends (bounded in bytes and time) so the kernel does not answer unread
/// input with a reset that could destroy the response in flight.
pub(crate) async fn close_gracefully<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) {
    const DRAIN_BYTES: u64 = 256 * 1024;
    const DRAIN_TIME: Duration = Duration::from_secs(2);
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain =
        async { tokio::io::copy(&mut stream.take(DRAIN_BYTES), &mut tokio::io::sink()).await };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
}

/// Replaces anything but printable ASCII by `.`, so client text can be echoed safely.
pub(crate) fn printable(text: &[u8]) -> String {
    text.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    #[tokio::test]
    async fn lines_are_split_and_capped() {
        let mut input = BufReader::new(&b"one\r\ntwo\nthree"[..]);
        assert_eq!(read_line(&mut input, 8).await.unwrap().unwrap(), b"one");
        assert_eq!(read_line(&mut input, 8).await.unwrap().unwrap(), b"two");
        assert_eq!(read_line(&mut input, 8).await.unwrap().unwrap(), b"three");
        assert!(read_line(&mut input, 8).await.unwrap().is_none());

        let mut long = BufReader::new(&b"0123456789\n"[..]);
        assert!(matches!(
            read_line(&mut long, 4).await,
            Err(ReadError::TooLong)
        ));
    }

    #[tokio::test]
    async fn heads_stop_at_the_blank_line_and_respect_the_cap() {
        let mut input = BufReader::new(&b"\r\nGET / HTTP/1.0\r\nA: b\r\n\r\nrest"[..]);
        let head = read_head(&mut input, 100).await.unwrap().unwrap();
        assert_eq!(head, ["GET / HTTP/1.0", "A: b"]);

        let big = format!("GET / HTTP/1.0\r\nX: {}\r\n\r\n", "a".repeat(200));
        let mut input = BufReader::new(big.as_bytes());
        assert!(matches!(
            read_head(&mut input, 100).await,
            Err(ReadError::TooLong)
        ));
    }
}
