//! `sipxfer check` end to end: one line per file, verdicts matching RFC 4475 and RFC 5118, the
//! endpoint's answers (`--respond`), stdin, exit codes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A conformance message set in the repository (`rfc4475`, `rfc5118`).
fn set_dir(set: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conformance")
        .join(set)
}

/// The rows of a set's EXPECTATIONS.tsv, split at tabs.
fn expectations_of(set: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(set_dir(set).join("EXPECTATIONS.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

/// `sipxfer check` on every file of a set: exit code 1 (each set has invalid messages), one
/// line per file, each verdict matching the `parse` column. Returns stdout.
fn check_verdicts(set: &str) -> String {
    let rows = expectations_of(set);
    let files: Vec<PathBuf> = rows.iter().map(|r| set_dir(set).join(&r[0])).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .arg("check")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "some {set} messages are invalid"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(&rows) {
        let (file, verdict) = line.split_once(": ").unwrap();
        assert!(file.ends_with(row[0].as_str()), "{line}");
        match row[2].as_str() {
            "ok" => assert!(verdict.starts_with("valid "), "{line}"),
            "error" => assert!(
                verdict.starts_with("invalid: ") && verdict.contains(" at byte "),
                "{line}"
            ),
            _ => assert!(
                verdict.starts_with("valid ") || verdict.starts_with("invalid: "),
                "{line}"
            ),
        }
    }
    stdout
}

/// `sipxfer check --respond` on every file of a set: the endpoint's answer to each message
/// matches the `uas` column (`a|b`: either; `any`: any response; `drop`: nothing sent).
fn check_uas_column(set: &str, count: usize) {
    let rows = expectations_of(set);
    assert_eq!(rows.len(), count);
    let files: Vec<PathBuf> = rows.iter().map(|r| set_dir(set).join(&r[0])).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(["check", "--respond"])
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), count);
    let mut wrong = vec![];
    for (line, row) in lines.iter().zip(&rows) {
        let (file, _) = line.split_once(": ").unwrap();
        assert!(file.ends_with(row[0].as_str()), "{line}");
        let (_, answer) = line.rsplit_once(" => ").unwrap();
        let allowed: Vec<&str> = row[3].split('|').collect();
        if !(allowed.contains(&"any") && answer != "drop" || allowed.contains(&answer)) {
            wrong.push(format!("{line} (expected {})", row[3]));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn rfc4475_verdicts_and_exit_code() {
    let stdout = check_verdicts("rfc4475");
    assert!(stdout.contains("wsinv.dat: valid request INVITE"));
    assert!(stdout.contains("unreason.dat: valid response 200"));
}

#[test]
fn rfc5118_verdicts_and_exit_code() {
    let stdout = check_verdicts("rfc5118");
    assert!(stdout.contains("ipv6-good.dat: valid request REGISTER"));
    assert!(stdout.contains("port-unambiguous.dat: valid request REGISTER"));
    assert!(stdout.contains("ipv6-bug-abnf-3-colons.dat: valid request OPTIONS"));
    assert!(stdout.contains("ipv6-bad.dat: invalid: malformed Request-URI at byte 13"));
    assert!(stdout.contains("ipv6-in-sdp.dat: invalid: body shorter than Content-Length"));
}

#[test]
fn stdin_and_success() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .args(["check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "-: valid response 180\n"
    );
}

#[test]
fn garbage_never_panics() {
    let dir = std::env::temp_dir().join(format!("sipxfer-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (k, data) in [
        &b"\xff\xfe\x00"[..],
        b"",
        b"\r\n\r\n",
        b"INVITE",
        b"SIP/2.0 99999 x\r\n\r\n",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.join(format!("g{k}"));
        std::fs::write(&p, data).unwrap();
        files.push(p);
    }
    files.push(dir.join("does-not-exist"));
    let out = Command::new(env!("CARGO_BIN_EXE_sipxfer"))
        .arg("check")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), files.len());
    assert!(
        stdout.lines().all(|l| l.contains(": invalid: ")),
        "{stdout}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `sipxfer check --respond`: the real endpoint's answer to each RFC 4475 message matches the
/// `uas` column of EXPECTATIONS.tsv (`a|b`: either; `any`: anything; `drop`: nothing sent).
#[test]
fn rfc4475_uas_column() {
    check_uas_column("rfc4475", 49);
}

/// `sipxfer check --respond` on the RFC 5118 (IPv6) messages: the answers match the `uas`
/// column of tests/conformance/rfc5118/EXPECTATIONS.tsv.
#[test]
fn rfc5118_uas_column() {
    check_uas_column("rfc5118", 12);
}
