//! The lab's own BER (X.690) reading and writing for its SNMP agent, independent of the probes'
//! encoder so that a bug on one side cannot hide in the other.

/// A definite-length BER element: tag, length (short or long form) and content.
pub(crate) fn element(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match u32::try_from(content.len()) {
        Ok(len) if len < 0x80 => out.push(len as u8),
        Ok(len) => {
            let bytes = len.to_be_bytes();
            let significant: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
            out.push(0x80 | significant.len() as u8);
            out.extend(significant);
        }
        Err(_) => out.push(0),
    }
    out.extend_from_slice(content);
    out
}

/// Splits the first element off `data`: (tag, content, rest); `None` when it is cut short or its
/// length has more than four bytes.
pub(crate) fn split(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first & 0x80 == 0 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (digits, rest) = rest.split_at(count);
        let len = digits
            .iter()
            .fold(0usize, |n, &d| (n << 8) | usize::from(d));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_round_trip_in_short_and_long_form() {
        for len in [0usize, 1, 127, 128, 255, 256, 1400] {
            let content = vec![7u8; len];
            let encoded = element(0x04, &content);
            assert_eq!(split(&encoded), Some((0x04, &content[..], &[][..])));
        }
        assert_eq!(element(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(split(&[0x30, 0x85, 0, 0, 0, 0, 1]), None);
        assert_eq!(split(&[0x30, 5, 1]), None);
    }
}
