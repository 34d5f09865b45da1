// Starts `lexflow lsp` for .policy files: diagnostics as you type, hover, go to definition,
// completion and formatting all come from the lexflow binary (its real parser and checker).
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("lexflow");
  const command = config.get("server.path", "lexflow");
  const args = config.get("server.args", ["lsp"]);
  const serverOptions = { command, args };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "lexflow-policy" }],
  };
  client = new LanguageClient("lexflow", "lexflow", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
