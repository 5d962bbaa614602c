//! The `imdsguard` command-line tool.

use clap::{Parser, Subcommand, ValueEnum};
use imdsguard::capture;
use imdsguard::conversation::{self, ChunkKind};
use imdsguard::engine::{Engine, Flow};
use imdsguard::event::{self, Alert};
use imdsguard::flow::transaction::Collector;
use imdsguard::flow::{Direction, HttpStream};
use imdsguard::key::{FlowKey, Transport, Vlans};
use imdsguard::packet::{Tracker, TrackerConfig};
use imdsguard::policy::{Policy, VlanId};
use ipnet::IpNet;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Finds cloud instance-metadata traffic where it must never appear.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints one JSON line per HTTP transaction of a conversation file (.t) or a capture
    /// (pcap, pcapng; each line then names its flow).
    HttpDump {
        /// The conversation file or capture.
        file: PathBuf,
        /// Re-split every chunk of a conversation file into pieces of this many bytes (the
        /// output must not change).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        chunk: Option<u64>,
    },
    /// Scans captures (pcap, pcapng) or conversation files (.t) and prints alerts.
    ///
    /// Captures go through packet decoding, flow tracking and TCP reassembly; a conversation
    /// file is one flow from --src to --dst. `-` reads standard input. Exit status: 0 when the
    /// scan ran (alerts or not), 1 with --fail-on-alert when an alert was raised (suppressed
    /// ones do not count), 2 on bad input or usage (alerts found before a truncated or corrupt
    /// record are still written).
    Scan(ScanArgs),
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Captures (.pcap, .pcapng) or conversation files (.t); `-` for standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Client address of a conversation file's flow (captures carry their own).
    #[arg(long, default_value = "192.0.2.10:49152")]
    src: SocketAddr,
    /// Server address of a conversation file's flow (169.254.169.254:80 replays one to the
    /// IMDS).
    #[arg(long, default_value = "192.0.2.20:80")]
    dst: SocketAddr,
    /// VLAN tags of a conversation file's flow, outer first (repeat for QinQ).
    #[arg(long = "vlan", value_name = "ID")]
    vlans: Vec<VlanId>,
    /// Suppression policy file (format: docs/policy.md).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Suppress alerts from this source network (repeatable).
    #[arg(long = "suppress-src", value_name = "CIDR", value_parser = parse_net)]
    suppress_src: Vec<IpNet>,
    /// Suppress alerts on this VLAN, outer or inner tag (repeatable).
    #[arg(long = "suppress-vlan", value_name = "ID")]
    suppress_vlan: Vec<VlanId>,
    /// Print suppressed alerts too, with "decision": "suppressed".
    #[arg(long)]
    show_suppressed: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Eve)]
    format: Format,
    /// Write alerts to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Feed every chunk of a conversation file in pieces of this many bytes (the alerts must
    /// not change).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    chunk: Option<u64>,
    /// IP TTL / hop limit of a conversation file's responder (captures carry their own).
    #[arg(long)]
    responder_ttl: Option<u8>,
    /// Exit with status 1 when an alert (not suppressed) was raised.
    #[arg(long)]
    fail_on_alert: bool,
}

/// Output formats of `scan`.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Suricata EVE-JSON lines.
    Eve,
    /// Elastic Common Schema JSON lines.
    Ecs,
    /// One line of text per alert.
    Text,
}

/// The policy file's reading of a network, so that `--suppress-src` and `src` in a file
/// accept exactly the same spellings (a CIDR with host bits set is refused by both).
fn parse_net(s: &str) -> Result<IpNet, String> {
    imdsguard::policy::parse_net(s).map_err(|e| e.to_string())
}

/// Exit status for bad input or usage.
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::HttpDump { file, chunk } => {
            http_dump(&file, chunk.map(|c| c as usize)).map(|()| ExitCode::SUCCESS)
        }
        Command::Scan(args) => scan(&args),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("imdsguard: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn http_dump(path: &PathBuf, chunk: Option<usize>) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if capture::looks_like_capture(&data) {
        return http_dump_capture(path, &data);
    }
    let chunks = conversation::parse(&data).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut stream = HttpStream::new();
    let mut collector = Collector::new();
    for c in &chunks {
        match c.kind {
            ChunkKind::Gap => stream.gap(c.dir, c.bytes.len() as u64, &mut collector),
            ChunkKind::Data => match chunk {
                Some(n) => {
                    for piece in c.bytes.chunks(n) {
                        stream.feed(c.dir, piece, &mut collector);
                    }
                }
                None => stream.feed(c.dir, c.bytes, &mut collector),
            },
        }
    }
    stream.close(Direction::ToServer, &mut collector);
    stream.close(Direction::ToClient, &mut collector);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for tx in collector.transactions() {
        writeln!(out, "{}", tx.to_json()).map_err(|e| format!("writing output: {e}"))?;
    }
    if let Some(stream) = collector.stream_anomalies_json() {
        writeln!(out, "{stream}").map_err(|e| format!("writing output: {e}"))?;
    }
    out.flush().map_err(|e| format!("writing output: {e}"))
}

/// `http-dump` of a capture: the tracker reassembles, the engine records transactions.
fn http_dump_capture(path: &std::path::Path, data: &[u8]) -> Result<(), String> {
    let config = imdsguard::engine::EngineConfig {
        record_transactions: true,
        ..Default::default()
    };
    let engine = Engine::with_config(Policy::default(), config);
    let mut tracker = Tracker::new(TrackerConfig::default());
    let read = capture::read_frames(data, |frame| {
        tracker.packet_dlt(&engine, frame.data, frame.linktype, frame.ts_us);
    });
    tracker.flush(&engine);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (key, tx) in tracker.drain_transactions() {
        let mut obj = tx.to_json();
        if let Some(map) = obj.as_object_mut() {
            map.insert("flow".into(), key.to_string().into());
        }
        writeln!(out, "{obj}").map_err(|e| format!("writing output: {e}"))?;
    }
    out.flush().map_err(|e| format!("writing output: {e}"))?;
    read.map(|_| ())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Totals of a scan, for the summary on standard error.
#[derive(Default)]
struct Totals {
    packets: u64,
    flows: u64,
    transactions: u64,
    alerts: u64,
    suppressed: u64,
    anomalies: u64,
    bytes: u64,
}

fn build_policy(args: &ScanArgs) -> Result<Policy, String> {
    let mut builder = match &args.policy {
        Some(path) => Policy::from_file(path)
            .map_err(|e| e.to_string())?
            .into_builder(),
        None => Policy::builder(),
    };
    for net in &args.suppress_src {
        builder = builder.suppress_src(*net);
    }
    for vlan in &args.suppress_vlan {
        builder = builder.suppress_vlan(*vlan);
    }
    Ok(builder.build())
}

/// Captures at least this big get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 16 << 20;

fn scan(args: &ScanArgs) -> Result<ExitCode, String> {
    if args.vlans.len() > 2 {
        return Err("at most two --vlan tags (outer, inner)".into());
    }
    let engine = Engine::new(build_policy(args)?);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let started = std::time::Instant::now();
    let mut totals = Totals::default();
    let mut failure = None;
    for path in &args.files {
        let name = path.display().to_string();
        let (input, size): (Box<dyn Read>, Option<u64>) = if name == "-" {
            (Box::new(std::io::stdin().lock()), None)
        } else {
            let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        };
        let mut input = BufReader::with_capacity(1 << 16, input);
        let head = input.fill_buf().map_err(|e| format!("{name}: {e}"))?;
        let result = if capture::looks_like_capture(head) {
            scan_capture(&engine, args, input, size, &mut out, &mut totals)
        } else {
            let mut data = Vec::new();
            input
                .read_to_end(&mut data)
                .map_err(|e| format!("{name}: {e}"))?;
            scan_conversation(&engine, args, &data, &mut out, &mut totals)
        };
        if let Err(e) = result {
            // Keep what was found; report the first failure after the summary.
            failure.get_or_insert(format!("{name}: {e}"));
        }
    }
    out.flush().map_err(|e| format!("writing output: {e}"))?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "imdsguard: {} packets, {} flows, {} transactions, {} alerts ({} suppressed), {} anomalies, \
         {} bytes in {:.3} s ({:.1} MB/s, {:.0} packets/s)",
        totals.packets,
        totals.flows,
        totals.transactions,
        totals.alerts - totals.suppressed,
        totals.suppressed,
        totals.anomalies,
        totals.bytes,
        secs,
        totals.bytes as f64 / secs / 1e6,
        totals.packets as f64 / secs,
    );
    if let Some(f) = failure {
        return Err(f);
    }
    if args.fail_on_alert && totals.alerts > totals.suppressed {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Scans one capture through a tracker; alerts are written as they are raised.
fn scan_capture(
    engine: &Engine,
    args: &ScanArgs,
    input: impl Read,
    size: Option<u64>,
    out: &mut dyn Write,
    totals: &mut Totals,
) -> Result<(), String> {
    let mut tracker = Tracker::new(TrackerConfig::default());
    let progress = match size {
        Some(n) if n >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal() => {
            let bar = indicatif::ProgressBar::new(n);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(bar)
        }
        _ => None,
    };
    let mut write_error = None;
    let read = capture::read_frames(input, |frame| {
        tracker.packet_dlt(engine, frame.data, frame.linktype, frame.ts_us);
        if write_error.is_none() {
            if let Err(e) = write_alerts(tracker.drain_alerts(), args, out, totals) {
                write_error = Some(e);
            }
        }
        if let Some(bar) = &progress {
            if frame.offset & 0xffff < 1600 {
                bar.set_position(frame.offset);
            }
        }
    });
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    // Whatever happened to the file, every flow seen gets its verdict.
    tracker.flush(engine);
    write_alerts(tracker.drain_alerts(), args, out, totals)?;
    if let Some(e) = write_error {
        return Err(e);
    }
    let stats = tracker.stats();
    totals.packets += stats.packets;
    totals.flows += stats.flows_created;
    totals.transactions += stats.http_transactions;
    totals.bytes += stats.bytes;
    totals.anomalies += stats.http_anomalies
        + stats.decode_errors.malformed()
        + stats.reassembly.gaps
        + stats.reassembly.conflicts
        + stats.defrag.conflicts;
    read.map(|_| ()).map_err(|e| e.to_string())
}

/// Scans one conversation file as one flow.
fn scan_conversation(
    engine: &Engine,
    args: &ScanArgs,
    data: &[u8],
    out: &mut dyn Write,
    totals: &mut Totals,
) -> Result<(), String> {
    let chunks = conversation::parse(data).map_err(|e| e.to_string())?;
    let key = FlowKey {
        src_ip: args.src.ip(),
        src_port: args.src.port(),
        dst_ip: args.dst.ip(),
        dst_port: args.dst.port(),
        transport: Transport::Tcp,
        vlans: Vlans {
            outer: args.vlans.first().map(|v| v.get()),
            inner: args.vlans.get(1).map(|v| v.get()),
        },
    };
    let mut flow = Flow::new(engine, key);
    if let Some(ttl) = args.responder_ttl {
        flow.set_responder_ttl(ttl);
    }
    for c in &chunks {
        totals.bytes += c.bytes.len() as u64;
        match c.kind {
            ChunkKind::Gap => flow.gap(engine, c.dir, c.bytes.len() as u64),
            ChunkKind::Data => match args.chunk {
                Some(n) => {
                    for piece in c.bytes.chunks(n as usize) {
                        flow.feed(engine, c.dir, piece);
                    }
                }
                None => flow.feed(engine, c.dir, c.bytes),
            },
        }
        write_alerts(flow.drain_alerts(), args, out, totals)?;
    }
    flow.close(engine);
    write_alerts(flow.drain_alerts(), args, out, totals)?;
    let stats = flow.stats();
    totals.flows += 1;
    totals.transactions += stats.transactions;
    totals.anomalies += stats.anomalous_messages + stats.stream_anomalies;
    Ok(())
}

fn write_alerts(
    alerts: impl Iterator<Item = Alert>,
    args: &ScanArgs,
    out: &mut dyn Write,
    totals: &mut Totals,
) -> Result<(), String> {
    let mut line = Vec::with_capacity(1024);
    for alert in alerts {
        totals.alerts += 1;
        if alert.is_suppressed() {
            totals.suppressed += 1;
            if !args.show_suppressed {
                continue;
            }
        }
        line.clear();
        let written = match args.format {
            Format::Eve => event::write_eve_line(&alert, &mut line),
            Format::Ecs => event::write_ecs_line(&alert, &mut line),
            Format::Text => event::write_text_line(&alert, &mut line),
        };
        written
            .and_then(|()| out.write_all(&line))
            .map_err(|e| format!("writing output: {e}"))?;
    }
    Ok(())
}
