//! `quorumlab`: parse arguments, run the command, map the outcome to an exit code.

use clap::Parser;
use quorumlab::cli::{Cli, Command};
use quorumlab::commands::{self, RunArgs, SweepArgs};
use quorumlab::{bench, replay, report, testing};

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
            report,
        } => commands::run(RunArgs {
            path: &scenario,
            seed,
            mutant: mutant.as_deref(),
            swarm,
            out,
            trace,
            json,
            report,
        }),
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
            report,
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
            report,
        }),
        Command::Replay { run_dir, from, to } => replay::replay(&run_dir, from, to),
        Command::Report { dir, out, shiviz } => report::report(&dir, out, shiviz),
        Command::Test { paths, jobs, json } => testing::test(&paths, jobs, json),
        Command::List { what, json, dir } => commands::list(what, json, &dir),
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
