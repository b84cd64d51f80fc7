//! Protocol-erased access to prepared scenarios, so the CLI and sweeps can work with
//! any protocol through one object-safe interface.

use std::sync::Arc;

use schemars::Schema;

#[cfg(feature = "check")]
use crate::check::{CheckOptions, CheckReport};
use crate::protocol::{Checker, MutantInfo, PropertyInfo, Protocol};
use crate::registration::{Registration, RoleInfo};
use crate::result::RunOutput;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::Prepared;

/// A scenario bound to its protocol, ready to run any seed.
pub trait Runner: Send + Sync {
    fn scenario(&self) -> &Scenario;
    fn mutant(&self) -> Option<&str>;
    /// Whether the run is in swarm mode (the scenario's `swarm` or `--swarm`).
    fn swarm(&self) -> bool;
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
    fn swarm(&self) -> bool {
        self.swarm
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

/// One protocol as the CLI sees it: a [`Registration`] with its protocol type erased.
/// Cheap to clone (shared).
#[derive(Clone)]
pub struct ProtocolEntry {
    inner: Arc<dyn Registered>,
}

/// The protocol-erased face of a `Registration<P>`.
trait Registered: Send + Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn mutants(&self) -> &[MutantInfo];
    fn roles(&self) -> &'static [RoleInfo];
    fn strategies(&self) -> Vec<(&'static str, &'static str)>;
    fn properties(&self) -> &'static [PropertyInfo];
    fn liveness_conditions(&self) -> &'static [PropertyInfo];
    fn params_schema(&self) -> Schema;
    fn check_schema(&self) -> Schema;
    fn prepare(
        &self,
        scenario: &Scenario,
        mutant: Option<&str>,
        swarm: bool,
    ) -> Result<Box<dyn Runner>, ScenarioError>;
    #[cfg(feature = "check")]
    fn check(
        &self,
        scenario: &Scenario,
        mutant: Option<&str>,
        options: &CheckOptions,
    ) -> Result<CheckReport, ScenarioError>;
}

impl<P: Protocol> Registered for Arc<Registration<P>> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn mutants(&self) -> &[MutantInfo] {
        Registration::mutants(self)
    }
    fn roles(&self) -> &'static [RoleInfo] {
        self.roles
    }
    fn strategies(&self) -> Vec<(&'static str, &'static str)> {
        self.strategy_names()
            .into_iter()
            .filter(|(name, _)| {
                self.perturb.is_some()
                    || !crate::byzantine::Strategy::generic(name).is_some_and(|s| s.needs_perturb())
            })
            .collect()
    }
    fn properties(&self) -> &'static [PropertyInfo] {
        <P::Checker as Checker<P>>::properties()
    }
    fn liveness_conditions(&self) -> &'static [PropertyInfo] {
        <P::Checker as Checker<P>>::liveness_conditions()
    }
    fn params_schema(&self) -> Schema {
        Registration::params_schema(self)
    }
    fn check_schema(&self) -> Schema {
        Registration::check_schema(self)
    }
    fn prepare(
        &self,
        scenario: &Scenario,
        mutant: Option<&str>,
        swarm: bool,
    ) -> Result<Box<dyn Runner>, ScenarioError> {
        Ok(Box::new(Prepared::<P>::new(
            Arc::clone(self),
            scenario,
            mutant,
            swarm,
        )?))
    }
    #[cfg(feature = "check")]
    fn check(
        &self,
        scenario: &Scenario,
        mutant: Option<&str>,
        options: &CheckOptions,
    ) -> Result<CheckReport, ScenarioError> {
        crate::check::check::<P>(Arc::clone(self), scenario, mutant, options)
    }
}

impl ProtocolEntry {
    pub fn new<P: Protocol>(registration: Registration<P>) -> ProtocolEntry {
        ProtocolEntry {
            inner: Arc::new(Arc::new(registration)),
        }
    }

    pub fn name(&self) -> &'static str {
        self.inner.name()
    }

    pub fn description(&self) -> &'static str {
        self.inner.description()
    }

    pub fn mutants(&self) -> &[MutantInfo] {
        self.inner.mutants()
    }

    pub fn roles(&self) -> &'static [RoleInfo] {
        self.inner.roles()
    }

    /// The Byzantine strategies its scenarios may name (name, description).
    pub fn strategies(&self) -> Vec<(&'static str, &'static str)> {
        self.inner.strategies()
    }

    /// The safety properties its checker reports.
    pub fn properties(&self) -> &'static [PropertyInfo] {
        self.inner.properties()
    }

    pub fn liveness_conditions(&self) -> &'static [PropertyInfo] {
        self.inner.liveness_conditions()
    }

    /// The JSON Schema of its `[params]` table.
    pub fn params_schema(&self) -> Schema {
        self.inner.params_schema()
    }

    /// The JSON Schema of its own `[check]` fields (the generic ones are not included).
    pub fn check_schema(&self) -> Schema {
        self.inner.check_schema()
    }
}

/// The registry entry of the scenario's protocol.
pub fn entry_for<'a>(
    registry: &'a [ProtocolEntry],
    scenario: &Scenario,
) -> Result<&'a ProtocolEntry, ScenarioError> {
    let name = scenario.file.protocol.as_str();
    registry
        .iter()
        .find(|entry| entry.name() == name)
        .ok_or_else(|| {
            scenario.error(
                "protocol",
                format!("unknown protocol `{name}`"),
                format!(
                    "use one of: {}",
                    registry
                        .iter()
                        .map(ProtocolEntry::name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Model-check `scenario` with its protocol from `registry`.
#[cfg(feature = "check")]
pub fn check(
    registry: &[ProtocolEntry],
    scenario: &Scenario,
    mutant: Option<&str>,
    options: &CheckOptions,
) -> Result<CheckReport, ScenarioError> {
    entry_for(registry, scenario)?
        .inner
        .check(scenario, mutant, options)
}

/// Bind a scenario to its protocol from `registry`.
pub fn prepare(
    registry: &[ProtocolEntry],
    scenario: &Scenario,
    mutant: Option<&str>,
    swarm: bool,
) -> Result<Box<dyn Runner>, ScenarioError> {
    entry_for(registry, scenario)?
        .inner
        .prepare(scenario, mutant, swarm)
}
