"""optim_lib.cost: the cost model against hand counts and against the state dicts that
torch.optim's classes (lion-pytorch's for Lion) really keep; the bandwidth measurement and
step timer on small arrays; state memory at scale against hand computations and against the
figures of the ZeRO paper (Rajbhandari et al., 2020, Figure 1)."""

from __future__ import annotations

import math

import pytest
import torch
from matplotlib.figure import Figure

from optim_lib.compare import state_bytes_per_parameter
from optim_lib.cost import (
    STEP_COSTS,
    _optim_lib_class,
    _torch_class,
    cost_table,
    count_page_faults,
    format_cost_table,
    llama_7b_shapes,
    make_parameters,
    measure_bandwidth,
    state_memory,
    step_paths,
    step_timings,
    time_rule,
    time_steps,
    torch_has_fused,
    zero_memory_per_process,
)
from optim_lib.plotting import plot_step_roofline

SHAPES = [(30, 20), (20,), (5, 4, 3)]
MATRICES = [(30, 20), (12, 7)]


def test_every_optimizer_of_the_course_has_a_cost():
    assert set(STEP_COSTS) == {
        "SGD", "SGD with momentum", "Adagrad", "RMSprop", "RMSprop (centered)", "Adadelta", "Adam", "AdamW",
        "AdamW (amsgrad)", "NAdam", "RAdam", "Adamax", "Lion", "Adafactor", "Muon",
    }


@pytest.mark.parametrize("label, tensors", [
    # by hand: the tensors read (p, g and the state) plus those written (p and the state)
    ("SGD", 2 + 1), ("SGD with momentum", 3 + 2), ("Adagrad", 3 + 2), ("RMSprop (centered)", 4 + 3),
    ("Adadelta", 4 + 3), ("Adam", 4 + 3), ("AdamW (amsgrad)", 5 + 4), ("Lion", 3 + 2),
])
def test_bytes_moved_are_the_tensors_read_and_written_once(label, tensors):
    assert STEP_COSTS[label].bytes_moved_per_parameter() == 4 * tensors
    assert STEP_COSTS[label].bytes_moved_per_parameter(itemsize=8) == 8 * tensors


def test_adam_moves_28_bytes_per_float32_parameter():
    # read p, g, m, v and write p, m, v: 7 x 4 bytes (issue 13's hand count)
    assert STEP_COSTS["Adam"].bytes_moved_per_parameter() == 28


def _shapes_for(label: str) -> list[tuple[int, ...]]:
    return MATRICES if label == "Muon" else SHAPES


@pytest.mark.parametrize("label", list(STEP_COSTS))
def test_state_bytes_equal_torch_optims_real_state_up_to_its_one_element_tensors(label):
    reference = _torch_class(label)
    if reference is None:
        pytest.skip("lion-pytorch is not installed")
    shapes = _shapes_for(label)
    params = [torch.zeros(shape) for shape in shapes]
    count = sum(p.numel() for p in params)
    theirs = state_bytes_per_parameter(reference[0], reference[1], params) * count
    ours = STEP_COSTS[label].state_bytes(shapes)
    # torch keeps a float32 step per tensor (NAdam also mu_product): at most 8 bytes each
    assert 0 <= theirs - ours <= 8 * len(shapes)


@pytest.mark.parametrize("label", list(STEP_COSTS))
def test_optim_lib_keeps_the_state_of_the_model_and_no_more(label):
    # optim_lib keeps the arrays torch keeps (no velocity without momentum, no v_max without
    # AMSGrad, ...), and its step count is a plain number, so the bytes agree exactly
    shapes = _shapes_for(label)
    cls, hyperparameters = _optim_lib_class(label)
    measured = state_bytes_per_parameter(cls, hyperparameters, [torch.zeros(s) for s in shapes])
    assert measured == pytest.approx(STEP_COSTS[label].state_bytes_per_parameter(shapes), abs=1e-12)


def test_adafactor_keeps_a_row_and_a_column_for_a_matrix_and_a_full_moment_for_a_vector():
    cost = STEP_COSTS["Adafactor"]
    assert cost.state_bytes([(4096, 16384)]) == 4 * (4096 + 16384)
    assert cost.state_bytes([(7,)]) == 4 * 7
    assert cost.state_bytes([(5, 4, 3)]) == 4 * (5 * 4 + 5 * 3)  # rows (5, 4, 1), columns (5, 1, 3)


def test_cost_table_has_the_model_and_the_measured_state_side_by_side():
    rows = {row["optimizer"]: row for row in cost_table(SHAPES)}
    assert rows["Adam"]["bytes moved"] == 28 and rows["Adam"]["state"] == 8
    assert rows["Adam"]["torch state"] == pytest.approx(8, abs=0.05)
    assert rows["Adam"]["optim_lib state"] == 8  # m and v; v_max only with amsgrad=True
    assert rows["AdamW (amsgrad)"]["optim_lib state"] == 12
    text = format_cost_table(list(rows.values()))
    assert text.splitlines()[0].split()[-2:] == ["optim_lib", "state"]
    assert len(text.splitlines()) == len(STEP_COSTS) + 1


def test_cost_table_refuses_no_shapes():
    with pytest.raises(ValueError, match="shapes"):
        cost_table([])


def test_bandwidth_is_a_plausible_number_of_bytes_per_second():
    bandwidth = measure_bandwidth(elements=2**16, repeats=3)
    for value in (bandwidth.copy, bandwidth.triad, bandwidth.update):
        assert 1e7 < value < 1e13  # between 10 MB/s and 10 TB/s
    assert (bandwidth.elements, bandwidth.itemsize, bandwidth.repeats) == (2**16, 4, 3)
    assert "GB/s" in str(bandwidth)


@pytest.mark.parametrize("argument", [{"elements": 0}, {"repeats": 0}, {"elements": 1.5}])
def test_bandwidth_refuses_bad_sizes(argument):
    with pytest.raises(ValueError, match=next(iter(argument))):
        measure_bandwidth(**argument)


def test_time_steps_times_every_optimizer_and_steps_each_the_same_number_of_times():
    steps = {}

    def counting(name):
        def make(params):
            optimizer = torch.optim.SGD(params, lr=0.1)
            original = optimizer.step
            steps[name] = 0

            def step(closure=None):
                steps[name] += 1
                return original(closure)

            optimizer.step = step
            return optimizer
        return make

    times = time_steps({"a": counting("a"), "b": counting("b")}, [(10, 10)], repeats=3, warmup=1)
    assert set(times) == {"a", "b"} and all(t > 0 for t in times.values())
    assert steps == {"a": 4, "b": 4}


def test_time_steps_can_flush_the_caches_between_steps():
    times = time_steps({"sgd": lambda ps: torch.optim.SGD(ps, lr=0.1)}, [(10,)], repeats=2, flush=2**20)
    assert times["sgd"] > 0
    with pytest.raises(ValueError, match="flush"):
        time_steps({"sgd": lambda ps: torch.optim.SGD(ps, lr=0.1)}, [(10,)], flush=-1)


def test_torch_has_fused_cpu_steps_for_adam_adamw_sgd_and_adagrad_only():
    # torch 2.13's CPU fused kernels (torch/optim/*.py: _fused_adam, _fused_sgd, _fused_adagrad)
    assert {label for label in STEP_COSTS if torch_has_fused(label)} == {
        "SGD", "SGD with momentum", "Adagrad", "Adam", "AdamW", "AdamW (amsgrad)"}


def test_step_paths_build_each_implementation_of_the_same_algorithm():
    paths = step_paths("Adam")
    assert list(paths) == ["optim_lib", "torch for-loop", "torch foreach", "torch fused"]
    made = paths["torch fused"](make_parameters([(3,)]))
    assert isinstance(made, torch.optim.Adam) and made.defaults["fused"] is True
    assert list(step_paths("Lion")) == ["optim_lib"]
    assert "torch fused" not in step_paths("RMSprop")
    with pytest.raises(ValueError, match="label"):
        step_paths("Adamm")


def test_every_path_of_a_step_gives_the_same_parameters():
    results = []
    for make in step_paths("Adam").values():
        params = make_parameters([(40, 30), (30,)], seed=3)
        optimizer = make(params)
        for _ in range(3):
            optimizer.step()
        results.append(torch.cat([p.detach().reshape(-1) for p in params]))
    for other in results[1:]:
        assert torch.allclose(other, results[0], rtol=0, atol=1e-6)


def test_step_timings_put_the_model_bytes_next_to_each_measured_path():
    rows = step_timings({"SGD with momentum": step_paths("SGD with momentum")}, [(100,), (10, 10)], repeats=1, warmup=1)
    assert [row["path"] for row in rows] == ["optim_lib", "torch for-loop", "torch foreach", "torch fused"]
    assert all(row["bytes"] == 20 * 200 and row["seconds"] > 0 for row in rows)


def test_the_rule_on_slices_gives_the_same_numbers_as_on_whole_arrays():
    import numpy as np

    from optim_lib.rules import adam_init, adam_update

    shapes = [(1000,), (7, 11)]
    outputs = []
    for slice_size in (None, 64):
        seen = []

        def update(p, g, state, **hyperparameters):
            new_p, new_state = adam_update(p, g, state, **hyperparameters)
            seen.append(np.array(new_p))
            return new_p, new_state

        seconds, faults = time_rule(update, adam_init, shapes, {"lr": 0.01}, slice_size=slice_size, repeats=2)
        assert seconds > 0 and (faults is None or faults >= 0)
        outputs.append(np.concatenate(seen))
    assert np.array_equal(outputs[0], outputs[1])  # 3 steps each, the same values in the same order
    with pytest.raises(ValueError, match="slice_size"):
        time_rule(adam_update, adam_init, shapes, {"lr": 0.01}, slice_size=0)


def test_count_page_faults_sees_fresh_memory_being_touched():
    def touch():
        return torch.ones(2**22).sum()  # 16 MiB of new pages

    result, faults = count_page_faults(touch)
    assert float(result) == 2**22
    if faults is not None:  # POSIX
        assert faults > 100


def test_time_steps_refuses_bad_input():
    with pytest.raises(ValueError, match="optimizers"):
        time_steps({}, [(3,)])
    with pytest.raises(ValueError, match="repeats"):
        time_steps({"sgd": lambda ps: torch.optim.SGD(ps)}, [(3,)], repeats=0)


def test_make_parameters_is_seeded_and_sets_gradients():
    a, b = make_parameters([(3, 2)], seed=1), make_parameters([(3, 2)], seed=1)
    assert torch.equal(a[0], b[0]) and torch.equal(a[0].grad, b[0].grad)


def test_llama_7b_has_its_published_parameter_count():
    d, hidden, vocab, layers = 4096, 11008, 32000, 32
    by_hand = 2 * vocab * d + layers * (4 * d * d + 3 * d * hidden + 2 * d) + d
    assert by_hand == 6_738_415_616
    assert sum(math.prod(shape) for shape in llama_7b_shapes()) == by_hand


def test_state_memory_of_a_7b_model_by_hand():
    shapes = llama_7b_shapes()
    count = 6_738_415_616
    assert state_memory("SGD", shapes) == 0
    assert state_memory("SGD with momentum", shapes) == 4 * count
    assert state_memory("Lion", shapes) == 4 * count
    assert state_memory("Adam", shapes) == 8 * count  # 53.9 GB
    d, hidden, vocab = 4096, 11008, 32000
    adafactor = 2 * (vocab + d) + 32 * (4 * (d + d) + 3 * (hidden + d) + 2 * d) + d
    assert state_memory("Adafactor", shapes) == 4 * adafactor


def test_state_memory_refuses_an_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        state_memory("Adamm", [(2, 2)])


def test_zero_memory_reproduces_figure_1_of_the_zero_paper():
    # Rajbhandari et al. (2020), Figure 1: 7.5 B parameters, 64 processes, K = 12:
    # 120 GB, 31.4 GB (P_os), 16.6 GB (P_os+g), 1.9 GB (P_os+g+p)
    figures = [zero_memory_per_process(7.5e9, 64, stage=stage) / 1e9 for stage in (0, 1, 2, 3)]
    assert [round(x, 1) for x in figures] == [120.0, 31.4, 16.6, 1.9]


def test_zero_1_divides_the_adam_state_of_7b_parameters_by_the_processes():
    # 7e9 float32 parameters: Adam's m and v are 8 bytes each, 56 GB; over 8 processes 7 GB
    state_only = dict(parameter_bytes=0, gradient_bytes=0, state_bytes=8)
    assert zero_memory_per_process(7e9, 1, **state_only) == 56e9
    assert zero_memory_per_process(7e9, 8, **state_only) == 7e9
    assert zero_memory_per_process(7e9, 8, stage=0, **state_only) == 56e9


@pytest.mark.parametrize("arguments, name", [
    ({"processes": 0}, "processes"), ({"stage": 4}, "stage"), ({"state_bytes": -1}, "state_bytes"),
    ({"parameters": math.nan}, "parameters"),
])
def test_zero_memory_refuses_bad_input(arguments, name):
    with pytest.raises(ValueError, match=name):
        zero_memory_per_process(**{"parameters": 1e9, "processes": 2, **arguments})


def test_roofline_draws_each_path_and_the_floor_with_labelled_axes():
    timings = [{"optimizer": "Adam", "path": "fused", "bytes": 5.6e7, "seconds": 0.01},
               {"optimizer": "SGD", "path": "fused", "bytes": 2.4e7, "seconds": 0.004},
               {"optimizer": "Adam", "path": "for-loop", "bytes": 5.6e7, "seconds": 0.03}]
    ax = plot_step_roofline(timings, 8e9, Figure().add_subplot())
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["fused", "for-loop"] and "8.0 GB/s" in labels[2]
    floor = ax.get_lines()[2].get_xydata()
    assert floor[:, 1] == pytest.approx(1e3 * floor[:, 0] * 1e6 / 8e9)  # ms = MB * 1e6 / bandwidth * 1e3
    assert ax.get_lines()[0].get_xydata().ravel().tolist() == pytest.approx([56.0, 10.0, 24.0, 4.0])
    assert sorted(text.get_text() for text in ax.texts) == ["Adam", "SGD"]  # each column named once


@pytest.mark.parametrize("timings, bandwidth, match", [
    ([], 1e9, "timings"), ([{"path": "x", "bytes": 1.0, "seconds": 0.0}], 1e9, "seconds"),
    ([{"path": "x", "bytes": 1.0, "seconds": 1.0}], 0.0, "bandwidth"),
])
def test_roofline_refuses_bad_input(timings, bandwidth, match):
    with pytest.raises(ValueError, match=match):
        plot_step_roofline(timings, bandwidth, Figure().add_subplot())


def test_bandwidth_reports_the_best_pass_as_stream_does(monkeypatch):
    # a fake clock: every kernel's passes take 3 s, then 1 s, then 2 s
    durations = iter([3.0] * 3 + [1.0] * 3 + [2.0] * 3)
    now = [0.0]
    ticking = [False]

    def clock():
        ticking[0] = not ticking[0]
        if not ticking[0]:
            now[0] += next(durations)
        return now[0]

    import optim_lib.cost as cost

    monkeypatch.setattr(cost.time, "perf_counter", clock)
    bandwidth = measure_bandwidth(elements=1000, repeats=3)
    assert (bandwidth.copy, bandwidth.triad, bandwidth.update) == (2 * 4000 / 1.0, 3 * 4000 / 1.0, 3 * 4000 / 1.0)
    assert "best of 3" in str(bandwidth)
