#!/usr/bin/python3
"""Renders a chat template with jinja2 the way the Hugging Face Hub does.

Usage: jinja2_render.py TEMPLATE_FILE CASES_JSON
CASES_JSON: a list of variable sets (messages, tools, add_generation_prompt,
bos_token, eos_token, enable_thinking, ...). Prints a JSON list with one
{"ok": true, "text": ...} or {"ok": false, "error": ...} per case.

The environment mirrors transformers' chat template rendering: an immutable
sandbox with trim_blocks and lstrip_blocks, the loopcontrols extension,
{% generation %} rendered as its body, tojson without ASCII escaping, and the
raise_exception and strftime_now globals. strftime_now uses a fixed date
(26 July 2024), as vkmind's interpreter does, so the outputs are comparable.
Run with Debian's /usr/bin/python3 (python3-jinja2).
"""
import datetime
import json
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXED_DATE = datetime.datetime(2024, 7, 26)


class GenerationTracker(jinja2.ext.Extension):
    """{% generation %}...{% endgeneration %} renders its body, as the Hub's AssistantTracker does."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_DATE.strftime(fmt)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        source = f.read()
    with open(sys.argv[2], encoding="utf-8") as f:
        cases = json.load(f)
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    results = []
    try:
        template = env.from_string(source)
    except Exception as e:  # a template jinja2 cannot parse fails every case
        results = [{"ok": False, "error": f"{type(e).__name__}: {e}"} for _ in cases]
        template = None
    if template is not None:
        for variables in cases:
            try:
                results.append({"ok": True, "text": template.render(**variables)})
            except Exception as e:
                results.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
