//! The end of a run: the liveness window's conditions, the end-of-run checks (the
//! checker's `check_all`, linearizability, bounds, `sometimes`), metrics, and the
//! `RunOutput`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use crate::hash::hex;
use crate::protocol::*;
use crate::result::{percentile, RunOutput, RunResult, Verdict};

use super::trace_buffer::TraceBuffer;
use crate::stats::{per_second, ratio, Unavailability};
use crate::trace::TraceDetail;

use super::history::{check_linearizable, LINCHECK_MAX_STEPS, LINEARIZABLE};
use super::Sim;

impl<'a, P: Protocol> Sim<'a, P> {
    pub(super) fn check_liveness(&mut self) {
        let checker = &self.checker;
        let nodes = &self.nodes;
        let clients = &self.clients;
        let at_heal = &self.outstanding_at_heal;
        self.liveness_pending
            .retain(|condition| match condition.as_str() {
                // Held when an operation invoked after the heal completes (`on_client_reply`).
                "client_progress" => true,
                "client_ops_complete" => at_heal.iter().any(|&(client, request)| {
                    clients[client as usize]
                        .outstanding
                        .as_ref()
                        .is_some_and(|outstanding| outstanding.request == request)
                }),
                _ => checker.liveness_holds(condition, nodes) != Some(true),
            });
        self.end_if_shown();
    }

    /// Every liveness condition held within the window: the run has shown what it must,
    /// and ends, unless a `[[checks]]` window is still open.
    pub(super) fn end_if_shown(&mut self) {
        if self.healed_at.is_some()
            && self.liveness_pending.is_empty()
            && !self.checks_hold_run_open()
        {
            self.end();
        }
    }

    /// The heal opens the liveness window: note what is outstanding then.
    pub(super) fn note_outstanding_at_heal(&mut self) {
        self.outstanding_at_heal = self
            .clients
            .iter()
            .enumerate()
            .filter_map(|(client, state)| {
                let outstanding = state.outstanding.as_ref()?;
                Some((client as ClientId, outstanding.request))
            })
            .collect();
    }

    pub(super) fn end(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Err(violation) = crate::panics::protocol_code(|| self.checker.check_all(&self.nodes))
        {
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
        self.judge_closed_windows(true);
        if self.failure.is_some() {
            return;
        }
        // Liveness after the safety and cost checks: a run that missed its window has
        // still had its bounds counted. A timed condition is still pending (nothing
        // judges it from one state): the meter judges it over the whole run.
        if let Some((condition, detail)) = self.judge_timed_conditions() {
            self.fail(Verdict::Liveness, condition, detail);
            return;
        }
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
        for name in &self.prepared.scenario.file.sometimes {
            let happened = if name == super::FAULT_FIRED {
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

    /// Tell the meter the run ended, once.
    fn end_meter(&mut self) {
        if let (Some(meter), false) = (&mut self.meter, self.meter_ended) {
            self.meter_ended = true;
            crate::panics::protocol_code(|| meter.on_end(self.now));
        }
    }

    /// The meter's verdicts on the pending liveness conditions it judges: those that held
    /// leave the pending list, and the first that failed is returned with its detail.
    fn judge_timed_conditions(&mut self) -> Option<(String, String)> {
        self.end_meter();
        let meter = self.meter.as_ref()?;
        let mut failed = None;
        self.liveness_pending.retain(|condition| {
            match crate::panics::protocol_code(|| meter.judge(condition)) {
                Some(Ok(())) => false,
                Some(Err(detail)) => {
                    failed.get_or_insert((condition.clone(), detail));
                    true
                }
                None => true,
            }
        });
        failed
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
        if let Some(adversary) = &self.adversary {
            self.metrics.adversary_held_at_end = adversary.held_count() as u64;
        }
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
        self.end_meter();
        if let Some(meter) = &self.meter {
            self.metrics.protocol = meter
                .metrics()
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect();
        }
        self.events.hash(&mut self.hasher);
        let byzantine = self.byzantine_ids().iter().map(|node| node.0).collect();
        let live = self.live_state();
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
            trace: self.trace.map(TraceBuffer::finish),
            history: self.history,
            history_model: prepared
                .registration
                .history
                .as_ref()
                .map(|hooks| hooks.model.clone()),
            roles: self.roles,
            faults: self.applied_faults,
            tape: self.decisions.into_tape(),
            live,
        }
    }
}
