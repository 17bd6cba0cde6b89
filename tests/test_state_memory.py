"""state_bytes and state_bytes_per_parameter against byte counts done by hand.

The oracle: what each optimizer's documentation says it keeps (torch's Adam: a step count and
two buffers per parameter; Adafactor: one row and one column per matrix; ...), counted here
entry by entry, times 4 bytes for float32 (8 for float64).
"""

from __future__ import annotations

import pytest
import torch

import optim_lib
from optim_lib.compare import state_bytes, state_bytes_per_parameter
from optim_lib.network import build_network

# A 3 x 4 matrix and a 5-vector: 17 entries.
SHAPES = [(3, 4), (5,)]
ENTRIES = 17
STEP = 4  # torch's step count: a one-element float32 tensor per parameter


def _parameters(dtype=torch.float32):
    return [torch.zeros(shape, dtype=dtype) for shape in SHAPES]


@pytest.mark.parametrize(
    ("optimizer_class", "hyperparameters", "by_hand"),
    [
        (torch.optim.SGD, {"lr": 0.1}, 0),  # no buffer at all
        (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, 4 * ENTRIES),  # momentum_buffer
        (torch.optim.Adagrad, {}, 2 * STEP + 4 * ENTRIES),  # step, sum
        (torch.optim.Adam, {}, 2 * STEP + 2 * 4 * ENTRIES),  # step, exp_avg, exp_avg_sq
        (torch.optim.Adam, {"amsgrad": True}, 2 * STEP + 3 * 4 * ENTRIES),  # and max_exp_avg_sq
        (torch.optim.NAdam, {}, 2 * 2 * STEP + 2 * 4 * ENTRIES),  # step and mu_product, two buffers
        # the matrix: step, row_var (3), col_var (4); the vector: step, variance (5)
        (torch.optim.Adafactor, {}, STEP + 4 * (3 + 4) + STEP + 4 * 5),
        (optim_lib.Adafactor, {}, 4 * (3 + 4) + 4 * 5),  # R, C; V (the step count t is an int)
        (optim_lib.Adam, {}, 2 * 4 * ENTRIES),  # m, v (the step count t is an int)
        (optim_lib.Adam, {"amsgrad": True}, 3 * 4 * ENTRIES),  # and v_max
        (optim_lib.SGD, {"lr": 0.1}, 0),  # nothing without momentum, as torch
        (optim_lib.SGD, {"lr": 0.1, "momentum": 0.9}, 4 * ENTRIES),  # v
        (optim_lib.RMSprop, {}, 4 * ENTRIES),  # s
        (optim_lib.RMSprop, {"centered": True, "momentum": 0.9}, 3 * 4 * ENTRIES),  # s, g_bar, v
    ],
    ids=lambda value: getattr(value, "__module__", "").split(".")[0] + "." + value.__name__
    if isinstance(value, type) else None,
)
def test_bytes_per_parameter_are_the_hand_count(optimizer_class, hyperparameters, by_hand):
    assert state_bytes_per_parameter(optimizer_class, hyperparameters, _parameters()) == pytest.approx(by_hand / ENTRIES)


def test_float64_parameters_double_the_buffers_but_not_torchs_float32_step():
    by_hand = 2 * STEP + 2 * 8 * ENTRIES
    assert state_bytes_per_parameter(torch.optim.Adam, {}, _parameters(torch.float64)) == pytest.approx(by_hand / ENTRIES)


def test_muon_keeps_one_momentum_matrix():
    matrix = [torch.zeros(3, 4)]
    assert state_bytes_per_parameter(torch.optim.Muon, {}, matrix) == 4.0
    assert state_bytes_per_parameter(optim_lib.Muon, {}, matrix) == 4.0


def test_adafactor_on_a_large_matrix_keeps_a_row_and_a_column():
    n, m = 512, 2048
    expected = (STEP + 4 * (n + m)) / (n * m)
    assert state_bytes_per_parameter(torch.optim.Adafactor, {}, [torch.zeros(n, m)]) == pytest.approx(expected)


def test_a_module_is_read_through_its_parameters_and_left_unchanged():
    network = build_network((8,))
    before = [p.detach().clone() for p in network.parameters()]
    entries = sum(p.numel() for p in network.parameters())  # 64*8 + 8 + 8*10 + 10 = 610
    assert entries == 610
    assert state_bytes_per_parameter(torch.optim.Adam, {"lr": 0.1}, network) == pytest.approx((4 * STEP + 8 * 610) / 610)
    assert all(torch.equal(p, q) for p, q in zip(network.parameters(), before))


def test_state_bytes_counts_nested_tensors_and_skips_numbers():
    p = torch.zeros(2, 2, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    opt.state[p] = {"t": 3, "pair": [torch.zeros(2), {"deep": torch.zeros(3, dtype=torch.float64)}]}
    assert state_bytes(opt) == 2 * 4 + 3 * 8


def test_no_parameters_is_refused():
    with pytest.raises(ValueError, match="parameters must be tensors or a torch.nn.Module"):
        state_bytes_per_parameter(torch.optim.Adam, {}, [])
    with pytest.raises(ValueError, match="at least one entry"):
        state_bytes_per_parameter(torch.optim.Adam, {}, [torch.zeros(0)])


def test_the_memory_table_has_every_course_optimizer_with_hand_counted_rows():
    from optim_lib.compare import format_memory_table, memory_table

    rows = memory_table({"small": _parameters()})
    by_name = {row["optimizer"]: row for row in rows}
    assert len(rows) == 15 and list(by_name)[0] == "SGD" and list(by_name)[-1] == "schedule-free AdamW"
    assert by_name["Adam"]["small: torch"] == pytest.approx((2 * STEP + 2 * 4 * ENTRIES) / ENTRIES)
    assert by_name["Adafactor"]["small: optim_lib"] == pytest.approx((4 * (3 + 4) + 4 * 5) / ENTRIES)
    # Muon's momentum on the matrix (12 entries); AdamW's step, exp_avg and exp_avg_sq on the vector (5)
    assert by_name["Muon (matrices) + AdamW (vectors)"]["small: torch"] == pytest.approx((4 * 12 + STEP + 8 * 5) / ENTRIES)
    # optim_lib keeps the same arrays as torch wherever torch has the class; the difference is
    # torch's one-element step tensors (at most two per parameter: NAdam's step and mu_product),
    # which optim_lib keeps as Python numbers
    for row in rows:
        if row["small: torch"] is not None:
            assert 0 <= row["small: torch"] - row["small: optim_lib"] <= 2 * 2 * STEP / ENTRIES + 1e-12, row
    assert by_name["Lion"]["small: torch"] is None and by_name["Lion"]["small: optim_lib"] == pytest.approx(4.0)
    text = format_memory_table(rows)
    assert "Lion" in text and "—" in text and text.count("\n") == 15
