//! The dependency arrows of ARCHITECTURE.md, read from `cargo metadata`: `protocols →
//! sim-core`, `reports → sim-core`, `quorumlab-tla → sim-core`, the CLI (`quorumlab`) →
//! all; `sim-core` depends on no workspace crate and nothing but the outside crate depends
//! on `quorumlab`. Every kind of dependency counts (normal, dev, build): a dev-dependency
//! pointing up a layer still couples the lower crate to the higher one.

use std::collections::BTreeMap;
use std::process::Command;

use crate::root;

/// Which workspace crates a workspace crate may depend on.
#[derive(Clone, Copy, Debug)]
enum Allowed {
    Only(&'static [&'static str]),
    /// The CLI wires everything together.
    EveryOtherCrate,
}

/// Every workspace crate's layer. A crate missing here fails the test: a new crate
/// (an example, a crate nested inside sim-core/) must be placed in the layering on
/// purpose, here and in ARCHITECTURE.md.
const LAYERS: &[(&str, Allowed)] = &[
    ("sim-core", Allowed::Only(&[])),
    ("protocols", Allowed::Only(&["sim-core"])),
    ("reports", Allowed::Only(&["sim-core"])),
    // TLC and trace validation (`tla/validate/`): reads run directories through
    // sim-core's types; only the CLI depends on it (no other layer lists it).
    ("quorumlab-tla", Allowed::Only(&["sim-core"])),
    ("quorumlab", Allowed::EveryOtherCrate),
    // An outside crate's view of quorumlab as a library (`quorumlab::cli::main`): the
    // one crate that may depend on the CLI, and it is nothing's dependency.
    (
        "outside-protocol",
        Allowed::Only(&["quorumlab", "sim-core"]),
    ),
];

/// Every broken rule, one message each, for `crates`' workspace dependencies.
fn violations(crates: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, _) in LAYERS {
        if !crates.contains_key(*name) {
            problems.push(format!(
                "`{name}` is in the LAYERS table of tests/cli/architecture.rs but not in the \
                 workspace: remove it from the table"
            ));
        }
    }
    for (name, dependencies) in crates {
        let Some((_, allowed)) = LAYERS.iter().find(|(layer, _)| layer == name) else {
            problems.push(format!(
                "workspace crate `{name}` has no layer: add it to the LAYERS table in \
                 tests/cli/architecture.rs with the workspace crates it may depend on (and \
                 to ARCHITECTURE.md)"
            ));
            continue;
        };
        for dependency in dependencies {
            let permitted = match allowed {
                Allowed::Only(names) => names.contains(&dependency.as_str()),
                Allowed::EveryOtherCrate => dependency != name,
            };
            if !permitted {
                problems.push(format!(
                    "`{name}` depends on `{dependency}`, an arrow ARCHITECTURE.md forbids \
                     (allowed: {allowed:?})"
                ));
            }
        }
    }
    problems
}

/// Each workspace crate with the workspace crates it depends on (any kind).
fn workspace_graph() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .output()
        .unwrap_or_else(|error| panic!("cannot run {cargo:?} metadata: {error}"));
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("a packages array");
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("a workspace_members array")
        .iter()
        .map(|id| id.as_str().expect("member ids are strings"))
        .collect();
    let workspace: Vec<&serde_json::Value> = packages
        .iter()
        .filter(|package| members.contains(&package["id"].as_str().unwrap_or_default()))
        .collect();
    let names: Vec<&str> = workspace
        .iter()
        .map(|package| package["name"].as_str().expect("packages have names"))
        .collect();
    workspace
        .iter()
        .map(|package| {
            let mut dependencies: Vec<String> = package["dependencies"]
                .as_array()
                .expect("a dependencies array")
                .iter()
                .map(|dependency| {
                    dependency["name"]
                        .as_str()
                        .expect("dependencies have names")
                })
                .filter(|dependency| names.contains(dependency))
                .map(str::to_string)
                .collect();
            dependencies.sort();
            dependencies.dedup();
            (package["name"].as_str().unwrap().to_string(), dependencies)
        })
        .collect()
}

#[test]
fn dependency_arrows_point_down_the_layers() {
    let graph = workspace_graph();
    assert!(
        graph.contains_key("sim-core") && graph.contains_key("quorumlab"),
        "cargo metadata lists the workspace: {graph:?}"
    );
    let problems = violations(&graph);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn wrong_way_arrows_and_unplaced_crates_are_reported() {
    let graph = |edges: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(name, dependencies)| {
                let dependencies = dependencies.iter().map(|d| d.to_string()).collect();
                (name.to_string(), dependencies)
            })
            .collect()
    };
    let good = graph(&[
        ("sim-core", &[]),
        ("protocols", &["sim-core"]),
        ("reports", &["sim-core"]),
        ("quorumlab-tla", &["sim-core"]),
        (
            "quorumlab",
            &["protocols", "quorumlab-tla", "reports", "sim-core"],
        ),
        ("outside-protocol", &["quorumlab", "sim-core"]),
    ]);
    assert_eq!(violations(&good), Vec::<String>::new());

    let mut wrong = good.clone();
    wrong.insert("sim-core".into(), vec!["protocols".into()]);
    wrong.insert(
        "reports".into(),
        vec!["quorumlab".into(), "sim-core".into()],
    );
    wrong.insert("example".into(), vec!["quorumlab".into()]);
    let problems = violations(&wrong).join("\n");
    assert!(
        problems.contains("`sim-core` depends on `protocols`"),
        "{problems}"
    );
    assert!(
        problems.contains("`reports` depends on `quorumlab`"),
        "{problems}"
    );
    assert!(
        problems.contains("workspace crate `example` has no layer: add it to the LAYERS table"),
        "{problems}"
    );
    assert_eq!(violations(&wrong).len(), 3, "{problems}");

    let mut renamed = good;
    renamed.remove("reports");
    assert!(violations(&renamed)[0].contains("`reports` is in the LAYERS table"));
}
