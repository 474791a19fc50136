//! Salesforce record Ids: 15-character case-sensitive base-62 Ids with the 3-character
//! case-safe checksum suffix that makes the 18-character form the API always returns.
//!
//! The fake org packs an Id into a `u64` (key prefix in the top 24 bits, a per-object
//! sequence number below) and spells it `<prefix>8d0<9 base-62 digits>`. The digits use
//! the ASCII-ordered alphabet `0-9A-Za-z`, so comparing Id strings compares sequence
//! numbers: `Id > '...'` range filters and `ORDER BY Id` need no special casing.

use std::fmt;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
/// The pod and reserved characters between the key prefix and the sequence digits.
const POD: &[u8; 3] = b"8d0";
const SEQ_BITS: u32 = 40;
const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;

/// A record Id as the fake org stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(u64);

impl RecordId {
    /// The Id of sequence number `seq` for an object with key prefix `prefix`
    /// (three ASCII characters).
    pub fn new(prefix: [u8; 3], seq: u64) -> Self {
        let p = (u64::from(prefix[0]) << 16) | (u64::from(prefix[1]) << 8) | u64::from(prefix[2]);
        RecordId((p << SEQ_BITS) | (seq & SEQ_MASK))
    }

    /// The key prefix (`001` for Account ...).
    pub fn prefix(self) -> [u8; 3] {
        let p = self.0 >> SEQ_BITS;
        [(p >> 16) as u8, (p >> 8) as u8, p as u8]
    }

    /// The per-object sequence number.
    pub fn seq(self) -> u64 {
        self.0 & SEQ_MASK
    }

    /// The 15-character case-sensitive form.
    pub fn to_15(self) -> [u8; 15] {
        let mut out = [0u8; 15];
        out[..3].copy_from_slice(&self.prefix());
        out[3..6].copy_from_slice(POD);
        let mut n = self.seq();
        for i in (6..15).rev() {
            out[i] = ALPHABET[(n % 62) as usize];
            n /= 62;
        }
        out
    }

    /// The 18-character form the API returns.
    pub fn to_18(self) -> [u8; 18] {
        let short = self.to_15();
        let mut out = [0u8; 18];
        out[..15].copy_from_slice(&short);
        out[15..].copy_from_slice(&checksum(&short));
        out
    }

    /// Parses a 15- or 18-character Id spelled the way the fake org spells them. Returns
    /// `None` for anything else (wrong length, bad checksum, foreign pod characters).
    pub fn parse(text: &str) -> Option<RecordId> {
        let b = text.as_bytes();
        if b.len() != 15 && b.len() != 18 {
            return None;
        }
        if !b.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        let short: [u8; 15] = b[..15].try_into().ok()?;
        if b.len() == 18 && !b[15..].eq_ignore_ascii_case(&checksum(&short)) {
            return None;
        }
        if &short[3..6] != POD {
            return None;
        }
        let mut seq: u64 = 0;
        for &c in &short[6..] {
            seq = seq.checked_mul(62)?.checked_add(digit(c)?)?;
        }
        if seq > SEQ_MASK {
            return None;
        }
        Some(RecordId::new([short[0], short[1], short[2]], seq))
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always ASCII.
        f.write_str(std::str::from_utf8(&self.to_18()).unwrap_or_default())
    }
}

fn digit(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        b'A'..=b'Z' => Some(u64::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u64::from(c - b'a') + 36),
        _ => None,
    }
}

/// The 3-character suffix of a 15-character Id: for each group of five characters, a
/// bit per upper-case letter, indexed into `A-Z0-5`.
pub fn checksum(short: &[u8; 15]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (g, chunk) in short.chunks(5).enumerate() {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out[g] = SUFFIX[bits];
    }
    out
}

/// Whether `text` has the shape of any Salesforce Id (15 alphanumerics, or 18 with a
/// valid checksum), whoever issued it.
pub fn is_valid_shape(text: &str) -> bool {
    let b = text.as_bytes();
    if !(b.len() == 15 || b.len() == 18) || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    if b.len() == 18 {
        let Ok(short) = <[u8; 15]>::try_from(&b[..15]) else {
            return false;
        };
        return b[15..].eq_ignore_ascii_case(&checksum(&short));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_checksums() {
        // Published examples of 15 -> 18 conversions.
        let cases = [
            ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
            ("0015000000Gv7qJ", "0015000000Gv7qJAAR"),
            ("a00B000000FSkcv", "a00B000000FSkcvIAD"),
        ];
        for (short, long) in cases {
            let s: [u8; 15] = short.as_bytes().try_into().unwrap();
            let sum = checksum(&s);
            assert_eq!(std::str::from_utf8(&sum).unwrap(), &long[15..], "{short}");
            assert!(is_valid_shape(long));
        }
    }

    #[test]
    fn order_follows_sequence() {
        let a = RecordId::new(*b"006", 61).to_string();
        let b = RecordId::new(*b"006", 62).to_string();
        let c = RecordId::new(*b"006", 1_000_000).to_string();
        assert!(a[..15] < b[..15] && b[..15] < c[..15]);
    }

    proptest! {
        #[test]
        fn round_trip(seq in 0u64..(1u64 << 40), p in 0usize..3) {
            let prefix = [*b"001", *b"0Q0", *b"00k"][p];
            let id = RecordId::new(prefix, seq);
            let long = id.to_string();
            prop_assert_eq!(long.len(), 18);
            prop_assert!(is_valid_shape(&long));
            prop_assert_eq!(RecordId::parse(&long), Some(id));
            prop_assert_eq!(RecordId::parse(&long[..15]), Some(id));
        }

        #[test]
        fn checksum_detects_case_changes(seq in 0u64..(1u64 << 40)) {
            let long = RecordId::new(*b"006", seq).to_string();
            let flipped: String = long[..15]
                .chars()
                .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
                .collect();
            if flipped != long[..15] {
                let forged = format!("{flipped}{}", &long[15..]);
                prop_assert!(!is_valid_shape(&forged));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = RecordId::parse(&s);
            let _ = is_valid_shape(&s);
        }
    }
}
