// ToolParserTest — the tool-call parsers on the model outputs of vLLM's own parser tests (tests/tool_parsers/
// test_hermes_tool_parser.py, test_llama3_json_tool_parser.py, test_mistral_tool_parser.py, test_openai_tool_parser.py,
// test_deepseekv3_tool_parser.py, test_deepseekv31_tool_parser.py, test_glm4_moe_tool_parser.py)
// with the calls and content vLLM gives, a few more of ours, and the cases where we answer otherwise on purpose (each
// says why); then the streaming property: a reply fed in any two or three pieces, or a character at a time, gives
// exactly the whole reply's content and calls, each call streamed as its header once and then fragments of its
// arguments that add up to the whole reply's arguments; and that the fragments come as the model writes them.
package org.transformer4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ToolParserTest {

    /** A call as the client sees it: name and arguments (ids are random). */
    record C(String name, String arguments) {}

    /**
     * One reply to {@code parser} (openai: after the gpt_oss reasoning parser) with the content and calls expected of its
     * stream, and of the non-streamed reply where that differs ({@code wholeContent} non-null: a call the stream had to
     * close by force, which vLLM's non-streamed parsers never make).
     */
    record Case(String parser, String reply, String content, List<C> calls, String wholeContent, List<C> wholeCalls) {
        Case(String parser, String reply, String content, List<C> calls) { this(parser, reply, content, calls, null, null); }
    }

    static Case c(String parser, String reply, String content, C... calls) { return new Case(parser, reply, content, List.of(calls)); }

    /** {@code streamed}, whose non-streamed reply is {@code content} and {@code calls}, as vLLM's extract_tool_calls gives it. */
    static Case w(Case streamed, String content, C... calls) {
        return new Case(streamed.parser(), streamed.reply(), streamed.content(), streamed.calls(), content, List.of(calls));
    }

    static final String TOKYO = "{\"location\": \"Tokyo\"}", SF = "{\"city\": \"San Francisco\", \"state\": \"CA\", \"unit\": \"celsius\"}";
    static final String ANALYSIS = "<|start|>assistant<|channel|>analysis<|message|>User asks: \"What is the weather in Tokyo?\" We need to use "
            + "get_current_weather tool.<|end|>";

    static final String DS_CALLS = "<｜tool▁calls▁begin｜>", DS_END = "<｜tool▁calls▁end｜>";

    /** A call as DeepSeek-V3's template writes it (vLLM's test outputs too). */
    static String dsV3(String name, String args) {
        return "<｜tool▁call▁begin｜>function<｜tool▁sep｜>" + name + "\n```json\n" + args + "\n```<｜tool▁call▁end｜>";
    }

    /** A call as GLM-4.5's template writes it: key, value, key, value... */
    static String glm(String name, String... kv) {
        StringBuilder b = new StringBuilder("<tool_call>" + name + "\n");
        for (int i = 0; i < kv.length; i += 2) b.append("<arg_key>").append(kv[i]).append("</arg_key>\n<arg_value>").append(kv[i + 1]).append("</arg_value>\n");
        return b.append("</tool_call>").toString();
    }

    /** The request's tools for the glm cases: their "string" parameters keep their text. */
    static final com.fasterxml.jackson.databind.JsonNode GLM_TOOLS = ToolParser.parse("[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
            + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"date\": {\"type\": \"string\"}, "
            + "\"days\": {\"type\": \"integer\"}}}}}, {\"type\": \"function\", \"function\": {\"name\": \"search\", \"parameters\": {\"type\": \"object\", "
            + "\"properties\": {\"query\": {\"type\": \"string\"}, \"tags\": {\"type\": \"array\"}}}}}]");

    static String toFunction(String name, String type, String args) {
        return "<|start|>assistant to=functions." + name + "<|channel|>commentary" + type + "<|message|>" + args + "<|call|>";
    }

    static final List<Case> CASES = List.of(
            // ---- hermes (vLLM's test_hermes_tool_parser.py) ----
            c("hermes", "This is some prior text that has nothing to do with tool calling.",
                    "This is some prior text that has nothing to do with tool calling."),
            c("hermes", "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {\"trigger\": true}}\n</tool_call>", "",
                    new C("final_answer", "{\"trigger\": true}")),
            c("hermes", "<tool_call>{\"name\": \"get_current_temperature\",\"arguments\": {\"location\":\"San Francisco, California, United States\", "
                    + "\"unit\": \"celsius\"}}</tool_call>", "",
                    new C("get_current_temperature", "{\"location\": \"San Francisco, California, United States\", \"unit\": \"celsius\"}")),
            c("hermes", "Sure, let me check the weather.<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"NYC\"}}</tool_call>",
                    "Sure, let me check the weather.", new C("get_weather", "{\"city\": \"NYC\"}")),
            c("hermes", "<tool_call>{\"name\": \"search\", \"arguments\": {\"q\": \"cats\"}}</tool_call><tool_call>{\"name\": \"search\", "
                    + "\"arguments\": {\"q\": \"dogs\"}}</tool_call>", "", new C("search", "{\"q\": \"cats\"}"), new C("search", "{\"q\": \"dogs\"}")),
            c("hermes", "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {\"trigger\": true}}", "",       // until EOS: no end tag
                    new C("final_answer", "{\"trigger\": true}")),
            // a call whose arguments have begun is a call in a stream (its header went out), closed where the text stops,
            // as vLLM's streams close it; vLLM's non-streamed reply gives the unclosed JSON as content, and so do we
            w(c("hermes", "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {\"trigger\": true}", "",
                    new C("final_answer", "{\"trigger\": true}")), "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {\"trigger\": true}"),
            w(c("hermes", "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {\"trigger\": tr",             // cut: closed where it was whole
                    "", new C("final_answer", "{}")), "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {\"trigger\": tr"),
            w(c("hermes", "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": [1, {\"b\": \"x</tool_call>", "",     // the end tag ends it
                    new C("f", "{\"a\": [1, {\"b\": \"x\"}]}")), "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": [1, {\"b\": \"x</tool_call>"),
            c("hermes", "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {tr",                         // not begun: the text
                    "<tool_call>\n{\"name\": \"final_answer\", \"arguments\": {tr"),
            c("hermes", "<tool_call>{\"name\": \"f\"}</tool_call>", "<tool_call>{\"name\": \"f\"}</tool_call>"),  // no arguments
            c("hermes", "<tool_call>{\"arguments\": {\"x\": \"\\u00e9\\n\", \"y\": [1.0E2, -0, NaN]}, \"name\": \"f\"}</tool_call>", "",
                    new C("f", "{\"x\": \"\u00e9\\n\", \"y\": [100.0, 0, NaN]}")),                        // name after arguments
            c("hermes", "<tool_call>\n{\"name\": \"get_db_config\", \"arguments\": \"{\\\"param\\\": \\\"max_connections\\\"}\"}\n</tool_call>", "",
                    new C("get_db_config", "{\"param\": \"max_connections\"}")),                         // serialized arguments, once
            c("hermes", "<tool_call>\n{\"name\": \"do_thing\", \"arguments\": \"hello\"}\n</tool_call>", "", new C("do_thing", "\"hello\"")),
            c("hermes", "<tool_call>{\"name\": \"f\", \"arguments\": \"{hello world}\"}</tool_call>", "", new C("f", "\"{hello world}\"")),
            c("hermes", "<tool_call>{\"name\": \"f\", \"arguments\": \"[oops\"}</tool_call>", "", new C("f", "\"[oops\"")),
            c("hermes", "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1} tail text\"}</tool_call>", "",
                    new C("f", "\"{\\\"a\\\": 1} tail text\"")),
            c("hermes", "Hi!<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}</tool_call>", "Hi!", new C("f", "{\"x\": 1}")),
            // ours: text after a call is dropped, as vLLM drops it; Python's layout (ensure_ascii=False, floats as repr)
            c("hermes", "I'll look.\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Zürich\",\"days\":2,\"t\":1e-05}}\n"
                    + "</tool_call>\nDone?", "I'll look.\n", new C("get_weather", "{\"city\": \"Zürich\", \"days\": 2, \"t\": 1e-05}")),
            c("hermes", "a <tool", "a <tool"),                                          // a partial tag at the end is text
            c("hermes", "<tool_call>{\"arguments\": {}}</tool_call> no name", "<tool_call>{\"arguments\": {}}</tool_call> no name"),
            // ours, on purpose: a bad call after a good one — vLLM gives the whole reply as content and no calls; a stream
            // has sent the first call by then, so both keep it and the bad call's text is content
            c("hermes", "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n<tool_call>{bad}</tool_call>", "<tool_call>{bad}</tool_call>",
                    new C("a", "{}")),

            // ---- llama3_json (vLLM's test_llama3_json_tool_parser.py) ----
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test query\", \"limit\": 10}}", "",
                    new C("searchTool", "{\"query\": \"test query\", \"limit\": 10}")),
            c("llama3_json", "This is just some text without any tool calls", "This is just some text without any tool calls"),
            c("llama3_json", "{\"name\": \"invalidTool\", \"parameters\": {invalid json}", "{\"name\": \"invalidTool\", \"parameters\": {invalid json}"),
            c("llama3_json", "{\"name\": \"searchTool\", \"arguments\": {\"query\": \"test\"}}", "", new C("searchTool", "{\"query\": \"test\"}")),
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test1\"}}; {\"name\": \"getOpenIncidentsTool\", \"parameters\": {}}; "
                    + "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test2\"}}", "", new C("searchTool", "{\"query\": \"test1\"}"),
                    new C("getOpenIncidentsTool", "{}"), new C("searchTool", "{\"query\": \"test2\"}")),
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test1\"}} ; {\"name\": \"getOpenIncidentsTool\", \"parameters\": {}} ; "
                    + "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test2\"}}", "", new C("searchTool", "{\"query\": \"test1\"}"),
                    new C("getOpenIncidentsTool", "{}"), new C("searchTool", "{\"query\": \"test2\"}")),
            c("llama3_json", "{\"name\": \"complexTool\", \"parameters\": {\"level1\": {\"level2\": {\"level3\": {\"level4\": {\"value\": \"deep\"}}}}}}", "",
                    new C("complexTool", "{\"level1\": {\"level2\": {\"level3\": {\"level4\": {\"value\": \"deep\"}}}}}")),
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test {value} [complex]\",\"nested\": {\"inner\": \"more {brackets}\"}}}", "",
                    new C("searchTool", "{\"query\": \"test {value} [complex]\", \"nested\": {\"inner\": \"more {brackets}\"}}")),
            c("llama3_json", "{\"name\": \"parserTool\", \"parameters\": {\"text\": \"He said \\\"Hello {world}\\\"\"}}", "",
                    new C("parserTool", "{\"text\": \"He said \\\"Hello {world}\\\"\"}")),
            c("llama3_json", "{\"parameters\": {}}", "{\"parameters\": {}}"),                                 // no name: content
            c("llama3_json", "{\"name\": \"toolWithoutParams\"}", "{\"name\": \"toolWithoutParams\"}"),       // no arguments: content
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test\"}} I used {searchTool} for this.", "",
                    new C("searchTool", "{\"query\": \"test\"}")),                                       // a brace in trailing prose
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test\"}} The arguments I passed were {\"query\": \"test\"}", "",
                    new C("searchTool", "{\"query\": \"test\"}")),
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test1\"}};{\"name\": \"getOpenIncidentsTool\", \"parameters\": {}}", "",
                    new C("searchTool", "{\"query\": \"test1\"}"), new C("getOpenIncidentsTool", "{}")),  // the separators vLLM streams
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test1\"}};\n{\"name\": \"getOpenIncidentsTool\", \"parameters\": {}}", "",
                    new C("searchTool", "{\"query\": \"test1\"}"), new C("getOpenIncidentsTool", "{}")),
            c("llama3_json", "{\"name\": \"searchTool\", \"parameters\": {\"query\": \"test1\"}}\n{\"name\": \"getOpenIncidentsTool\", \"parameters\": {}}", "",
                    new C("searchTool", "{\"query\": \"test1\"}"), new C("getOpenIncidentsTool", "{}")),
            // ours: <|python_tag|> (Llama 3.1's, kept in the text) before the call; code after it is not a JSON call
            c("llama3_json", "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", "",
                    new C("get_weather", "{\"city\": \"Oslo\"}")),
            c("llama3_json", "<|python_tag|>brave_search.call(query=\"Oslo\")", "<|python_tag|>brave_search.call(query=\"Oslo\")"),
            c("llama3_json", "<|pyth", "<|pyth"),
            // ours, on purpose: vLLM's non-streamed path takes a call from the middle of prose (and drops the prose); its
            // streamed path, like ours for both, reads calls only where the reply begins with one
            c("llama3_json", "Here is the result: {\"name\": \"getOpenIncidentsTool\", \"parameters\": {}} Would you like to know more?",
                    "Here is the result: {\"name\": \"getOpenIncidentsTool\", \"parameters\": {}} Would you like to know more?"),

            // ---- mistral (vLLM's test_mistral_tool_parser.py; list form as read with a Hugging Face tokenizer) ----
            c("mistral", "This is a test", "This is a test"),
            c("mistral", "[TOOL_CALLS][{\"name\": \"add\", \"arguments\":{\"a\": 3.5, \"b\": 4}}]", "", new C("add", "{\"a\": 3.5, \"b\": 4}")),
            c("mistral", "[TOOL_CALLS] [{\"name\": \"get_current_weather\", \"arguments\":{\"city\": \"San Francisco\", \"state\": \"CA\", \"unit\": \"celsius\"}}]",
                    "", new C("get_current_weather", SF)),
            c("mistral", "[TOOL_CALLS] [{\"arguments\":{\"city\": \"San Francisco\", \"state\": \"CA\", \"unit\": \"celsius\"}, \"name\": \"get_current_weather\"}]",
                    "", new C("get_current_weather", SF)),
            c("mistral", "[TOOL_CALLS] [{\"arguments\":{\"name\": \"John Doe\"}, \"name\": \"get_age\"}]", "", new C("get_age", "{\"name\": \"John Doe\"}")),
            c("mistral", "[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": 3.5, \"b\": 4}}, {\"name\": \"get_current_weather\", \"arguments\":{\"city\": "
                    + "\"San Francisco\", \"state\": \"CA\", \"unit\": \"celsius\"}}]", "", new C("add", "{\"a\": 3.5, \"b\": 4}"), new C("get_current_weather", SF)),
            c("mistral", "Hello[TOOL_CALLS] [{\"name\": \"add\", \"arguments\":{\"a\": 1, \"b\": 2}}]", "Hello", new C("add", "{\"a\": 1, \"b\": 2}")),
            c("mistral", "[TOOL_CALLS] [{\"name\": \"get_current_weather\", \"arguments\":{\"city\": \"Dallas\", \"state\": \"TX\", \"unit\": \"fahrenheit\"}}]\n"
                    + "extra trailing data", "", new C("get_current_weather", "{\"city\": \"Dallas\", \"state\": \"TX\", \"unit\": \"fahrenheit\"}")),
            c("mistral", "[TOOL_CALLS]  [ {\"name\":\"add\" , \"arguments\" : {\"a\": 3, \"b\": 4} } ]", "", new C("add", "{\"a\": 3, \"b\": 4}")),
            // v11+ (name{args}, arguments as written)
            c("mistral", "[TOOL_CALLS]add_this_and_that{\"a\": 3.5, \"b\": 4}", "", new C("add_this_and_that", "{\"a\": 3.5, \"b\": 4}")),
            c("mistral", "[TOOL_CALLS]add{\"a\": 3.5, \"b\": 4}[TOOL_CALLS]multiply{\"a\": 3, \"b\": 6}", "", new C("add", "{\"a\": 3.5, \"b\": 4}"),
                    new C("multiply", "{\"a\": 3, \"b\": 6}")),
            c("mistral", "hi{hi[TOOL_CALLS]bash{\"command\": \"print(\\\"hello world!\\\")\\nre.compile(r'{}')\"}", "hi{hi",
                    new C("bash", "{\"command\": \"print(\\\"hello world!\\\")\\nre.compile(r'{}')\"}")),
            c("mistral", "bla[TOOL_CALLS]add_this_and_that{\"a\": 3.5, \"b\": 4}", "bla", new C("add_this_and_that", "{\"a\": 3.5, \"b\": 4}")),
            // ours: the v11+ tokens decoded with special tokens kept, as this server decodes them
            c("mistral", "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}[TOOL_CALLS]get_time[CALL_ID]a1b2c3d4e[ARGS]{}", "",
                    new C("get_weather", "{\"city\": \"Paris\"}"), new C("get_time", "{}")),
            c("mistral", "Let me [TOOL_", "Let me [TOOL_"),
            // ours, on purpose: what vLLM gives as a call with broken arguments, or drops, is content here ("[TOOL_CALLS]"
            // included: vLLM's pre-v11 fallback gives only the text after it); clients parse arguments as JSON
            c("mistral", "[TOOL_CALLS] not json at all", "[TOOL_CALLS] not json at all"),
            c("mistral", "[TOOL_CALLS]toolname_no_args", "[TOOL_CALLS]toolname_no_args"),
            c("mistral", "[TOOL_CALLS]bash{not json}", "[TOOL_CALLS]bash{not json}"),
            // arguments that have begun as an object make a call in a stream, closed where the reply cut them; not streamed,
            // the whole reply is content, as vLLM gives it
            w(c("mistral", "hi{hi[TOOL_CALLS]bash{\"command\": \"print(\\\"hello world!\\\")\\nre.compile(r'{}')", "hi{hi",
                    new C("bash", "{\"command\": \"print(\\\"hello world!\\\")\\nre.compile(r'{}')\"}")),
                    "hi{hi[TOOL_CALLS]bash{\"command\": \"print(\\\"hello world!\\\")\\nre.compile(r'{}')"),
            c("mistral", "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\"}]", "", new C("a", "{}")),

            // ---- openai (vLLM's test_openai_tool_parser.py, its conversations as openai_harmony renders them) ----
            c("openai", "<|start|>user<|message|>Arrr, how be you?<|end|><|start|>assistant<|channel|>final<|message|>This is a test<|end|>",
                    "This is a test"),
            c("openai", "<|start|>user<|message|>What is the weather in Tokyo?<|end|>" + ANALYSIS + toFunction("get_current_weather", " json", TOKYO), "",
                    new C("get_current_weather", TOKYO)),
            c("openai", ANALYSIS + toFunction("get_current_weather", " json", "{\n\"location\": \"Tokyo\"\n}"), "", new C("get_current_weather", TOKYO)),
            c("openai", ANALYSIS + toFunction("get_current_weather", " json", TOKYO) + toFunction("get_user_location", " json", TOKYO)
                    + toFunction("no_content_type", "", TOKYO) + toFunction("not_json_no_content_type", "", "foo")
                    + toFunction("empty_args", " json", "{}") + toFunction("no_args", " json", ""), "",
                    new C("get_current_weather", TOKYO), new C("get_user_location", TOKYO), new C("no_content_type", TOKYO),
                    new C("not_json_no_content_type", "foo"), new C("empty_args", "{}"), new C("no_args", "")),
            c("openai", ANALYSIS + toFunction("get_current_weather", " json", TOKYO)
                    + "<|start|>assistant<|channel|>final<|message|>This tool call will get the weather.<|end|>",
                    "This tool call will get the weather.", new C("get_current_weather", TOKYO)),
            // ours: as gpt-oss writes a call (the recipient after the channel, <|constrain|>; <|call|> ends the sequence, so
            // it is not in the text); json.dumps's ensure_ascii, as vLLM calls it; a call cut short is dropped; a
            // preamble is content; a message to another recipient (a built-in tool) is neither
            c("openai", "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
                    + "<|constrain|>json<|message|>{\"city\":\"Zürich\"}", "", new C("get_weather", "{\"city\": \"Z\\u00fcrich\"}")),
            w(c("openai", "<|channel|>commentary<|message|>Checking.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
                    + "<|constrain|>json<|message|>{\"city\": \"Zü", "Checking.", new C("get_weather", "{\"city\": \"Z\\u00fc\"}")),
                    "Checking."),                                                 // not streamed: the cut message is no call (vLLM)
            c("openai", "<|channel|>commentary<|message|>Checking.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
                    + "<|constrain|>json<|message|>[1, ", "Checking."),
            c("openai", "<|channel|>analysis to=browser.search<|message|>{\"query\": \"x\"}<|call|>", ""),

            // ---- deepseek_v3 (vLLM's test_deepseekv3_tool_parser.py: DeepSeek-V3's template writes these) ----
            c("deepseek_v3", "How can I help you today? I can check weather for you.", "How can I help you today? I can check weather for you."),
            c("deepseek_v3", DS_CALLS + dsV3("get_weather", "{\"city\": \"Tokyo\", \"unit\": \"celsius\"}") + DS_END, "",
                    new C("get_weather", "{\"city\": \"Tokyo\", \"unit\": \"celsius\"}")),
            c("deepseek_v3", DS_CALLS + dsV3("get_weather", "{\"city\": \"Tokyo\", \"unit\": \"celsius\"}")
                    + dsV3("search_hotels", "{\"location\": \"Tokyo\", \"check_in\": \"2025-01-15\"}") + DS_END, "",
                    new C("get_weather", "{\"city\": \"Tokyo\", \"unit\": \"celsius\"}"),
                    new C("search_hotels", "{\"location\": \"Tokyo\", \"check_in\": \"2025-01-15\"}")),
            c("deepseek_v3", DS_CALLS + dsV3("test_function", "{\"string_field\": \"hello\", \"int_field\": 42, \"float_field\": 3.14, "
                    + "\"bool_field\": true, \"null_field\": null, \"array_field\": [\"a\", \"b\", \"c\"], \"object_field\": {\"nested\": \"value\"}, "
                    + "\"empty_array\": [], \"empty_object\": {}}") + DS_END, "",
                    new C("test_function", "{\"string_field\": \"hello\", \"int_field\": 42, \"float_field\": 3.14, \"bool_field\": true, "
                    + "\"null_field\": null, \"array_field\": [\"a\", \"b\", \"c\"], \"object_field\": {\"nested\": \"value\"}, "
                    + "\"empty_array\": [], \"empty_object\": {}}")),
            c("deepseek_v3", DS_CALLS + dsV3("get_current_time", "{}") + DS_END, "", new C("get_current_time", "{}")),
            c("deepseek_v3", "Let me check the weather for you." + DS_CALLS + dsV3("get_weather", "{\"city\": \"Paris\"}") + DS_END,
                    "Let me check the weather for you.", new C("get_weather", "{\"city\": \"Paris\"}")),
            c("deepseek_v3", DS_CALLS + dsV3("send_message", "{\"text\": \"He said \\\"hello\\\"\", \"path\": \"C:\\\\Users\\\\file\", "
                    + "\"newline\": \"line1\\nline2\"}") + DS_END, "",
                    new C("send_message", "{\"text\": \"He said \\\"hello\\\"\", \"path\": \"C:\\\\Users\\\\file\", \"newline\": \"line1\\nline2\"}")),
            // its malformed outputs: arguments are not checked (vLLM passes the text on); no call marker: no call, and
            // the text after the calls marker is dropped (vLLM's V3 answers the text before it)
            c("deepseek_v3", DS_CALLS + dsV3("get_weather", "{\"city\": \"Tokyo\"") + DS_END, "", new C("get_weather", "{\"city\": \"Tokyo\"")),
            c("deepseek_v3", DS_CALLS + "function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Tokyo\"}\n```<｜tool▁calls▁end｜>", ""),
            // ours: the template's layout ("\n" between calls, end of sentence after), text after the calls dropped, a
            // call whose arguments break a line (pretty-printed) is none but the next is read, a call cut short
            c("deepseek_v3", "Sure." + DS_CALLS + dsV3("get_weather", "{\"city\": \"Zürich\"}") + "\n" + dsV3("get_time", "{}") + DS_END + " Done.",
                    "Sure.", new C("get_weather", "{\"city\": \"Zürich\"}"), new C("get_time", "{}")),
            w(c("deepseek_v3", DS_CALLS + dsV3("a", "{\n\"x\": 1\n}") + dsV3("b", "{}") + DS_END, "", new C("a", "{"), new C("b", "{}")),
                    "", new C("b", "{}")),                                   // streamed: "a" went out before its line broke
            c("deepseek_v3", DS_CALLS + "<｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```python\n{}\n```<｜tool▁call▁end｜>", ""),
            w(c("deepseek_v3", "Hm." + DS_CALLS + "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Os", "Hm.",
                    new C("get_weather", "{\"city\": \"Os")), "Hm."),
            c("deepseek_v3", "a <｜tool▁calls", "a <｜tool▁calls"),

            // ---- deepseek_v31 (vLLM's test_deepseekv31_tool_parser.py) ----
            c("deepseek_v31", "normal text" + DS_CALLS + "<｜tool▁call▁begin｜>foo<｜tool▁sep｜>{\"x\":1}<｜tool▁call▁end｜>" + DS_END, "normal text",
                    new C("foo", "{\"x\":1}")),
            c("deepseek_v31", "some prefix text" + DS_CALLS + "<｜tool▁call▁begin｜>foo<｜tool▁sep｜>{\"x\":1}<｜tool▁call▁end｜>"
                    + "<｜tool▁call▁begin｜>bar<｜tool▁sep｜>{\"y\":2}<｜tool▁call▁end｜>" + DS_END + " some suffix text", "some prefix text",
                    new C("foo", "{\"x\":1}"), new C("bar", "{\"y\":2}")),
            c("deepseek_v31", "Let me look that up." + DS_CALLS + "get_weather", "Let me look that up." + DS_CALLS + "get_weather"),
            c("deepseek_v31", DS_CALLS + "foo<｜tool▁sep｜>{\"x\":1}<｜tool▁calls▁end｜>", DS_CALLS + "foo<｜tool▁sep｜>{\"x\":1}<｜tool▁calls▁end｜>"),
            // ours: cut short in its arguments — a call in the stream, the whole reply content not streamed (no call matched)
            w(c("deepseek_v31", "Hm." + DS_CALLS + "<｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": ", "Hm.",
                    new C("get_weather", "{\"city\": ")), "Hm." + DS_CALLS + "<｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": "),

            // ---- glm45 (the model outputs of vLLM's test_glm4_moe_tool_parser.py; content and arguments as its parser's
            // code gives them, with the request's tools below typing the values) ----
            c("glm45", "This is a test", "This is a test"),
            c("glm45", "<tool_call>get_current_weather\n    <arg_key>city</arg_key>\n    <arg_value>Dallas</arg_value>\n    <arg_key>state</arg_key>\n"
                    + "    <arg_value>TX</arg_value>\n    <arg_key>unit</arg_key>\n    <arg_value>fahrenheit</arg_value>\n    </tool_call>", "",
                    new C("get_current_weather", "{\"city\": \"Dallas\", \"state\": \"TX\", \"unit\": \"fahrenheit\"}")),
            c("glm45", "I'll help you check the weather. <tool_call>get_current_weather\n    <arg_key>city</arg_key>\n    <arg_value>Seattle</arg_value>\n"
                    + "    </tool_call>", "I'll help you check the weather. ", new C("get_current_weather", "{\"city\": \"Seattle\"}")),
            c("glm45", "<think>I want to get the weather.</think>\n\nI will help you get the weather.\n" + glm("get_weather", "city", "Beijing", "date", "2025-08-01"),
                    "<think>I want to get the weather.</think>\n\nI will help you get the weather.\n",
                    new C("get_weather", "{\"city\": \"Beijing\", \"date\": \"2025-08-01\"}")),
            c("glm45", "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Seattle</arg_value>\n<arg_key>incomplete_arg\n<arg_value>value</arg_value>\n"
                    + "</tool_call>", "", new C("get_weather", "{\"city\": \"Seattle\"}")),
            c("glm45", "<tool_call>get_current_time\n</tool_call>", "", new C("get_current_time", "{}")),
            c("glm45", "I will help you get the weather info.\n\n" + glm("get_weather", "city", "Beijing", "date", "2025-08-01")
                    + "\n\nmeaningwhile, I will also check the weather in Shanghai.\n\n" + glm("get_weather", "city", "Shanghai", "date", "2025-08-01"),
                    "I will help you get the weather info.\n\n", new C("get_weather", "{\"city\": \"Beijing\", \"date\": \"2025-08-01\"}"),
                    new C("get_weather", "{\"city\": \"Shanghai\", \"date\": \"2025-08-01\"}")),
            c("glm45", glm("send_message", "recipient", "Amy", "message", "It is a nice day", "priority", "high"), "",
                    new C("send_message", "{\"recipient\": \"Amy\", \"message\": \"It is a nice day\", \"priority\": \"high\"}")),
            // cut short (no end tag): not streamed, no call and the whole reply as content; streamed, the call went out
            w(c("glm45", "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>",
                    "", new C("get_weather", "{\"city\": \"Beijing\", \"date\": \"2025-08-01\"}")),
                    "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n<arg_key>date</arg_key>\n<arg_value>2025-08-01</arg_value>"),
            // ours: the template's layout (GLM-4.5's chat_template.jinja: "\n<tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n</tool_call>");
            // typing: a "string" parameter keeps its stripped text, others json.loads or ast.literal_eval or the text;
            // whitespace-only content is none; a call without a line after its name is none; no call at all: content
            c("glm45", "\n" + glm("get_weather", "city", " 123 ", "days", "3", "units", "[\"C\", 1.50]", "note", "01"), "",
                    new C("get_weather", "{\"city\": \"123\", \"days\": 3, \"units\": [\"C\", 1.5], \"note\": \"01\"}")),
            c("glm45", glm("search", "query", "Zürich", "tags", "['a', \"b\", (1, 2)]", "strict", "True", "limit", "1e3", "near", "None",
                    "opts", "{'k': -2, 3: False}"), "",
                    new C("search", "{\"query\": \"Zürich\", \"tags\": [\"a\", \"b\", [1, 2]], \"strict\": true, \"limit\": 1000.0, \"near\": null, "
                    + "\"opts\": {\"k\": -2, \"3\": false}}")),
            c("glm45", "<tool_call>noline</tool_call>" + glm("get_time"), "", new C("get_time", "{}")),
            c("glm45", "Hi <tool_call>noline</tool_call> bye", "Hi <tool_call>noline</tool_call> bye"),
            c("glm45", "<tool_c", "<tool_c"),

            // ---- glm47 (GLM-4.7's chat_template.jinja: "<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value></tool_call>") ----
            c("glm47", "Checking.<tool_call>get_weather<arg_key>city</arg_key><arg_value>Beijing</arg_value><arg_key>days</arg_key><arg_value>2</arg_value>"
                    + "</tool_call><tool_call>get_time</tool_call>", "Checking.", new C("get_weather", "{\"city\": \"Beijing\", \"days\": 2}"),
                    new C("get_time", "{}")),
            c("glm47", "<tool_call>get_weather<arg_key>city</arg_key>\\n<arg_value>Oslo</arg_value></tool_call>", "",
                    new C("get_weather", "{\"city\": \"Oslo\"}")),                                   // a literal "\n" between (vLLM's regex)
            c("glm47", glm("get_weather", "city", "Oslo"), "", new C("get_weather", "{\"city\": \"Oslo\"}")));     // GLM-4.5's layout too


    /** A parser for a case, what it released (its finish last) and all the text it read. */
    record Fed(ToolParser parser, List<ToolParser.Delta> deltas, String input) {}

    static Fed deltas(Case c, List<String> pieces) {
        boolean harmony = c.parser().equals("openai");
        ReasoningParser r = harmony ? ReasoningParser.named("gpt_oss").start("", Map.of()) : null;
        ToolParser p = ToolParser.named(c.parser()).start(r, c.parser().startsWith("glm") ? GLM_TOOLS : null);
        List<ToolParser.Delta> ds = new ArrayList<>();
        StringBuilder input = new StringBuilder();
        for (String s : pieces) {
            String in = harmony ? r.add(s).content() : s;
            input.append(in);
            ds.add(p.add(in));
        }
        if (harmony) {
            String in = r.finish().content();
            input.append(in);
            ds.add(p.add(in));
        }
        ds.add(p.finish());
        return new Fed(p, ds, input.toString());
    }

    /**
     * Feeds {@code pieces} and finishes; checks the deltas add up to the parser's totals and stream as a client reads
     * them — each call's header once, in order, with empty arguments, then only fragments (not empty) of calls whose
     * header came; returns the content and the calls that the fragments make.
     */
    static Object[] feed(Case c, List<String> pieces) {
        Fed fed = deltas(c, pieces);
        ToolParser p = fed.parser();
        List<ToolParser.Delta> ds = fed.deltas();
        StringBuilder content = new StringBuilder();
        List<ToolParser.Call> calls = new ArrayList<>();
        for (ToolParser.Delta d : ds) {
            content.append(d.content());
            for (ToolParser.Part part : d.parts()) {
                if (part.header()) {
                    assertEquals(calls.size(), part.index(), "headers come once each, in order: " + part);
                    assertEquals("", part.arguments(), "a header carries no arguments: " + part);
                    calls.add(new ToolParser.Call(part.id(), part.name(), ""));
                } else {
                    assertTrue(part.index() < calls.size(), "a fragment comes after its call's header: " + part);
                    assertTrue(part.id() == null && !part.arguments().isEmpty(), part.toString());
                    ToolParser.Call was = calls.get(part.index());
                    calls.set(part.index(), new ToolParser.Call(was.id(), was.name(), was.arguments() + part.arguments()));
                }
            }
        }
        assertEquals(p.content(), content.toString());
        assertEquals(p.calls(), calls);
        List<C> named = new ArrayList<>();
        for (ToolParser.Call call : calls) named.add(new C(call.name(), call.arguments()));
        ToolParser.Whole whole = p.whole(fed.input(), content.toString(), calls);
        List<C> wholeNamed = new ArrayList<>();
        for (ToolParser.Call call : whole.calls()) wholeNamed.add(new C(call.name(), call.arguments()));
        return new Object[] {content.toString(), named, whole.content(), wholeNamed};
    }

    /** The stream's content and calls, and the non-streamed reply's (the stream's, but where the case says otherwise). */
    static void check(Case c, List<String> pieces, String what) {
        Object[] got = feed(c, pieces);
        assertEquals(c.content(), got[0], c.parser() + " " + c.reply() + what + ": content");
        assertEquals(c.calls(), got[1], c.parser() + " " + c.reply() + what + ": calls");
        assertEquals(c.wholeContent() == null ? c.content() : c.wholeContent(), got[2], c.parser() + " " + c.reply() + what + ": content, not streamed");
        assertEquals(c.wholeContent() == null ? c.calls() : c.wholeCalls(), got[3], c.parser() + " " + c.reply() + what + ": calls, not streamed");
    }

    @Test
    void wholeRepliesGiveVllmsCallsAndContent() {
        for (Case c : CASES) check(c, List.of(c.reply()), "");
    }

    @Test
    void everySplitIntoTwoOrThreePiecesAndEachCharacterGivesTheWholeReplysResult() {
        int checked = 0;
        for (Case c : CASES) {
            String s = c.reply();
            int step = s.length() > 160 ? 3 : 1;                       // the longest replies: every third cut for the 3-piece splits
            for (int i = 0; i <= s.length(); i++) {
                check(c, List.of(s.substring(0, i), s.substring(i)), " split at " + i);
                for (int j = i; j <= s.length(); j += step) check(c, List.of(s.substring(0, i), s.substring(i, j), s.substring(j)), " split at " + i + ", " + j);
                checked += 1 + (s.length() - i) / step;
            }
            check(c, s.chars().mapToObj(ch -> String.valueOf((char) ch)).toList(), " a character at a time");
        }
        assertTrue(checked > 100_000, "only " + checked + " splits");
    }

    /** Nothing is released that a later piece could turn into a call: a marker's beginning waits, then goes out as text or not at all. */
    @Test
    void aPossibleMarkerIsHeldBackUntilItIsDecided() {
        ToolParser h = ToolParser.named("hermes").start(null);
        assertEquals(new ToolParser.Delta("Sure, ", List.of()), h.add("Sure, <tool"));
        assertEquals(new ToolParser.Delta("", List.of()), h.add("_call>{\"name\": \"f\", \"arguments\": {"));   // not begun yet
        assertEquals(List.of(header(0, "f"), fragment(0, "{}")), parts(h.add("}}")));
        assertEquals(new ToolParser.Delta("", List.of()), h.add("</tool_call>"));
        assertEquals(new ToolParser.Delta("", List.of()), h.add("\n<tool"));       // after a call, text up to the next call is dropped
        assertEquals(new ToolParser.Delta("", List.of()), h.finish());
        ToolParser l = ToolParser.named("llama3_json").start(null);
        assertEquals(new ToolParser.Delta("", List.of()), l.add(" <|pyt"));
        assertEquals(new ToolParser.Delta(" <|pyt!", List.of()), l.add("!"));
        ToolParser m = ToolParser.named("mistral").start(null);
        assertEquals(new ToolParser.Delta("Hi ", List.of()), m.add("Hi [TOOL_CA"));
        assertEquals(new ToolParser.Delta("[TOOL_CA", List.of()), m.finish());
        assertThrows(IllegalStateException.class, () -> m.add("more"));
    }

    static ToolParser.Part header(int index, String name) { return new ToolParser.Part(index, "id", name, ""); }

    static ToolParser.Part fragment(int index, String arguments) { return new ToolParser.Part(index, null, null, arguments); }

    /** A delta's parts, a header's id as "id" (ids are random). */
    static List<ToolParser.Part> parts(ToolParser.Delta d) {
        assertEquals("", d.content());
        return d.parts().stream().map(p -> p.header() ? header(p.index(), p.name()) : p).toList();
    }

    /**
     * Each parser streams a call's arguments as the model writes them: the header once the arguments have begun, then a
     * fragment with each piece — in vLLM's json.dumps layout, or as written for Mistral's name{args} — a separator and
     * key waiting for their value, a possible end marker for the next piece.
     */
    @Test
    void argumentsStreamAsTheModelWritesThem() {
        ToolParser h = ToolParser.named("hermes").start(null);
        assertEquals(List.of(header(0, "get_weather"), fragment(0, "{\"city\": \"Z\u00fc")),
                parts(h.add("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Z\u00fc")));
        assertEquals(List.of(fragment(0, "rich\"")), parts(h.add("rich\",\"days\":")));
        assertEquals(List.of(fragment(0, ", \"days\": 3, \"note\": \"a")), parts(h.add("3,\"note\":\"a</tool")));  // "</tool" waits
        assertEquals(List.of(fragment(0, "</tool/b\"}")), parts(h.add("/b\"}}\n</tool_call>")));
        assertEquals("{\"city\": \"Z\u00fcrich\", \"days\": 3, \"note\": \"a</tool/b\"}", h.calls().get(0).arguments());

        ToolParser l = ToolParser.named("llama3_json").start(null);
        assertEquals(List.of(header(0, "get_weather"), fragment(0, "{\"city\": \"Os")),
                parts(l.add("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Os")));
        assertEquals(List.of(fragment(0, "lo\"}"), header(1, "get_time"), fragment(1, "{}")),
                parts(l.add("lo\"}}; {\"name\": \"get_time\", \"parameters\": {}}")));

        ToolParser m = ToolParser.named("mistral").start(null);
        assertEquals(List.of(header(0, "get_weather"), fragment(0, "{\"city\":\"Pa")), parts(m.add("[TOOL_CALLS]get_weather[ARGS]{\"city\":\"Pa")));
        assertEquals(List.of(fragment(0, "ris\"}")), parts(m.add("ris\"}")));
        ToolParser ml = ToolParser.named("mistral").start(null);
        assertEquals(List.of(header(0, "add"), fragment(0, "{\"a\": 3.5")), parts(ml.add("[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\":3.5,")));

        ReasoningParser r = ReasoningParser.named("gpt_oss").start("", Map.of());
        ToolParser o = ToolParser.named("openai").start(r);
        assertEquals(List.of(header(0, "get_weather"), fragment(0, "{\"city\": \"Z\\u00fc")),
                parts(o.add(r.add("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Z\u00fc").content())));
        assertEquals(List.of(fragment(0, "rich\"}")), parts(o.add(r.add("rich\"}").content())));
    }

    /**
     * The new parsers stream as their formats allow: DeepSeek's arguments as written, as they come (V3 after the fence
     * line); GLM's header with the name, then each pair as it closes (the brace with the end tag). A GLM key that comes
     * again overrides its earlier value in vLLM's dict: the whole reply has the dict, a stream that sent the first value
     * closes what it sent.
     */
    @Test
    void deepSeekAndGlmArgumentsStreamAsTheModelWritesThem() {
        ToolParser d = ToolParser.named("deepseek_v3").start(null);
        assertEquals(new ToolParser.Delta("Hi", List.of()), d.add("Hi<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```js"));
        assertEquals(List.of(header(0, "get_weather"), fragment(0, "{\"city\": \"Os")), parts(d.add("on\n{\"city\": \"Os")));
        assertEquals(List.of(fragment(0, "lo\"}")), parts(d.add("lo\"}\n```<｜tool▁call▁end｜>")));
        ToolParser d31 = ToolParser.named("deepseek_v31").start(null);
        assertEquals(List.of(header(0, "f"), fragment(0, "{\"a\": 1}")), parts(d31.add("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{\"a\": 1}<｜tool▁call")));
        assertEquals(new ToolParser.Delta("", List.of()), d31.add("▁end｜>"));           // the end tag's beginning waited

        ToolParser g = ToolParser.named("glm45").start(null, GLM_TOOLS);
        assertEquals(List.of(header(0, "get_weather")), parts(g.add("\n<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Be")));
        assertEquals(List.of(fragment(0, "{\"city\": \"Beijing\"")), parts(g.add("ijing</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg")));
        assertEquals(List.of(fragment(0, ", \"days\": 2")), parts(g.add("_value>\n")));
        assertEquals(new ToolParser.Delta("", List.of()), g.add("<arg_key>city</arg_key>\n<arg_value>Oslo</arg_value>\n"));   // changes what went out
        assertEquals(List.of(fragment(0, "}")), parts(g.add("</tool_call>")));
        g.finish();
        assertEquals("{\"city\": \"Beijing\", \"days\": 2}", g.calls().get(0).arguments());
        ToolParser.Whole whole = g.whole("", g.content(), g.calls());
        assertEquals("{\"city\": \"Oslo\", \"days\": 2}", whole.calls().get(0).arguments(), "vLLM's dict: the later value in the first key's place");
        assertEquals("", whole.content());
    }

    @Test
    void idsAreVllmsAndMistralsShape() {
        ToolParser hp = ToolParser.named("hermes").start(null);
        hp.add("<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
        assertTrue(hp.calls().get(0).id().matches("chatcmpl-tool-[0-9a-f]{32}"), hp.calls().get(0).id());
        ToolParser mp = ToolParser.named("mistral").start(null);
        mp.add("[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}]");
        assertTrue(mp.calls().get(0).id().matches("[A-Za-z0-9]{9}"), mp.calls().get(0).id());
    }

    @Test
    void anUnknownNameListsTheParsersAndOpenaiNeedsHarmony() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ToolParser.named("qwen"));
        assertEquals("unknown tool-call parser 'qwen'; the parsers are: hermes, llama3_json, llama4_json, mistral, openai, deepseek_v3, deepseek_v31, "
                + "glm45, glm47", e.getMessage());
        assertEquals("llama3_json", ToolParser.named("llama4_json").name());
        assertThrows(IllegalStateException.class, () -> ToolParser.named("openai").start(ReasoningParser.named("qwen3").start("", Map.of())));
    }

    /**
     * tool_choice "required": nothing before the end, then vLLM's calls, or a cut array as content; a named function:
     * its header with the first text, and the text as its arguments as it comes.
     */
    @Test
    void forcedRepliesRequiredWholeAtTheEndNamedAsTheTextComes() {
        ToolParser r = new ToolParser.Forced(null);
        assertEquals(new ToolParser.Delta("", List.of()), r.add("[{\"name\":\"f\",\"parameters\":{\"a\":[1,\"\u00fc\"]}},"));
        ToolParser.Delta d = r.add(" {\"name\": \"g\", \"parameters\": {}}]");
        assertEquals(new ToolParser.Delta("", List.of()), d);
        assertEquals(List.of(header(0, "f"), fragment(0, "{\"a\": [1, \"\u00fc\"]}"), header(1, "g"), fragment(1, "{}")), parts(r.finish()));
        List<ToolParser.Call> calls = r.calls();
        for (ToolParser.Call c : calls) assertTrue(c.id().matches("chatcmpl-tool-[0-9a-f]{32}"), c.id());
        ToolParser cut = new ToolParser.Forced(null);
        cut.add("[{\"name\":\"f\",\"para");
        assertEquals(new ToolParser.Delta("[{\"name\":\"f\",\"para", List.of()), cut.finish());
        ToolParser named = new ToolParser.Forced("f");
        assertEquals(List.of(header(0, "f"), fragment(0, "{\"a\":")), parts(named.add("{\"a\":")));
        assertEquals(List.of(fragment(0, " 1}")), parts(named.add(" 1}")));
        assertEquals(new ToolParser.Delta("", List.of()), named.finish());
        List<ToolParser.Call> one = named.calls();
        assertEquals(List.of("f", "{\"a\": 1}"), List.of(one.get(0).name(), one.get(0).arguments()), "a named call's arguments are the text as generated");
        assertTrue(one.get(0).id().matches("chatcmpl-tool-[0-9a-f]{32}"), one.get(0).id());
        ToolParser empty = new ToolParser.Forced("f");
        assertEquals(new ToolParser.Delta("", List.of()), empty.add(""));
        assertEquals(new ToolParser.Delta("", List.of()), empty.finish());               // no text (the reply ended while reasoning): no call
    }
}
