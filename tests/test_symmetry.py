"""The eight board symmetries: geometry stated by hand, inverses, closure, policy maps."""

import numpy as np
import pytest

from goengine import symmetry as sym

SIZES = (2, 5, 9)


def board(text: str) -> np.ndarray:
    """An ASCII board ('.' empty, 'X' marked) as uint8 [N, N], rows from the top."""
    rows = [line.split() for line in text.strip().splitlines()]
    return np.array([[1 if c == "X" else 0 for c in row] for row in rows], dtype=np.uint8)


CORNER = board("""
X X .
. . .
. . .
""")

# Where the two marked points (top-left corner and the point right of it) go, from the table in
# the module docstring.
EXPECTED = {
    0: "X X . / . . . / . . .",
    1: ". . . / X . . / X . .",  # counter-clockwise: the top row becomes the left column
    2: ". . . / . . . / . X X",
    3: ". . X / . . X / . . .",  # clockwise: the top row becomes the right column
    4: ". X X / . . . / . . .",  # mirror left-right
    5: "X . . / X . . / . . .",  # transpose
    6: ". . . / . . . / X X .",  # mirror top-bottom
    7: ". . . / . . X / . . X",  # anti-transpose
}


@pytest.mark.parametrize("k", range(8))
def test_each_symmetry_moves_points_as_documented(k):
    expected = board(EXPECTED[k].replace(" / ", "\n"))
    np.testing.assert_array_equal(sym.apply_features(CORNER, k), expected)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("k", range(8))
def test_apply_then_inverse_is_identity(size, k):
    rng = np.random.default_rng(k * 31 + size)
    x = rng.integers(0, 256, size=(3, 4, size, size), dtype=np.uint8)
    back = sym.apply_features(sym.apply_features(x, k), sym.inverse(k))
    np.testing.assert_array_equal(back, x)
    p = rng.standard_normal((3, size * size + 1)).astype(np.float32)
    np.testing.assert_array_equal(sym.invert_policy(sym.apply_policy(p, k, size), k, size), p)
    np.testing.assert_array_equal(sym.apply_policy(sym.invert_policy(p, k, size), k, size), p)
    q = rng.standard_normal((2, size * size))
    np.testing.assert_array_equal(sym.invert_points(sym.apply_points(q, k, size), k, size), q)


def test_group_structure():
    generic = np.arange(16).reshape(4, 4)
    images = [sym.apply_features(generic, k) for k in range(8)]
    for a in range(8):
        for b in range(a + 1, 8):
            assert not np.array_equal(images[a], images[b]), (a, b)
    for a in range(8):
        for b in range(8):
            both = sym.apply_features(images[a], b)
            matches = [c for c in range(8) if np.array_equal(both, images[c])]
            assert len(matches) == 1, (a, b)  # closure: the composition is one of the eight
            assert sym.compose(a, b) == matches[0]
        assert sym.compose(a, sym.inverse(a)) == 0
        assert sym.compose(sym.inverse(a), a) == 0


def test_compose_by_hand():
    assert sym.compose(1, 1) == 2
    assert sym.compose(1, 3) == 0
    assert sym.compose(2, 2) == 0
    assert sym.compose(4, 1) == 5  # mirror, then rotate: the definition of k = 5
    assert sym.compose(4, 2) == 6
    assert sym.compose(5, 5) == 0
    assert [sym.inverse(k) for k in range(8)] == [0, 3, 2, 1, 4, 5, 6, 7]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("k", range(8))
def test_policy_follows_features_and_pass_stays(size, k):
    for action in range(size * size):
        plane = np.zeros((size, size), np.uint8)
        plane[action // size, action % size] = 1
        moved = sym.apply_features(plane, k)
        policy = np.zeros(size * size + 1)
        policy[action] = 1.0
        policy[-1] = 0.5
        out = sym.apply_policy(policy, k, size)
        assert out[-1] == 0.5
        assert np.argmax(out[:-1]) == np.argmax(moved.reshape(-1))
    perm = sym.action_permutation(k, size)
    assert perm[-1] == size * size
    assert sorted(perm.tolist()) == list(range(size * size + 1))


def test_results_are_contiguous_copies():
    x = np.arange(2 * 3 * 5 * 5, dtype=np.uint8).reshape(2, 3, 5, 5)
    for k in range(8):
        y = sym.apply_features(x, k)
        assert y.flags.c_contiguous
        assert not np.shares_memory(x, y)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        sym.apply_features(np.zeros((2, 3, 4)), 1)
    with pytest.raises(ValueError):
        sym.apply_features(np.zeros((3, 3)), 8)
    with pytest.raises(ValueError):
        sym.apply_policy(np.zeros(10), 1, 4)
