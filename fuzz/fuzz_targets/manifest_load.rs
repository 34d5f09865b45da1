//! Arbitrary bytes as manifests: the loader with the bundled vocabulary, then the flow
//! graph. Must never panic, hang or run out of memory; load errors are fine and must render.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A byte 0x1e (record separator) splits the input into several files: one graph.
    let files: Vec<(String, String)> = text
        .split('\u{1e}')
        .enumerate()
        .map(|(i, part)| (format!("fuzz-{i}.yaml"), part.to_string()))
        .collect();
    match lexflow::manifest::load_sources(files, &lexflow_fuzz::bundled().vocab) {
        Ok((set, _report)) => {
            let _ = lexflow::manifest::FlowGraph::build(&set);
        }
        Err(errors) => {
            for error in &errors {
                let _ = lexflow_fuzz::render(error);
            }
        }
    }
});
