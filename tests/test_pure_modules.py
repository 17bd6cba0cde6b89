"""The optim_lib modules the website runs in the reader's browser (Pyodide: standard library
only) import neither NumPy nor torch, and compute exactly what the kernel computes.

Each test runs them in a Python subprocess in which importing numpy, torch (or matplotlib,
ipywidgets, sklearn) fails, as it does in the browser; nobody can add ``np.`` to a rule
without a red test here. The expected numbers come from the same rules on NumPy arrays in
this process (the rules are elementwise, so floats must give NumPy's numbers exactly), and
from the kernel's runners.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import optim_lib
from optim_lib.live import BROWSER_FILES
from optim_lib.rules import RULES

REPO = Path(__file__).resolve().parents[1]
BLOCKED = ("numpy", "torch", "matplotlib", "ipywidgets", "sklearn", "scipy", "PIL")

BLOCKER = f"""
import importlib.abc, sys
class _Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in {BLOCKED!r}:
            raise ImportError(f"{{name}} is not available in the browser")
sys.meta_path.insert(0, _Blocked())
sys.path.insert(0, {str(REPO)!r})
"""


def run_without_numpy(code: str, payload: object = None) -> object:
    """Run ``code`` (which reads ``payload`` and sets ``result``) where NumPy and torch
    cannot be imported; return ``result`` (through JSON)."""
    program = BLOCKER + "import json\npayload = json.loads(sys.stdin.read())\n" + textwrap.dedent(code) + (
        "\nprint(json.dumps(result))\n")
    done = subprocess.run([sys.executable, "-c", program], input=json.dumps(payload), capture_output=True,
                          text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def browser_modules() -> list[str]:
    package = REPO / "optim_lib"
    modules = []
    for pattern in BROWSER_FILES:
        for path in sorted(package.glob(pattern)):
            parts = ("optim_lib", *path.relative_to(package).with_suffix("").parts)
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_the_blocker_blocks():
    assert run_without_numpy("""
        result = []
        for name in ("numpy", "torch"):
            try:
                __import__(name)
            except ImportError:
                result.append(name)
    """) == ["numpy", "torch"]


def test_every_browser_module_imports_without_numpy_or_torch():
    modules = browser_modules()
    assert "optim_lib.rules.adam" in modules and "optim_lib.live.web" in modules
    imported = run_without_numpy("""
        import importlib
        result = [importlib.import_module(name).__name__ for name in payload]
        leaked = [name for name in sys.modules if name.partition(".")[0] in ("numpy", "torch")]
        assert not leaked, leaked
    """, modules)
    assert imported == modules


def _groups(name: str) -> list[dict]:
    """The class's defaults (torch's names), and variants that switch every branch on."""
    defaults = {k: p.default for k, p in inspect.signature(getattr(optim_lib, name)).parameters.items()
                if p.default is not inspect.Parameter.empty}
    variants = {
        "SGD": [{"lr": 0.1}, {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
                {"lr": 0.05, "momentum": 0.8, "nesterov": True}],
        "Adagrad": [{"lr": 0.3}, {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 0.1,
                                  "initial_accumulator_value": 0.5}],
        "RMSprop": [{"lr": 0.01}, {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True,
                                   "weight_decay": 0.1}],
        "Adadelta": [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}],
        "Adam": [{"lr": 0.1}, {"lr": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.1, "amsgrad": True}],
        "AdamW": [{"lr": 0.1}, {"lr": 0.05, "betas": [0.5, 0.9], "weight_decay": 0.3, "amsgrad": True, "maximize": True}],
        "NAdam": [{"lr": 0.05}, {"lr": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.1, "momentum_decay": 0.01},
                  {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}],
        # beta2 = 0.9: the rectified step starts at t = 7, within the 30 steps.
        "RAdam": [{"lr": 0.05}, {"lr": 0.05, "betas": [0.8, 0.9], "weight_decay": 0.1},
                  {"lr": 0.05, "betas": [0.8, 0.9], "weight_decay": 0.1, "decoupled_weight_decay": True,
                   "maximize": True}],
        "Adamax": [{"lr": 0.05}, {"lr": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.1, "maximize": True}],
        "Lion": [{"lr": 0.01}, {"lr": 0.01, "betas": [0.8, 0.95], "weight_decay": 0.1, "decoupled_weight_decay": True}],
        "AdamWScheduleFree": [{"lr": 0.05}, {"lr": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.1, "warmup_steps": 5,
                                             "r": 0.5, "weight_lr_power": 1.0}],
    }[name]
    return [json.loads(json.dumps({**defaults, **variant})) for variant in variants]


# The elementwise rules; Adafactor and Muon look at a whole parameter (its RMS, its rows and
# columns, its singular values), so on one coordinate they compute something else.
CASES = [(name, i) for name, rule in RULES.items() if rule.elementwise for i in range(len(_groups(name)))]


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_each_rule_on_floats_gives_numpys_numbers_exactly(name, variant):
    group = _groups(name)[variant]
    rule = RULES[name]
    start = np.array([1.5, -0.7, 0.0, 3.0])
    # 30 steps on the gradient g(x) = x^3 - x + 0.1 (non-convex, all signs; x*x*x, since NumPy
    # and Python compute x**3 differently in the last bit), on NumPy arrays.
    x, state = start, rule.initial_state(start, group)
    arguments = rule.arguments(group)
    expected = []
    for _ in range(30):
        x, state = rule.update(x, x * x * x - x + 0.1, state, **arguments)
        expected.append(x.tolist())
    actual = run_without_numpy("""
        from optim_lib.rules import RULES
        rule = RULES[payload["name"]]
        group = payload["group"]
        arguments = rule.arguments(group)
        result = []
        xs = list(payload["start"])
        states = [rule.initial_state(v, group) for v in xs]
        for _ in range(30):
            for i, v in enumerate(xs):
                xs[i], states[i] = rule.update(v, v * v * v - v + 0.1, states[i], **arguments)
            result.append(list(xs))
    """, {"name": name, "group": group, "start": start.tolist()})
    assert actual == expected  # exactly: the same IEEE operations, one coordinate at a time


def test_the_browsers_trajectory_run_is_the_kernels(tmp_path):
    from optim_lib.widgets import TrajectoryExplorer

    explorer = TrajectoryExplorer(optim_lib.Adam, {"lr": 0.3}, steps=40, baseline=(optim_lib.SGD, {"lr": 0.4}))
    spec = explorer.web_spec()
    positions = {slider["name"]: slider["start"] for slider in spec["sliders"]}
    positions["beta1"] -= 100  # beta1 0.9 -> 0.8: a setting the kernel has not run yet
    page = run_without_numpy("""
        from optim_lib.live import web
        web.register(json.dumps(payload["spec"]))
        result = json.loads(web.run_json(payload["spec"]["id"], json.dumps(payload["positions"])))
    """, {"spec": spec, "positions": positions})
    assert page["hyperparameters"] == {"lr": 0.3, "betas": [0.8, 0.999], "eps": 1e-08}
    kernel = optim_lib.run_trajectory(optim_lib.Adam, {"lr": 0.3, "betas": (0.8, 0.999)}, steps=40)
    assert page["final"] == kernel.final.tolist()
    assert page["baseline_final"] == optim_lib.run_trajectory(optim_lib.SGD, {"lr": 0.4}, steps=40).final.tolist()
    assert page["summary"].splitlines()[0] == kernel.summary()


def test_the_browsers_loss_curve_is_the_kernels(airfoil, tmp_path):
    from optim_lib.widgets import LossCurveExplorer

    explorer = LossCurveExplorer(optim_lib.RMSprop, {"lr": 0.01, "alpha": 0.9}, airfoil)
    spec = explorer.web_spec()
    rows = tmp_path / "airfoil.f64"
    rows.write_bytes(airfoil.to_bytes())
    positions = {slider["name"]: slider["start"] for slider in spec["sliders"]}
    positions["batch_size"] -= 1  # batch size 10 -> 5
    page = run_without_numpy("""
        from optim_lib.live import web
        web.load_airfoil_rows(payload["rows"], payload["spec"]["data"]["sha1"], 5)
        web.register(json.dumps(payload["spec"]))
        result = json.loads(web.run_json(payload["spec"]["id"], json.dumps(payload["positions"])))
    """, {"spec": spec, "positions": positions, "rows": str(rows)})
    kernel = optim_lib.train_linear_regression(optim_lib.RMSprop, {"lr": 0.01, "alpha": 0.9}, airfoil, batch_size=5)
    assert page["values"]["batch_size"] == 5
    assert page["final"] == kernel.final_loss


def test_rows_that_are_not_the_kernels_are_refused(airfoil, tmp_path):
    from optim_lib.live import web

    rows = tmp_path / "airfoil.f64"
    rows.write_bytes(airfoil.to_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ValueError, match="not the ones the book was built with"):
        web.load_airfoil_rows(str(rows), "0" * 40, 5)
