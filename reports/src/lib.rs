//! reports: turns run and sweep results into summaries for people and CI.
