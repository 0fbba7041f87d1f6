# python_str_methods.py — Python's own results for the str methods chat templates call, the truth for
# model/src/test/.../PythonMethodsTest. Run: python3 ci/chat-reference/python_str_methods.py > model/src/test/resources/chat/python-str-methods.json
import json

cases = [
    ("  a b  ", "strip", []), ("xxhixx", "strip", ["x"]), ("\n\nq\n", "lstrip", ["\n"]), ("q\n\n", "rstrip", ["\n"]), ("\u00a0 hi\u3000", "strip", []),
    ("a</think>b</think>", "split", ["</think>"]), ("a.b.c", "split", ["."]), ("  one  two\tthree ", "split", []), ("a,b,c,d", "split", [",", 2]),
    ("a,b,c,d", "rsplit", [",", 1]), ("  one  two  three ", "rsplit", [None, 1]), ("a\nb\r\nc\n", "splitlines", []), ("", "split", [","]),
    ("<tool_response>x", "startswith", ["<tool_response>"]), ("abc", "endswith", [("x", "bc")]), ("hello wORLD", "title", []), ("hELLO", "capitalize", []),
    ("aaa", "replace", ["a", "b", 2]), ("aaa", "replace", ["a", "bb"]), ("banana", "count", ["an"]), ("banana", "find", ["n"]), ("banana", "rfind", ["zz"]),
    (", ", "join", [["a", "b"]]), ("123", "isdigit", []), ("", "isdigit", []), ("Abc", "upper", []), ("Abc", "lower", []), ("prefix-x", "removeprefix", ["prefix-"]),
]
out = [[s, m, [list(x) if isinstance(x, tuple) else x for x in a], getattr(s, m)(*a)] for s, m, a in cases]
print(json.dumps(out, ensure_ascii=False, indent=0))
