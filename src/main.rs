//! `quorumlab`: parse arguments, run the command, map the outcome to an exit code.

use clap::Parser;
use quorumlab::cli::{Cli, Command};
use quorumlab::commands::{self, SweepArgs};
use quorumlab::{bench, replay, testing};

fn main() {
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
        } => commands::run(&scenario, seed, mutant.as_deref(), swarm, out, trace, json),
        Command::Sweep {
            scenarios,
            seeds,
            jobs,
            shard,
            mutant,
            swarm,
            fail_fast,
            out,
            json,
        } => commands::sweep(SweepArgs {
            scenarios,
            seeds,
            jobs,
            shard,
            mutant,
            swarm,
            fail_fast,
            out,
            json,
        }),
        Command::Replay { run_dir, from, to } => replay::replay(&run_dir, from, to),
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
        Command::Tlc {
            path,
            config,
            workers,
            json,
        } => quorumlab::tlc_command::tlc(path.as_deref(), config.as_deref(), workers, json),
        Command::Bench {
            json,
            seeds,
            scenario,
        } => bench::bench(json, seeds, &scenario),
    };
    match outcome {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(error.exit_code());
        }
    }
}
