//! pingpong: the smallest protocol — tokens passed around the cluster. It exists to
//! measure the simulator itself (`quorumlab bench` runs it as the "bare loop": same
//! queue, network and RNG as any protocol, a step that does almost nothing) and to test
//! the simulator without depending on a real protocol's behaviour.
//!
//! Each node starts one token and forwards every token it receives to the next node.
//! A `Tick` timer fires every `tick_ms` and counts; clients get their op echoed back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::registration::NoMutants;
use sim_core::*;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct PingPong {
    pub forwarded: u64,
    pub ticks: u64,
    pub restarts: u64,
}

#[derive(Clone, Debug)]
pub struct PingPongConfig {
    pub tick_us: u64,
    /// For simulator tests: panic when a node has forwarded this many tokens.
    pub panic_after: Option<u64>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Token {
    pub origin: u32,
    pub hops: u64,
}

impl Message for Token {
    fn kind(&self) -> &'static str {
        "token"
    }
    fn size_bytes(&self) -> u32 {
        16
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PingTimer {
    Tick,
}

impl TimerName for PingTimer {
    fn kind(&self) -> &'static str {
        "tick_timeout"
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub enum PingObs {
    Forwarded { hops: u64 },
}

impl Observation for PingObs {
    const KINDS: &'static [&'static str] = &["forwarded"];
    fn kind(&self) -> &'static str {
        "forwarded"
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub struct Echo(pub u64);

impl ClientReply for Echo {
    fn outcome(&self) -> ReplyOutcome {
        ReplyOutcome::Ok
    }
}

/// Nothing to check but that hop counts only grow along a token's path.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct PingPongChecker;

const PROPERTIES: &[PropertyInfo] = &[PropertyInfo {
    name: "hops_positive",
    description: "every forwarded token has made at least one hop",
}];

impl Checker<PingPong> for PingPongChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn on_step(
        &mut self,
        _nodes: NodesView<'_, PingPong>,
        stepped: NodeId,
        observations: &[PingObs],
    ) -> Result<(), Violation> {
        for PingObs::Forwarded { hops } in observations {
            if *hops == 0 {
                return Err(Violation::new(
                    "hops_positive",
                    format!("{stepped} forwarded a token with 0 hops"),
                ));
            }
        }
        Ok(())
    }

    fn check_all(&self, _nodes: NodesView<'_, PingPong>) -> Result<(), Violation> {
        Ok(())
    }
}

impl Protocol for PingPong {
    type Config = PingPongConfig;
    type Msg = Token;
    type Timer = PingTimer;
    type Durable = u64;
    type Op = u64;
    type Reply = Echo;
    type Obs = PingObs;
    type Checker = PingPongChecker;

    fn new(_ctx: &Ctx<'_, PingPongConfig>) -> PingPong {
        PingPong {
            forwarded: 0,
            ticks: 0,
            restarts: 0,
        }
    }

    fn recover(_ctx: &Ctx<'_, PingPongConfig>, durable: Option<&u64>) -> PingPong {
        PingPong {
            forwarded: 0,
            ticks: 0,
            restarts: durable.copied().unwrap_or(0) + 1,
        }
    }

    fn step(
        &mut self,
        ctx: &Ctx<'_, PingPongConfig>,
        input: Input<PingPong>,
        fx: &mut Effects<PingPong>,
    ) {
        let next = NodeId((ctx.id.0 + 1) % ctx.cluster_size);
        match input {
            Input::Init | Input::Restart => {
                fx.persist(self.restarts);
                if ctx.cluster_size > 1 {
                    fx.send(
                        next,
                        Token {
                            origin: ctx.id.0,
                            hops: 1,
                        },
                    );
                }
                fx.set_timer(PingTimer::Tick, 1, 2 * 1000 * 100);
            }
            Input::Message { msg, .. } => {
                self.forwarded += 1;
                if let Some(limit) = ctx.config.panic_after {
                    assert!(
                        self.forwarded < limit,
                        "{} forwarded {limit} tokens",
                        ctx.id
                    );
                }
                fx.observe(PingObs::Forwarded { hops: msg.hops });
                if ctx.cluster_size > 1 {
                    fx.send(
                        next,
                        Token {
                            origin: msg.origin,
                            hops: msg.hops + 1,
                        },
                    );
                }
            }
            Input::Timer(PingTimer::Tick) => {
                self.ticks += 1;
                fx.set_timer(PingTimer::Tick, 100_000, 100_000);
            }
            Input::Client {
                client,
                request,
                op,
            } => fx.reply(client, request, Echo(op)),
        }
    }

    fn role(&self) -> &'static str {
        "node"
    }
}

/// pingpong's `[params]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PingPongParams {
    /// Unused by the ring itself; kept for scenarios that set it.
    #[serde(default = "PingPongParams::default_tick_ms")]
    pub tick_ms: u64,
    /// Panic when a node has forwarded this many tokens (0: never): the harness's own
    /// test of how a protocol panic is reported.
    #[serde(default)]
    pub panic_after: u64,
}

impl PingPongParams {
    fn default_tick_ms() -> u64 {
        100
    }
}

/// The `pingpong` protocol's registration.
pub fn registration() -> Registration<PingPong> {
    Registration::new(
        "pingpong",
        "tokens passed around a ring: the simulator's own benchmark and test protocol",
    )
    .params::<PingPongParams, NoMutants>(|params, _setup| {
        Ok(PingPongConfig {
            tick_us: params.tick_ms.saturating_mul(1000).max(1),
            panic_after: (params.panic_after > 0).then_some(params.panic_after),
        })
    })
    .fault_bound(|cluster_size| FaultBound {
        crashed: cluster_size.saturating_sub(1),
        byzantine: 0,
    })
    .workload(|_config, _client, seq, _draw| seq)
}
