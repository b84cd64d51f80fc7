//! Each node's local clock, the one a protocol that reads its clock sees
//! (`Registration::reads_clock`): real time run through the node's drift, plus its skew.
//!
//! Drift (`clock_drift`) is a rate: it stretches the node's timers and slows (positive)
//! or speeds (negative) its clock alike, so a timer of `d` local microseconds fires when
//! the clock has advanced by about `d`. Skew (`clock_skew`) is an offset: a step of the
//! clock that moves no timer (timers measure intervals). Integer arithmetic only.

use crate::protocol::TimeUs;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LocalClock {
    /// Real time of the last drift change, and the unskewed local time then.
    base_real_us: TimeUs,
    base_local_us: TimeUs,
    /// Parts per million: above -1,000,000 (validated), so the rate stays positive.
    pub(super) drift_ppm: i64,
    offset_us: i64,
}

impl LocalClock {
    fn unskewed(&self, now: TimeUs) -> TimeUs {
        let elapsed = i128::from(now - self.base_real_us);
        let local = elapsed * 1_000_000 / (1_000_000 + i128::from(self.drift_ppm));
        self.base_local_us + local as TimeUs
    }

    /// The clock's reading at real time `now` (never below 0).
    pub(super) fn read(&self, now: TimeUs) -> TimeUs {
        (i128::from(self.unskewed(now)) + i128::from(self.offset_us)).max(0) as TimeUs
    }

    /// From `now` on, the clock runs at this drift.
    pub(super) fn set_drift(&mut self, now: TimeUs, drift_ppm: i64) {
        assert!(
            drift_ppm > -1_000_000,
            "drift {drift_ppm} ppm stops the clock"
        );
        self.base_local_us = self.unskewed(now);
        self.base_real_us = now;
        self.drift_ppm = drift_ppm;
    }

    /// From `now` on, the clock reads this far from its unskewed time.
    pub(super) fn set_offset_ms(&mut self, offset_ms: i64) {
        self.offset_us = offset_ms * 1000;
    }
}

#[cfg(test)]
mod tests {
    use super::LocalClock;

    #[test]
    fn drift_and_skew_compose() {
        let mut clock = LocalClock::default();
        assert_eq!(clock.read(5_000), 5_000);
        // Twice as slow from 10 ms: 10 ms of real time later it has advanced 5 ms.
        clock.set_drift(10_000, 1_000_000);
        assert_eq!(clock.read(20_000), 15_000);
        clock.set_offset_ms(-3);
        assert_eq!(clock.read(20_000), 12_000);
        // Back to real rate: it keeps the time it lost.
        clock.set_drift(20_000, 0);
        assert_eq!(clock.read(30_000), 22_000);
        clock.set_offset_ms(-1_000);
        assert_eq!(clock.read(30_000), 0, "a clock never reads below 0");
    }
}
