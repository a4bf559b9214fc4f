//! The request head shared by the HTTP and RTSP servers: `METHOD target VERSION` plus headers.

/// A syntactically valid request head.
#[derive(Debug)]
pub(crate) struct Request {
    /// Upper-case method token, e.g. `GET` or `DESCRIBE`.
    pub method: String,
    /// Request target as sent (origin form, absolute URL or `*`).
    pub target: String,
    /// Protocol version, e.g. `HTTP/1.1` or `RTSP/1.0`.
    pub version: String,
    headers: Vec<(String, String)>,
}

impl Request {
    /// Parses the lines of a head; `None` when they are not a well-formed request.
    pub fn parse(lines: &[String]) -> Option<Request> {
        let (first, rest) = lines.split_first()?;
        let mut parts = first.split(' ');
        let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_' || b == b'-')
            || target.is_empty()
            || !target.bytes().all(|b| b.is_ascii_graphic())
            || !is_version(version)
        {
            return None;
        }
        let headers = rest
            .iter()
            .map(|line| {
                let (name, value) = line.split_once(':')?;
                let valid_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
                valid_name.then(|| (name.to_owned(), value.trim().to_owned()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Request {
            method: method.to_owned(),
            target: target.to_owned(),
            version: version.to_owned(),
            headers,
        })
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target's path: no scheme, authority or query.
    pub fn path(&self) -> &str {
        let target = self.target.as_str();
        let without_scheme = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |slash| &rest[slash..]),
            None => target,
        };
        without_scheme
            .split(['?', '#'])
            .next()
            .unwrap_or(without_scheme)
    }
}

/// `PROTO/major.minor` with an upper-case protocol name.
fn is_version(version: &str) -> bool {
    let Some((proto, number)) = version.split_once('/') else {
        return false;
    };
    let Some((major, minor)) = number.split_once('.') else {
        return false;
    };
    !proto.is_empty()
        && proto.bytes().all(|b| b.is_ascii_uppercase())
        && [major, minor]
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Option<Request> {
        Request::parse(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_requests_and_rejects_garbage() {
        let req = parse(&["DESCRIBE rtsp://h:8554/live?x RTSP/1.0", "cseq: 2"]).unwrap();
        assert_eq!(req.method, "DESCRIBE");
        assert_eq!(req.path(), "/live");
        assert_eq!(req.header("CSeq"), Some("2"));
        assert_eq!(parse(&["GET /a?b HTTP/1.1"]).unwrap().path(), "/a");

        assert!(parse(&["garbage"]).is_none());
        assert!(parse(&["GET / HTTP/1.1 extra"]).is_none());
        assert!(parse(&["get / HTTP/1.1"]).is_none());
        assert!(parse(&["GET / HTTP/x"]).is_none());
        assert!(parse(&["GET / HTTP/1.1", "no colon"]).is_none());
    }
}
