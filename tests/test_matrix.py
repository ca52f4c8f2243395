"""Reading a long OD matrix CSV: ids stay text, errors name file, row and column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from siting._errors import InputError, InputFileNotFoundError
from siting.odmatrix import read_od_matrix

if TYPE_CHECKING:
    from pathlib import Path


def _write(tmp_path: Path, text: str, name: str = "od.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_ids_stay_text_and_zeros_are_real(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "candidate_id,demand_id,minutes\n"
        "007,060750479.01,0\n"
        "007,060750479.02,4.5\n"
        "12,060750479.01,9\n",
    )
    od = read_od_matrix(p)
    assert od.candidate_ids == ["007", "12"]
    assert od.demand_ids == ["060750479.01", "060750479.02"]
    assert od.unit == "minutes"
    dense = od.costs.toarray()
    assert dense.tolist() == [[0.0, 4.5], [9.0, 0.0]]
    # the explicit zero is stored (a real distance), the absent pair is not
    coo = od.costs.tocoo()
    pairs = {(int(r), int(c)): float(v) for r, c, v in zip(coo.row, coo.col, coo.data, strict=True)}
    assert pairs == {(0, 0): 0.0, (0, 1): 4.5, (1, 0): 9.0}


def test_known_ids_order_and_metres(tmp_path: Path) -> None:
    p = _write(tmp_path, "demand_id,candidate_id,metres\nd2,b,800\nd1,a,80\n")
    od = read_od_matrix(p, candidate_ids=["a", "b", "c"], demand_ids=["d1", "d2", "d3"])
    assert od.costs.shape == (3, 3)
    assert od.unit == "metres"
    mins = od.minutes(80.0).toarray()
    assert mins[0, 0] == 1.0 and mins[1, 1] == 10.0 and mins[2].sum() == 0


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("candidate_id,minutes\n1,2\n", ["od.csv", "demand_id"]),
        ("candidate_id,demand_id\n1,2\n", ["od.csv", "minutes or metres"]),
        ("candidate_id,demand_id,minutes\n1,2,3\n1,3,abc\n", ["od.csv", "row 3", "`minutes`", "abc"]),
        ("candidate_id,demand_id,minutes\n1,2,-3\n", ["row 2", "negative"]),
        ("candidate_id,demand_id,minutes\n1,2,3\n1,2,4\n", ["row 3", "more than once"]),
        ("candidate_id,demand_id,minutes\n,2,3\n", ["row 2", "`candidate_id`", "empty"]),
        ("candidate_id,demand_id,minutes,metres\n1,2,3,4\n", ["both"]),
    ],
)
def test_errors_name_file_row_column(tmp_path: Path, text: str, fragments: list[str]) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_od_matrix(p)
    for f in fragments:
        assert f in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_ids(tmp_path: Path) -> None:
    p = _write(tmp_path, "candidate_id,demand_id,minutes\na,d1,1\nz,d1,2\n")
    with pytest.raises(InputError, match=r"row 3, column `candidate_id`: unknown id 'z'"):
        read_od_matrix(p, candidate_ids=["a", "b"])
    p2 = _write(tmp_path, "candidate_id,demand_id,minutes\na,d9,1\n", "od2.csv")
    with pytest.raises(InputError, match=r"od2.csv, row 2, column `demand_id`: unknown id 'd9'"):
        read_od_matrix(p2, demand_ids=["d1"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match="does not exist"):
        read_od_matrix(tmp_path / "nope.csv")


def test_feeds_a_model(tmp_path: Path) -> None:
    from siting.locate import MaximalCovering

    p = _write(
        tmp_path,
        "candidate_id,demand_id,minutes\nA,001,2\nA,002,3\nB,003,1\nB,002,0\n",
    )
    od = read_od_matrix(p)
    w = np.array([1.0, 1.0, 5.0])
    r = MaximalCovering(od.costs, weights=w, candidate_ids=od.candidate_ids, p=1).solve()
    assert r.chosen == ["B"] and r.objective == 6.0
