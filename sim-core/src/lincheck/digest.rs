//! `TextDigest`: a string summarised by its length, a polynomial hash and its last few
//! characters, computable over a concatenation from the two parts' digests alone.
//!
//! Why: a key that is appended to grows without bound, and a history that records every
//! get's whole value grows with the square of its length (issue 14: back-to-back appends
//! wrote a 505 MB history). A get records the value's digest instead when the value is
//! long, and the key-value model keeps digests as its states, so a history and its check
//! stay linear in the number of operations. Two different strings share a digest with
//! probability about n/2^61 (a polynomial hash modulo the Mersenne prime 2^61 - 1), so
//! verdicts are those of comparing the strings.

use std::fmt;

use serde::{Deserialize, Serialize};

const MODULUS: u64 = (1 << 61) - 1;
const BASE: u64 = 1_000_003;
/// Characters kept from the end of the string, for explanations.
const TAIL_CHARS: usize = 24;

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TextDigest {
    /// Length in bytes.
    pub len: u64,
    /// Sum of byte_i * BASE^(len - 1 - i), modulo 2^61 - 1.
    pub hash: u64,
    /// The last `TAIL_CHARS` characters (all of a short string).
    pub tail: String,
}

/// `a * b` modulo 2^61 - 1, for `a, b < 2^61 - 1`: the product's high bits fold onto its
/// low bits (2^61 is 1 modulo a Mersenne prime), without a 128-bit division, which made
/// digesting long values the bulk of a run's time.
fn mul_mod(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    reduce((product as u64 & MODULUS) + (product >> 61) as u64)
}

/// `x` modulo 2^61 - 1, for `x < 2^63`.
fn reduce(x: u64) -> u64 {
    let folded = (x & MODULUS) + (x >> 61);
    if folded >= MODULUS {
        folded - MODULUS
    } else {
        folded
    }
}

fn pow_mod(mut base: u64, mut exponent: u64) -> u64 {
    let mut result = 1;
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul_mod(result, base);
        }
        base = mul_mod(base, base);
        exponent >>= 1;
    }
    result
}

fn tail_of(text: &str) -> String {
    let skip = text.chars().count().saturating_sub(TAIL_CHARS);
    text.chars().skip(skip).collect()
}

impl TextDigest {
    pub fn of(text: &str) -> TextDigest {
        let hash = text.bytes().fold(0, |hash, byte| {
            reduce(mul_mod(hash, BASE) + u64::from(byte))
        });
        TextDigest {
            len: text.len() as u64,
            hash,
            tail: tail_of(text),
        }
    }

    /// The digest of `self`'s string followed by `suffix`'s.
    pub fn concat(&self, suffix: &TextDigest) -> TextDigest {
        let shifted = mul_mod(self.hash, pow_mod(BASE, suffix.len));
        let mut tail = self.tail.clone();
        tail.push_str(&suffix.tail);
        TextDigest {
            len: self.len + suffix.len,
            hash: reduce(shifted + suffix.hash),
            tail: tail_of(&tail),
        }
    }
}

impl fmt::Debug for TextDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tail.len() as u64 == self.len {
            write!(f, "{:?}", self.tail)
        } else {
            write!(
                f,
                "\"…{}\" ({} bytes, digest {:016x})",
                self.tail, self.len, self.hash
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mersenne_reduction_is_the_remainder() {
        let reference =
            |a: u64, b: u64| ((u128::from(a) * u128::from(b)) % u128::from(MODULUS)) as u64;
        let edges = [
            0,
            1,
            2,
            BASE,
            MODULUS - 2,
            MODULUS - 1,
            1 << 60,
            (1 << 60) + 12345,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values = edges.to_vec();
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x % MODULUS);
        }
        for &a in &values {
            for &b in &values {
                assert_eq!(mul_mod(a, b), reference(a, b), "{a} * {b}");
            }
            assert_eq!(reduce(a + MODULUS), a);
        }
    }

    #[test]
    fn a_concatenation_has_the_digest_of_the_whole_string() {
        let parts = [
            "",
            "c1s1 ",
            "ü-ñ",
            "c2s7 ",
            "",
            "a long part of forty characters or so...",
        ];
        let mut whole = String::new();
        let mut digest = TextDigest::of("");
        for part in parts {
            whole.push_str(part);
            digest = digest.concat(&TextDigest::of(part));
            assert_eq!(digest, TextDigest::of(&whole));
        }
        assert_ne!(TextDigest::of("ab"), TextDigest::of("ba"));
        assert_ne!(TextDigest::of("a"), TextDigest::of("a\0"));
        assert_eq!(format!("{:?}", TextDigest::of("short")), "\"short\"");
        assert!(format!("{digest:?}").contains("bytes, digest"));
    }
}
