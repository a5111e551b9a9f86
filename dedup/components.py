"""Connected components by min-label propagation, one partition of nodes at a time.

The job keeps both directions of every verified pair, partitioned by their first node, and
each node's label (the smallest document key it has heard of, at first its own). A round:
every partition sends its nodes' labels along their edges, then every node takes the
minimum of what it received and its own label. Labels stop changing after as many rounds as
the longest shortest path in a cluster; no place ever holds more than one partition.
"""

from __future__ import annotations

import numpy as np


def lookup(sorted_keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values[i] where sorted_keys[i] == wanted, for each wanted key (all must be present)."""
    idx = np.searchsorted(sorted_keys, wanted)
    if len(wanted) and (idx.max(initial=0) >= len(sorted_keys) or not np.array_equal(sorted_keys[idx], wanted)):
        raise KeyError("a node without a label: edges and labels come from different runs")
    return values[idx]


def messages(
    edge_u: np.ndarray, edge_v: np.ndarray, nodes: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(target, label) for every edge u -> v: v hears u's label. `nodes` sorted, unique."""
    return edge_v, lookup(nodes, labels, edge_u)


def min_by_node(nodes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest label per node: (unique sorted nodes, their minimum label)."""
    if len(nodes) == 0:
        return nodes.astype(np.int64), labels.astype(np.int64)
    order = np.lexsort((labels, nodes))
    n, lab = nodes[order], labels[order]
    first = np.concatenate([[True], n[1:] != n[:-1]])
    return n[first], lab[first]


def initial_labels(edge_u: np.ndarray, edge_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round one for free: each node's label is the smallest of itself and its neighbours."""
    return min_by_node(np.concatenate([edge_u, edge_u]), np.concatenate([edge_u, np.minimum(edge_u, edge_v)]))
