//! A small, fixed, portable 64-bit hasher for trace hashes. Unlike std's `DefaultHasher`
//! it is specified here, so a trace hash means the same thing in every build.

use std::hash::Hasher;

/// FNV-1a over bytes with a final avalanche (from splitmix64). Integers are fed as
/// little-endian bytes whatever the platform.
#[derive(Clone, Debug)]
pub struct TraceHasher {
    state: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher { state: FNV_OFFSET }
    }
}

impl TraceHasher {
    pub fn finish_mixed(&self) -> u64 {
        mix64(self.state)
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        self.finish_mixed()
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.state ^= byte as u64;
            self.state = self.state.wrapping_mul(FNV_PRIME);
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.write(&[value]);
    }
    fn write_u16(&mut self, value: u16) {
        self.write(&value.to_le_bytes());
    }
    fn write_u32(&mut self, value: u32) {
        self.write(&value.to_le_bytes());
    }
    fn write_u64(&mut self, value: u64) {
        self.write(&value.to_le_bytes());
    }
    fn write_usize(&mut self, value: usize) {
        self.write(&(value as u64).to_le_bytes());
    }
    fn write_isize(&mut self, value: isize) {
        self.write(&(value as i64).to_le_bytes());
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
