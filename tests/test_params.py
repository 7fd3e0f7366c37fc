import pytest

from dedup import InvalidParams, Params
from dedup.params import optimal_bands


@pytest.mark.parametrize("kw,match", [
    ({"num_perm": 4}, "num_perm"), ({"similarity": 0}, "similarity"), ({"similarity": 1.5}, "similarity"),
    ({"containment": "x"}, "containment"), ({"shingle_size": 0}, "shingle_size"), ({"bands": 4}, "together"),
    ({"bands": 100, "rows": 2}, "exceeds"), ({"seed": -1}, "seed"), ({"max_text_bytes": 0}, "max_text_bytes"),
])
def test_bad_params_say_which_and_why(kw, match):
    with pytest.raises(InvalidParams, match=match):
        Params(**kw)
    with pytest.raises(ValueError):  # also a ValueError, as datasketch users expect
        Params(**kw)


def test_banding_matches_datasketch_choice():
    from datasketch.lsh import _optimal_param
    for t in (0.3, 0.5, 0.8):
        assert optimal_bands(t, 128) == _optimal_param(t, 128, 0.5, 0.5)
    assert Params(bands=16, rows=8).banding == (16, 8)


def test_frozen_and_copy_with_changes():
    p = Params()
    with pytest.raises(Exception):
        p.similarity = 0.1
    q = p.with_(similarity=0.9)
    assert q.similarity == 0.9 and p.similarity != 0.9
    assert q.to_dict()["bands"] == q.banding[0]
