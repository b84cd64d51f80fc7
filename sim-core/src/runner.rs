//! Protocol-erased access to prepared scenarios, so the CLI and sweeps can work with
//! any protocol through one object-safe interface.

use crate::check::{CheckOptions, CheckReport};
use crate::protocol::{MutantInfo, PropertyInfo, Protocol};
use crate::result::RunOutput;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::Prepared;

/// A scenario bound to its protocol, ready to run any seed.
pub trait Runner: Send + Sync {
    fn scenario(&self) -> &Scenario;
    fn mutant(&self) -> Option<&str>;
    fn run(&self, seed: u64, trace: bool) -> RunOutput;
    /// Run one seed, recording its decision tape when `record_tape` (`RunOutput::tape`).
    fn run_with(&self, seed: u64, trace: bool, record_tape: bool) -> RunOutput;
    fn repro(&self, seed: u64) -> String;
}

impl<P: Protocol> Runner for Prepared<P> {
    fn scenario(&self) -> &Scenario {
        &self.scenario
    }
    fn mutant(&self) -> Option<&str> {
        self.mutant.as_deref()
    }
    fn run(&self, seed: u64, trace: bool) -> RunOutput {
        Prepared::run(self, seed, trace)
    }
    fn run_with(&self, seed: u64, trace: bool, record_tape: bool) -> RunOutput {
        Prepared::run_with(self, seed, trace, record_tape)
    }
    fn repro(&self, seed: u64) -> String {
        Prepared::repro(self, seed)
    }
}

/// One protocol as the CLI sees it.
#[derive(Clone, Copy)]
pub struct ProtocolEntry {
    pub name: &'static str,
    pub description: &'static str,
    pub mutants: fn() -> &'static [MutantInfo],
    pub properties: fn() -> &'static [PropertyInfo],
    pub liveness_conditions: fn() -> &'static [PropertyInfo],
    pub prepare: PrepareFn,
    pub check: CheckFn,
}

/// Model-check a scenario within its `[check]` bounds: `(scenario, mutant override, options)`.
pub type CheckFn = fn(&Scenario, Option<&str>, &CheckOptions) -> Result<CheckReport, ScenarioError>;

/// Bind a scenario to one protocol: `(scenario, mutant override, swarm)`.
pub type PrepareFn = fn(&Scenario, Option<&str>, bool) -> Result<Box<dyn Runner>, ScenarioError>;

impl ProtocolEntry {
    pub fn of<P: Protocol>(description: &'static str) -> ProtocolEntry {
        ProtocolEntry {
            name: P::NAME,
            description,
            mutants: P::mutants,
            properties: <P::Checker as crate::protocol::Checker<P>>::properties,
            liveness_conditions: <P::Checker as crate::protocol::Checker<P>>::liveness_conditions,
            prepare: prepare_boxed::<P>,
            check: crate::check::check::<P>,
        }
    }
}

fn prepare_boxed<P: Protocol>(
    scenario: &Scenario,
    mutant: Option<&str>,
    swarm: bool,
) -> Result<Box<dyn Runner>, ScenarioError>
where
    P::Config: Sync,
{
    Ok(Box::new(Prepared::<P>::new(scenario, mutant, swarm)?))
}

/// The registry entry of the scenario's protocol.
pub fn entry_for<'a>(
    registry: &'a [ProtocolEntry],
    scenario: &Scenario,
) -> Result<&'a ProtocolEntry, ScenarioError> {
    let name = scenario.file.protocol.as_str();
    registry
        .iter()
        .find(|entry| entry.name == name)
        .ok_or_else(|| {
            scenario.error(
                "protocol",
                format!("unknown protocol `{name}`"),
                format!(
                    "use one of: {}",
                    registry
                        .iter()
                        .map(|e| e.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Model-check `scenario` with its protocol from `registry`.
pub fn check(
    registry: &[ProtocolEntry],
    scenario: &Scenario,
    mutant: Option<&str>,
    options: &CheckOptions,
) -> Result<CheckReport, ScenarioError> {
    (entry_for(registry, scenario)?.check)(scenario, mutant, options)
}

/// Bind a scenario to its protocol from `registry`.
pub fn prepare(
    registry: &[ProtocolEntry],
    scenario: &Scenario,
    mutant: Option<&str>,
    swarm: bool,
) -> Result<Box<dyn Runner>, ScenarioError> {
    let name = scenario.file.protocol.as_str();
    match registry.iter().find(|entry| entry.name == name) {
        Some(entry) => (entry.prepare)(scenario, mutant, swarm),
        None => Err(scenario.error(
            "protocol",
            format!("unknown protocol `{name}`"),
            format!(
                "use one of: {}",
                registry
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
