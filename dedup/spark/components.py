"""Connected components of a graph's edges in Spark: large-star / small-star.

The algorithm of Kiveris et al., "Connected Components in MapReduce and
Beyond" (SoCC 2014), the one BigCode's near-deduplication uses: two
alternating rounds that each move every node's edges towards the smallest
node in reach, until every component is a star around its smallest node.

* **large-star**: each node ``u`` links every larger neighbour to the
  smallest of ``u`` and its neighbours;
* **small-star**: each node ``u`` links itself and its smaller neighbours
  to the smallest of them.

It converges in ``O(log^2 n)`` rounds (in practice a handful); each round is
two shuffles of the edges. The loop stops when a pair of rounds changes no
edge, or fails after ``max_rounds`` (a bound, so a run never loops forever).
"""

from __future__ import annotations

from operator import add

from dedup.errors import DedupError

__all__ = ["ComponentsDidNotConverge", "connected_components"]

#: Pairs of rounds allowed before giving up (convergence takes O(log^2 n);
#: a million-node path needs about 20).
MAX_ROUNDS = 40


class ComponentsDidNotConverge(DedupError):
    """large-star / small-star did not reach stars within the bound."""

    code = "components_did_not_converge"


def _large_star(item):
    u, neighbours = item
    m = min(min(neighbours), u)
    return [(v, m) for v in neighbours if v > u]


def _small_star(item):
    u, smaller = item
    m = min(min(smaller), u)
    return [(v, m) for v in {*smaller, u} if v != m]


def connected_components(edges, parts: int, max_rounds: int = MAX_ROUNDS):
    """``(node, component)`` for every node of ``edges``, an RDD of ``(a, b)``
    pairs of integers; a component is named by its smallest node. Every
    shuffle has ``parts`` partitions.

    Returns:
        ``(RDD of (node, smallest node of its component), rounds taken)``.

    Raises:
        ComponentsDidNotConverge: not done after ``max_rounds`` pairs of rounds.
    """
    current = edges.map(lambda e: (max(e), min(e))).distinct(parts).cache()
    for rounds in range(1, max_rounds + 1):
        both_ways = current.flatMap(lambda e: (e, (e[1], e[0])))
        large = both_ways.groupByKey(parts).flatMap(lambda kv: _large_star((kv[0], list(kv[1]))))
        small = (large.groupByKey(parts).flatMap(lambda kv: _small_star((kv[0], list(kv[1]))))
                 .map(lambda e: (max(e), min(e))).distinct(parts).cache())
        # one job: an edge in both sets sums to 0 (each set is distinct)
        done = (small.map(lambda e: (e, 1)).union(current.map(lambda e: (e, -1))).reduceByKey(add, parts)
                .filter(lambda kv: kv[1] != 0).isEmpty())
        current.unpersist()
        current = small
        if done:
            roots = current.values().distinct(parts).map(lambda r: (r, r))
            return current.union(roots).coalesce(parts), rounds
    raise ComponentsDidNotConverge(f"connected components: not converged after {max_rounds} rounds of "
                                   "large-star/small-star")
