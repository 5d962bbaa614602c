//! The `imdsguard` command-line tool.

use clap::{Parser, Subcommand};
use imdsguard::conversation::{self, ChunkKind};
use imdsguard::flow::transaction::Collector;
use imdsguard::flow::{Direction, HttpStream};
use std::io::Write;
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
    /// Parses a libhtp-style conversation file (.t) and prints one JSON line per transaction.
    HttpDump {
        /// The conversation file.
        file: PathBuf,
        /// Re-split every chunk into pieces of this many bytes (the output must not change).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        chunk: Option<u64>,
    },
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
        Command::HttpDump { file, chunk } => http_dump(&file, chunk.map(|c| c as usize)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("imdsguard: {msg}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn http_dump(path: &PathBuf, chunk: Option<usize>) -> Result<(), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
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
    out.flush().map_err(|e| format!("writing output: {e}"))
}
