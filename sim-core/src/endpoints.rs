//! Clients as endpoints of the simulated network: the `[clients]` table.
//!
//! Without the table, clients sit *outside* the network model, as they always did: a
//! request or reply takes a latency drawn from the network's distribution and is never
//! lost or cut off (so a scenario without `[clients]` runs exactly as before). With it,
//! each client is an endpoint on the network:
//! - `"own"`: the client has its own link to every node (`latency`, `drop_per_million`,
//!   defaulting to the network's), and is cut off only by partitions that name it
//!   (`groups = [[0, 1, "c0"], [2, 3, 4]]`);
//! - `"beside:N"`: the client sits beside node N (its own link to N, then N's routes):
//!   every cut that separates N from a node separates the client from it too, so a client
//!   beside a minority node is on the minority side.
//!
//! Client messages see partitions, loss (link, route and loss bursts), delay bursts and
//! the bounded regime after GST; they are not duplicated, reordered or bandwidth-limited.
//! Their draws come from the client's own workload draws (`ClientDraw::Latency` and
//! `ClientDraw::Lost`), so putting clients on the network never shifts the network
//! stream the nodes' messages draw from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::network::LatencySpec;

/// The `[clients]` table.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientsSpec {
    /// Where clients sit on the network: `"own"` (default: a link of their own to every
    /// node), `"beside:N"` (beside node N, on its side of every cut) or `"outside"` (not
    /// on the network: never lost or cut off). A list gives one placement per client.
    #[serde(default)]
    pub placement: PlacementSpec,
    /// The latency of a client's own link (to every node for `own`, to its node for
    /// `beside:N`). Default: the network's `latency`.
    pub latency: Option<LatencySpec>,
    /// Loss on a client's own link, per million. Default: the network's
    /// `drop_per_million`.
    pub drop_per_million: Option<u32>,
}

/// One placement for every client, or a list with one per client.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum PlacementSpec {
    All(String),
    Each(Vec<String>),
}

impl Default for PlacementSpec {
    fn default() -> Self {
        PlacementSpec::All("own".to_string())
    }
}

/// Where one client sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Not on the network (no `[clients]` table, or `"outside"`).
    Outside,
    /// Its own link to every node.
    Own,
    /// Beside this node: its link to the node, then the node's routes and cuts.
    Beside(u32),
}

impl Placement {
    /// Parse `"own"`, `"outside"` or `"beside:N"`; errors are `(message, fix)`.
    pub fn parse(text: &str, nodes: u32) -> Result<Placement, (String, String)> {
        let fix = format!("use \"own\", \"outside\" or \"beside:N\" with N below {nodes}");
        match text {
            "own" => Ok(Placement::Own),
            "outside" => Ok(Placement::Outside),
            _ => match text.strip_prefix("beside:").map(str::parse::<u32>) {
                Some(Ok(node)) if node < nodes => Ok(Placement::Beside(node)),
                Some(Ok(node)) => Err((
                    format!("node {node} does not exist in a cluster of {nodes}"),
                    fix,
                )),
                _ => Err((format!("`{text}` is not a placement"), fix)),
            },
        }
    }
}

/// A client's name in partition groups and traces: `c0`, `c1`, ...
pub fn client_name(client: u32) -> String {
    format!("c{client}")
}

/// The client a name such as `c3` means, if it is one.
pub fn parse_client_name(text: &str) -> Option<u32> {
    let digits = text.strip_prefix('c')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl ClientsSpec {
    /// Each client's placement. Errors are `(field, message, fix)`.
    pub fn placements(
        &self,
        clients: u32,
        nodes: u32,
    ) -> Result<Vec<Placement>, (String, String, String)> {
        let one = |field: String, text: &str| {
            Placement::parse(text, nodes).map_err(|(message, fix)| (field, message, fix))
        };
        let placements = match &self.placement {
            PlacementSpec::All(text) => {
                let placement = one("clients.placement".to_string(), text)?;
                vec![placement; clients as usize]
            }
            PlacementSpec::Each(texts) => {
                if texts.len() != clients as usize {
                    return Err((
                        "clients.placement".to_string(),
                        format!(
                            "{} placements for {clients} clients (workload.clients)",
                            texts.len()
                        ),
                        "give one placement per client, or one string for all".to_string(),
                    ));
                }
                texts
                    .iter()
                    .enumerate()
                    .map(|(index, text)| one(format!("clients.placement[{index}]"), text))
                    .collect::<Result<_, _>>()?
            }
        };
        if let Some(latency) = &self.latency {
            latency
                .validate()
                .map_err(|(message, fix)| ("clients.latency".to_string(), message, fix))?;
        }
        if let Some(drop) = self.drop_per_million.filter(|&drop| drop > 1_000_000) {
            return Err((
                "clients.drop_per_million".to_string(),
                format!("{drop} is above 1,000,000 per million"),
                "use 0..=1000000".to_string(),
            ));
        }
        Ok(placements)
    }
}

impl crate::scenario::Scenario {
    /// `[clients]` against the workload, and the clients partition groups name: each
    /// exists and is on the network.
    pub(crate) fn validate_endpoints(&self) -> Result<(), crate::scenario::ScenarioError> {
        let file = &self.file;
        let clients = file
            .workload
            .as_ref()
            .map_or(0, |workload| workload.clients);
        let placements = match &file.clients {
            Some(_) if file.workload.is_none() => {
                return Err(self.error(
                    "clients",
                    "a [clients] table without a [workload]: there are no clients to place",
                    "add a [workload] table, or remove [clients]",
                ))
            }
            Some(spec) => spec
                .placements(clients, file.nodes)
                .map_err(|(field, message, fix)| self.error(&field, message, fix))?,
            None => vec![Placement::Outside; clients as usize],
        };
        for (index, fault) in file.faults.iter().enumerate() {
            let crate::scenario::FaultActionSpec::Partition { groups } = &fault.action else {
                continue;
            };
            let named = groups.iter().flat_map(|group| match group {
                crate::selectors::GroupSpec::Members(members) => members.as_slice(),
                crate::selectors::GroupSpec::Rest(_) => &[],
            });
            for member in named {
                let crate::selectors::MemberSpec::Name(name) = member else {
                    continue;
                };
                let Some(client) = parse_client_name(name) else {
                    continue;
                };
                let field = format!("faults[{index}].groups");
                match placements.get(client as usize) {
                    None => {
                        return Err(self.error(
                            &field,
                            format!("client {name} does not exist (workload.clients = {clients})"),
                            format!("name clients c0..c{}", clients.max(1) - 1),
                        ))
                    }
                    Some(Placement::Outside) => {
                        return Err(self.error(
                            &field,
                            format!("client {name} is not on the network, so no cut can hold it"),
                            "place it with a [clients] table, e.g. `placement = \"own\"`",
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_parse_and_refuse_what_they_cannot_place() {
        assert_eq!(Placement::parse("beside:2", 5), Ok(Placement::Beside(2)));
        assert_eq!(Placement::parse("own", 5), Ok(Placement::Own));
        assert!(Placement::parse("beside:5", 5)
            .unwrap_err()
            .0
            .contains("node 5"));
        assert!(Placement::parse("near:1", 5)
            .unwrap_err()
            .1
            .contains("beside:N"));
        let spec = ClientsSpec {
            placement: PlacementSpec::Each(vec!["own".into()]),
            latency: None,
            drop_per_million: None,
        };
        assert_eq!(spec.placements(2, 3).unwrap_err().0, "clients.placement");
        assert_eq!(parse_client_name("c12"), Some(12));
        assert_eq!(parse_client_name("c"), None);
        assert_eq!(parse_client_name("leader"), None);
    }
}
