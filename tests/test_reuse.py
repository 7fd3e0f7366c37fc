"""The reworded-copy detector (Params.reuse): sentences, candidates, confirmation, batch."""

import numpy as np
import pytest

from dedup.batch import cluster_articles
from dedup.errors import InvalidParams
from dedup.minhash import signatures
from dedup.normalisation import TOKEN_RE, normalise
from dedup.params import Params
from dedup.refine import Verdict, code_points, encode
from dedup.reuse import confirm_reuse, reuse_candidates, reused_share, sentence_lengths
from dedup.types import Article, Link

SOURCE = (
    "The council approved a plan to rebuild the old harbour bridge before next winter. "
    "Engineers found cracks in three of the steel supports during an inspection in spring. "
    "The mayor said the work would close the main road for at least six weeks. "
    "Local traders warned that fewer visitors would reach the market square during the repairs. "
    "A temporary ferry service will carry pedestrians across the river while the bridge is shut. "
    "Opposition members criticised the cost and asked for an independent review of the contract."
)
# The same sentences, reordered, each lightly reworded (one or two words).
REWORDED = (
    "A temporary ferry will carry pedestrians across the river while the bridge is closed. "
    "The city council approved a plan to rebuild the old harbour bridge before the winter. "
    "Local shopkeepers warned that fewer visitors would reach the market square during the repairs. "
    "Engineers discovered cracks in three of the steel supports during an inspection in spring. "
    "The mayor said the works would close the main road for at least six weeks."
)
# The same event told independently.
INDEPENDENT = (
    "Drivers face weeks of disruption after officials decided that the ageing crossing over the river "
    "must be replaced. Inspectors had reported structural damage earlier this year. Shops near the square "
    "fear a drop in trade, and a boat link is planned for people on foot. Critics in the chamber "
    "questioned the price tag and want the deal examined by outsiders before any money is spent."
)
P = Params(reuse=0.5)


def prepared(text):
    low = normalise(text).lower()
    return encode(signatures([low])[1][0]), sentence_lengths(low)


def test_sentence_lengths_add_up_to_the_word_count():
    text = normalise(SOURCE + "\nShares rose 1.5% in the U.S. on Monday: a record; really?").lower()
    got = sentence_lengths(text)
    assert got.sum() == len(TOKEN_RE.findall(text)) == len(signatures([text])[1][0])
    assert got.tolist() == [14, 14, 15, 14, 15, 14, 7, 2, 2, 1]


def test_reordered_light_rewording_is_reused_but_the_in_order_path_misses_it():
    from dedup.refine import confirm

    a, sa = prepared(REWORDED)
    b, sb = prepared(SOURCE)
    assert not isinstance(confirm("a", a, "b", b, Params(), jaccard=0.0), Link)
    got = confirm_reuse("a", a, sa, "b", b, sb, P)
    assert isinstance(got, Link) and got.kind == "reused"
    assert got.score == got.containment_ab == pytest.approx(1.0)  # every sentence of the short one is found
    share, matches = reused_share(a, sa, b, sb, 0.7)
    assert share == pytest.approx(1.0) and len(matches) == 5


def test_an_independent_account_of_the_same_event_is_not_reused():
    a, sa = prepared(INDEPENDENT)
    b, sb = prepared(SOURCE)
    assert confirm_reuse("a", a, sa, "b", b, sb, P) == Verdict.TOO_DIFFERENT
    assert reused_share(a, sa, b, sb, 0.7)[0] == 0.0


def test_a_reused_sentence_with_another_figure_trips_the_guard():
    changed = REWORDED.replace("six weeks", "nine weeks").replace("three of the", "four of the")
    a, sa = prepared(changed)
    b, sb = prepared(SOURCE)
    assert confirm_reuse("a", a, sa, "b", b, sb, P) == Verdict.FIGURES_DIFFER
    assert isinstance(confirm_reuse("a", a, sa, "b", b, sb, P.with_(figures_guard=False)), Link)


def test_share_below_the_threshold_and_short_texts_are_rejected():
    half = ". ".join(REWORDED.split(". ")[:2]) + ". " + INDEPENDENT
    a, sa = prepared(half)
    b, sb = prepared(SOURCE)
    share = reused_share(a, sa, b, sb, 0.7)[0]
    assert 0.2 < share < 0.5
    assert confirm_reuse("a", a, sa, "b", b, sb, P) == Verdict.TOO_DIFFERENT
    assert isinstance(confirm_reuse("a", a, sa, "b", b, sb, P.with_(reuse=0.2)), Link)
    c, sc = prepared("The council approved a plan to rebuild the old harbour bridge.")
    assert confirm_reuse("c", c, sc, "b", b, sb, P) == Verdict.TOO_DIFFERENT  # under min_contained_tokens


def test_confirm_reuse_needs_reuse_set():
    a, sa = prepared(REWORDED)
    with pytest.raises(ValueError):
        confirm_reuse("a", a, sa, "a", a, sa, Params())


def test_candidates_pair_the_rewording_with_its_source_only():
    texts = [SOURCE, REWORDED, INDEPENDENT, "Completely unrelated words about football scores and a cup final " * 3]
    ids = signatures([normalise(t).lower() for t in texts])[1]
    offsets = np.r_[0, np.cumsum([len(w) for w in ids])]
    got = reuse_candidates(code_points(np.concatenate(ids)), offsets)
    assert got.tolist() == [[0, 1]]


@pytest.mark.parametrize("kw", [{"reuse": 0.0}, {"reuse": 1.5}, {"reuse": "x"}, {"reuse_sentence": 0}])
def test_reuse_params_are_checked(kw):
    with pytest.raises(InvalidParams, match=next(iter(kw))):
        Params(**kw)


def test_batch_links_reworded_copy_only_when_enabled():
    arts = [Article("src", SOURCE), Article("rw", REWORDED), Article("ind", INDEPENDENT)]
    # The default order-free test already finds this reordered copy (reused passages of 4 words) ...
    default = cluster_articles(arts).clusters
    assert [sorted(c.members) for c in default] == [["rw", "src"]]
    # ... the sentence matcher is still there for heavier rewording.
    res = cluster_articles(arts, P.with_(order_free=None))
    assert [c.members for c in res.clusters] == [("rw", "src")] or [c.members for c in res.clusters] == [("src", "rw")]
    assert [link.kind for link in res.clusters[0].pairs] == ["reused"]
    assert res.stats["reuse_candidate_pairs"] == 1 and res.stats["reused_pairs"] == 1
