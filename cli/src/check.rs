//! `sipxfer check`: one verdict line per file.

use sipxfer::msg::StartLine;
use sipxfer::parse::{parse_message, Limits};
use std::io::{Read, Write};
use std::process::ExitCode;

/// The verdict for one message's bytes, without the `FILE: ` prefix.
pub fn verdict(bytes: &[u8]) -> (bool, String) {
    match parse_message(bytes, &Limits::default()) {
        Ok(m) => match &m.start {
            StartLine::Request { method, .. } => {
                (true, format!("valid request {}", method.as_str()))
            }
            StartLine::Response { code, .. } => (true, format!("valid response {code}")),
        },
        Err(e) => (false, format!("invalid: {} at byte {}", e.kind, e.offset)),
    }
}

fn read(file: &str) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if file == "-" {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(file)?.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Checks every file, writing one line each (with the endpoint's answer when `respond`);
/// fails if any file is invalid or unreadable.
pub fn run(files: &[String], respond: bool, out: &mut impl Write) -> ExitCode {
    let mut all_valid = true;
    for file in files {
        let (valid, line) = match read(file) {
            Ok(bytes) => {
                let (valid, mut line) = verdict(&bytes);
                if respond {
                    line.push_str(" => ");
                    line.push_str(&crate::respond::respond(&bytes));
                }
                (valid, line)
            }
            Err(e) => (false, format!("invalid: cannot read: {e}")),
        };
        all_valid &= valid;
        if writeln!(out, "{file}: {line}").is_err() {
            return ExitCode::from(2);
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines() {
        assert_eq!(
            verdict(b"SIP/2.0 7000 x\r\n\r\n").1,
            "invalid: malformed Status-Code at byte 8"
        );
        assert!(!verdict(&[0xff; 3]).0);
        assert!(!verdict(b"").0);
    }
}
