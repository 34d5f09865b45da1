//! `lexflow lsp`: a language server for rule files over standard input and output
//! (JSON-RPC, the Language Server Protocol), built on `lsp-server`: synchronous, one
//! thread, the real parser and checker.
//!
//! - diagnostics as you type (full document sync; every error and warning of the checker,
//!   with UTF-16 ranges);
//! - hover on a rule id (citation, title, legal text), a category (its path), a definition,
//!   a country group or a law;
//! - go to definition for definitions, categories, groups, rule ids and imports;
//! - completion of attributes after `VAR.`, categories and definitions after `has `,
//!   countries and groups after `in `, vocabulary values after `VAR.attr = `;
//! - formatting (`lexflow fmt`).

pub mod analysis;
pub mod position;

use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ExtractError, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    DiagnosticRelatedInformation, DiagnosticSeverity, DocumentFormattingParams,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, Location, MarkupContent, MarkupKind, OneOf,
    PublishDiagnosticsParams, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextEdit, Uri,
};

use crate::lang::Program;
use analysis::{CompletionKind, Source};
use position::{offset_of, range_of};

type DynError = Box<dyn Error + Sync + Send>;

/// Runs the server until the client says `exit`.
pub fn run_stdio() -> Result<(), DynError> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// The server on any connection (tests use an in-memory one).
pub fn serve(connection: &Connection) -> Result<(), DynError> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), " ".into(), "[".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    let init = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "lexflow", "version": env!("CARGO_PKG_VERSION") },
    });
    let (id, params) = connection.initialize_start()?;
    let _params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    connection.initialize_finish(id, init)?;
    let mut server = Server::default();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                let response = server.request(request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(notification) => {
                for out in server.notification(notification) {
                    connection.sender.send(Message::Notification(out))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

struct Document {
    text: String,
    path: Option<PathBuf>,
    /// The last program compiled from a version without errors.
    program: Option<Program>,
    /// The last version that parsed (names for completion while typing).
    last_parsed: Option<String>,
}

#[derive(Default)]
struct Server {
    documents: HashMap<Uri, Document>,
    /// The bundled packs compiled, for documents that do not compile yet.
    reference: Option<Option<Program>>,
}

/// The text of the open document: the first of the sources [`analysis::sources`] returns
/// (it always puts it there).
fn open_text(sources: &[Source]) -> Result<&str, String> {
    sources
        .first()
        .map(|s| &*s.text)
        .ok_or_else(|| "no text for the document".to_string())
}

/// `file:///a/b%20c.policy` → `/a/b c.policy`.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str().strip_prefix("file://")?;
    let mut rest = s.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let Some((&byte, after)) = rest.split_first() {
        if let (b'%', [high, low, tail @ ..]) = (byte, after) {
            let decoded = std::str::from_utf8(&[*high, *low])
                .ok()
                .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            if let Some(decoded) = decoded {
                out.push(decoded);
                rest = tail;
                continue;
            }
        }
        out.push(byte);
        rest = after;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// `/a/b c.policy` → `file:///a/b%20c.policy`.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let text = path.to_str()?;
    let mut out = String::from("file://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().ok()
}

impl Server {
    fn reference(&mut self) -> Option<&Program> {
        self.reference
            .get_or_insert_with(|| {
                crate::lang::load_program(&crate::lang::PolicySelection {
                    bundled: true,
                    paths: vec![],
                })
                .ok()
            })
            .as_ref()
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => self.hover(cast::<HoverRequest>(request)),
            GotoDefinition::METHOD => self.definition(cast::<GotoDefinition>(request)),
            Completion::METHOD => self.completion(cast::<Completion>(request)),
            Formatting::METHOD => self.formatting(cast::<Formatting>(request)),
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("unsupported: {}", request.method),
                );
            }
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(message) => {
                Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, message)
            }
        }
    }

    fn notification(&mut self, notification: Notification) -> Vec<Notification> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(
                    notification.params,
                ) else {
                    return vec![];
                };
                let uri = params.text_document.uri;
                let path = uri_to_path(&uri);
                self.documents.insert(
                    uri.clone(),
                    Document {
                        text: params.text_document.text,
                        path,
                        program: None,
                        last_parsed: None,
                    },
                );
                self.publish(&uri).into_iter().collect()
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(
                    notification.params,
                ) else {
                    return vec![];
                };
                let uri = params.text_document.uri;
                let Some(doc) = self.documents.get_mut(&uri) else {
                    return vec![];
                };
                for change in params.content_changes {
                    match change.range {
                        None => doc.text = change.text,
                        Some(range) => {
                            let start = offset_of(&doc.text, range.start);
                            let end = offset_of(&doc.text, range.end).max(start);
                            doc.text.replace_range(start..end, &change.text);
                        }
                    }
                }
                self.publish(&uri).into_iter().collect()
            }
            DidSaveTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(
                    notification.params,
                ) else {
                    return vec![];
                };
                self.publish(&params.text_document.uri)
                    .into_iter()
                    .collect()
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(
                    notification.params,
                ) else {
                    return vec![];
                };
                self.documents.remove(&params.text_document.uri);
                let clear = PublishDiagnosticsParams {
                    uri: params.text_document.uri,
                    diagnostics: vec![],
                    version: None,
                };
                vec![Notification::new(
                    PublishDiagnostics::METHOD.to_string(),
                    clear,
                )]
            }
            _ => vec![],
        }
    }

    /// Compiles the document and returns its diagnostics notification.
    fn publish(&mut self, uri: &Uri) -> Option<Notification> {
        let doc = self.documents.get_mut(uri)?;
        let name = doc
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| uri.as_str().to_string());
        let dir = doc.path.as_deref().and_then(Path::parent);
        let result = analysis::analyse(&name, &doc.text, dir);
        if result.program.is_some() {
            doc.program = result.program;
        }
        if crate::lang::parse::parse_policy(crate::source::FileId(0), &doc.text).is_ok() {
            doc.last_parsed = Some(doc.text.clone());
        }
        let diagnostics = result
            .diagnostics
            .iter()
            .map(|d| lsp_types::Diagnostic {
                range: range_of(&doc.text, d.start, d.end),
                severity: Some(if d.error {
                    DiagnosticSeverity::ERROR
                } else {
                    DiagnosticSeverity::WARNING
                }),
                source: Some("lexflow".into()),
                message: d.message.clone(),
                related_information: d.related.as_ref().map(|(s, e, label)| {
                    vec![DiagnosticRelatedInformation {
                        location: Location {
                            uri: uri.clone(),
                            range: range_of(&doc.text, *s, *e),
                        },
                        message: label.clone(),
                    }]
                }),
                ..lsp_types::Diagnostic::default()
            })
            .collect();
        let params = PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version: None,
        };
        Some(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            params,
        ))
    }

    fn context(&mut self, uri: &Uri) -> Result<(Vec<Source>, Option<Program>), String> {
        let reference = self.reference().cloned();
        let doc = self.documents.get(uri).ok_or("document not open")?;
        let sources = analysis::sources(doc.path.as_deref(), &doc.text, doc.last_parsed.as_deref());
        Ok((sources, doc.program.clone().or(reference)))
    }

    fn hover(&mut self, params: Result<HoverParams, String>) -> Result<serde_json::Value, String> {
        let params = params?;
        let uri = params.text_document_position_params.text_document.uri;
        let (sources, program) = self.context(&uri)?;
        let text = open_text(&sources)?.to_string();
        let offset = offset_of(&text, params.text_document_position_params.position);
        let result =
            analysis::hover(&sources, program.as_ref(), offset).map(|(start, end, md)| Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: md,
                }),
                range: Some(range_of(&text, start, end)),
            });
        Ok(serde_json::to_value(result).unwrap_or_default())
    }

    fn definition(
        &mut self,
        params: Result<GotoDefinitionParams, String>,
    ) -> Result<serde_json::Value, String> {
        let params = params?;
        let uri = params.text_document_position_params.text_document.uri;
        let (sources, _) = self.context(&uri)?;
        let text = open_text(&sources)?;
        let offset = offset_of(text, params.text_document_position_params.position);
        let Some((path, place)) = analysis::definition(&sources, offset) else {
            return Ok(serde_json::Value::Null);
        };
        let (target, range) = if place.source == usize::MAX {
            // A whole file (an import).
            (
                path.as_deref().and_then(path_to_uri),
                lsp_types::Range::default(),
            )
        } else if place.source == 0 {
            (Some(uri.clone()), range_of(text, place.start, place.end))
        } else {
            let Some(source) = sources.get(place.source) else {
                return Ok(serde_json::Value::Null);
            };
            (
                path.as_deref().and_then(path_to_uri),
                range_of(&source.text, place.start, place.end),
            )
        };
        Ok(match target {
            Some(uri) => {
                serde_json::to_value(GotoDefinitionResponse::Scalar(Location { uri, range }))
                    .unwrap_or_default()
            }
            None => serde_json::Value::Null,
        })
    }

    fn completion(
        &mut self,
        params: Result<CompletionParams, String>,
    ) -> Result<serde_json::Value, String> {
        let params = params?;
        let uri = params.text_document_position.text_document.uri;
        let (sources, program) = self.context(&uri)?;
        let offset = offset_of(open_text(&sources)?, params.text_document_position.position);
        let items: Vec<CompletionItem> = analysis::complete(&sources, program.as_ref(), offset)
            .into_iter()
            .map(|c| CompletionItem {
                label: c.label,
                detail: Some(c.detail),
                kind: Some(match c.kind {
                    CompletionKind::Category => CompletionItemKind::ENUM_MEMBER,
                    CompletionKind::Definition => CompletionItemKind::CONSTANT,
                    CompletionKind::Country => CompletionItemKind::VALUE,
                    CompletionKind::Group => CompletionItemKind::MODULE,
                    CompletionKind::Attribute => CompletionItemKind::FIELD,
                    CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
                }),
                ..CompletionItem::default()
            })
            .collect();
        Ok(serde_json::to_value(CompletionResponse::Array(items)).unwrap_or_default())
    }

    fn formatting(
        &mut self,
        params: Result<DocumentFormattingParams, String>,
    ) -> Result<serde_json::Value, String> {
        let params = params?;
        let doc = self
            .documents
            .get(&params.text_document.uri)
            .ok_or("document not open")?;
        let Ok(formatted) = crate::lang::fmt::format_source(&doc.text) else {
            return Ok(serde_json::Value::Null);
        };
        if formatted == doc.text {
            return Ok(serde_json::json!([]));
        }
        let edit = TextEdit {
            range: range_of(&doc.text, 0, doc.text.len()),
            new_text: formatted,
        };
        Ok(serde_json::to_value(vec![edit]).unwrap_or_default())
    }
}

fn cast<R>(request: Request) -> Result<R::Params, String>
where
    R: lsp_types::request::Request,
    R::Params: serde::de::DeserializeOwned,
{
    request
        .extract::<R::Params>(R::METHOD)
        .map(|(_, p)| p)
        .map_err(|e| match e {
            ExtractError::JsonError { error, .. } => error.to_string(),
            ExtractError::MethodMismatch(r) => format!("unexpected method {}", r.method),
        })
}
