//! HTTP/1.x responses, and RTSP/1.0 ones (the same framing): the head through httparse, when a
//! response is complete (length, chunking, statuses without a body), and de-chunking. Every
//! function works on bytes already received and bounded by the caller.

/// Most header lines read from one head; a head with more is not accepted.
pub const MAX_HEADERS: usize = 96;

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The status line as sent, e.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The status code.
    pub status: u16,
    /// Header (name, value) pairs in order; values are decoded lossily from the device's bytes.
    pub headers: Vec<(String, String)>,
    /// Bytes of the head, the blank line included: the body starts here.
    pub len: usize,
    /// An RTSP response: without `Content-Length` it has no body (RFC 2326 section 12.14).
    pub rtsp: bool,
}

impl Head {
    /// Every value of the named header (case-insensitive).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How the body of this response ends.
    pub fn framing(&self) -> Framing {
        if matches!(self.status, 100..=199 | 204 | 304) {
            return Framing::Bodiless;
        }
        let chunked = self
            .values("Transfer-Encoding")
            .any(|v| v.to_ascii_lowercase().trim_end().ends_with("chunked"));
        if chunked {
            return Framing::Chunked;
        }
        let mut lengths = self
            .values("Content-Length")
            .map(|v| v.trim().parse::<usize>());
        match (lengths.next(), lengths.next()) {
            (Some(Ok(n)), None) => Framing::Length(n),
            (None, _) if self.rtsp => Framing::Bodiless,
            _ => Framing::UntilClose,
        }
    }
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (1xx, 204, 304).
    Bodiless,
    /// `Content-Length` bytes.
    Length(usize),
    /// Chunks up to the last, empty one.
    Chunked,
    /// No length: the body ends when the server closes (or the length is unreadable).
    UntilClose,
}

/// The head of a `proto` (`HTTP` or `RTSP`) response at the start of `raw`, or `None` while it
/// is incomplete or when it is not such a response.
pub fn parse_head(raw: &[u8], proto: &str) -> Option<Head> {
    if !matches!(proto, "HTTP" | "RTSP")
        || !raw.starts_with(proto.as_bytes())
        || raw.get(4) != Some(&b'/')
    {
        return None;
    }
    // RTSP/1.0 shares HTTP/1.x's head grammar; httparse reads the version as HTTP's.
    let normalised;
    let bytes = if proto == "HTTP" {
        raw
    } else {
        let mut copy = raw.to_vec();
        copy[..4].copy_from_slice(b"HTTP");
        normalised = copy;
        normalised.as_slice()
    };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        _ => return None,
    };
    let status = response.code?;
    let first_line_end = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
    let status_line = String::from_utf8_lossy(&raw[..first_line_end])
        .trim_end_matches('\r')
        .to_string();
    let headers = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    Some(Head {
        status_line,
        status,
        headers,
        len,
        rtsp: proto == "RTSP",
    })
}

/// Whether `raw` holds a complete `proto` response: the head, then the body its framing
/// announces. A response framed until close is never complete before the close.
pub fn complete(raw: &[u8], proto: &str) -> bool {
    let Some(head) = parse_head(raw, proto) else {
        return false;
    };
    let body = &raw[head.len..];
    match head.framing() {
        Framing::Bodiless => true,
        Framing::Length(n) => body.len() >= n,
        Framing::Chunked => chunks(body).1,
        Framing::UntilClose => false,
    }
}

/// The body of a response whose head is `head`, taken from `raw` (head and body as received):
/// de-chunked when chunked, cut to `Content-Length` when longer.
pub fn body(raw: &[u8], head: &Head) -> Vec<u8> {
    let rest = raw.get(head.len..).unwrap_or_default();
    match head.framing() {
        Framing::Bodiless => Vec::new(),
        Framing::Length(n) => rest[..n.min(rest.len())].to_vec(),
        Framing::Chunked => chunks(rest).0,
        Framing::UntilClose => rest.to_vec(),
    }
}

/// Joins the chunks of a chunked body, stopping at the last chunk, at anything malformed, or at
/// the end of the input; the flag says whether the last chunk was reached.
pub fn chunks(mut data: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            return (out, false);
        };
        let start = line_end + 2;
        if size == 0 {
            // The last chunk; trailers, if any, end with a blank line.
            let trailers = &data[start..];
            let done =
                trailers.starts_with(b"\r\n") || trailers.windows(4).any(|w| w == b"\r\n\r\n");
            return (out, done);
        }
        let Some(end) = start.checked_add(size) else {
            return (out, false);
        };
        if end > data.len() {
            out.extend_from_slice(&data[start..]);
            return (out, false);
        }
        out.extend_from_slice(&data[start..end]);
        data = data.get(end + 2..).unwrap_or_default();
    }
    (out, false)
}

/// De-chunks a chunked body (what [`chunks`] joins).
pub fn dechunk(data: &[u8]) -> Vec<u8> {
    chunks(data).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn heads_parse_for_http_and_rtsp() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 4\r\n\r\nbody";
        let head = parse_head(raw, "HTTP").expect("head");
        assert_eq!(head.status, 401);
        assert_eq!(head.status_line, "HTTP/1.1 401 Unauthorized");
        assert_eq!(
            head.values("www-authenticate").collect::<Vec<_>>(),
            ["Basic realm=\"x\""]
        );
        assert_eq!(head.framing(), Framing::Length(4));
        assert!(complete(raw, "HTTP"));
        assert_eq!(body(raw, &head), b"body");
        let rtsp = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse_head(rtsp, "RTSP").map(|h| h.status), Some(200));
        assert!(parse_head(rtsp, "HTTP").is_none());
        // An RTSP response without a length has no body: it is complete at its head.
        assert!(complete(
            b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n\r\n",
            "RTSP"
        ));
        assert!(parse_head(b"SSH-2.0-x\r\n\r\n", "HTTP").is_none());
        assert!(parse_head(b"HTTP/1.1", "HTTP").is_none());
    }

    #[test]
    fn framing_decides_completeness() {
        assert!(complete(b"HTTP/1.1 204 No Content\r\n\r\n", "HTTP"));
        assert!(!complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
            "HTTP"
        ));
        assert!(!complete(b"HTTP/1.0 200 OK\r\n\r\nuntil close", "HTTP"));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<root\r\n2;x=y\r\n/>\r\n0\r\n\r\n";
        assert!(complete(chunked, "HTTP"));
        assert!(!complete(&chunked[..chunked.len() - 2], "HTTP"));
        let head = parse_head(chunked, "HTTP").expect("head");
        assert_eq!(body(chunked, &head), b"<root/>");
    }

    #[test]
    fn dechunking_stops_at_garbage_and_absurd_sizes() {
        assert_eq!(dechunk(b"zz\r\nabc"), b"");
        assert_eq!(dechunk(b"ffffffffffffffffff\r\nabc"), b"");
        assert_eq!(dechunk(b"10\r\nabc"), b"abc");
        assert_eq!(chunks(b"3\r\nabc\r\n0\r\n\r\n"), (b"abc".to_vec(), true));
    }

    /// Chunks `data` into pieces of `size` bytes (the last one shorter), then the last chunk.
    fn chunked(data: &[u8], size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in data.chunks(size.max(1)) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    proptest! {
        #[test]
        fn garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for proto in ["HTTP", "RTSP"] {
                if let Some(head) = parse_head(&raw, proto) {
                    prop_assert!(head.len <= raw.len());
                    let _ = head.framing();
                    prop_assert!(body(&raw, &head).len() <= raw.len());
                }
                let _ = complete(&raw, proto);
            }
            prop_assert!(dechunk(&raw).len() <= raw.len());
        }

        #[test]
        fn heads_with_arbitrary_header_bytes_never_panic(
            value in proptest::collection::vec(any::<u8>(), 0..512)
        ) {
            let mut raw = b"HTTP/1.1 200 OK\r\nX-Device: ".to_vec();
            raw.extend_from_slice(&value);
            raw.extend_from_slice(b"\r\nTransfer-Encoding: chunked\r\n\r\n");
            let _ = parse_head(&raw, "HTTP");
            let _ = complete(&raw, "HTTP");
        }

        #[test]
        fn chunking_round_trips(
            data in proptest::collection::vec(any::<u8>(), 0..1024),
            size in 1usize..300,
        ) {
            let encoded = chunked(&data, size);
            prop_assert_eq!(chunks(&encoded), (data, true));
        }
    }
}
