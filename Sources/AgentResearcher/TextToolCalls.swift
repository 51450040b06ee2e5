import Foundation

/// Tool calls that a model wrote as JSON in its text instead of the API's structured calls.
///
/// Small local models whose chat template has no tool format (common with llama.cpp's server, Ollama and
/// LM Studio) often answer `{"name": "edit_file", "arguments": {…}}`, sometimes inside a ```json fence or
/// Hermes/Qwen-style `<tool_call>…</tool_call>` tags. A call is read only when it names one of the offered
/// tools and its arguments are a JSON object holding every argument that tool's schema requires; anything
/// else is not a call, and the model is told how to call tools instead.
public enum TextToolCalls {
    /// The calls written in `text`, in order; empty when there are none that name an offered tool with valid
    /// arguments. Accepted shapes: `{"name", "arguments" | "parameters" | "input" | "args"}`,
    /// `{"tool", …}`, `{"function": {"name", "arguments"}}`, `{"tool_calls": [ … ]}`, and an array of these;
    /// arguments may also be a string holding a JSON object (as OpenAI sends them).
    public static func parse(_ text: String, tools: [ToolSpec]) -> [ToolCall] {
        var calls: [ToolCall] = []
        for candidate in topLevelJSON(in: text) {
            guard let value = JSONValue.parse(candidate) else { continue }
            for (name, arguments) in unwrap(value) {
                guard let tool = tools.first(where: { $0.name == name }) else { continue }
                let required = tool.inputSchema["required"]?.array?.compactMap(\.string) ?? []
                guard required.allSatisfy({ arguments[$0] != nil }) else { continue }
                calls.append(ToolCall(id: "text_call_\(calls.count + 1)", name: name, rawArguments: JSONValue.object(arguments).text))
            }
        }
        return calls
    }

    /// (name, arguments) of every call shape in `value`.
    static func unwrap(_ value: JSONValue) -> [(String, [String: JSONValue])] {
        if let items = value.array { return items.flatMap(unwrap) }
        guard let object = value.object else { return [] }
        if let nested = object["tool_calls"]?.array { return nested.flatMap(unwrap) }
        if let function = object["function"], function.object != nil { return unwrap(function) }
        guard let name = (object["name"] ?? object["tool"] ?? object["tool_name"])?.string else { return [] }
        let raw = object["arguments"] ?? object["parameters"] ?? object["input"] ?? object["args"] ?? .object([:])
        switch raw {
        case .object(let arguments): return [(name, arguments)]
        case .string(let text):
            guard let arguments = JSONValue.parse(text)?.object else { return [] }
            return [(name, arguments)]
        default: return []
        }
    }

    /// The outermost `{…}` and `[…]` spans of `text` whose brackets balance (strings and escapes respected).
    static func topLevelJSON(in text: String) -> [String] {
        let chars = Array(text.unicodeScalars)
        var spans: [String] = []
        var i = 0
        while i < chars.count {
            guard chars[i] == "{" || chars[i] == "[" else { i += 1; continue }
            var depth = 0, inString = false, escaped = false, j = i
            var end: Int?
            while j < chars.count {
                let c = chars[j]
                if inString {
                    if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                } else if c == "\"" {
                    inString = true
                } else if c == "{" || c == "[" {
                    depth += 1
                } else if c == "}" || c == "]" {
                    depth -= 1
                    if depth == 0 { end = j; break }
                }
                j += 1
            }
            guard let end else { break }
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: chars[i...end])
            let span = String(scalars)
            if JSONValue.parse(span) != nil { spans.append(span); i = end + 1 } else { i += 1 }
        }
        return spans
    }

    /// What a model is told, once, when it answered without any tool call.
    public static func howToCall(_ tools: [ToolSpec], examplePath: String) -> String {
        "Your reply had no tool call. Call the tools through the tool-calling interface of this API. If you cannot, "
            + "reply with only a JSON object naming one tool and its arguments, for example "
            + #"{"name": "read_file", "arguments": {"path": ""# + examplePath + #""}}"#
            + ". The tools are: \(tools.map(\.name).joined(separator: ", ")). Make your change in the editable files, "
            + "then call finish with a description and a hypothesis."
    }
}
