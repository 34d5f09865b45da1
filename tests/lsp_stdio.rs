//! `lexflow lsp` driven as an editor drives it: the built binary, real JSON-RPC frames over
//! its standard input and output. Diagnostics at the right range (UTF-16 columns), hover on
//! a rule id, completion after `has `, `in ` and `f.`, go to definition, formatting,
//! shutdown and exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lexflow"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lexflow lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 {
                        return;
                    }
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some(n) = header.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0u8; length.expect("Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("JSON body");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages: rx,
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response = self.wait_for(|m| m["id"] == json!(id));
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .expect("the server answers within a minute");
            if wanted(&message) {
                return message;
            }
        }
    }

    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let message = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

const URI: &str = "file:///nonexistent-lexflow-test/demo.policy";

/// A law with one error: the misspelt category `biometrc` on line 9 (0-based), after a
/// text with characters outside the basic plane (columns are UTF-16 code units).
const DOC: &str = r#"# A demo pack for the language server test.
law DEMO "Demo law" {
  define sens = biometric | health

  rule DEMO-1 "Biometric data sent abroad" {
    cite "Art. 1"
    severity review
    text "Biometric data stays in the country."
    for each flow f
      where f.id != "数据😀" and f.data has biometrc
    require f.encrypted is true
  }
}
"#;

fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in the text"));
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[start..].encode_utf16().count() as u32)
}

fn labels(result: &Value) -> Vec<String> {
    let items = result
        .as_array()
        .cloned()
        .or_else(|| result["items"].as_array().cloned())
        .unwrap_or_default();
    items
        .iter()
        .filter_map(|i| i["label"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_language_server_speaks_lsp_over_stdio() {
    let mut client = Client::start();
    let init = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    assert_eq!(init["serverInfo"]["name"], "lexflow");
    assert_eq!(init["capabilities"]["hoverProvider"], true);
    client.notify("initialized", json!({}));

    // didOpen a document with an error → the diagnostic at the misspelt category.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "lexflow-policy", "version": 1, "text": DOC } }),
    );
    let diagnostics = client.diagnostics(URI);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics[0];
    let (line, character) = position_of(DOC, "biometrc");
    assert_eq!(
        (line, character),
        (9, 42),
        "UTF-16 column: 😀 counts two (41 characters, 48 bytes)"
    );
    assert_eq!(
        d["range"]["start"],
        json!({ "line": line, "character": character }),
        "{d}"
    );
    assert_eq!(
        d["range"]["end"],
        json!({ "line": line, "character": character + 8 }),
        "{d}"
    );
    assert_eq!(d["severity"], 1);
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("unknown data category") && message.contains("did you mean `biometric`"),
        "{message}"
    );

    // Hover a rule id → its citation, title and text.
    let (line, character) = position_of(DOC, "DEMO-1");
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character + 2 } }),
    );
    let value = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(value.contains("DEMO Art. 1"), "{hover}");
    assert!(
        value.contains("Biometric data sent abroad") && value.contains("stays in the country"),
        "{hover}"
    );

    // Fix the error with an incremental edit (a range in UTF-16 columns): the diagnostics clear.
    let (line, character) = position_of(DOC, "biometrc");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{
            "range": { "start": { "line": line, "character": character }, "end": { "line": line, "character": character + 8 } },
            "text": "sens"
        }] }),
    );
    assert_eq!(client.diagnostics(URI), Vec::<Value>::new());
    let fixed = DOC.replace("biometrc", "sens");

    // Go to definition of `sens` → its `define`.
    let (line, character) = position_of(&fixed, "has sens");
    let definition = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character + 5 } }),
    );
    let (dline, dchar) = position_of(&fixed, "sens =");
    assert_eq!(definition["uri"], URI, "{definition}");
    assert_eq!(
        definition["range"]["start"],
        json!({ "line": dline, "character": dchar }),
        "{definition}"
    );

    // Completion after `has ` → categories and definitions.
    let typing = fixed.replace("require f.encrypted is true", "require f.data has ");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [{ "text": typing }] }),
    );
    let (line, character) = position_of(&typing, "require f.data has ");
    let position =
        json!({ "line": line, "character": character + "require f.data has ".len() as u32 });
    let result = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": position }),
    );
    let got = labels(&result);
    for wanted in [
        "biometric",
        "biometric.facial",
        "health",
        "personal",
        "sens",
    ] {
        assert!(
            got.iter().any(|l| l == wanted),
            "{wanted} missing in {got:?}"
        );
    }
    assert!(
        !got.iter().any(|l| l == "CN"),
        "no countries after `has`: {got:?}"
    );

    // After `f.from.` → the attributes of a system; after `in ` → countries and groups.
    let typing = fixed.replace("require f.encrypted is true", "require f.from.");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 4 }, "contentChanges": [{ "text": typing }] }),
    );
    let (line, character) = position_of(&typing, "require f.from.");
    let position = json!({ "line": line, "character": character + "require f.from.".len() as u32 });
    let got = labels(&client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": position }),
    ));
    assert!(
        got.contains(&"location".to_string()) && got.contains(&"operator".to_string()),
        "{got:?}"
    );
    assert!(
        !got.contains(&"legal_basis".to_string()),
        "a system has no legal_basis: {got:?}"
    );

    let typing = fixed.replace("require f.encrypted is true", "require f.to.location in ");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 5 }, "contentChanges": [{ "text": typing }] }),
    );
    let (line, character) = position_of(&typing, "require f.to.location in ");
    let position =
        json!({ "line": line, "character": character + "require f.to.location in ".len() as u32 });
    let got = labels(&client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": position }),
    ));
    assert!(
        got.contains(&"CN".to_string()) && got.contains(&"EEA".to_string()),
        "{got:?}"
    );

    // Formatting: one edit with the canonical layout.
    let messy = "group   G = [CN,HK]\n";
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 6 }, "contentChanges": [{ "text": messy }] }),
    );
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"], "group G = [CN, HK]\n", "{edits}");

    // Shutdown, exit: the process ends by itself with status 0.
    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown, Value::Null);
    client.notify("exit", Value::Null);
    drop(client.stdin);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = client.child.kill();
            panic!("the server did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
