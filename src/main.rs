//! The `regionwalk` command line: a thin layer over the library. It parses arguments, builds the
//! domain, runs the library and prints text or JSON. Exit codes: 0 success, 1 usage or input
//! error, 2 a budget stopped the run (the partial result is still printed).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match <cli::Cli as clap::Parser>::try_parse() {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            let code = if matches!(e.kind(), DisplayHelp | DisplayVersion) { 0 } else { 1 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
