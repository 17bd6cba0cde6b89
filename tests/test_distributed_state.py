"""optim_lib.distributed.sharded_state: where the optimizer state lives on 2 gloo processes
(127.0.0.1). The oracles: the state one optim_lib AdamW keeps for the whole model in this
process (optim_lib.compare.state_bytes_per_parameter), and the model's sizes by hand (two
128 x 128 weights and two biases of 128)."""

from __future__ import annotations

import pytest
import torch

from optim_lib import AdamW
from optim_lib.compare import state_bytes_per_parameter
from optim_lib.distributed import WIDTH, _model, sharded_state

TOTAL = 2 * (WIDTH * WIDTH + WIDTH)  # 33 024 parameters


@pytest.fixture(scope="module")
def forked():
    return sharded_state(2, start="fork", timeout=120)


def _case(states, case):
    return [s for s in states if s.case == case]


def test_the_model_has_the_parameters_counted_by_hand():
    assert sum(p.numel() for p in _model().parameters()) == TOTAL == 33_024


def test_with_ddp_every_process_keeps_the_whole_state_of_one_optimizer(forked):
    whole = state_bytes_per_parameter(AdamW, {"lr": 1e-3}, list(_model().parameters())) * TOTAL
    for state in _case(forked, "ddp"):
        assert (state.parameters, state.state_parameters, state.state_bytes) == (TOTAL, TOTAL, whole)


def test_with_zero_each_process_keeps_the_state_of_half_the_parameters(forked):
    zero, ddp = _case(forked, "zero"), _case(forked, "ddp")
    assert [s.rank for s in zero] == [0, 1]
    for state in zero:
        assert state.parameters == TOTAL  # the parameters themselves are not sharded
        assert state.state_parameters == TOTAL // 2  # one weight and one bias each
        assert 2 * state.state_bytes == ddp[0].state_bytes


def test_with_fsdp2_each_process_keeps_half_of_every_parameter_and_its_state(forked):
    for state in _case(forked, "fsdp"):
        assert state.parameters == state.state_parameters == TOTAL // 2
        assert 2 * state.state_bytes == _case(forked, "ddp")[0].state_bytes


def test_fresh_interpreters_give_the_same_answer_as_forked_processes(forked):
    assert sharded_state(2, start="spawn", timeout=170) == forked


@pytest.mark.parametrize("arguments, name", [({"world_size": 0}, "world_size"), ({"timeout": 0}, "timeout"),
                                             ({"start": "thread"}, "start")])
def test_bad_arguments_are_refused_before_any_process_starts(arguments, name):
    with pytest.raises(ValueError, match=name):
        sharded_state(**arguments)
