//! `sipxfer`: the command-line tool. Today: `sipxfer check [--respond] FILE...`, the message
//! checker.
#![deny(missing_docs)]

mod check;
mod respond;

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
    ///
    /// With `--respond`, each line ends with ` => CODE`: the status code a sipxfer endpoint
    /// sends when the message arrives as a UDP datagram (`drop` if it sends nothing).
    /// Requests the endpoint hands to the application are answered 480, as by a user agent
    /// with nobody to take the call.
    Check {
        /// Also print the endpoint's answer.
        #[arg(long)]
        respond: bool,
        /// Files holding one SIP message each, as received in one datagram.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files, respond } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            check::run(&files, respond, &mut out)
        }
    }
}
