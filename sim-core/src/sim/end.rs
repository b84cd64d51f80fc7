//! The end of a run: the liveness window's conditions, the end-of-run checks (the
//! checker's `check_all`, linearizability, bounds, `sometimes`), metrics, and the
//! `RunOutput`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use crate::hash::hex;
use crate::protocol::*;
use crate::result::{percentile, RunOutput, RunResult, Verdict};
use crate::stats::{per_second, ratio, Unavailability};
use crate::trace::TraceDetail;

use super::history::{check_linearizable, LINCHECK_MAX_STEPS, LINEARIZABLE};
use super::Sim;

impl<'a, P: Protocol> Sim<'a, P> {
    pub(super) fn check_liveness(&mut self) {
        let checker = &self.checker;
        let nodes = &self.nodes;
        self.liveness_pending.retain(|condition| {
            condition == "client_progress" || checker.liveness_holds(condition, nodes) != Some(true)
        });
        if self.liveness_pending.is_empty() {
            // Every condition held within the window: the run has shown what it must.
            self.end();
        }
    }

    pub(super) fn end(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some(condition) = self.liveness_pending.first() {
            let healed_at = self.healed_at.unwrap_or(0);
            let within_ms = self
                .prepared
                .scenario
                .file
                .liveness
                .as_ref()
                .map_or(0, |l| l.within_ms);
            let detail = format!(
                "`{condition}` did not hold within {within_ms} ms of the heal at {} us",
                healed_at
            );
            let condition = condition.clone();
            self.fail(Verdict::Liveness, condition, detail);
            return;
        }
        if let Err(violation) = self.checker.check_all(&self.nodes) {
            self.fail(
                Verdict::Violation,
                violation.property,
                format!("{} (end-of-run check)", violation.detail),
            );
            return;
        }
        if let Some(model) = self
            .prepared
            .registration
            .history
            .as_ref()
            .map(|hooks| hooks.model.clone())
        {
            if let Err((verdict, detail)) =
                check_linearizable(&self.history, model, LINCHECK_MAX_STEPS)
            {
                self.fail(verdict, LINEARIZABLE, detail);
                return;
            }
        }
        if let Some(bounds) = &self.prepared.scenario.file.bounds {
            self.metrics.client_latency_us_max = self
                .history
                .iter()
                .filter(|op| op.status == "ok")
                .filter_map(|op| op.complete_us.map(|complete| complete - op.invoke_us))
                .max()
                .unwrap_or(0);
            if let Some((property, detail)) = bounds.first_exceeded(&self.metrics) {
                self.fail(Verdict::Violation, property, detail);
                return;
            }
        }
        for name in &self.prepared.scenario.file.sometimes {
            let happened = if name == "fault_fired" {
                !self.faults_fired.is_empty()
            } else {
                self.observation_counts
                    .get(name.as_str())
                    .is_some_and(|&count| count > 0)
            };
            if !happened {
                let detail = format!("`{name}` never happened in the run: it proves nothing");
                self.fail(Verdict::Liveness, format!("sometimes.{name}"), detail);
                return;
            }
        }
    }

    pub(super) fn finish(mut self) -> RunOutput {
        let prepared = self.prepared;
        let (verdict, property, detail) = match self.failure.take() {
            Some((verdict, property, detail)) => (verdict, Some(property), Some(detail)),
            None => (Verdict::Pass, None, None),
        };
        self.trace_line(None, "end", || TraceDetail::End {
            verdict: verdict.name().to_string(),
            property: property.clone(),
        });
        for op in &self.history {
            if op.complete_us.is_none() {
                self.metrics.client_ops_unknown += 1;
            }
        }
        self.latencies_us.sort_unstable();
        self.metrics.client_latency_us_p50 = percentile(&self.latencies_us, 50);
        self.metrics.client_latency_us_p99 = percentile(&self.latencies_us, 99);
        self.metrics.client_latency_us_max = self.latencies_us.last().copied().unwrap_or(0);
        self.metrics.events = self.events;
        self.metrics.throughput_ops_per_sec = per_second(self.metrics.client_ops_ok, self.now);
        self.metrics.messages_per_committed_op =
            ratio(self.metrics.messages_sent, self.metrics.client_ops_ok);
        if let Some(workload) = &prepared.scenario.file.workload {
            self.metrics.unavailability =
                Unavailability::of(&self.history, self.now, workload.timeout_ms.max(1) * 1000);
        }
        let to_strings = |map: &BTreeMap<&'static str, u64>| {
            map.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        self.metrics.messages_by_kind = to_strings(&self.messages_by_kind);
        self.metrics.drops_by_cause = to_strings(&self.drops_by_cause);
        self.metrics.observations = to_strings(&self.observation_counts);
        self.events.hash(&mut self.hasher);
        let byzantine = self.byzantine_ids().iter().map(|node| node.0).collect();
        RunOutput {
            result: RunResult {
                scenario: prepared.scenario.path.display().to_string(),
                seed: self.seed,
                mutant: prepared.mutant.clone(),
                swarm: prepared.swarm,
                verdict,
                property,
                detail,
                time_us: self.now,
                event_index: self.events,
                trace_hash: hex(self.hasher.finish()),
                metrics: self.metrics,
                faults_fired: to_strings(&self.faults_fired),
                repro: prepared.repro(self.seed),
                roles: prepared
                    .registration
                    .roles
                    .iter()
                    .map(|role| crate::result::DeclaredRole {
                        name: role.name.to_string(),
                        colour: role.colour.to_string(),
                        leader: role.leader,
                    })
                    .collect(),
                byzantine,
            },
            trace: self.trace,
            history: self.history,
            history_model: prepared
                .registration
                .history
                .as_ref()
                .map(|hooks| hooks.model.clone()),
            roles: self.roles,
            faults: self.applied_faults,
            tape: self.decisions.into_tape(),
        }
    }
}
