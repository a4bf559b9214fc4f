//! FTP replies (RFC 959 section 4.2): a three-digit code, on one line or as a multi-line block
//! ending with the same code and a space.

/// The code of the complete reply in `raw`, or `None` while it is incomplete or when `raw` is
/// not an FTP reply.
pub fn reply_code(raw: &[u8]) -> Option<u16> {
    let code = raw.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || !raw.ends_with(b"\n") {
        return None;
    }
    let single = raw.get(3) == Some(&b' ');
    let complete = single || {
        let body = raw.strip_suffix(b"\n").unwrap_or(raw);
        let last = body.rsplit(|&b| b == b'\n').next().unwrap_or_default();
        last.get(..3) == Some(code) && last.get(3) == Some(&b' ')
    };
    if !complete {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn replies_complete_on_their_final_line() {
        assert_eq!(reply_code(b"220 ready\r\n"), Some(220));
        assert_eq!(reply_code(b"220-welcome\r\n"), None);
        assert_eq!(
            reply_code(b"220-welcome\r\nmore\r\n220 ready\r\n"),
            Some(220)
        );
        assert_eq!(reply_code(b"220-welcome\r\n230 other\r\n"), None);
        assert_eq!(reply_code(b"22"), None);
        assert_eq!(reply_code(b"xyz ok\r\n"), None);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..1024)) {
            if let Some(code) = reply_code(&raw) {
                prop_assert!((0..1000).contains(&code));
            }
        }
    }
}
