//! Unit tests of the detector's step rules, its checker and its meter, on hand-made inputs.

use sim_core::meter::{Meter, MeterSetup};
use sim_core::scenario::Synchrony;
use sim_core::*;

use super::*;

fn config(mutant: Option<Mutant>) -> FdConfig {
    FdConfig {
        heartbeat_us: 10_000,
        timeout_us: 25_000,
        timeout_increase_us: 10_000,
        max_timeout_us: 40_000,
        complete_within_us: 100_000,
        accurate_after_gst_within_us: 50_000,
        mutant,
    }
}

fn ctx(config: &FdConfig, id: u32) -> Ctx<'_, FdConfig> {
    Ctx::new(NodeId(id), 3, config)
}

/// One step of `node`; its effects.
fn step(node: &mut Fd, ctx: &Ctx<'_, FdConfig>, input: Input<Fd>) -> Vec<Effect<Fd>> {
    let mut fx = Effects::default();
    node.step(ctx, input, &mut fx);
    fx.drain().collect()
}

fn heartbeat(from: u32, incarnation: u64, seq: u64) -> Input<Fd> {
    Input::Message {
        from: NodeId(from),
        msg: FdMsg::Heartbeat { incarnation, seq },
    }
}

fn suspect_timeout(peer: u32) -> Input<Fd> {
    Input::Timer(FdTimer::Suspect(NodeId(peer)))
}

#[test]
fn a_start_watches_every_peer_and_heartbeats() {
    let config = config(None);
    let ctx = ctx(&config, 0);
    let mut node = Fd::new(&ctx);
    let effects = step(&mut node, &ctx, Input::Init);
    let suspects: Vec<_> = effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::SetTimer {
                timer: FdTimer::Suspect(peer),
                min_us: 25_000,
                max_us: 25_000,
            } => Some(peer.0),
            _ => None,
        })
        .collect();
    assert_eq!(suspects, vec![1, 2]);
    assert!(effects.contains(&Effect::SetTimer {
        timer: FdTimer::Heartbeat,
        min_us: 10_000,
        max_us: 10_000
    }));
    let effects = step(&mut node, &ctx, Input::Timer(FdTimer::Heartbeat));
    let sends = effects
        .iter()
        .filter(|effect| {
            matches!(
                effect,
                Effect::Send {
                    msg: FdMsg::Heartbeat {
                        incarnation: 0,
                        seq: 1
                    },
                    ..
                }
            )
        })
        .count();
    assert_eq!(sends, 2);
}

#[test]
fn a_false_suspicion_lengthens_the_timeout_up_to_its_bound() {
    let config = config(None);
    let ctx = ctx(&config, 0);
    let mut node = Fd::new(&ctx);
    step(&mut node, &ctx, Input::Init);
    let mut timeouts = Vec::new();
    for seq in 1..=3 {
        let effects = step(&mut node, &ctx, suspect_timeout(1));
        assert!(effects.contains(&Effect::Observe(FdObs::Suspected { peer: NodeId(1) })));
        assert_eq!(node.role(), "suspecting");
        step(&mut node, &ctx, heartbeat(1, 0, seq));
        assert!(node.suspected.is_empty());
        timeouts.push(node.timeout_us[1]);
    }
    assert_eq!(timeouts, vec![35_000, 40_000, 40_000]);
    assert_eq!(
        node.timeout_us[2], 25_000,
        "only the falsely suspected peer adapts"
    );
    // A timely heartbeat re-arms the peer's timer with its current timeout.
    let effects = step(&mut node, &ctx, heartbeat(1, 0, 4));
    assert_eq!(
        effects,
        vec![Effect::SetTimer {
            timer: FdTimer::Suspect(NodeId(1)),
            min_us: 40_000,
            max_us: 40_000
        }]
    );
}

#[test]
fn a_stale_or_duplicated_heartbeat_is_ignored() {
    let config = config(None);
    let ctx = ctx(&config, 0);
    let mut node = Fd::new(&ctx);
    step(&mut node, &ctx, heartbeat(1, 0, 5));
    step(&mut node, &ctx, suspect_timeout(1));
    for stale in [heartbeat(1, 0, 5), heartbeat(1, 0, 4)] {
        assert!(step(&mut node, &ctx, stale).is_empty());
        assert!(node.suspected.contains(&NodeId(1)));
    }
    // A new incarnation's first heartbeat is fresher than any of the old one's.
    step(&mut node, &ctx, heartbeat(1, 1, 1));
    assert!(node.suspected.is_empty());
}

#[test]
fn a_restart_persists_its_next_incarnation_before_it_heartbeats() {
    let config = config(None);
    let ctx = ctx(&config, 2);
    let mut node = Fd::recover(&ctx, Some(&FdDurable { incarnation: 3 }));
    let mut effects = step(&mut node, &ctx, Input::Restart);
    effects.extend(step(&mut node, &ctx, Input::Timer(FdTimer::Heartbeat)));
    let persist = effects
        .iter()
        .position(|effect| *effect == Effect::Persist(FdDurable { incarnation: 4 }));
    let first_send = effects.iter().position(|effect| {
        matches!(
            effect,
            Effect::Send {
                msg: FdMsg::Heartbeat {
                    incarnation: 4,
                    seq: 1
                },
                ..
            }
        )
    });
    assert!(persist.is_some() && persist < first_send, "{effects:?}");
    // `no-rearm-after-restart` persists and watches, but never heartbeats again.
    let config = super::tests::config(Some(Mutant::NoRearmAfterRestart));
    let ctx = super::tests::ctx(&config, 2);
    let mut node = Fd::recover(&ctx, None);
    let effects = step(&mut node, &ctx, Input::Restart);
    assert!(!effects.iter().any(|effect| matches!(
        effect,
        Effect::Send { .. }
            | Effect::SetTimer {
                timer: FdTimer::Heartbeat,
                ..
            }
    )));
}

/// The checker after each of `inputs` to node 0 of 3, with `mutant`.
fn checked(mutant: Option<Mutant>, inputs: Vec<Input<Fd>>) -> Result<(), Violation> {
    let config = config(mutant);
    let ctx = ctx(&config, 0);
    let mut nodes: Vec<Option<Fd>> = (0..3)
        .map(|id| Some(Fd::new(&super::tests::ctx(&config, id))))
        .collect();
    let mut checker = FdChecker::default();
    for input in std::iter::once(Input::Init).chain(inputs) {
        step(nodes[0].as_mut().unwrap(), &ctx, input);
        checker.on_step(&nodes, NodeId(0), &[])?;
        checker.check_all(&nodes)?;
    }
    Ok(())
}

#[test]
fn the_checker_catches_a_self_suspicion_and_a_shrinking_timeout() {
    let suspicious = || {
        vec![
            suspect_timeout(1),
            heartbeat(1, 0, 1),
            heartbeat(1, 0, 2),
            suspect_timeout(0),
        ]
    };
    assert_eq!(
        checked(
            None,
            vec![suspect_timeout(1), heartbeat(1, 0, 1), heartbeat(1, 0, 2)]
        ),
        Ok(())
    );
    let violation = checked(Some(Mutant::SuspectSelf), suspicious()).unwrap_err();
    assert_eq!(violation.property, invariants::SUSPECTS_ONLY_PEERS);
    let violation = checked(Some(Mutant::TimeoutReset), suspicious()).unwrap_err();
    assert_eq!(violation.property, invariants::TIMEOUTS_GROW);
    assert!(
        violation
            .detail
            .contains("shrank from 35000 us to 25000 us"),
        "{}",
        violation.detail
    );
    // fixed-timeout breaks no step rule: only the meter's `accurate` shows it.
    assert_eq!(
        checked(Some(Mutant::FixedTimeout), suspicious()[..3].to_vec()),
        Ok(())
    );
}

/// A 3-node cluster as the meter sees it: who suspects whom.
fn view(suspicions: &[(u32, u32)], down: &[u32]) -> Vec<Option<Fd>> {
    let config = config(None);
    (0..3)
        .map(|id| {
            if down.contains(&id) {
                return None;
            }
            let mut node = Fd::new(&ctx(&config, id));
            node.suspected = suspicions
                .iter()
                .filter(|&&(observer, _)| observer == id)
                .map(|&(_, target)| NodeId(target))
                .collect();
            Some(node)
        })
        .collect()
}

fn meter(synchrony: Synchrony) -> FdMeter {
    FdMeter::new(
        &config(None),
        MeterSetup {
            cluster_size: 3,
            synchrony,
        },
    )
}

fn started(meter: &mut FdMeter) {
    for id in 0..3 {
        meter.on_step(0, NodeId(id), &view(&[], &[]));
    }
}

fn metric(meter: &FdMeter, name: &str) -> u64 {
    meter
        .metrics()
        .into_iter()
        .find(|(metric, _)| *metric == name)
        .unwrap()
        .1
}

#[test]
fn the_meter_times_detections_and_false_suspicions() {
    let mut meter = meter(Synchrony::Partial);
    started(&mut meter);
    // n1 suspects n2 falsely for 5 ms.
    meter.on_step(10_000, NodeId(1), &view(&[(1, 2)], &[]));
    meter.on_step(15_000, NodeId(1), &view(&[], &[]));
    // n2 crashes at 20 ms; n0 suspects it at 50 ms, n1 at 60 ms.
    meter.on_crash(20_000, NodeId(2));
    meter.on_step(50_000, NodeId(0), &view(&[(0, 2)], &[2]));
    meter.on_step(60_000, NodeId(1), &view(&[(0, 2), (1, 2)], &[2]));
    meter.on_heal(100_000);
    meter.on_end(300_000);
    assert_eq!(metric(&meter, "detections"), 2);
    assert_eq!(metric(&meter, "detection_us_max"), 40_000);
    assert_eq!(metric(&meter, "detection_us_mean"), 35_000);
    assert_eq!(metric(&meter, "false_suspicions"), 1);
    assert_eq!(metric(&meter, "false_suspicion_us"), 5_000);
    assert_eq!(meter.judge(ACCURATE_NAME), Some(Ok(())));
    assert_eq!(meter.judge(COMPLETE_NAME), Some(Ok(())));
    assert_eq!(meter.judge("something_else"), None);
}

const ACCURATE_NAME: &str = invariants::ACCURATE;
const COMPLETE_NAME: &str = invariants::COMPLETE;

#[test]
fn the_meter_fails_a_late_or_interrupted_detection() {
    // Synchronous: the deadline is 100 ms after the crash at 20 ms.
    let mut meter = meter(Synchrony::Synchronous);
    started(&mut meter);
    meter.on_crash(20_000, NodeId(2));
    meter.on_step(50_000, NodeId(0), &view(&[(0, 2)], &[2]));
    meter.on_step(60_000, NodeId(1), &view(&[(0, 2), (1, 2)], &[2]));
    meter.on_step(130_000, NodeId(1), &view(&[(0, 2)], &[2])); // an expired suspicion
    meter.on_step(150_000, NodeId(1), &view(&[(0, 2), (1, 2)], &[2]));
    meter.on_heal(200_000);
    meter.on_end(300_000);
    let detail = meter.judge(COMPLETE_NAME).unwrap().unwrap_err();
    assert!(
        detail.contains("n1 suspected it only from 150000 us on"),
        "{detail}"
    );
    // A crash shorter than the deadline is not judged.
    let mut meter = self::meter(Synchrony::Synchronous);
    started(&mut meter);
    meter.on_crash(20_000, NodeId(2));
    meter.on_step(90_000, NodeId(2), &view(&[], &[]));
    meter.on_heal(200_000);
    meter.on_end(300_000);
    assert_eq!(meter.judge(COMPLETE_NAME), Some(Ok(())));
    assert_eq!(metric(&meter, "detections"), 0);
}

#[test]
fn the_meter_fails_a_false_suspicion_past_gst() {
    let mut meter = meter(Synchrony::Partial);
    started(&mut meter);
    meter.on_heal(100_000);
    // Allowed until GST + 50 ms = 150 ms; this one lasts to 160 ms.
    meter.on_step(120_000, NodeId(0), &view(&[(0, 1)], &[]));
    meter.on_step(160_000, NodeId(0), &view(&[], &[]));
    meter.on_end(300_000);
    let detail = meter.judge(ACCURATE_NAME).unwrap().unwrap_err();
    assert!(
        detail.starts_with("n0 suspected n1 from 120000 us to 160000 us"),
        "{detail}"
    );
    assert_eq!(metric(&meter, "false_suspicions_after_gst"), 1);
    // A window that ends before GST + the allowance judges nothing, and says so.
    let mut meter = self::meter(Synchrony::Partial);
    started(&mut meter);
    meter.on_heal(100_000);
    meter.on_end(140_000);
    let detail = meter.judge(ACCURATE_NAME).unwrap().unwrap_err();
    assert!(detail.contains("nothing was judged"), "{detail}");
}

#[test]
fn a_suspicion_outliving_a_restart_is_false_from_the_restart() {
    let mut meter = meter(Synchrony::Partial);
    started(&mut meter);
    meter.on_crash(10_000, NodeId(1));
    meter.on_step(40_000, NodeId(0), &view(&[(0, 1)], &[1]));
    meter.on_step(70_000, NodeId(1), &view(&[(0, 1)], &[])); // restarts
    meter.on_step(75_000, NodeId(0), &view(&[], &[]));
    meter.on_end(100_000);
    assert_eq!(metric(&meter, "false_suspicions"), 1);
    assert_eq!(metric(&meter, "false_suspicion_us"), 5_000);
    assert_eq!(metric(&meter, "detection_us_max"), 30_000);
}
