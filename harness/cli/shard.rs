//! `--shard I/N`: a stable slice of a run's devices, so a fleet can be split across machines
//! (CI matrix jobs, a Kubernetes Indexed Job) and put back together with `jcstar merge`.
//!
//! A device belongs to exactly one shard, decided by its address alone, by **rendezvous
//! (highest-random-weight) hashing**:
//!
//! 1. `h = FNV-1a-64(text)`, where `text` is the address in its canonical form (Rust's
//!    `IpAddr` display: dotted quad for IPv4, RFC 5952 for IPv6, e.g. `192.168.1.20`,
//!    `2001:db8::7`), as UTF-8 bytes; FNV-1a 64 uses offset basis `0xcbf29ce484222325` and
//!    prime `0x100000001b3`;
//! 2. for every shard `j` in `1..=N`: `score(j) = splitmix64(h ^ (j × 0x9e3779b97f4a7c15))`
//!    (SplitMix64's finaliser: `x ^= x >> 30; x *= 0xbf58476d1ce4e5b9; x ^= x >> 27;
//!    x *= 0x94d049bb133111eb; x ^= x >> 31`, all wrapping);
//! 3. the device goes to the shard with the highest score (the lowest `j` on a tie).
//!
//! So adding or removing a device moves no other device, and changing `N` to `N + 1` moves only
//! the devices the new shard wins (about one in `N + 1`). Every jcstar version computes the same
//! slices; the function is fixed by a test.

use std::net::IpAddr;

use jcstar_model::error::InputError;

/// One slice of `count` (`index` counts from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, 1 ≤ index ≤ count.
    pub index: u32,
    /// How many slices.
    pub count: u32,
}

/// Most shards a run can be split into.
pub const MAX_SHARDS: u32 = 65_536;

impl Shard {
    /// Parses `I/N` (1 ≤ I ≤ N ≤ [`MAX_SHARDS`]); the error is one line saying what to give.
    pub fn parse(text: &str) -> Result<Shard, InputError> {
        let bad = |why: &str| {
            InputError::arg(format!(
                "--shard {text:?}: {why}; give I/N with 1 <= I <= N <= {MAX_SHARDS}, e.g. --shard 2/4"
            ))
        };
        let (index, count) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| bad("not of the form I/N"))?;
        let number = |part: &str| -> Result<u32, InputError> {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("I and N must be whole numbers"));
            }
            part.parse::<u32>().map_err(|_| bad("number too large"))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 || count > MAX_SHARDS {
            return Err(bad("N out of range"));
        }
        if index == 0 || index > count {
            return Err(bad("I out of range"));
        }
        Ok(Shard { index, count })
    }

    /// True when the device at `address` belongs to this slice.
    pub fn owns(&self, address: &IpAddr) -> bool {
        shard_of(address, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (1 ..= `count`) the device at `address` belongs to, by the rendezvous hash the
/// module documentation defines. `count` 0 is treated as 1.
pub fn shard_of(address: &IpAddr, count: u32) -> u32 {
    let h = fnv1a64(address.to_string().as_bytes());
    let mut best = (1u32, 0u64);
    for j in 1..=count.max(1) {
        let score = splitmix64(h ^ u64::from(j).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if j == 1 || score > best.1 {
            best = (j, score);
        }
    }
    best.0
}

/// FNV-1a, 64 bits.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's output function.
fn splitmix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("2/4").ok(), Some(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse("1/1").ok(), Some(Shard { index: 1, count: 1 }));
        for bad in [
            "",
            "3",
            "0/4",
            "5/4",
            "1/0",
            "-1/4",
            "a/b",
            "1/4/2",
            "+1/4",
            "1.0/4",
            "1/65537",
            "99999999999/4",
        ] {
            let error = Shard::parse(bad).expect_err(bad).to_string();
            assert!(!error.contains('\n'), "{error}");
            assert!(error.contains("I/N"), "{error}");
        }
    }

    #[test]
    fn the_hash_is_fixed() {
        // FNV-1a 64 reference values.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        // The slices themselves must never change between versions: merges and CI matrices
        // rely on them.
        let shards: Vec<u32> = (1..=8u8)
            .map(|host| shard_of(&IpAddr::from([10, 0, 0, host]), 4))
            .collect();
        assert_eq!(shards, FIXED_SLICES);
    }

    /// `shard_of(10.0.0.1 ..= 10.0.0.8, 4)`, recorded when the function was written.
    const FIXED_SLICES: [u32; 8] = [2, 2, 4, 1, 2, 2, 2, 4];

    #[test]
    fn every_device_is_in_exactly_one_shard_and_growing_n_moves_few() {
        let addresses: Vec<IpAddr> = (0..2000u32)
            .map(|i| IpAddr::from([10, 1, (i >> 8) as u8, i as u8]))
            .collect();
        for count in [1, 2, 4, 7] {
            let mut sizes = vec![0usize; count as usize];
            for address in &addresses {
                let owners: Vec<u32> = (1..=count)
                    .filter(|&index| Shard { index, count }.owns(address))
                    .collect();
                assert_eq!(owners.len(), 1);
                sizes[(owners[0] - 1) as usize] += 1;
            }
            let fair = addresses.len() / count as usize;
            for size in sizes {
                assert!(
                    size > fair * 8 / 10 && size < fair * 12 / 10,
                    "{count}: {size}"
                );
            }
        }
        let moved = addresses
            .iter()
            .filter(|a| shard_of(a, 4) != shard_of(a, 5))
            .count();
        // About a fifth move (to the new shard), never more.
        assert!(moved < addresses.len() * 25 / 100, "{moved}");
        assert!(addresses
            .iter()
            .filter(|a| shard_of(a, 4) != shard_of(a, 5))
            .all(|a| shard_of(a, 5) == 5));
        let v6: IpAddr = "2001:db8::7".parse().expect("address");
        assert!((1..=3).contains(&shard_of(&v6, 3)));
    }
}
