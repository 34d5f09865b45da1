use clap::Parser;

fn main() {
    let cli = lexflow::cli::Cli::parse();
    std::process::exit(lexflow::cli::run(cli));
}
