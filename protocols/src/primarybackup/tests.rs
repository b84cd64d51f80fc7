//! Primary-backup's unit tests: the view service's rules, a backup's view check, and the
//! checker's properties, on hand-made steps (the scenarios run the whole protocol).

use sim_core::{Checker, Ctx, Effect, Effects, Input, NodeId, Protocol};

use super::*;
use crate::kv::KvConfig;

fn config(mutant: Option<PrimaryBackupMutant>) -> PbConfig {
    PbConfig {
        ping_us: (10_000, 10_000),
        dead_pings: 2,
        machine: KvConfig::default(),
        mutant,
    }
}

fn ctx(config: &PbConfig, id: u32) -> Ctx<'_, PbConfig> {
    Ctx::new(NodeId(id), 4, config)
}

/// Step `node` with `input`; return its effects.
fn step(
    node: &mut PrimaryBackup,
    ctx: &Ctx<'_, PbConfig>,
    input: Input<PrimaryBackup>,
) -> Vec<Effect<PrimaryBackup>> {
    let mut fx = Effects::default();
    node.step(ctx, input, &mut fx);
    fx.as_slice().to_vec()
}

fn ping(from: u32, view: u64, ready: bool) -> Input<PrimaryBackup> {
    Input::Message {
        from: NodeId(from),
        msg: PbMsg::Ping { view, ready },
    }
}

fn view_of(node: &PrimaryBackup) -> (u64, Option<NodeId>, Option<NodeId>) {
    let view = node.view();
    (view.number, view.primary, view.backup)
}

#[test]
fn the_view_service_moves_on_only_after_the_primary_acknowledged() {
    for mutant in [None, Some(PrimaryBackupMutant::ViewBeforeAck)] {
        let config = config(mutant);
        let ctx = ctx(&config, 0);
        let mut service = PrimaryBackup::new(&ctx);
        step(&mut service, &ctx, Input::Init);
        step(&mut service, &ctx, ping(2, 0, false));
        step(&mut service, &ctx, ping(1, 0, false));
        step(&mut service, &ctx, Input::Timer(PbTimer::Tick));
        // The lowest-numbered live server, not the first to ping, is the first primary.
        assert_eq!(view_of(&service), (1, Some(NodeId(1)), None));
        step(&mut service, &ctx, ping(1, 1, false));
        step(&mut service, &ctx, ping(2, 0, false));
        step(&mut service, &ctx, Input::Timer(PbTimer::Tick));
        if mutant.is_none() {
            // Node 1 holds view 1 but is not ready: no acknowledgement, no new view.
            assert_eq!(view_of(&service).0, 1);
            let effects = step(&mut service, &ctx, ping(1, 1, true));
            assert!(effects.contains(&Effect::Observe(PbObs::ViewAcked { view: 1 })));
            step(&mut service, &ctx, ping(2, 0, false));
            step(&mut service, &ctx, Input::Timer(PbTimer::Tick));
        }
        assert_eq!(view_of(&service), (2, Some(NodeId(1)), Some(NodeId(2))));
    }
}

#[test]
fn the_view_service_promotes_only_a_live_backup_of_an_acknowledged_view() {
    let config = config(None);
    let ctx = ctx(&config, 0);
    let view = View {
        number: 4,
        primary: Some(NodeId(1)),
        backup: Some(NodeId(2)),
    };
    let mut service = PrimaryBackup::ViewService(ViewService::recover(&ctx, view, false));
    // Unacknowledged: the primary's silence changes nothing.
    for _ in 0..3 {
        step(&mut service, &ctx, ping(2, 4, false));
        step(&mut service, &ctx, Input::Timer(PbTimer::Tick));
    }
    assert_eq!(view_of(&service), (4, Some(NodeId(1)), Some(NodeId(2))));
    let mut service = PrimaryBackup::ViewService(ViewService::recover(&ctx, view, true));
    step(&mut service, &ctx, ping(3, 0, false));
    for _ in 0..2 {
        step(&mut service, &ctx, ping(2, 4, false));
        step(&mut service, &ctx, ping(3, 0, false));
        step(&mut service, &ctx, Input::Timer(PbTimer::Tick));
    }
    assert_eq!(view_of(&service), (5, Some(NodeId(2)), Some(NodeId(3))));
}

fn server(config: &PbConfig, id: u32, view: View, synced: u64) -> PrimaryBackup {
    let ctx = ctx(config, id);
    let durable = ServerDurable {
        view,
        synced,
        ..ServerDurable::default()
    };
    PrimaryBackup::recover(&ctx, Some(&PbDurable::Server(durable)))
}

#[test]
fn a_backup_applies_forwards_only_in_its_own_view_after_the_transfer() {
    let config = config(None);
    let view = View {
        number: 3,
        primary: Some(NodeId(1)),
        backup: Some(NodeId(2)),
    };
    let command = Command {
        client: 0,
        request: 1,
        op: KvOp::Put { key: 0, value: 1 },
    };
    let forward = |view: u64| Input::Message {
        from: NodeId(1),
        msg: PbMsg::Forward {
            view,
            first: 1,
            commands: vec![command],
        },
    };
    let ctx = ctx(&config, 2);
    // Not yet synced in view 3: the forward is ignored.
    let mut backup = server(&config, 2, view, 2);
    assert!(step(&mut backup, &ctx, forward(3)).is_empty());
    let mut backup = server(&config, 2, view, 3);
    // A forward of an older view is ignored.
    assert!(step(&mut backup, &ctx, forward(2)).is_empty());
    let effects = step(&mut backup, &ctx, forward(3));
    assert!(matches!(effects[0], Effect::Persist(_)), "{effects:?}");
    assert_eq!(
        effects[1],
        Effect::Send {
            to: NodeId(1),
            msg: PbMsg::ForwardAck {
                view: 3,
                applied: 1
            }
        }
    );
}

#[test]
fn a_primary_answers_only_after_its_backup_acknowledged() {
    for mutant in [None, Some(PrimaryBackupMutant::ReplyBeforeAck)] {
        let config = config(mutant);
        let ctx = ctx(&config, 1);
        let view = View {
            number: 2,
            primary: Some(NodeId(1)),
            backup: Some(NodeId(2)),
        };
        let mut primary = server(&config, 1, view, 2);
        let ack = |applied| Input::Message {
            from: NodeId(2),
            msg: PbMsg::TransferAck { view: 2, applied },
        };
        step(&mut primary, &ctx, ack(0));
        let request = Input::Client {
            client: 0,
            request: 1,
            op: KvOp::Append {
                key: 0,
                client: 0,
                seq: 1,
            },
        };
        let replied = |effects: &[Effect<PrimaryBackup>]| {
            effects
                .iter()
                .any(|effect| matches!(effect, Effect::Reply { .. }))
        };
        let effects = step(&mut primary, &ctx, request);
        assert_eq!(replied(&effects), mutant.is_some(), "{effects:?}");
        let effects = step(
            &mut primary,
            &ctx,
            Input::Message {
                from: NodeId(2),
                msg: PbMsg::ForwardAck {
                    view: 2,
                    applied: 1,
                },
            },
        );
        assert_eq!(replied(&effects), mutant.is_none(), "{effects:?}");
    }
}

#[test]
fn the_checker_catches_two_primaries_in_one_view_and_a_lost_write() {
    let config = config(None);
    let view = View {
        number: 3,
        primary: Some(NodeId(1)),
        backup: None,
    };
    let nodes = [
        None,
        Some(server(&config, 1, view, 3)),
        Some(server(&config, 2, view, 3)),
        None,
    ];
    let promoted = [PbObs::Primary { view }];
    let mut checker = PrimaryBackupChecker::default();
    assert_eq!(checker.on_step(&nodes, NodeId(1), &promoted), Ok(()));
    let violation = checker
        .on_step(&nodes, NodeId(2), &promoted)
        .expect_err("a second primary in view 3");
    assert_eq!(violation.property, invariants::ONE_PRIMARY_PER_VIEW);

    let mut checker = PrimaryBackupChecker::default();
    let done = |output| Effect::Reply {
        client: 4,
        request: 7,
        reply: PbReply::Done {
            view: 2,
            seq: 9,
            output,
        },
    };
    // An acknowledged get is no write to lose.
    checker.on_effect(NodeId(3), &done(KvOutput::Value { value: "x".into() }));
    assert_eq!(checker.on_step(&nodes, NodeId(1), &promoted), Ok(()));
    checker.on_effect(NodeId(3), &done(KvOutput::Done));
    let violation = checker
        .on_step(&nodes, NodeId(1), &promoted)
        .expect_err("node 1 never applied client 4's write");
    assert_eq!(violation.property, invariants::ACKNOWLEDGED_SURVIVE);
}

#[test]
fn params_refuse_a_cluster_without_two_servers_and_a_hasty_detector() {
    let params = |dead_pings| PbParams {
        ping_ms: [10, 10],
        dead_pings,
        kv: serde_json::from_str("{}").expect("every kv field is optional"),
    };
    let setup = |cluster_size| Setup {
        cluster_size,
        mutant: None,
    };
    let error = params(5).config(setup(2)).expect_err("two nodes");
    assert_eq!(error.field, "nodes");
    let error = params(1).config(setup(4)).expect_err("one tick");
    assert_eq!(error.field, "dead_pings");
    assert!(params(5).config(setup(3)).is_ok());
}
