//! The `openrouter-switchboard` binary: parses the command line, loads the config and hands over to
//! the library. Errors are printed once, with their chain, and set the exit code.

use std::process::ExitCode;
use switchboard::cli::{Cli, Command};
use switchboard::{App, Config, commands, telemetry, transport};

fn main() -> ExitCode {
    let cli = Cli::parse_env_aware();
    let command = cli.command.unwrap_or(Command::Stdio);
    let mut settings = cli.settings;
    if let Command::Http(http) = &command {
        settings.http = http.clone();
    }
    telemetry::init(if matches!(command, Command::Stdio | Command::Http(_)) {
        "info,rmcp=warn"
    } else {
        "warn"
    });
    let config = match Config::load(settings) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("openrouter-switchboard: {error}");
            return ExitCode::from(2);
        }
    };
    if matches!(command, Command::Http(_))
        && let Err(error) = config.http.check_exposure()
    {
        eprintln!("openrouter-switchboard: {error}");
        return ExitCode::from(2);
    }
    // One host over stdio (or one shell command) waits on the network, not the CPU: one thread
    // serves it with less memory and a faster start. The HTTP service uses every core.
    let mut builder = if matches!(command, Command::Http(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("openrouter-switchboard: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("openrouter-switchboard: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    let app = App::new(config);
    match command {
        Command::Stdio => transport::serve_stdio(app).await?,
        Command::Http(_) => {
            let listener = transport::http::bind(app.config.http.bind).await?;
            let shutdown = transport::http::shutdown_signal();
            transport::serve_http(app, listener, shutdown).await?;
        }
        Command::Models(args) => commands::models(&app, args).await?,
        Command::Cost(args) => commands::cost(&app, args).await?,
        Command::Ask(args) => commands::ask(&app, args).await?,
        Command::Check(args) => {
            let passed = commands::check(&app, &args).await?;
            return Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}
