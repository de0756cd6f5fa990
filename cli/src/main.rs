//! `sipxfer`: the command-line tool. `sipxfer demo` runs a transfer among three user agents
//! over real sockets and prints its ladder; `sipxfer ua` is a user agent driven by stdin for
//! interop with phones and PBXs; `sipxfer check` checks messages.
#![deny(missing_docs)]

mod check;
mod demo;
mod ladder;
mod media;
mod pcap;
mod respond;
mod ua;

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
    /// Three user agents (alice, bob, carol) on 127.0.0.1 ephemeral ports in this process,
    /// over real sockets: alice calls bob, transfers him to carol (RFC 5589 §6), bob calls
    /// carol. Prints the ladder of every SIP message and a summary; exits 0 only if the
    /// transfer reached its RFC outcome at all three parties.
    Demo {
        /// Transport between the three.
        #[arg(long, value_enum, default_value = "udp")]
        transport: ua::TransportArg,
        /// Runtime adapter that drives the sockets.
        #[arg(long, value_enum, default_value = "tokio")]
        runtime: demo::RuntimeKind,
    },
    /// A user agent driven by lines on stdin (`call URI`, `answer [N]`, `reject N CODE`,
    /// `redirect N URI`, `hangup [N]`, `hold N`, `resume N`, `transfer N URI`, `attended N CONSULT_N`,
    /// `quit`), one line per event on stdout. Calls are numbered 1, 2, 3… as they appear.
    /// Keeps serving after stdin ends, until SIGINT/SIGTERM or `--exit-after`.
    Ua(ua::UaArgs),
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
    // Logs (tracing) go to stderr, filtered by RUST_LOG (default: warnings).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match cli.command {
        Command::Demo { transport, runtime } => {
            let stdout = std::io::stdout();
            demo::run(transport.transport(), runtime, &mut stdout.lock())
        }
        Command::Ua(args) => ua::run(args),
        Command::Check { files, respond } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            check::run(&files, respond, &mut out)
        }
    }
}
