//! `QUORUMLAB_REQUIRE`: which optional tools a test run must have.
//!
//! Some tests need a tool the repository cannot vendor (Java for TLC, a headless
//! Chromium, the public histories in `../shared/histories`). Without it such a test
//! prints a SKIP line and passes, so a laptop without Chromium can still run
//! `cargo test`. CI sets `QUORUMLAB_REQUIRE=java,tlc,chromium,histories`, and then a
//! missing tool fails the test instead: a check that silently stopped running would
//! otherwise look exactly like a check that passes.
//!
//! This file uses only `std`: `sim-core/tests/histories.rs` and the tests of
//! `tla/validate` (`quorumlab-tla`) include it with `#[path]` (neither crate may depend on
//! the CLI package), so there is one list of tool names.

/// The environment variable: a comma-separated list of [`TOOLS`] names, or `all`.
pub const REQUIRE_ENV: &str = "QUORUMLAB_REQUIRE";

/// Every tool a test may skip for, with what requiring it also requires: TLC runs on
/// Java, so requiring `tlc` makes a missing Java a failure too.
pub const TOOLS: &[(&str, &[&str])] = &[
    ("java", &[]),
    ("tlc", &["java"]),
    ("chromium", &[]),
    ("histories", &[]),
];

/// The tools a value of `QUORUMLAB_REQUIRE` requires, implied ones included, in
/// [`TOOLS`] order. Empty items are ignored; an unknown name is an error, so that a
/// typo does not silently turn a requirement off.
pub fn parse_required(value: &str) -> Result<Vec<&'static str>, String> {
    let mut named: Vec<&'static str> = Vec::new();
    for item in value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        if item == "all" {
            named.extend(TOOLS.iter().map(|(tool, _)| *tool));
            continue;
        }
        let Some((tool, implied)) = TOOLS.iter().find(|(tool, _)| *tool == item) else {
            let known: Vec<&str> = TOOLS.iter().map(|(tool, _)| *tool).collect();
            return Err(format!(
                "{REQUIRE_ENV}={value:?} names unknown tool {item:?}: use a comma-separated \
                 list of {} or `all`",
                known.join(", ")
            ));
        };
        named.push(tool);
        named.extend(implied.iter().copied());
    }
    Ok(TOOLS
        .iter()
        .map(|(tool, _)| *tool)
        .filter(|tool| named.contains(tool))
        .collect())
}

/// The tools this process's environment requires (none when the variable is unset).
pub fn required_tools() -> Result<Vec<&'static str>, String> {
    match std::env::var(REQUIRE_ENV) {
        Ok(value) => parse_required(&value),
        Err(std::env::VarError::NotPresent) => Ok(Vec::new()),
        Err(std::env::VarError::NotUnicode(value)) => Err(format!(
            "{REQUIRE_ENV}={value:?} is not valid UTF-8: use a comma-separated list of tool names"
        )),
    }
}

/// Called by a test that cannot run because `tool` is missing (`reason` says how it
/// looked). Prints a SKIP line and returns when `QUORUMLAB_REQUIRE` does not require
/// `tool`; panics, naming the variable, when it does (or when it is malformed). The
/// caller returns right after.
pub fn skip_or_fail(tool: &str, reason: &str) {
    assert!(
        TOOLS.iter().any(|(known, _)| *known == tool),
        "skip_or_fail: {tool:?} is not in the TOOLS table of src/require.rs"
    );
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    match required_tools() {
        Err(error) => panic!("{test}: {error}"),
        Ok(required) if required.contains(&tool) => panic!(
            "{test} needs {tool}, which {REQUIRE_ENV}={:?} requires, but {reason}. \
             Install it, or take it out of {REQUIRE_ENV} to let this test skip.",
            std::env::var(REQUIRE_ENV).unwrap_or_default()
        ),
        Ok(_) => {
            eprintln!("SKIP {test}: {reason} (set {REQUIRE_ENV}={tool} to make this a failure)");
        }
    }
}

/// The public linearizability histories (Porcupine's etcd and kv logs, Knossos's EDN
/// files, with `verdicts.tsv`): `$QUORUMLAB_HISTORIES`, else `../shared/histories`
/// beside the repository. They are not part of the repository; tests that need them
/// call `skip_or_fail("histories", ..)` when the folder is absent.
pub fn histories_dir(repo_root: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("QUORUMLAB_HISTORIES").map_or_else(
        || repo_root.join("../shared/histories"),
        std::path::PathBuf::from,
    )
}
