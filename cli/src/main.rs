//! `sipxfer`: the command-line tool. Today: `sipxfer check FILE...`, the message checker.
#![deny(missing_docs)]

mod check;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// SIP call transfer, Sans-IO: tools around the sipxfer core.
#[derive(Parser, Debug)]
#[command(name = "sipxfer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse SIP messages (one per file, `-` for stdin) and print a verdict per file:
    /// `FILE: valid request METHOD`, `FILE: valid response CODE` or
    /// `FILE: invalid: REASON at byte N`. Exits 1 if any file is invalid.
    Check {
        /// Files holding one SIP message each, as received in one datagram.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            check::run(&files, &mut out)
        }
    }
}
