"""Terms of the toy world: unary symbols applied to ``x`` (``f3 (f7 x)`` is ``("f3", "f7")``), and rewrite lemmas.

A lemma ``theorem NAME (y : ℕ) : s y = r`` with ``r`` either ``y`` or ``t y`` rewrites the first occurrence of
symbol ``s`` into ``r``'s symbols. Only this shape is a usable rewrite rule; other premises are not.
"""

from __future__ import annotations

import re

Term = tuple[str, ...]
LEMMA = re.compile(r"^theorem\s+\S+\s+\(y : ℕ\) : (\w+) y = (?:(\w+) y|y)$")
GOAL = re.compile(r"^x : ℕ\n⊢ (.*) = (.*)$")


def show(term: Term) -> str:
    """``("f3", "f7")`` -> ``f3 (f7 x)``."""
    if not term:
        return "x"
    inner = show(term[1:])
    return f"{term[0]} {inner if len(term) == 1 else '(' + inner + ')'}"


def parse(text: str) -> Term:
    """Inverse of :func:`show`."""
    syms = re.findall(r"\w+", text)
    if not syms or syms[-1] != "x":
        raise ValueError(f"not a toy term: {text!r}")
    return tuple(syms[:-1])


def state(lhs: Term, rhs: Term) -> str:
    return f"x : ℕ\n⊢ {show(lhs)} = {show(rhs)}"


def parse_state(pp: str) -> tuple[Term, Term]:
    m = GOAL.match(pp)
    if m is None:
        raise ValueError(f"not a toy goal: {pp!r}")
    return parse(m.group(1)), parse(m.group(2))


def rule_of(code: str) -> tuple[str, Term] | None:
    """(symbol, replacement) of a lemma's code, or None when it is not a usable rewrite rule."""
    m = LEMMA.match(code)
    if m is None:
        return None
    return m.group(1), ((m.group(2),) if m.group(2) else ())


def rewrite(term: Term, rule: tuple[str, Term]) -> Term | None:
    """Rewrite the outermost occurrence of the rule's symbol; None when it does not occur."""
    sym, rep = rule
    if sym not in term:
        return None
    i = term.index(sym)
    return term[:i] + rep + term[i + 1:]
