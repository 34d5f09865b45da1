fn main() {
    eprintln!("lexflow: not built yet");
    std::process::exit(2);
}
