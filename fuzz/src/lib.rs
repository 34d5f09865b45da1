//! Helpers shared by the fuzz targets.

use std::sync::OnceLock;

use lexflow::lang::Program;

/// Renders a diagnostic as the CLI does (source excerpt, labels), into a string: spans that
/// point outside their source must not panic.
pub fn render(diagnostic: &dyn miette::Diagnostic) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_context_lines(1);
    let mut out = String::new();
    let _ = handler.render_report(&mut out, diagnostic);
    out
}

/// The bundled law packs, compiled once.
pub fn bundled() -> &'static Program {
    static PROGRAM: OnceLock<Program> = OnceLock::new();
    PROGRAM.get_or_init(|| match lexflow::lang::compile_texts(&[], true) {
        Ok(program) => program,
        Err(errors) => panic!("the bundled policies do not compile: {:?}", errors.errors),
    })
}
