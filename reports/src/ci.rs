//! CI outputs of a sweep: JUnit XML (one test case per scenario) and a short Markdown
//! summary fit for a CI job summary.

use std::fmt::Write;

use sim_core::sweep::SweepSummary;

use crate::html::escape;

/// JUnit XML: one `<testcase>` per scenario; a failing scenario carries its failing seeds,
/// properties and repro commands in `<failure>`. `seconds` is the sweep's wall time.
pub fn junit(summaries: &[SweepSummary], seconds: f64) -> String {
    let failures = summaries.iter().filter(|s| s.failed > 0).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"quorumlab\" tests=\"{}\" failures=\"{failures}\" time=\"{seconds:.3}\">",
        summaries.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"quorumlab sweep\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{seconds:.3}\">",
        summaries.len()
    );
    for summary in summaries {
        let name = match &summary.mutant {
            Some(mutant) => format!("{} [mutant {mutant}]", summary.scenario),
            None => summary.scenario.clone(),
        };
        let _ = write!(
            xml,
            "    <testcase classname=\"quorumlab.{}\" name=\"{} seeds {}..{} shard {}\"",
            escape(&summary.protocol),
            escape(&name),
            summary.seed_first,
            summary.seed_last,
            escape(&summary.shard)
        );
        if summary.failed == 0 {
            xml.push_str("/>\n");
            continue;
        }
        let properties: Vec<String> = summary
            .properties_violated
            .iter()
            .map(|(p, n)| format!("{p} ({n})"))
            .collect();
        let _ = writeln!(
            xml,
            ">\n      <failure message=\"{} of {} seeds failed: {}\" type=\"{}\">",
            summary.failed,
            summary.seeds,
            escape(&properties.join(", ")),
            escape(
                summary
                    .properties_violated
                    .keys()
                    .next()
                    .map_or("failure", String::as_str)
            )
        );
        for failure in &summary.failures {
            let _ = writeln!(
                xml,
                "seed {}: {} {}: {}\n  repro: {}",
                failure.seed,
                failure.verdict.name(),
                escape(failure.property.as_deref().unwrap_or("-")),
                escape(failure.detail.as_deref().unwrap_or("")),
                escape(&failure.repro)
            );
        }
        xml.push_str("      </failure>\n    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// A short Markdown summary: one row per scenario, then each failure's repro command.
pub fn markdown(summaries: &[SweepSummary], seconds: f64) -> String {
    let seeds: u64 = summaries.iter().map(|s| s.seeds).sum();
    let failed: u64 = summaries.iter().map(|s| s.failed).sum();
    let mut text = String::new();
    let verdict = if failed == 0 {
        "✅ all seeds passed"
    } else {
        "❌ failures"
    };
    let _ = writeln!(text, "## quorumlab sweep: {verdict}\n");
    let _ = writeln!(text, "{seeds} seeds, {failed} failed, in {seconds:.1} s.\n");
    text.push_str("| scenario | mutant | seeds | passed | failed | violated | faults fired |\n");
    text.push_str("|---|---|---:|---:|---:|---|---|\n");
    for summary in summaries {
        let violated: Vec<String> = summary
            .properties_violated
            .iter()
            .map(|(p, n)| format!("{p} ×{n}"))
            .collect();
        let faults: Vec<String> = summary
            .fault_counts
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            text,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            summary.scenario,
            summary.mutant.as_deref().unwrap_or("—"),
            summary.seeds,
            summary.passed,
            summary.failed,
            if violated.is_empty() {
                "—".to_string()
            } else {
                violated.join(", ")
            },
            if faults.is_empty() {
                "—".to_string()
            } else {
                faults.join(", ")
            },
        );
    }
    let failures: Vec<_> = summaries
        .iter()
        .flat_map(|s| s.failures.iter())
        .take(20)
        .collect();
    if !failures.is_empty() {
        text.push_str("\n### Failing seeds\n\n");
        for failure in failures {
            let _ = writeln!(
                text,
                "- seed {}: **{}** — `{}`",
                failure.seed,
                failure
                    .property
                    .as_deref()
                    .unwrap_or(failure.verdict.name()),
                failure.repro
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::result::Verdict;
    use sim_core::sweep::FailureEntry;

    fn summary(failed: u64) -> SweepSummary {
        let json = serde_json::json!({
            "scenario": "scenarios/raft/x.toml", "protocol": "raft", "mutant": "vote-ignores-log", "swarm": false,
            "seed_first": 1, "seed_last": 10, "shard": "1/1", "seeds": 10, "passed": 10 - failed, "failed": failed,
            "verdicts": {}, "properties_violated": if failed > 0 { serde_json::json!({"leader_completeness": failed}) } else { serde_json::json!({}) },
            "failures": [], "fault_counts": {"crash": 3}, "seeds_with_faults": 3, "events": 100, "sim_time_us": 5,
            "sweep_hash": "00", "determinism_rechecked": 0, "determinism_mismatches": [], "stopped_early": false
        });
        let mut summary: SweepSummary = serde_json::from_value(json).unwrap();
        if failed > 0 {
            summary.failures.push(FailureEntry {
                seed: 4,
                verdict: Verdict::Violation,
                property: Some("leader_completeness".into()),
                detail: Some("n1 <lacks> & index".into()),
                repro: "quorumlab run scenarios/raft/x.toml --seed 4".into(),
            });
        }
        summary
    }

    #[test]
    fn junit_has_a_testcase_per_scenario_and_escapes_failures() {
        let xml = junit(&[summary(0), summary(2)], 1.5);
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert!(xml.contains("failures=\"1\""));
        assert!(xml.contains("<failure message=\"2 of 10 seeds failed: leader_completeness (2)\""));
        assert!(xml.contains("n1 &lt;lacks&gt; &amp; index"), "{xml}");
        assert!(xml.contains("repro: quorumlab run scenarios/raft/x.toml --seed 4"));
    }

    #[test]
    fn markdown_lists_scenarios_and_repro_commands() {
        let text = markdown(&[summary(2)], 1.0);
        assert!(text.contains("❌ failures"));
        assert!(text.contains("| `scenarios/raft/x.toml` | vote-ignores-log | 10 | 8 | 2 | leader_completeness ×2 | crash 3 |"));
        assert!(text.contains("`quorumlab run scenarios/raft/x.toml --seed 4`"));
    }
}
