from finrag.eval.metrics import Question
from finrag.eval.splits import folds, halves


def _q(i: int) -> Question:
    return Question(f"q{i:03d}", "?", [])


def test_halves_split_by_sorted_id_and_cover_everything_once() -> None:
    qs = [_q(i) for i in (5, 1, 4, 2, 3)]
    parts = halves(qs)
    assert [q.id for q in parts["A"]] == ["q001", "q002", "q003"]
    assert [q.id for q in parts["B"]] == ["q004", "q005"]


def test_halves_work_on_report_rows_too() -> None:
    rows = [{"id": "b"}, {"id": "a"}]
    assert halves(rows) == {"A": [{"id": "a"}], "B": [{"id": "b"}]}


def test_folds_are_disjoint_and_complete() -> None:
    qs = [_q(i) for i in range(11)]
    parts = folds(qs, k=5)
    ids = [q.id for part in parts for q in part]
    assert sorted(ids) == sorted(q.id for q in qs) and len(ids) == len(set(ids))
    assert [len(p) for p in parts] == [3, 2, 2, 2, 2]
