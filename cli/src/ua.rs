//! `sipxfer ua`: a user agent for interop with phones and PBXs, driven by lines on stdin,
//! reporting one line per event on stdout (JSON with `--json`).
//!
//! Calls are numbered 1, 2, 3… in the order they appear at this user agent (incoming or
//! outgoing, including the call a transferee places to the target); every command takes
//! that number. Output is a contract scripts parse: see [`Ua::emit`].

use crate::media;
use serde_json::{json, Value};
use sipxfer::msg::{NameAddr, Uri};
use sipxfer::{
    AttendedOptions, BlindOptions, CallId, CallOptions, CallState, Destination, EndReason, Event,
    SdpKind, SipStr, Transfer, TransferId, TransferOutcome, Transport,
};
use sipxfer_driver::{Builder, Handle, Transports};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// The transport `--transport` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportArg {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

impl TransportArg {
    /// The core's transport.
    pub fn transport(self) -> Transport {
        match self {
            TransportArg::Udp => Transport::Udp,
            TransportArg::Tcp => Transport::Tcp,
        }
    }
}

/// What `sipxfer ua` was asked to do.
#[derive(Clone, Debug, clap::Args)]
pub struct UaArgs {
    /// Address to listen on (`127.0.0.1:5060`; port 0 picks one, reported by the `ready`
    /// event).
    #[arg(long)]
    pub bind: SocketAddr,
    /// Transport to listen on and to place calls over. A UDP ua listens on TCP too, on the
    /// same port (RFC 3261 §18.2.1: "For any port and interface that a server listens on
    /// for UDP, it MUST listen on that same port and interface for TCP"), and sends a
    /// request over 1 300 bytes over TCP (§18.1.1).
    #[arg(long, value_enum, default_value = "udp")]
    pub transport: TransportArg,
    /// User part of our identity (`From: <sip:NAME@ADDR>`).
    #[arg(long)]
    pub user: Option<String>,
    /// Offer this SDP (a file, sent as it is) in the calls `call` places, instead of the
    /// built-in offer (one audio stream, PCMU and PCMA).
    #[arg(long, value_name = "FILE", conflicts_with = "no_offer")]
    pub offer: Option<String>,
    /// Place calls without an offer (RFC 3261 §13.2.1): the callee offers in its 2xx, and
    /// the ua answers in the ACK (§13.2.2.4).
    #[arg(long)]
    pub no_offer: bool,
    /// Answer incoming calls at once (180, then 200).
    #[arg(long)]
    pub auto_answer: bool,
    /// Accept every incoming transfer (REFER) and call its target (the default).
    #[arg(long, conflicts_with = "reject_transfers")]
    pub accept_transfers: bool,
    /// Refuse every incoming transfer with this status (403, 603, ...).
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(u16).range(300..700))]
    pub reject_transfers: Option<u16>,
    /// One JSON object per event line.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many seconds (hanging up live calls first).
    #[arg(long, value_name = "SECS")]
    pub exit_after: Option<u64>,
    /// Write every SIP message sent and received to this pcap file.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<String>,
    /// Send new calls (ours, and a transferee's call to the target) through this outbound
    /// proxy (RFC 3261 §8.1.2).
    #[arg(long, value_name = "ADDR")]
    pub proxy: Option<SocketAddr>,
    /// Most live calls, and most live incoming calls from one remote address (defaults:
    /// the library's, 1024 and 256). A load test from one SIPp needs more.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_calls: Option<u32>,
    /// Most live transactions (default: the library's, 4096). At the limit, transactions
    /// that only absorb retransmissions make room; with none, requests get 503.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_transactions: Option<u32>,
}

/// Runs the user agent until `quit`, SIGINT/SIGTERM or `--exit-after`.
pub fn run(args: UaArgs) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sipxfer ua: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = rt.block_on(serve(args));
    // Stdin is read on a blocking thread that may still wait for a line: do not wait for it.
    rt.shutdown_background();
    code
}

async fn serve(args: UaArgs) -> ExitCode {
    let transport = args.transport.transport();
    let offer = match &args.offer {
        Some(path) => match std::fs::read(path) {
            Ok(sdp) => Some(bytes::Bytes::from(sdp)),
            Err(e) => {
                eprintln!("sipxfer ua: cannot read {path}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let mut builder = Builder::new(args.bind).transports(Transports {
        udp: transport == Transport::Udp,
        tcp: true,
    });
    if let Some(path) = &args.pcap {
        match crate::pcap::Pcap::create(path) {
            Ok(p) => {
                let p = Arc::new(p);
                builder = builder.tap(move |c| p.record(c));
            }
            Err(e) => {
                eprintln!("sipxfer ua: cannot create {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let proxy = args.proxy;
    let (max_calls, max_transactions) = (args.max_calls, args.max_transactions);
    builder = builder.configure(move |c| {
        if let Some(n) = max_calls {
            c.max_dialogs = n as usize;
            c.max_calls_per_remote = n as usize;
        }
        if let Some(n) = max_transactions {
            c.max_transactions = n as usize;
        }
        c.user_agent = Some(SipStr::from_static(concat!(
            "sipxfer/",
            env!("CARGO_PKG_VERSION")
        )));
        c.outbound_proxy = proxy.map(|addr| Destination {
            transport,
            addr,
            conn: None,
        });
    });
    let (handle, mut events) = match sipxfer_tokio::bind(builder).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("sipxfer ua: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut ua = Ua::new(handle.clone(), &args, offer);
    ua.emit(
        "ready",
        None,
        json!({ "address": handle.local_addr().to_string(), "transport": args.transport.transport().via_name().to_ascii_lowercase() }),
    );
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let exit_at = args
        .exit_after
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let mut sigterm = terminate_signal();
    loop {
        tokio::select! {
            line = stdin.next_line(), if stdin_open => match line {
                Ok(Some(line)) => {
                    if ua.command(&line).await == Flow::Quit {
                        break;
                    }
                }
                // At EOF keep serving: until a signal or --exit-after.
                Ok(None) | Err(_) => stdin_open = false,
            },
            e = events.next() => match e {
                Some(e) => ua.event(e).await,
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = recv(&mut sigterm) => break,
            _ = sleep_until(exit_at), if exit_at.is_some() => break,
        }
    }
    let stop = handle.shutdown(Duration::from_secs(3));
    // Report the hang-ups the shutdown makes while it runs.
    let drain = async {
        while let Some(e) = events.next().await {
            ua.event(e).await;
        }
    };
    tokio::join!(stop, drain);
    ExitCode::SUCCESS
}

#[cfg(unix)]
type Term = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Term = Option<()>;

#[cfg(unix)]
fn terminate_signal() -> Term {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
}

#[cfg(not(unix))]
fn terminate_signal() -> Term {
    None
}

async fn recv(t: &mut Term) {
    #[cfg(unix)]
    if let Some(s) = t {
        s.recv().await;
        return;
    }
    let _ = t;
    std::future::pending::<()>().await
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

/// What the user agent does with an incoming transfer.
#[derive(Clone, Copy, Debug)]
enum Policy {
    Accept,
    Reject(u16),
}

struct Ua {
    handle: Handle,
    json: bool,
    user: Option<String>,
    addr: SocketAddr,
    transport: Transport,
    proxy: bool,
    auto_answer: bool,
    policy: Policy,
    numbers: HashMap<CallId, u32>,
    calls: BTreeMap<u32, CallId>,
    next: u32,
    /// What `--offer` names, offered in our calls.
    offer: Option<bytes::Bytes>,
    /// `--no-offer`: our calls carry none.
    no_offer: bool,
    /// Incoming calls not answered yet, with their offers.
    unanswered: BTreeMap<u32, Option<bytes::Bytes>>,
    transfers: HashMap<TransferId, u32>,
}

impl Ua {
    fn new(handle: Handle, args: &UaArgs, offer: Option<bytes::Bytes>) -> Ua {
        Ua {
            offer,
            no_offer: args.no_offer,
            addr: handle.local_addr(),
            handle,
            json: args.json,
            user: args.user.clone(),
            transport: args.transport.transport(),
            proxy: args.proxy.is_some(),
            auto_answer: args.auto_answer,
            policy: match args.reject_transfers {
                Some(code) => Policy::Reject(code),
                None => Policy::Accept,
            },
            numbers: HashMap::new(),
            calls: BTreeMap::new(),
            next: 1,
            unanswered: BTreeMap::new(),
            transfers: HashMap::new(),
        }
    }

    /// The number of `call`, given at its first sight.
    fn number(&mut self, call: CallId) -> u32 {
        if let Some(&n) = self.numbers.get(&call) {
            return n;
        }
        let n = self.next;
        self.next += 1;
        self.numbers.insert(call, n);
        self.calls.insert(n, call);
        n
    }

    /// One output line: `{"event": NAME, "call": N, ...fields}` with `--json`, else
    /// `NAME call=N key=value ...`.
    fn emit(&self, name: &str, call: Option<u32>, fields: Value) {
        let mut obj = serde_json::Map::new();
        obj.insert("event".into(), json!(name));
        if let Some(n) = call {
            obj.insert("call".into(), json!(n));
        }
        if let Value::Object(f) = fields {
            // Absent fields are left out rather than written as null.
            obj.extend(f.into_iter().filter(|(_, v)| !v.is_null()));
        }
        // A closed stdout (the reader went away) must not stop the user agent.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if self.json {
            let _ = writeln!(out, "{}", Value::Object(obj));
        } else {
            let mut line = name.to_string();
            for (k, v) in obj.iter().filter(|(k, _)| *k != "event") {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                line.push_str(&format!(" {k}={v}"));
            }
            let _ = writeln!(out, "{line}");
        }
    }

    fn error(&self, command: &str, message: impl std::fmt::Display) {
        self.emit(
            "error",
            None,
            json!({ "command": command, "message": message.to_string() }),
        );
    }

    fn call_arg(&self, arg: Option<&str>) -> Result<(u32, CallId), String> {
        let arg = arg.ok_or("which call? (a call number)")?;
        let n: u32 = arg
            .parse()
            .map_err(|_| format!("not a call number: {arg}"))?;
        self.calls
            .get(&n)
            .map(|&c| (n, c))
            .ok_or_else(|| format!("unknown call {n}"))
    }

    fn uri_arg(arg: Option<&str>) -> Result<Uri<SipStr>, String> {
        let arg = arg.ok_or("which URI?")?;
        let arg = arg.trim_start_matches('<').trim_end_matches('>');
        Uri::parse(arg).map_err(|_| format!("not a URI: {arg}"))
    }

    /// One stdin line.
    async fn command(&mut self, line: &str) -> Flow {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Flow::Go;
        }
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("");
        let args: Vec<&str> = words.collect();
        let r = match verb {
            "quit" | "exit" => return Flow::Quit,
            "call" => self.cmd_call(args.first().copied()).await,
            "answer" => self.cmd_answer(args.first().copied()).await,
            "reject" => self.cmd_reject(&args).await,
            "redirect" => self.cmd_redirect(&args).await,
            "hangup" => self.cmd_hangup(args.first().copied()).await,
            "hold" | "resume" => match self.call_arg(args.first().copied()) {
                Ok((_, call)) if verb == "hold" => {
                    self.handle.hold(call).await.map_err(|e| e.to_string())
                }
                Ok((_, call)) => self.handle.resume(call).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            },
            "transfer" => self.cmd_transfer(&args).await,
            "attended" => self.cmd_attended(&args).await,
            _ => Err(format!(
                "unknown command {verb:?} (call URI, answer [N], reject N CODE, redirect N URI, \
                 hangup [N], hold N, resume N, transfer N URI, attended N CONSULT_N, quit)"
            )),
        };
        if let Err(e) = r {
            self.error(line, e);
        }
        Flow::Go
    }

    async fn cmd_call(&mut self, uri: Option<&str>) -> Result<(), String> {
        let target = Self::uri_arg(uri)?;
        let user = self.user.clone().unwrap_or_else(|| "sipxfer".into());
        let from = Uri::parse(&format!("sip:{user}@{}", self.addr)).map_err(|_| "bad --user")?;
        let dest = if self.proxy {
            None
        } else {
            let d = sipxfer::dialog::uri_destination(&target, self.transport)
                .ok_or("the URI's host must be an IP address (no DNS here)")?;
            Some(d)
        };
        let options = CallOptions {
            from: Some(NameAddr::new(from)),
            offer: (!self.no_offer).then(|| {
                self.offer
                    .clone()
                    .unwrap_or_else(|| media::offer(&user, self.addr))
            }),
            dest,
            ..Default::default()
        };
        let call = self
            .handle
            .call(target, options)
            .await
            .map_err(|e| e.to_string())?;
        self.number(call);
        Ok(())
    }

    async fn answer_call(&mut self, n: u32) -> Result<(), String> {
        let call = self.calls[&n];
        let offer = self.unanswered.remove(&n).flatten();
        let user = self.user.clone().unwrap_or_else(|| "sipxfer".into());
        let sdp = match &offer {
            Some(o) => media::answer(o, &user, self.addr),
            None => media::offer(&user, self.addr),
        };
        self.handle
            .answer(call, Some(sdp))
            .await
            .map_err(|e| e.to_string())
    }

    async fn cmd_answer(&mut self, arg: Option<&str>) -> Result<(), String> {
        let n = match arg {
            Some(_) => self.call_arg(arg)?.0,
            None => *self
                .unanswered
                .keys()
                .next()
                .ok_or("no incoming call to answer")?,
        };
        if !self.unanswered.contains_key(&n) {
            return Err(format!("call {n} is not an unanswered incoming call"));
        }
        self.answer_call(n).await
    }

    async fn cmd_reject(&mut self, args: &[&str]) -> Result<(), String> {
        let (n, call) = self.call_arg(args.first().copied())?;
        let code: u16 = args
            .get(1)
            .and_then(|c| c.parse().ok())
            .filter(|c| (300..700).contains(c))
            .ok_or("reject N CODE (CODE 300-699)")?;
        self.unanswered.remove(&n);
        self.handle
            .reject(call, code)
            .await
            .map_err(|e| e.to_string())
    }

    /// `redirect N URI`: 302 Moved Temporarily to URI (RFC 3261 §8.3).
    async fn cmd_redirect(&mut self, args: &[&str]) -> Result<(), String> {
        let (n, call) = self.call_arg(args.first().copied())?;
        let target = Self::uri_arg(args.get(1).copied()).map_err(|_| "redirect N URI")?;
        self.unanswered.remove(&n);
        self.handle
            .redirect_call(call, 302, vec![NameAddr::new(target)])
            .await
            .map_err(|e| e.to_string())
    }

    async fn cmd_hangup(&mut self, arg: Option<&str>) -> Result<(), String> {
        let call = match arg {
            Some(_) => self.call_arg(arg)?.1,
            None => *self
                .calls
                .values()
                .next_back()
                .ok_or("no call to hang up")?,
        };
        self.handle.hangup(call).await.map_err(|e| e.to_string())
    }

    async fn cmd_transfer(&mut self, args: &[&str]) -> Result<(), String> {
        let (n, call) = self.call_arg(args.first().copied())?;
        let target = Self::uri_arg(args.get(1).copied())?;
        let t = self
            .handle
            .transfer(
                call,
                Transfer::Blind {
                    target,
                    options: BlindOptions::default(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        self.transfers.insert(t, n);
        Ok(())
    }

    /// `attended N CONSULT_N`: transfer call N to the peer of call CONSULT_N, whose call
    /// the transferee's replaces (RFC 5589 §7).
    async fn cmd_attended(&mut self, args: &[&str]) -> Result<(), String> {
        let (n, call) = self.call_arg(args.first().copied())?;
        let (_, consultation) = self.call_arg(args.get(1).copied())?;
        let t = self
            .handle
            .transfer(
                call,
                Transfer::Attended {
                    consultation,
                    options: AttendedOptions::default(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        self.transfers.insert(t, n);
        Ok(())
    }

    /// One event of the endpoint.
    async fn event(&mut self, e: Event) {
        match e {
            Event::IncomingCall {
                call,
                replaces: replaced,
                request,
                offer,
                referred_by,
                source,
                ..
            } => {
                let n = self.number(call);
                let replaced = replaced.and_then(|c| self.numbers.get(&c).copied());
                self.unanswered.insert(n, offer);
                let from = request.from().map(|f| f.uri.to_string());
                let to = request.to().map(|t| t.uri.to_string());
                let replaces = request.replaces().map(|r| {
                    format!(
                        "{};to-tag={};from-tag={}",
                        &*r.call_id,
                        r.to_tag(),
                        r.from_tag()
                    )
                });
                self.emit(
                    "incoming_call",
                    Some(n),
                    json!({
                        "from": from,
                        "to": to,
                        "referred_by": referred_by.map(|r| r.uri.to_string()),
                        "replaces": replaces,
                        "replaces_call": replaced,
                        "remote": source.remote.to_string(),
                    }),
                );
                if let Err(e) = self.handle.ring(call, 180).await {
                    self.error("ring", e);
                }
                // A call that replaces one of ours (attended transfer, RFC 3891) takes its
                // place at once, as phones do.
                if self.auto_answer || replaced.is_some() {
                    if let Err(e) = self.answer_call(n).await {
                        self.error("answer", e);
                    }
                }
            }
            Event::CallState {
                call,
                state,
                status,
            } => {
                let n = self.number(call);
                let (name, reason) = match state {
                    CallState::Calling => ("calling", None),
                    CallState::Ringing => ("ringing", None),
                    CallState::Early => ("early", None),
                    CallState::Confirmed => ("confirmed", None),
                    CallState::Held => ("held", None),
                    // Off hold: the call is up again.
                    CallState::Resumed => ("confirmed", None),
                    CallState::Terminated { reason } => ("terminated", Some(end_reason(reason))),
                    _ => ("other", None),
                };
                self.emit(
                    "call_state",
                    Some(n),
                    json!({
                        "state": name,
                        "status": status,
                        "reason": reason,
                        "resumed": matches!(state, CallState::Resumed).then_some(true),
                    }),
                );
                if let CallState::Terminated { .. } = state {
                    self.numbers.remove(&call);
                    self.calls.remove(&n);
                    self.unanswered.remove(&n);
                }
            }
            Event::RemoteSdp {
                call,
                kind,
                status,
                sdp,
            } => {
                let n = self.number(call);
                let (addr, port, direction) = media::remote_audio(&sdp);
                let offer = kind == SdpKind::Offer;
                self.emit(
                    "remote_sdp",
                    Some(n),
                    json!({
                        "kind": if offer { "offer" } else { "answer" },
                        "status": status,
                        "media": addr.map(|a| match port {
                            Some(p) if a.contains(':') => format!("[{a}]:{p}"),
                            Some(p) => format!("{a}:{p}"),
                            None => a,
                        }),
                        "direction": direction,
                    }),
                );
                // The offer of a 2xx to an INVITE without one is answered in the ACK
                // (RFC 3261 §13.2.2.4); a re-INVITE's the endpoint answers itself.
                if offer && status.is_some() {
                    let user = self.user.clone().unwrap_or_else(|| "sipxfer".into());
                    let answer = media::answer(&sdp, &user, self.addr);
                    if let Err(e) = self.handle.answer(call, Some(answer)).await {
                        self.error("answer the offer", e);
                    }
                }
            }
            Event::IncomingTransfer {
                transfer,
                call,
                target,
                referred_by,
                replaces,
                refer_sub,
            } => {
                let n = self.number(call);
                self.transfers.insert(transfer, n);
                let (action, new_call) = match self.policy {
                    Policy::Accept => match self.handle.accept_transfer(transfer, None).await {
                        Ok(c) => ("accepted", Some(self.number(c))),
                        Err(e) => {
                            self.error("accept transfer", e);
                            ("failed", None)
                        }
                    },
                    Policy::Reject(code) => {
                        if let Err(e) = self.handle.reject_transfer(transfer, code).await {
                            self.error("reject transfer", e);
                        }
                        ("rejected", None)
                    }
                };
                self.emit(
                    "incoming_transfer",
                    Some(n),
                    json!({
                        "transfer": transfer.get(),
                        "target": target.uri.to_string(),
                        "referred_by": referred_by.map(|r| r.uri.to_string()),
                        "replaces": replaces.map(|r| format!("{};to-tag={};from-tag={}", &*r.call_id, r.to_tag(), r.from_tag())),
                        "refer_sub": refer_sub,
                        "action": action,
                        "new_call": new_call,
                    }),
                );
            }
            Event::TransferProgress {
                transfer,
                status,
                status_line,
            } => {
                let n = self.transfers.get(&transfer).copied();
                self.emit(
                    "transfer_progress",
                    n,
                    json!({ "transfer": transfer.get(), "status": status, "status_line": &*status_line }),
                );
            }
            Event::TransferOutcome { transfer, outcome } => {
                let n = self.transfers.remove(&transfer);
                let (name, status) = outcome_name(outcome);
                self.emit(
                    "transfer_outcome",
                    n,
                    json!({ "transfer": transfer.get(), "outcome": name, "status": status }),
                );
            }
            Event::Request { tx, request, .. } => {
                // Requests no call or transfer took: an out-of-dialog REFER is refused
                // (RFC 3515 §2.4.2), anything else is not implemented here.
                let method = request.method().map(|m| m.as_str().to_string());
                let code = if method.as_deref() == Some("REFER") {
                    403
                } else {
                    501
                };
                if let Ok(r) = self.handle.response(tx, code).await {
                    let _ = self.handle.respond(tx, r).await;
                }
                self.emit("request", None, json!({ "method": method, "status": code }));
            }
            Event::CallRedirected {
                call,
                status,
                target,
            } => {
                let n = self.number(call);
                self.emit(
                    "redirected",
                    Some(n),
                    json!({ "status": status, "target": target.to_string() }),
                );
            }
            Event::AuthFailed {
                call,
                method,
                status,
                ..
            } => {
                let n = call.map(|c| self.number(c));
                self.emit(
                    "error",
                    n,
                    json!({ "message": format!("{} challenged {status}: no usable credentials", method.as_str()) }),
                );
            }
            _ => {}
        }
    }
}

fn end_reason(r: EndReason) -> &'static str {
    match r {
        EndReason::LocalHangup => "local_hangup",
        EndReason::RemoteHangup => "remote_hangup",
        EndReason::Rejected => "rejected",
        EndReason::Cancelled => "cancelled",
        EndReason::Timeout => "timeout",
        EndReason::NoAck => "no_ack",
        EndReason::DialogGone => "dialog_gone",
        EndReason::AuthFailed => "auth_failed",
        EndReason::Replaced => "replaced",
        EndReason::OfferUnanswered => "offer_unanswered",
        _ => "other",
    }
}

fn outcome_name(o: TransferOutcome) -> (&'static str, Option<u16>) {
    match o {
        TransferOutcome::Succeeded => ("succeeded", None),
        TransferOutcome::Failed(s) => ("failed", Some(s)),
        TransferOutcome::Rejected(s) => ("rejected", Some(s)),
        TransferOutcome::TimedOut => ("timed_out", None),
        TransferOutcome::AcceptedWithoutReport => ("accepted_without_report", None),
        TransferOutcome::Cancelled => ("cancelled", None),
        TransferOutcome::CallEnded => ("call_ended", None),
        _ => ("other", None),
    }
}
