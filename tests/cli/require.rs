//! `QUORUMLAB_REQUIRE`, the list of tools whose absence fails a test instead of skipping
//! it (src/require.rs).

use quorumlab::require::{parse_required, required_tools};

#[test]
fn require_lists_parse_with_implied_tools_and_refuse_unknown_names() {
    assert_eq!(parse_required(""), Ok(vec![]));
    assert_eq!(parse_required(" , "), Ok(vec![]));
    assert_eq!(parse_required("chromium"), Ok(vec!["chromium"]));
    // TLC runs on Java: requiring TLC requires Java. Order follows the table.
    assert_eq!(
        parse_required("histories, tlc"),
        Ok(vec!["java", "tlc", "histories"])
    );
    assert_eq!(
        parse_required("all"),
        Ok(vec!["java", "tlc", "chromium", "histories"])
    );
    assert_eq!(
        parse_required("java,tlc,chromium,histories"),
        parse_required("all")
    );
    let error = parse_required("java,chromuim").unwrap_err();
    assert!(
        error.contains("QUORUMLAB_REQUIRE") && error.contains("\"chromuim\""),
        "{error}"
    );
    assert!(
        error.contains("java, tlc, chromium, histories or `all`"),
        "{error}"
    );
    assert!(parse_required("Java").is_err(), "names are case-sensitive");
}

#[test]
fn this_runs_quorumlab_require_is_well_formed() {
    // Checked even when every tool is present, so a typo in CI's list fails at once
    // rather than on the day a tool goes missing.
    if let Err(error) = required_tools() {
        panic!("{error}");
    }
}
