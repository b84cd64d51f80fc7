//! A small, fixed, portable 64-bit hasher for trace hashes. Unlike std's `DefaultHasher`
//! it is specified here, so a trace hash means the same thing in every build.

use std::hash::Hasher;

/// A word-at-a-time multiplicative hash (FxHash-like) with a splitmix64 finaliser.
/// Integers are fed as little-endian words whatever the platform; byte strings in
/// 8-byte little-endian chunks.
#[derive(Clone, Debug)]
pub struct TraceHasher {
    state: u64,
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher { state: SEED }
    }
}

impl TraceHasher {
    pub fn finish_mixed(&self) -> u64 {
        mix64(self.state)
    }

    #[inline]
    fn add(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        self.finish_mixed()
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(value as u64);
    }
    fn write_u16(&mut self, value: u16) {
        self.add(value as u64);
    }
    fn write_u32(&mut self, value: u32) {
        self.add(value as u64);
    }
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
    fn write_isize(&mut self, value: isize) {
        self.add(value as i64 as u64);
    }
}

/// splitmix64's finaliser: a bijective avalanche of 64 bits.
pub fn mix64(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

pub fn hex(value: u64) -> String {
    format!("{value:016x}")
}
