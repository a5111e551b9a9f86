"""Generated text that is no language, to measure the `und` answers of the identifier.

Random letters (Latin, Cyrillic, Greek alphabets), keyboard mash, base64 of real
sentences, hex, lorem ipsum, runs of numbers and symbols, punctuation, minified JavaScript
and source code, in lengths from 20 to 1,500 characters; deterministic for a seed. The
detector was not fitted on these strings (its thresholds come from natural text only);
the test seed measures it once for the model card.
"""

from __future__ import annotations

import base64
import random
import string

TEST_SEED = 2
TEST_CASES = 1_500

QWERTY = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea "
    "commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur "
    "excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum"
).split()


def random_letters(r: random.Random, n: int) -> str:
    alpha = r.choice(
        [
            string.ascii_lowercase,
            string.ascii_letters,
            "абвгдежзийклмнопрстуфхцчшщыэюя",
            "αβγδεζηθικλμνξοπρστυφχψω",
            "éèàùçâêîôûëïü" + string.ascii_lowercase,
        ]
    )
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < n:
        words.append("".join(r.choice(alpha) for _ in range(r.randint(2, 10))))
    return " ".join(words)[:n]


def mash(r: random.Random, n: int) -> str:
    out: list[str] = []
    while len(out) < n:
        row = r.choice(QWERTY)
        i = r.randrange(len(row) - 3)
        out.extend(row[i : i + r.randint(3, 7)])
        if r.random() < 0.3:
            out.append(" ")
    return "".join(out[:n])


def b64(r: random.Random, n: int, natural: str) -> str:
    return base64.b64encode(natural.encode()).decode()[:n]


def hexs(r: random.Random, n: int) -> str:
    s = "".join(r.choice("0123456789abcdef") for _ in range(n))
    if r.random() < 0.5:
        s = " ".join(s[i : i + 8] for i in range(0, n, 8))
    return s[:n]


def lorem(r: random.Random, n: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < n:
        words.append(r.choice(LOREM))
    s = " ".join(words)[:n]
    return s[0].upper() + s[1:] + "."


def numbers(r: random.Random, n: int) -> str:
    return " ".join(
        r.choice([str(r.randint(0, 99999)), f"{r.random():.2f}", "-", "|", "+", "=", "#", "*", f"{r.randint(0, 100)}%"])
        for _ in range(n // 3)
    )[:n]


def punct(r: random.Random, n: int) -> str:
    return "".join(r.choice("!?.,;:-_=+*#@$%^&()[]{}<>/\\|~`'\"…—") for _ in range(n))


def minified_js(r: random.Random, n: int) -> str:
    names = ["a", "b", "e", "t", "n", "r", "i", "o", "s", "u", "fn", "cb", "el", "xs"]
    parts: list[str] = []
    while sum(map(len, parts)) < n:
        v, w = r.choice(names), r.choice(names)
        parts.append(
            r.choice(
                [
                    f"function {v}({w}){{return {w}&&{w}.length>0?{w}[0]:null}}",
                    f"var {v}={w}||{{}};",
                    f"{v}.prototype.{w}=function(){{this.{v}++}};",
                    f"if({v}!=={w}){{{v}={w}.map(function({v}){{return {v}*2}})}}",
                    f"for(var {v}=0;{v}<{w}.length;{v}++){{{w}[{v}]=void 0}}",
                    f'!function({v},{w}){{"use strict";{v}.exports={w}}}(this,{{}});',
                    f'document.getElementById("{v}{w}").addEventListener("click",{w});',
                ]
            )
        )
    return "".join(parts)[:n]


def code(r: random.Random, n: int) -> str:
    lines: list[str] = []
    while sum(map(len, lines)) < n:
        v = r.choice(["count", "items", "result", "value", "index", "data", "name", "total"])
        lines.append(
            r.choice(
                [
                    f"    {v} = {v} + 1",
                    f"def get_{v}(self, key):",
                    f"    return self.{v}[key]",
                    f"for {v} in range(len(items)):",
                    f"int {v} = 0;",
                    f"if ({v} != NULL) {{",
                    f'    printf("%d\\n", {v});',
                    "}",
                    f"import {v}",
                    f"const {v} = require('{v}');",
                ]
            )
        )
    return "\n".join(lines)[:n]


KINDS = {
    "random_letters": random_letters,
    "keyboard_mash": mash,
    "hex": hexs,
    "lorem_ipsum": lorem,
    "numbers": numbers,
    "punctuation": punct,
    "minified_js": minified_js,
    "source_code": code,
}


def generate(seed: int, count: int, natural_texts: list[str]) -> list[tuple[str, str]]:
    """`count` (kind, text) pairs; base64 encodes one of `natural_texts`."""
    r = random.Random(seed)
    out = []
    for _i in range(count):
        kind = r.choice(list(KINDS) + ["base64"])
        n = r.choice([20, 40, 80, 150, 400, 1500])
        text = b64(r, n, r.choice(natural_texts)) if kind == "base64" else KINDS[kind](r, n)
        out.append((kind, text))
    return out
