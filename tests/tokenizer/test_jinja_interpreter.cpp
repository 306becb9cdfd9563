// Unit tests of the Jinja2-subset interpreter (model/jinja). Expected texts
// are what jinja2 3.1 renders with the Hub's settings (trim_blocks,
// lstrip_blocks, loopcontrols, immutable sandbox).
#include <catch2/catch.hpp>

#include <string>

#include "model/jinja/template.h"

using namespace vkmind::jinja;

namespace {

std::string render(const std::string& source, const std::string& json_vars = "{}") {
  return Template(source).render(from_json(nlohmann::ordered_json::parse(json_vars)).entries());
}

// The error message rendering `source` raises.
std::string error_of(const std::string& source, const std::string& json_vars = "{}") {
  try {
    render(source, json_vars);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("jinja expressions follow Python's semantics", "[jinja]") {
  CHECK(render("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }}") == "7 3 -4 1 2 1024");
  CHECK(render("{{ 3 / 2 }} {{ 4 / 2 }} {{ 1.5e20 }} {{ 1e-5 }} {{ 0.1 + 0.2 }}") == "1.5 2.0 1.5e+20 1e-05 0.30000000000000004");
  CHECK(render("{{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 2 }} {{ [1] + [2] }}") == "a1NoneTrue abab [1, 2]");
  CHECK(render("{{ 'x' if 1 > 2 else 'y' }}|{{ 'x' if false }}|") == "y||");
  CHECK(render("{{ 1 < 2 < 3 }} {{ 2 in [1, 2] }} {{ 'b' not in 'abc' }} {{ 'k' in {'k': 1} }}") == "True True False True");
  CHECK(render("{{ none or 'd' }} {{ 0 and 1 }} {{ not [] }}") == "d 0 True");
  CHECK(render("{{ {'a': [1, 'x', none, 1.0], \"b\": (1,)} }}") == "{'a': [1, 'x', None, 1.0], 'b': (1,)}");
  CHECK(render("{{ \"it's\" }} {{ ['it\\'s'] }} {{ 'tab\\there' }}") == "it's [\"it's\"] tab\there");
  CHECK(render("{{ 'a' 'b' }}{{ 1 == 1.0 }}{{ true == 1 }}") == "abTrueTrue");
}

TEST_CASE("jinja slicing, attributes and items", "[jinja]") {
  CHECK(render("{{ 'héllo'[::-1] }} {{ [1,2,3,4][1:3] }} {{ [1,2,3,4][::2] }} {{ 'abc'[-1] }}") == "olléh [2, 3] [1, 3] c");
  CHECK(render("{{ m.role }} {{ m['content'] }} {{ m.missing is defined }} {{ xs.0 }}",
               R"({"m": {"role": "user", "content": "hi"}, "xs": [5]})") == "user hi False 5");
  CHECK(render("{{ d.get('a') }} {{ d.get('z', 'no') }} {{ d.items() | list }} {{ d.keys() | list }}", R"({"d": {"a": 1}})") ==
        "1 no [('a', 1)] ['a']");
}

TEST_CASE("jinja string methods", "[jinja]") {
  CHECK(render("{{ ' x '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a\\n'.rstrip() }}") == "x|a|a|a");
  CHECK(render("{{ 'a,b,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a  b '.split() }}") ==
        "['a', 'b', 'c'] ['a', 'b,c'] ['a,b', 'c'] ['a', 'b']");
  CHECK(render("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aXa'.replace('a', 'b') }}") == "True True bXb");
  CHECK(render("{{ 'hello world'.title() }} {{ 'Hi'.upper() }} {{ '<{}|{x}>'.format(1, x=2) }} {{ 'abcb'.find('b') }}") ==
        "Hello World HI <1|2> 1");
}

TEST_CASE("jinja case mapping covers non-ASCII letters as Python does", "[jinja]") {
  CHECK(render("{{ 'éa'|upper }} {{ 'straße'.upper() }} {{ 'ÉCOLE'|lower }} {{ 'élan vital'.title() }} {{ 'ñu-été'|title }} {{ 'éT'|capitalize }}") ==
        "ÉA STRASSE école Élan Vital Ñu-Été Ét");
}

TEST_CASE("jinja filters", "[jinja]") {
  CHECK(render("{{ '  a '|trim }}|{{ [1,2]|length }}|{{ 'héllo'|length }}|{{ [1,2]|join(', ') }}|{{ 'aB'|upper }}{{ 'aB'|lower }}") ==
        "a|2|5|1, 2|ABab");
  CHECK(render("{{ x|default('d') }} {{ ''|default('d', true) }} {{ none|default('d') }}") == "d d None");
  CHECK(render("{{ {'b': 1, 'a': [1, 'é']}|tojson }}") == "{\"b\": 1, \"a\": [1, \"é\"]}");
  CHECK(render("{{ {'a': {'b': []}}|tojson(indent=2) }}") == "{\n  \"a\": {\n    \"b\": []\n  }\n}");
  CHECK(render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}") == "{\"a\": 2, \"b\": 1}");
  CHECK(render("{{ ms|selectattr('role', 'equalto', 'user')|map(attribute='c')|list }}",
               R"({"ms": [{"role": "user", "c": 1}, {"role": "bot", "c": 2}]})") == "[1]");
  CHECK(render("{{ [3,1,2]|sort }} {{ [1,2]|reverse|list }} {{ ['a','A','b']|unique|list }} {{ {'b':1,'a':2}|dictsort }}") ==
        "[1, 2, 3] [2, 1] ['a', 'b'] [('a', 2), ('b', 1)]");
  CHECK(render("{{ [1,2]|first }}{{ [1,2]|last }} {{ '3'|int + 1 }} {{ 2|float }} {{ -3|abs }} {{ 2.5|round }}") == "12 4 2.0 3 2.0");
  CHECK(render("{{ 'a\\nb'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}") == "a\n  b|  a\n  b");
  CHECK(render("{{ '<a>'|e }} {{ 'x'|safe + '<' }}") == "&lt;a&gt; x&lt;");
}

TEST_CASE("jinja map and select return generators, as in jinja2", "[jinja]") {
  CHECK(error_of("{{ [1]|map('string')|tojson }}").find("not JSON serializable") != std::string::npos);
  CHECK(error_of("{{ [1]|select|length }}").find("has no len()") != std::string::npos);
  CHECK(render("{% set g = [1,2]|select %}{{ g|list }}{{ g|list }}") == "[1, 2][]");
}

TEST_CASE("jinja tests", "[jinja]") {
  CHECK(render("{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ true is number }}{{ 1 is integer }}") ==
        "FalseTrueTrueTrueTrueTrue");
  CHECK(render("{{ {} is mapping }}{{ [] is sequence }}{{ 'a' is iterable }}{{ 3 is odd }}{{ 4 is divisibleby 2 }}{{ 1 is in [1] }}") ==
        "TrueTrueTrueTrueTrueTrue");
  CHECK(render("{{ true is true }}{{ 1 is true }}{{ false is boolean }}{{ 2 is equalto 2 }}{{ x is not defined }}") ==
        "TrueFalseTrueTrueTrue");
}

TEST_CASE("jinja whitespace control with the Hub's trim_blocks and lstrip_blocks", "[jinja]") {
  CHECK(render("a\n  {% if true %}\n  x\n  {% endif %}\n  {{ 'y' }}  {% if 1 %}z{% endif %}\n") == "a\n  x\n  y  z");
  CHECK(render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc");
  CHECK(render("a\n{{- 'b' -}}\nc") == "abc");
  CHECK(render("{# comment #}\nx  {#- c -#}  y") == "xy");
  CHECK(render("{% raw %}{{ not evaluated }}{% endraw %}") == "{{ not evaluated }}");
  CHECK(render("  {%+ if true %}x{% endif %}") == "  x");
}

TEST_CASE("jinja for loops", "[jinja]") {
  CHECK(render("{% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}") ==
        "10TrueFalse3;21FalseFalse3;32FalseTrue3;");
  CHECK(render("{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }},{% endfor %}") == "-2,1-3,2-,");
  CHECK(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }} {% endfor %}") == "a=1 b=2 ");
  CHECK(render("{% for x in [] %}x{% else %}empty{% endfor %}{% for x in none_given %}x{% else %}E{% endfor %}") == "emptyE");
  CHECK(render("{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}") == "2242");
  CHECK(render("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}") ==
        "13");
  // A set inside a loop does not leak out, nor into the next iteration; namespace() does.
  CHECK(render("{% set x = 1 %}{% for i in [1,2,3] %}{{ x }}{% set x = x + 1 %}{% endfor %}{{ x }}") == "1111");
  CHECK(render("{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}") == "6");
}

TEST_CASE("jinja macros, block set and filter blocks", "[jinja]") {
  CHECK(render("{% macro m(a, b='B') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(b=3, a=4) }}") == "[1B][12][43]");
  CHECK(render("{% macro m(a) %}{{ a is defined }}{{ top }}{% endmacro %}{% set top = 't' %}{{ m() }}") == "Falset");
  CHECK(render("{% set x %}  in {{ 1 }}  {% endset %}[{{ x }}]") == "[  in 1  ]");
  CHECK(render("{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}|{{ m(1) }}") ==
        "1(2, 3){'x': 4}|1(){}");
  CHECK(error_of("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}") == "template line 1: macro 'm' takes not more than 1 argument(s)");
  CHECK(error_of("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}").find("recursed too deeply") != std::string::npos);
  CHECK(render("{% filter upper %}abc{% endfilter %}") == "ABC");
  CHECK(render("{% generation %}gen{% endgeneration %}") == "gen");
  CHECK(render("{{ strftime_now('%Y-%m-%d %A') }} {{ range(3)|list }} {{ dict(a=1) }}") == "2024-07-26 Friday [0, 1, 2] {'a': 1}");
}

TEST_CASE("jinja undefined values behave like jinja2's default Undefined", "[jinja]") {
  CHECK(render("[{{ nothing }}][{{ nothing|length }}][{% for x in nothing %}x{% endfor %}][{{ nothing is defined }}]") ==
        "[][0][][False]");
  CHECK(render("{{ d.missing }}|{{ d['missing'] }}|{{ d.missing is none }}", R"({"d": {}})") == "||False");
  CHECK(render("{{ nothing == nothing }} {{ nothing == none }}") == "True False");
  CHECK(error_of("{{ nothing.attr }}") == "template line 1: 'nothing' is undefined");
  CHECK(error_of("{{ nothing + 1 }}") == "template line 1: 'nothing' is undefined");
  CHECK(error_of("{{ nothing() }}") == "template line 1: 'nothing' is undefined");
}

TEST_CASE("jinja errors name the construct and the line", "[jinja]") {
  CHECK(error_of("a\n{{ raise_exception('bad turn') }}") == "template line 2: the template raised an exception: bad turn");
  CHECK(error_of("a\n\n{% include 'x.jinja' %}").find("template line 3: unsupported statement '{% include %}'") == 0);
  CHECK(error_of("{% if x %}\nopen") .find("expected '{% elif %}' or '{% else %}' or '{% endif %}'") != std::string::npos);
  CHECK(error_of("line1\n{{ 1 |nosuchfilter }}") == "template line 2: no filter named 'nosuchfilter'");
  CHECK(error_of("{{ 'a' + 1 }}") == "template line 1: can only concatenate str (not \"int\") to str");
  CHECK(error_of("{% set l = [] %}\n{% set _ = l.append(1) %}").find("template line 2: access to attribute 'append'") == 0);
  CHECK(error_of("{{ x is nosuchtest }}") == "template line 1: no test named 'nosuchtest'");
  // As jinja2: an unknown filter or test refuses the whole template unless it
  // sits in an if statement or a conditional expression (then only when reached).
  CHECK(error_of("{% for i in [] %}\n{{ 1|nosuch }}{% endfor %}") == "template line 2: no filter named 'nosuch'");
  CHECK(error_of("{% if false %}{% filter nosuch %}x{% endfilter %}{% endif %}") == "template line 1: no filter named 'nosuch'");
  CHECK(render("{% if false %}{% set x = 2|nosuch %}{{ 1 is nosuchtest }}{% endif %}ok") == "ok");
  CHECK(render("{% set x = 1 if true else 2|nosuch %}ok{{ x }}") == "ok1");
  CHECK(error_of("{% if false %}x{% else %}{{ 1|nosuch }}{% endif %}") == "template line 1: no filter named 'nosuch'");
  CHECK(error_of("{{ (1,2) ] }}") == "template line 1: expected '}}', found ']'");
  CHECK(error_of("\n{{ 'open").find("template line 2: unterminated string literal") == 0);
}
