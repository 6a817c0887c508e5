//! Deterministic hashing, a small seeded RNG and GUIDs.
//!
//! Everything the simulator generates is a pure function of the seed and a few indices, so a
//! fleet of 10,000 tenants needs no storage for its users: user `i` of tenant `t` is computed
//! when asked for.

use std::fmt;
use std::str::FromStr;

/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash of one word.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a sequence of words (order matters).
#[inline]
pub fn hash(parts: &[u64]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for &p in parts {
        h = mix(h ^ p);
    }
    h
}

/// A uniform float in [0, 1) from a hash.
#[inline]
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A small deterministic generator (SplitMix64 stream).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(parts: &[u64]) -> Self {
        Rng(hash(parts))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        unit(self.next_u64()) < p
    }
    pub fn unit(&mut self) -> f64 {
        unit(self.next_u64())
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A GUID, printed the way Microsoft prints them (lowercase 8-4-4-4-12).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// A version-4-shaped GUID derived from a hash of `parts`.
    pub fn from_parts(parts: &[u64]) -> Guid {
        let a = hash(parts);
        let b = mix(a ^ 0x5851_F42D_4C95_7F2D);
        Guid::from_words(a, b)
    }
    pub fn from_words(a: u64, b: u64) -> Guid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0F) | 0x40; // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80; // RFC 4122 variant
        Guid(bytes)
    }
    /// The last four bytes as a big-endian word (used to embed an index in a GUID).
    pub fn tail_u32(&self) -> u32 {
        u32::from_be_bytes([self.0[12], self.0[13], self.0[14], self.0[15]])
    }
    pub fn with_tail_u32(mut self, v: u32) -> Guid {
        self.0[12..].copy_from_slice(&v.to_be_bytes());
        self
    }
}

/// The text of a GUID (lowercase 8-4-4-4-12), on the stack.
pub struct GuidText([u8; 36]);

impl GuidText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits and hyphens")
    }
}

impl Guid {
    /// The text [`Display`](fmt::Display) writes, without formatting machinery.
    pub fn text(&self) -> GuidText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; 36];
        let mut at = 0;
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                at += 1;
            }
            out[at] = HEX[(byte >> 4) as usize];
            out[at + 1] = HEX[(byte & 0xF) as usize];
            at += 2;
        }
        GuidText(out)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Guid {
    type Err = ();
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (case-insensitive), as Graph accepts ids.
    fn from_str(s: &str) -> Result<Guid, ()> {
        let s = s.as_bytes();
        if s.len() != 36 {
            return Err(());
        }
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut i = 0;
        while i < 36 {
            if matches!(i, 8 | 13 | 18 | 23) {
                if s[i] != b'-' {
                    return Err(());
                }
                i += 1;
                continue;
            }
            let hi = hex(s[i])?;
            let lo = hex(s[i + 1])?;
            out[n] = (hi << 4) | lo;
            n += 1;
            i += 2;
        }
        Ok(Guid(out))
    }
}

impl serde::Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Guid, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom(format!("'{s}' is not a GUID")))
    }
}

fn hex(c: u8) -> Result<u8, ()> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(()),
    }
}

/// A random (not deterministic) GUID for request ids, trace ids and the like.
#[allow(clippy::disallowed_methods)] // entropy for random ids, not time
pub fn random_guid() -> Guid {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    Guid::from_parts(&[nanos, c, std::process::id() as u64])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips_and_is_v4_shaped() {
        let g = Guid::from_parts(&[1, 2, 3]);
        let s = g.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(s.parse::<Guid>().unwrap(), g);
        assert_eq!(s.to_uppercase().parse::<Guid>().unwrap(), g);
        assert!("not-a-guid".parse::<Guid>().is_err());
    }

    #[test]
    fn guid_text_is_what_formatting_each_byte_wrote() {
        for n in 0..2_000u64 {
            let g = Guid::from_parts(&[n]);
            let b = &g.0;
            let want = format!(
                "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
            );
            assert_eq!(g.to_string(), want);
            assert_eq!(serde_json::to_string(&g).unwrap(), format!("\"{want}\""));
        }
        assert_eq!(Guid([0; 16]).to_string(), "00000000-0000-0000-0000-000000000000");
        assert_eq!(Guid([0xFF; 16]).to_string(), "ffffffff-ffff-ffff-ffff-ffffffffffff");
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let mut a = Rng::new(&[7]);
        let mut b = Rng::new(&[7]);
        for _ in 0..1000 {
            let x = a.range(5, 9);
            assert_eq!(x, b.range(5, 9));
            assert!((5..=9).contains(&x));
        }
    }
}
