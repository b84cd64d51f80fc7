//! Ground truth for the linearizability checker: every public history listed in
//! `shared/histories/verdicts.tsv` (Porcupine's etcd and kv data, Knossos's EDN data) must
//! get its known verdict. The data stays outside the repository: the folder is
//! `$QUORUMLAB_HISTORIES`, else `../shared/histories` beside the clone; without it the
//! test says so and passes, unless `QUORUMLAB_REQUIRE` requires `histories`.

use std::path::{Path, PathBuf};

// The CLI package's helper, included rather than depended on: sim-core must not depend
// on `quorumlab`, and one file keeps one list of tool names.
#[path = "../../src/require.rs"]
mod require;

use sim_core::lincheck::{check_file, Budget, Verdict};

fn histories_folder() -> Option<PathBuf> {
    let folder = require::histories_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    folder.join("verdicts.tsv").is_file().then_some(folder)
}

#[test]
fn every_public_history_gets_its_known_verdict() {
    let Some(folder) = histories_folder() else {
        require::skip_or_fail(
            "histories",
            "../shared/histories not found (set QUORUMLAB_HISTORIES to its path)",
        );
        return;
    };
    let table =
        std::fs::read_to_string(folder.join("verdicts.tsv")).expect("verdicts.tsv is readable");
    let mut lines = table.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("verdicts.tsv has a header")
        .split('\t')
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|column| *column == name)
            .unwrap_or_else(|| panic!("verdicts.tsv has no {name} column"))
    };
    let (path_column, verdict_column) = (column("path"), column("expected_linearizable"));

    let mut matched = 0;
    let mut skipped = 0;
    let mut mismatches: Vec<String> = Vec::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (path, expected) = (fields[path_column], fields[verdict_column]);
        let expected = match expected {
            "skip" => {
                skipped += 1;
                continue;
            }
            "true" => Verdict::Linearizable,
            "false" => Verdict::NotLinearizable,
            other => panic!("verdicts.tsv: {path}: unexpected verdict {other:?}"),
        };
        match check_file(&folder.join(path), None, Budget::default()) {
            Ok(file_verdict) if file_verdict.verdict() == expected => matched += 1,
            Ok(file_verdict) => mismatches.push(format!(
                "{path}: expected {expected:?}, got {:?}\n{}",
                file_verdict.verdict(),
                file_verdict.report.explanation
            )),
            Err(error) => mismatches.push(format!("{path}: error: {error}")),
        }
    }
    println!("{matched} histories matched their known verdict, {skipped} skipped");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // 146 rows, one of them the empty etcd_095.log.
    assert_eq!(matched, 145);
    assert_eq!(skipped, 1);
}

#[test]
fn a_violation_is_explained_with_the_failing_key_and_unplaced_operations() {
    let Some(folder) = histories_folder() else {
        require::skip_or_fail(
            "histories",
            "../shared/histories not found (set QUORUMLAB_HISTORIES to its path)",
        );
        return;
    };
    let file_verdict = check_file(
        &folder.join("porcupine/kv/c10-bad.txt"),
        None,
        Budget::default(),
    )
    .expect("c10-bad parses");
    assert_eq!(file_verdict.verdict(), Verdict::NotLinearizable);
    let partitions = &file_verdict.report.partitions;
    assert_eq!(partitions.len(), 10, "c10 has ten keys");
    let failed = partitions
        .iter()
        .find(|partition| partition.verdict == Verdict::NotLinearizable)
        .expect("one partition failed");
    assert!(failed.key.is_some(), "kv histories are partitioned by key");
    let counterexample = failed
        .counterexample
        .as_ref()
        .expect("a violation has a counterexample");
    assert!(!counterexample.unplaced.is_empty());
    assert!(file_verdict
        .report
        .explanation
        .contains("longest linearizable prefix"));
    assert!(
        file_verdict.report.explanation.contains("c10-bad.txt:"),
        "explanations cite file lines"
    );
    let failed_key = failed.key.as_deref().expect("keyed");
    assert!(file_verdict
        .report
        .explanation
        .contains(&format!("key {failed_key:?}")));

    // Too small a budget answers Unknown on a real history, never a wrong verdict.
    let starved = check_file(
        &folder.join("porcupine/jepsen/etcd_000.log"),
        None,
        Budget { max_steps: 10 },
    )
    .expect("etcd_000 parses");
    assert_eq!(starved.verdict(), Verdict::Unknown);
    assert_eq!(starved.report.steps, 10);
}
