//! Data-driven protocol tests in the etcd raft style (`raft/testdata/*.txt` there): each
//! file under `protocols/src/<protocol>/testdata/` is a list of commands, each with its
//! input and the output it must print, run on the real simulator (`sim_core`'s
//! `Prepared`, through the registry) or the real model checker. A behaviour change shows
//! as a readable diff of elections, commits, faults and verdicts.
//!
//! A test case:
//!
//! ```text
//! # comments and blank lines between cases are ignored
//! run seed=3 show=roles,obs,faults
//! protocol = "raft"          <- input: a scenario file, inline
//! nodes = 3
//! ----
//!    12.345ms n1 role candidate   <- expected output (no blank lines)
//! verdict pass
//! ```
//!
//! Commands:
//! - `run seed=N [show=roles,obs,faults,crashes,replies,sends] [mutant=NAME] [lines=N]`:
//!   one traced run; prints the chosen events (default `roles,obs,faults,crashes`), at
//!   most `lines` of them (default 60; the rest are counted), then the verdict.
//! - `check [mutant=NAME]`: the model checker on the scenario's `[check]` bounds; prints
//!   the unique state count and the verdict.
//!
//! `QUORUMLAB_UPDATE_GOLDEN=1 cargo test -p protocols --release --test datadriven` rewrites
//! every expected output from what the code prints now; review the diff before committing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sim_core::check::CheckOptions;
use sim_core::scenario::Scenario;
use sim_core::trace::{TraceDetail, TraceEffect, TraceEvent};

/// One command with its input and expected output.
struct Case {
    /// The file's line of the command, for messages.
    line: usize,
    command: String,
    input: String,
    expected: String,
}

fn parse(path: &Path, text: &str) -> Vec<Case> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        if line.trim().is_empty() || line.starts_with('#') {
            index += 1;
            continue;
        }
        let start = index;
        let command = line.to_string();
        index += 1;
        let mut input = String::new();
        while index < lines.len() && lines[index] != "----" {
            input.push_str(lines[index]);
            input.push('\n');
            index += 1;
        }
        assert!(
            index < lines.len(),
            "{}:{}: `{command}` has no `----` line before its expected output",
            path.display(),
            start + 1
        );
        index += 1;
        let mut expected = String::new();
        while index < lines.len() && !lines[index].trim().is_empty() {
            expected.push_str(lines[index]);
            expected.push('\n');
            index += 1;
        }
        cases.push(Case {
            line: start + 1,
            command,
            input,
            expected,
        });
    }
    cases
}

/// `key=value` arguments after the command word.
fn argument<'a>(command: &'a str, key: &str) -> Option<&'a str> {
    command
        .split_whitespace()
        .skip(1)
        .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
}

fn run_case(path: &Path, case: &Case) -> String {
    let scenario = Scenario::parse(path, case.input.clone())
        .unwrap_or_else(|error| panic!("{}:{}: {error}", path.display(), case.line));
    let registry = protocols::registry();
    let mutant = argument(&case.command, "mutant");
    match case.command.split_whitespace().next() {
        Some("run") => {
            let seed: u64 = argument(&case.command, "seed")
                .unwrap_or_else(|| panic!("{}:{}: run needs seed=N", path.display(), case.line))
                .parse()
                .expect("seed is a number");
            let show: Vec<&str> = argument(&case.command, "show")
                .unwrap_or("roles,obs,faults,crashes")
                .split(',')
                .collect();
            let lines_max: usize = argument(&case.command, "lines")
                .map_or(60, |n| n.parse().expect("lines is a number"));
            let runner = sim_core::runner::prepare(&registry, &scenario, mutant, false)
                .unwrap_or_else(|error| panic!("{}:{}: {error}", path.display(), case.line));
            let output = runner.run(seed, true);
            let trace = output.trace.expect("a traced run has a trace");
            let mut events = Vec::new();
            for line in &trace {
                let event = TraceEvent::parse(line).expect("the simulator writes trace events");
                render(&event, &show, &mut events);
            }
            let mut out = String::new();
            for event in events.iter().take(lines_max) {
                let _ = writeln!(out, "{event}");
            }
            if events.len() > lines_max {
                let _ = writeln!(out, "... {} more", events.len() - lines_max);
            }
            let result = &output.result;
            let _ = write!(out, "verdict {}", result.verdict.name());
            if let Some(property) = &result.property {
                let _ = write!(out, " {property}");
            }
            let _ = writeln!(out, " (trace hash {})", result.trace_hash);
            out
        }
        Some("check") => {
            let options = CheckOptions {
                threads: 1,
                ..CheckOptions::default()
            };
            let report = sim_core::runner::check(&registry, &scenario, mutant, &options)
                .unwrap_or_else(|error| panic!("{}:{}: {error}", path.display(), case.line));
            let mut out = format!("unique states {}\n", report.unique_states);
            match report.violation() {
                Some(property) => {
                    let _ = writeln!(out, "violated {}", property.name);
                }
                None if report.passed() => out.push_str("all properties hold\n"),
                None => out.push_str("a sometimes condition was never reached\n"),
            }
            out
        }
        other => panic!(
            "{}:{}: unknown command {other:?} (use run or check)",
            path.display(),
            case.line
        ),
    }
}

/// The events of one trace line that `show` asks for, one line each.
fn render(event: &TraceEvent, show: &[&str], out: &mut Vec<String>) {
    let at = format!("{:>6}.{:03}ms", event.time_us / 1000, event.time_us % 1000);
    let node = event
        .node
        .map_or("--".to_string(), |node| format!("n{node}"));
    let kind = event.event.as_str();
    match &event.detail {
        TraceDetail::Fault { fault } if show.contains(&"faults") => {
            out.push(format!("{at} {node} {kind} {fault}"));
        }
        TraceDetail::Marker {} if show.contains(&"faults") => {
            out.push(format!("{at} {node} {kind}"))
        }
        TraceDetail::Crash { cause } if show.contains(&"crashes") => {
            out.push(format!("{at} {node} crash ({cause})"));
        }
        TraceDetail::Step {
            effects,
            observations,
            role,
            ..
        } => {
            for effect in effects {
                match effect {
                    TraceEffect::Send { to, msg, .. } if show.contains(&"sends") => {
                        out.push(format!("{at} {node} send n{to} {msg}"));
                    }
                    TraceEffect::Reply {
                        client,
                        request,
                        reply,
                        ..
                    } if show.contains(&"replies") => out.push(format!(
                        "{at} {node} reply {}",
                        serde_json::json!({"client": client, "request": request, "reply": reply})
                    )),
                    _ => {}
                }
            }
            if show.contains(&"obs") {
                for observation in observations {
                    out.push(format!("{at} {node} {}", observation_text(observation)));
                }
            }
            if let Some(role) = role.as_ref().filter(|_| show.contains(&"roles")) {
                out.push(format!("{at} {node} role {role}"));
            }
        }
        _ => {}
    }
}

/// `{"commit": {"Commit": {"index": 1}}}` as `commit index=1`: the kind, then the fields
/// of the (single-variant-tagged) value.
fn observation_text(observation: &Value) -> String {
    let Some((kind, value)) = observation.as_object().and_then(|o| o.iter().next()) else {
        return observation.to_string();
    };
    let mut value = value;
    if let Some(object) = value.as_object() {
        if object.len() == 1 && object.values().all(Value::is_object) {
            value = object.values().next().expect("one value");
        }
    }
    match value.as_object() {
        Some(fields) => {
            let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{kind} {}", fields.join(" "))
        }
        None if value.is_null() => kind.clone(),
        None => format!("{kind} {value}"),
    }
}

fn testdata_files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for protocol in std::fs::read_dir(&src).expect("protocols/src") {
        let testdata = protocol.expect("a directory entry").path().join("testdata");
        if let Ok(entries) = std::fs::read_dir(&testdata) {
            for entry in entries {
                let path = entry.expect("a directory entry").path();
                if path.extension().is_some_and(|ext| ext == "txt") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_testdata_file_prints_its_expected_output() {
    sim_core::panics::install_quiet_hook();
    let update = std::env::var_os("QUORUMLAB_UPDATE_GOLDEN").is_some();
    let files = testdata_files();
    assert!(files.len() >= 3, "testdata files: {files:?}");
    let mut mismatches = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let cases = parse(&path, &text);
        assert!(!cases.is_empty(), "{}: no test cases", path.display());
        let mut rewritten = text.clone();
        for case in &cases {
            let actual = run_case(&path, case);
            if actual != case.expected {
                if update {
                    let old = format!(
                        "{}{}----\n{}",
                        case.command,
                        with_newline(&case.input, &case.command),
                        case.expected
                    );
                    let new = format!(
                        "{}{}----\n{}",
                        case.command,
                        with_newline(&case.input, &case.command),
                        actual
                    );
                    rewritten = rewritten.replacen(&old, &new, 1);
                } else {
                    mismatches.push(format!(
                        "{}:{}: `{}`\n--- expected\n{}--- actual\n{}",
                        path.display(),
                        case.line,
                        case.command,
                        case.expected,
                        actual
                    ));
                }
            }
        }
        if update && rewritten != text {
            std::fs::write(&path, rewritten).expect("writable");
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(run with QUORUMLAB_UPDATE_GOLDEN=1 to accept the new output, then review the diff)",
        mismatches.join("\n")
    );
}

/// The text between a command and its `----`: a newline after the command, then the input.
fn with_newline(input: &str, _command: &str) -> String {
    format!("\n{input}")
}

#[test]
fn a_wrong_expectation_is_reported_not_accepted() {
    let path = Path::new("inline.txt");
    let text = "run seed=1 show=roles lines=10\nprotocol = \"raft\"\nnodes = 3\nduration_ms = 400\n----\nverdict pass\n";
    let cases = parse(path, text);
    assert_eq!(cases.len(), 1);
    let actual = run_case(path, &cases[0]);
    assert_ne!(
        actual, cases[0].expected,
        "three nodes elect a leader within 400 ms"
    );
    assert!(actual.contains("role leader"), "{actual}");
}
