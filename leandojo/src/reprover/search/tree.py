"""The search graph of best-first proof search (RP ``search_tree.py``).

Nodes are proof states (:class:`InternalNode`), the closed proof (:class:`ProofFinishedNode`) and failures
(:class:`ErrorNode`: Lean error, timeout, ``sorry``). Edges carry the tactic. States are merged by their
``pp`` text, so the graph is a DAG with shared children (or, when a tactic leads back to an ancestor, has a
cycle; the status rules below are written so that cycles cannot make a node FAILED or loop).

Status rules: a node is PROVED as soon as one child is PROVED; it is FAILED once it has been expanded and
every child is FAILED (an expansion yielding no children at all is FAILED too); otherwise OPEN. An expansion
cut short by a limit or a crash never makes a node FAILED: its untried tactics might have worked. A status
change re-evaluates the parents, and only a change propagates, so propagation terminates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from reprover.env.types import TacticState


class Status(enum.Enum):
    OPEN = "open"
    PROVED = "proved"
    FAILED = "failed"


@dataclass(eq=False)
class Edge:
    tactic: str
    src: InternalNode
    dst: Node


@dataclass(eq=False)
class ProofFinishedNode:
    status: Status = Status.PROVED
    distance_to_proof: int = 0
    in_edges: list[Edge] = field(default_factory=list)


@dataclass(eq=False)
class ErrorNode:
    error: str
    status: Status = Status.FAILED
    distance_to_proof: float = float("inf")
    in_edges: list[Edge] = field(default_factory=list)


@dataclass(eq=False)
class InternalNode:
    """A proof state; ``priority`` is the cumulative log-probability of the path that first found it."""

    state: TacticState
    priority: float
    status: Status = Status.OPEN
    out_edges: list[Edge] | None = None  # None until expanded
    in_edges: list[Edge] = field(default_factory=list)
    distance_to_proof: float = float("inf")
    complete: bool = True  # False when a time limit or crash cut the expansion short

    @property
    def is_explored(self) -> bool:
        return self.out_edges is not None

    def set_out_edges(self, edges: list[Edge], complete: bool = True) -> None:
        """Record an expansion; an incomplete one (cut short) can prove the node but never fail it."""
        self.out_edges, self.complete = edges, complete
        for e in edges:
            e.dst.in_edges.append(e)
        self.recompute()

    def recompute(self) -> None:
        """Re-derive status and distance from the children; on a change, ask the parents to do the same."""
        if self.out_edges is None:
            return
        old = (self.status, self.distance_to_proof)
        children = [e.dst for e in self.out_edges]
        if any(c.status is Status.PROVED for c in children):
            self.status = Status.PROVED
        elif self.complete and all(c.status is Status.FAILED for c in children):
            self.status = Status.FAILED
        self.distance_to_proof = min([1 + c.distance_to_proof for c in children], default=float("inf"))
        if (self.status, self.distance_to_proof) != old:
            for e in self.in_edges:
                e.src.recompute()

    def extract_proof(self) -> list[str] | None:
        """Tactics of a shortest proof below this node (follow the child nearest to a proof), or None."""
        if self.status is not Status.PROVED:
            return None
        proof, node, seen = [], self, set()
        while isinstance(node, InternalNode):
            if id(node) in seen:  # cannot happen for finite distances; guards a corrupted graph
                return None
            seen.add(id(node))
            edge = min(node.out_edges or [], key=lambda e: e.dst.distance_to_proof)
            proof.append(edge.tactic)
            node = edge.dst
        return proof


Node = InternalNode | ProofFinishedNode | ErrorNode
