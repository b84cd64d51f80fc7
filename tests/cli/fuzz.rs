//! The scenario fuzzer: malformed scenarios made by mutating the bundled files (a field
//! deleted, duplicated, retyped, set to an extreme number, moved to the wrong table, an
//! unknown one added), each run as `quorumlab run FILE --seed 1`. Every run must end
//! within a time limit with exit 0, 1 or 2 — never a panic, never exit 3 — and every
//! exit 2 must name a field the input has (or say which one it misses, or the line of
//! a syntax error).
//!
//! The generator is deterministic (case `i` is the same on every machine). `cargo test`
//! runs `CASES_DEFAULT` cases; `QUORUMLAB_FUZZ_CASES=N` runs N (and
//! `QUORUMLAB_FUZZ_FIRST=K` starts at case K, to reproduce one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use quorumlab::bench::Stopwatch;

use crate::{root, temp_dir};

const CASES_DEFAULT: u64 = 60;

/// A run past this many seconds is a hang. A bundled file runs well under a second, but
/// a mutation may make a run use its whole event budget (a million events, about 15 s on
/// a busy 2-core machine: pingpong without its nemesis floods the ring with duplicates)
/// or the linearizability check's (10 million steps).
const TIME_LIMIT_SECONDS: f64 = 120.0;

/// splitmix64: a tiny deterministic generator, so that case `i` never changes.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every path to a value in `table`: keys, and indices into arrays.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(value: &toml::Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        toml::Value::Table(table) => {
            for (key, inner) in table {
                prefix.push(Step::Key(key.clone()));
                out.push(prefix.clone());
                paths(inner, prefix, out);
                prefix.pop();
            }
        }
        toml::Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                out.push(prefix.clone());
                paths(inner, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The value at `path` and its parent.
fn parent_mut<'a>(root: &'a mut toml::Value, path: &[Step]) -> Option<&'a mut toml::Value> {
    let mut current = root;
    for step in &path[..path.len() - 1] {
        current = match step {
            Step::Key(key) => current.as_table_mut()?.get_mut(key)?,
            Step::Index(index) => current.as_array_mut()?.get_mut(*index)?,
        };
    }
    Some(current)
}

fn value_mut<'a>(root: &'a mut toml::Value, path: &[Step]) -> Option<&'a mut toml::Value> {
    let parent = parent_mut(root, path)?;
    match path.last()? {
        Step::Key(key) => parent.as_table_mut()?.get_mut(key),
        Step::Index(index) => parent.as_array_mut()?.get_mut(*index),
    }
}

/// Numbers at and around the edges of every integer type a scenario uses.
fn extreme(gen: &mut Gen) -> toml::Value {
    let integers = [
        0,
        -1,
        1,
        i64::MAX,
        i64::MIN,
        u32::MAX as i64,
        u32::MAX as i64 + 1,
        1_000_000,
        1_000_001,
        -1_000_000,
        18_446_744_073_709_552,
        9_223_372_036_854_775,
        2_592_000_001,
    ];
    match gen.below(5) {
        0 => toml::Value::Float(*gen.pick(&[f64::NAN, f64::INFINITY, -0.5, 1e300, 0.0])),
        _ => toml::Value::Integer(*gen.pick(&integers)),
    }
}

/// A value of another type than `value`.
fn retyped(gen: &mut Gen, value: &toml::Value) -> toml::Value {
    let choices = [
        toml::Value::String("nobody".into()),
        toml::Value::String(String::new()),
        toml::Value::Integer(7),
        toml::Value::Boolean(true),
        toml::Value::Array(Vec::new()),
        toml::Value::Array(vec![
            toml::Value::Integer(1),
            toml::Value::Integer(2),
            toml::Value::Integer(3),
        ]),
        toml::Value::Table(toml::Table::new()),
        toml::Value::Float(2.5),
    ];
    loop {
        let choice = gen.pick(&choices).clone();
        if choice.type_str() != value.type_str() {
            return choice;
        }
    }
}

/// One malformed scenario: the mutated source and what was done.
fn mutate(gen: &mut Gen, source: &str) -> (String, String) {
    let mut doc: toml::Value = toml::from_str(source).expect("bundled files are TOML");
    let mut all = Vec::new();
    paths(&doc, &mut Vec::new(), &mut all);
    let path = gen.pick(&all).clone();
    let named = format!("{path:?}");
    let kind = gen.below(8);
    let what = match kind {
        // Duplicate a line of the text (a key twice, or a table header twice).
        0 => {
            let lines: Vec<&str> = source.lines().collect();
            let line = gen.below(lines.len());
            let mut out: Vec<&str> = lines.clone();
            out.insert(line, lines[line]);
            return (
                out.join("\n") + "\n",
                format!("duplicated line {}", line + 1),
            );
        }
        1 => {
            let parent = parent_mut(&mut doc, &path).expect("a path");
            match (path.last(), parent) {
                (Some(Step::Key(key)), toml::Value::Table(table)) => {
                    table.remove(key);
                }
                (Some(Step::Index(index)), toml::Value::Array(items)) => {
                    items.remove(*index);
                }
                _ => {}
            }
            "deleted"
        }
        2 => {
            let value = value_mut(&mut doc, &path).expect("a path");
            *value = retyped(gen, value);
            "retyped"
        }
        3 | 4 => {
            *value_mut(&mut doc, &path).expect("a path") = extreme(gen);
            "set to an extreme number"
        }
        5 => {
            // The key moved to another table (or to the top level).
            let parent = parent_mut(&mut doc, &path).expect("a path");
            let moved = match (path.last(), parent) {
                (Some(Step::Key(key)), toml::Value::Table(table)) => {
                    table.remove(key).map(|value| (key.clone(), value))
                }
                _ => None,
            };
            let tables: Vec<String> = doc
                .as_table()
                .expect("a table")
                .iter()
                .filter(|(_, value)| value.is_table())
                .map(|(key, _)| key.clone())
                .collect();
            if let Some((key, value)) = moved {
                let target = match tables.is_empty() || gen.below(3) == 0 {
                    true => doc.as_table_mut().expect("a table"),
                    false => {
                        let name = gen.pick(&tables).clone();
                        doc[&name].as_table_mut().expect("a table")
                    }
                };
                target.insert(key, value);
            }
            "moved to another table"
        }
        6 => {
            let value = value_mut(&mut doc, &path).expect("a path");
            match value {
                toml::Value::Array(items) if gen.below(2) == 0 => items.clear(),
                toml::Value::Array(items) => {
                    let first = items.first().cloned().unwrap_or(toml::Value::Integer(0));
                    items.push(first);
                }
                other => *other = toml::Value::Array(Vec::new()),
            }
            "array emptied or grown"
        }
        _ => {
            let parent = parent_mut(&mut doc, &path).expect("a path");
            if let toml::Value::Table(table) = parent {
                table.insert("bogus_field".into(), toml::Value::Integer(1));
            } else if let toml::Value::Table(table) = &mut doc {
                table.insert("bogus_field".into(), toml::Value::Integer(1));
            }
            "an unknown field added beside"
        }
    };
    let text = toml::to_string(&doc).unwrap_or_else(|_| source.to_string());
    (text, format!("{named} {what}"))
}

/// The bundled scenario files, sorted (the corpus).
fn corpus() -> Vec<(PathBuf, String)> {
    let files = quorumlab::collect_scenarios(&[root().join("scenarios")]).expect("scenarios");
    files
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).expect("readable");
            (path, source)
        })
        .collect()
}

/// Whether an exit-2 message is about something the input has: the field it names is
/// written in it (its last key), or the message says the field is missing, or it is a
/// syntax error at a line.
fn names_an_input_field(stderr: &str, input: &str) -> bool {
    if stderr.contains("missing field") || stderr.contains("not valid TOML") {
        return true;
    }
    let Some(start) = stderr.find("field `") else {
        return false;
    };
    let rest = &stderr[start + "field `".len()..];
    let field = &rest[..rest.find('`').unwrap_or(rest.len())];
    let last = field.rsplit('.').next().unwrap_or(field);
    let key = last.split('[').next().unwrap_or(last);
    !key.is_empty() && input.contains(key)
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
    seconds: f64,
}

fn run_case(file: &Path, out: &Path) -> Outcome {
    let clock = Stopwatch::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorumlab"))
        .args(["run", file.to_str().unwrap(), "--seed", "1", "--out"])
        .arg(out)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            let mut stderr = String::new();
            use std::io::Read as _;
            child
                .stderr
                .take()
                .expect("piped")
                .read_to_string(&mut stderr)
                .expect("readable");
            return Outcome {
                code: status.code(),
                stderr,
                seconds: clock.seconds(),
            };
        }
        if clock.seconds() > TIME_LIMIT_SECONDS {
            let _ = child.kill();
            let _ = child.wait();
            return Outcome {
                code: None,
                stderr: format!("killed after {TIME_LIMIT_SECONDS} s"),
                seconds: clock.seconds(),
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn malformed_scenarios_are_refused_or_run_never_crash() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    let cases = env("QUORUMLAB_FUZZ_CASES", CASES_DEFAULT);
    let first = env("QUORUMLAB_FUZZ_FIRST", 0);
    let corpus = corpus();
    let dir = temp_dir("fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    let mut tally: BTreeMap<String, u64> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut slowest: f64 = 0.0;
    for case in first..first + cases {
        let mut gen = Gen(case);
        let (base, source) = &corpus[gen.below(corpus.len())];
        let (mutated, what) = mutate(&mut gen, source);
        let file = dir.join(format!("case-{case}.toml"));
        std::fs::write(&file, &mutated).unwrap();
        let outcome = run_case(&file, &dir.join(format!("run-{case}")));
        slowest = slowest.max(outcome.seconds);
        let code = outcome
            .code
            .map_or("killed".to_string(), |code| code.to_string());
        *tally.entry(format!("exit {code}")).or_insert(0) += 1;
        let base_name = base.strip_prefix(root()).unwrap_or(base).display();
        let problem = match outcome.code {
            Some(0 | 1) => None,
            Some(2) if names_an_input_field(&outcome.stderr, &mutated) => None,
            Some(2) => Some("exit 2 without naming a field of the input"),
            Some(3) => Some("an internal error"),
            Some(_) if outcome.stderr.contains("panicked") => Some("a panic"),
            Some(_) => Some("an unexpected exit code"),
            None => Some("a hang"),
        };
        if outcome.stderr.contains("panicked") && problem.is_none() {
            problems.push(format!(
                "case {case} ({base_name}, {what}): a panic:\n{}",
                outcome.stderr
            ));
        }
        if let Some(problem) = problem {
            problems.push(format!(
                "case {case} ({base_name}, {what}): {problem} (exit {code}):\n{}\n--- input ---\n{mutated}",
                outcome.stderr
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("scenario fuzzer: {cases} cases from {first}: {tally:?}; slowest {slowest:.2} s");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
