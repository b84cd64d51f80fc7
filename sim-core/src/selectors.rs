//! Node selectors: which node a fault hits, decided when it fires.
//!
//! A selector is a node id or a string: a role (`"leader"`, `"follower"`: the lowest-id
//! live node in that role), `"connected_leader"` (the leader of the highest epoch among
//! the live leaders that can reach a majority both ways: not a stale leader cut off from
//! the rest; needs the protocol's `Registration::epoch`), `"random"` (any node, drawn from
//! the fault stream), or `"previous"` (the node the previous fault that hit one node hit);
//! any of them may take an offset, `"leader+1"`, `"previous-2"`: the node that many ids
//! further on, modulo the cluster size. Partition groups take selectors too, clients on
//! the network (`"c0"`), and `"rest"` for every node no other group names.

use serde::{Deserialize, Serialize, Serializer};

use crate::endpoints::{client_name, parse_client_name};

pub const CONNECTED_LEADER: &str = "connected_leader";
pub const RANDOM: &str = "random";
pub const PREVIOUS: &str = "previous";
pub const REST: &str = "rest";

/// What a selector starts from, before its offset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    Role(String),
    ConnectedLeader,
    Random,
    Previous,
}

/// A parsed string selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selector {
    pub base: Base,
    /// Added to the base's node id, modulo the cluster size.
    pub offset: i64,
}

impl Selector {
    /// Parse a string selector. A role name is any word; it is checked against the
    /// protocol's roles when the scenario is bound to it.
    pub fn parse(text: &str) -> Result<Selector, (String, String)> {
        let (name, offset) = match text.rfind(['+', '-']) {
            Some(at)
                if at > 0
                    && text.len() > at + 1
                    && text[at + 1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                let magnitude: i64 = text[at + 1..].parse().map_err(|_| {
                    (
                        format!("the offset in `{text}` is too large"),
                        "use an offset below the cluster size, e.g. \"leader+1\"".to_string(),
                    )
                })?;
                let sign = if text.as_bytes()[at] == b'-' { -1 } else { 1 };
                (&text[..at], sign * magnitude)
            }
            _ => (text, 0),
        };
        let plain =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return Err((
                format!("`{text}` is not a node selector"),
                format!(
                    "use a node id, a role, \"{CONNECTED_LEADER}\", \"{RANDOM}\" or \"{PREVIOUS}\", \
                     optionally with an offset such as \"leader+1\""
                ),
            ));
        }
        let base = match name {
            CONNECTED_LEADER => Base::ConnectedLeader,
            RANDOM => Base::Random,
            PREVIOUS => Base::Previous,
            role => Base::Role(role.to_string()),
        };
        Ok(Selector { base, offset })
    }

    /// The selector as written.
    pub fn text(&self) -> String {
        let name = match &self.base {
            Base::Role(role) => role.as_str(),
            Base::ConnectedLeader => CONNECTED_LEADER,
            Base::Random => RANDOM,
            Base::Previous => PREVIOUS,
        };
        match self.offset {
            0 => name.to_string(),
            offset if offset > 0 => format!("{name}+{offset}"),
            offset => format!("{name}{offset}"),
        }
    }

    /// The role it names, if its base is a role.
    pub fn role(&self) -> Option<&str> {
        match &self.base {
            Base::Role(role) => Some(role),
            _ => None,
        }
    }

    /// `base` moved on by the offset, within a cluster of `nodes`.
    pub fn shift(&self, base: u32, nodes: u32) -> u32 {
        (base as i64 + self.offset).rem_euclid(nodes as i64) as u32
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

/// One side of a partition as written: a list of members, or `"rest"`.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum GroupSpec {
    Members(Vec<MemberSpec>),
    /// `"rest"`: every node no other group names.
    Rest(String),
}

/// A member of a partition group: a node id, a node selector or a client (`"c0"`).
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum MemberSpec {
    Id(u32),
    Name(String),
}

impl GroupSpec {
    /// The node ids the group names explicitly.
    pub fn node_ids(&self) -> Vec<u32> {
        match self {
            GroupSpec::Members(members) => members
                .iter()
                .filter_map(|member| match member {
                    MemberSpec::Id(id) => Some(*id),
                    MemberSpec::Name(_) => None,
                })
                .collect(),
            GroupSpec::Rest(_) => Vec::new(),
        }
    }

    /// The group if it names node ids only (the classic partition).
    pub fn as_ids(&self) -> Option<Vec<u32>> {
        match self {
            GroupSpec::Members(members) => members
                .iter()
                .map(|member| match member {
                    MemberSpec::Id(id) => Some(*id),
                    MemberSpec::Name(_) => None,
                })
                .collect(),
            GroupSpec::Rest(_) => None,
        }
    }
}

/// A partition group's member, checked but not yet resolved (selectors resolve when the
/// fault fires).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Member {
    Node(u32),
    Client(u32),
    Select(Selector),
}

impl Serialize for Member {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Member::Node(id) => serializer.serialize_u32(*id),
            Member::Client(client) => serializer.serialize_str(&client_name(*client)),
            Member::Select(selector) => selector.serialize(serializer),
        }
    }
}

/// A partition group, checked but not resolved: members, or every other node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    Members(Vec<Member>),
    Rest,
}

impl Serialize for Group {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Group::Members(members) => members.serialize(serializer),
            Group::Rest => serializer.serialize_str(REST),
        }
    }
}

impl Group {
    /// Check a written group against a cluster of `nodes`; errors are `(message, fix)`.
    pub fn from_spec(spec: &GroupSpec, nodes: u32) -> Result<Group, (String, String)> {
        match spec {
            GroupSpec::Rest(text) if text == REST => Ok(Group::Rest),
            GroupSpec::Rest(text) => Err((
                format!("`{text}` is not a group"),
                format!("write a list such as [0, \"leader\", \"c0\"], or \"{REST}\""),
            )),
            GroupSpec::Members(members) => members
                .iter()
                .map(|member| match member {
                    MemberSpec::Id(id) if *id >= nodes => Err((
                        format!("node {id} does not exist in a cluster of {nodes}"),
                        format!("use node ids below {nodes}"),
                    )),
                    MemberSpec::Id(id) => Ok(Member::Node(*id)),
                    MemberSpec::Name(name) => match parse_client_name(name) {
                        Some(client) => Ok(Member::Client(client)),
                        None => Selector::parse(name).map(Member::Select),
                    },
                })
                .collect::<Result<_, _>>()
                .map(Group::Members),
        }
    }

    /// The group as written.
    pub fn spec(&self) -> GroupSpec {
        match self {
            Group::Rest => GroupSpec::Rest(REST.to_string()),
            Group::Members(members) => GroupSpec::Members(
                members
                    .iter()
                    .map(|member| match member {
                        Member::Node(id) => MemberSpec::Id(*id),
                        Member::Client(client) => MemberSpec::Name(client_name(*client)),
                        Member::Select(selector) => MemberSpec::Name(selector.text()),
                    })
                    .collect(),
            ),
        }
    }

    /// The written form of a resolved group (node ids and clients).
    pub fn spec_of(nodes: &[u32], clients: &[u32]) -> GroupSpec {
        GroupSpec::Members(
            nodes
                .iter()
                .map(|&id| MemberSpec::Id(id))
                .chain(
                    clients
                        .iter()
                        .map(|&client| MemberSpec::Name(client_name(client))),
                )
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_with_offsets_and_print_back() {
        for text in [
            "leader",
            "leader+1",
            "connected_leader-2",
            "random",
            "previous+3",
        ] {
            assert_eq!(Selector::parse(text).unwrap().text(), text);
        }
        let selector = Selector::parse("follower-1").unwrap();
        assert_eq!(selector.role(), Some("follower"));
        assert_eq!(selector.shift(0, 5), 4);
        assert_eq!(Selector::parse("previous").unwrap().base, Base::Previous);
        assert!(Selector::parse("leader+").is_err());
        assert!(Selector::parse("lead er").is_err());
        assert!(Selector::parse("+1").is_err());
    }

    #[test]
    fn groups_check_their_members() {
        let spec: GroupSpec = serde_json::from_str(r#"[0, "leader", "c2"]"#).unwrap();
        let group = Group::from_spec(&spec, 3).unwrap();
        assert_eq!(
            group,
            Group::Members(vec![
                Member::Node(0),
                Member::Select(Selector::parse("leader").unwrap()),
                Member::Client(2)
            ])
        );
        let rest: GroupSpec = serde_json::from_str(r#""rest""#).unwrap();
        assert_eq!(Group::from_spec(&rest, 3).unwrap(), Group::Rest);
        let bad: GroupSpec = serde_json::from_str(r#""others""#).unwrap();
        assert!(Group::from_spec(&bad, 3).unwrap_err().1.contains("rest"));
        let far: GroupSpec = serde_json::from_str("[7]").unwrap();
        assert!(Group::from_spec(&far, 3).unwrap_err().0.contains("node 7"));
    }
}
