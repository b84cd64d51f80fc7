//! `quorumlab`: parse arguments, run the command, map the outcome to an exit code.

use clap::Parser;
use quorumlab::cli::{BenchWhat, Cli, Command};
use quorumlab::commands::{self, RunArgs};
use quorumlab::{bench, replay, report, testing};

/// Die quietly when stdout is closed early (`quorumlab run ... | head`), as Unix tools do,
/// instead of panicking on the write.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    restore_default_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                quorumlab::EXIT_BAD_INPUT
            } else {
                quorumlab::EXIT_PASS
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
        } => commands::run(RunArgs {
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
        Command::Sweep(args) => commands::sweep(args),
        Command::Replay { run_dir, from, to } => replay::replay(&run_dir, from, to),
        Command::Report { dir, out, shiviz } => report::report(&dir, out, shiviz),
        Command::Test { paths, jobs, json } => testing::test(&paths, jobs, json),
        Command::List { what, json, dir } => commands::list(what, json, &dir),
        Command::Check {
            scenario,
            bfs: _,
            dfs,
            threads,
            max_states,
            mutant,
            json,
            serve,
        } => quorumlab::check::check(&quorumlab::check::CheckArgs {
            scenario: &scenario,
            dfs,
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
        } => quorumlab::lincheck::lincheck(&files, model.as_deref(), budget_steps, json),
        Command::Schema { protocol } => commands::schema(protocol.as_deref()),
        Command::Merge { dirs, out, json } => quorumlab::merge::merge(&dirs, out, json),
        Command::Shrink {
            run_dir,
            budget_seconds,
            out,
            json,
        } => quorumlab::shrink::shrink(&run_dir, budget_seconds, out, json),
        Command::Tlc {
            validate_trace: Some(run_dir),
            json,
            ..
        } => quorumlab::trace_validate::validate_trace(&run_dir, json),
        Command::Tlc {
            path,
            config,
            workers,
            json,
            validate_trace: None,
        } => quorumlab::tlc_command::tlc(path.as_deref(), config.as_deref(), workers, json),
        Command::Bench {
            what: BenchWhat::Sim,
            json,
            seeds,
            scenario,
            ..
        } => bench::bench(json, seeds, &scenario),
        Command::Bench {
            what: BenchWhat::Lincheck,
            json,
            histories,
            rounds,
            ..
        } => bench::bench_lincheck(json, &histories, rounds),
        Command::Bench {
            what: BenchWhat::Shrink,
            json,
            dir,
            budget_seconds,
            ..
        } => bench::bench_shrink(json, &dir, budget_seconds),
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(error.exit_code());
        }
    }
}
