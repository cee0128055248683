//! The `regionwalk` command line: a thin layer over the library. It parses arguments, builds the
//! domain, runs the library and prints text or JSON. Exit codes: 0 success, 1 usage or input
//! error, 2 a budget stopped the run (the partial result is still printed), 3 internal error (a
//! failed self-check or a panic: a bug to report, never a problem with the input).

mod cli;

use std::process::ExitCode;

/// The walk allocates many small, short-lived buffers per region (constraints, corners, patterns);
/// mimalloc serves them faster than the system allocator (ACAS Xu: malloc and free were ~17% of
/// the walk's cycles).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const INTERNAL: u8 = 3;

fn main() -> ExitCode {
    // A closed pipe (`regionwalk … | head`) ends the process quietly, as it does other command-line
    // tools, instead of making `println!` panic.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = match <cli::Cli as clap::Parser>::try_parse() {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            let code = if matches!(e.kind(), DisplayHelp | DisplayVersion) { 0 } else { 1 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let run = || {
        // Lets the tests check what a panic (a bug) looks like to a user.
        if std::env::var_os("REGIONWALK_PANIC_FOR_TEST").is_some() {
            panic!("deliberate test panic");
        }
        cli::run(args)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            eprintln!("error: {err:#}");
            let internal = matches!(err.downcast_ref::<regionwalk::Error>(), Some(regionwalk::Error::Internal(_)));
            ExitCode::from(if internal { INTERNAL } else { 1 })
        }
        Err(_) => {
            eprintln!("error: internal error: regionwalk panicked (message above); please report this");
            ExitCode::from(INTERNAL)
        }
    }
}
