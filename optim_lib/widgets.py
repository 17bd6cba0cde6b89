"""Sliders for the course's two experiments: a 2-D trajectory and an airfoil loss curve.

``trajectory_explorer(Adagrad, {"lr": 0.4})`` shows one slider per hyperparameter of the
algorithm (and one for the number of steps) above the figure; each move re-runs
:func:`~optim_lib.run_trajectory` and redraws the path in a few milliseconds.
``loss_curve_explorer(Adam, {"lr": 0.01})`` does the same with
:func:`~optim_lib.train_linear_regression` and a batch-size slider.

The figure is an ordinary image output, updated in place through a display handle: the
built book (which has no kernel) shows the default figure as a plain PNG, and a live
notebook (JupyterLab, Colab) replaces that same image on every slider move.

The sliders of every algorithm are in one table, :data:`CONTROLS`.
"""

from __future__ import annotations

import hashlib
import html
import inspect
import json
import uuid
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import torch

from .airfoil import AirfoilData, load_airfoil
from .digits import DigitsData, load_digits
from .landscapes import LANDSCAPES, QUADRATIC, Landscape
from .live import controls as live_controls
from .live.controls import Control, Slider, options_slider, slider_for, steps_slider
from .optimizers import (
    SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, AdamWScheduleFree, Lion, NAdam, RAdam, RMSprop,
)
from .optimizers.base import RuleOptimizer
from .plotting import LossCurveFigure, NetworkFigure, TrajectoryFigure, describe_run, loss_title
from .rules import RULES
from .rules._checks import check_whole
from .trajectories import Trajectory, run_trajectory
from .network import NetworkRun, train_network
from .training import LossCurve, starting_point, train_linear_regression

Baseline = tuple[type[torch.optim.Optimizer], Mapping[str, Any] | None]
"""An optimizer class and its hyperparameters, run unchanged next to the explored one."""


LR = Control("lr", "lr η", "log", 1e-4, 10.0, 0.05)
EPS = Control("eps", "ε", "log", 1e-12, 1.0, 0.5)
BETA1 = Control("beta1", "β₁", "linear", 0.0, 0.999, 0.001)
BETA2 = Control("beta2", "β₂", "linear", 0.0, 0.9999, 0.0001)

CONTROLS: dict[type[torch.optim.Optimizer], tuple[Control, ...]] = {
    SGD: (
        LR,
        Control("momentum", "momentum β", "linear", 0.0, 0.99, 0.01),
        Control("nesterov", "Nesterov", "checkbox"),
    ),
    Adagrad: (LR, EPS),
    RMSprop: (LR, Control("alpha", "γ (alpha)", "linear", 0.0, 0.999, 0.001), EPS),
    Adadelta: (LR, Control("rho", "ρ", "linear", 0.0, 0.999, 0.001), EPS),
    Adam: (LR, BETA1, BETA2, EPS),
    AdamW: (LR, BETA1, BETA2, EPS, Control("weight_decay", "λ (weight decay)", "linear", 0.0, 1.0, 0.01)),
    # psi up to 1e3: at torch's 0.004 mu_t needs thousands of steps to approach beta1.
    NAdam: (LR, BETA1, BETA2, EPS, Control("momentum_decay", "ψ (momentum decay)", "log", 1e-4, 1e3, 0.25)),
    # Below beta2 of about 0.6, RAdam's rho_inf is at most 5 and it never rectifies.
    RAdam: (LR, BETA1, Control("beta2", "β₂", "linear", 0.5, 0.9999, 0.0001), EPS),
    Adamax: (LR, BETA1, BETA2, EPS),
    Adafactor: (
        Control("lr", "η (ceiling of ρₜ)", "log", 1e-4, 1.0, 0.05),
        Control("beta2_decay", "τ (β₂ decay)", "linear", -1.0, 0.0, 0.05),
        Control("d", "d (clip threshold)", "linear", 1.0, 5.0, 0.1),
    ),
    Lion: (
        Control("lr", "lr η", "log", 1e-5, 1.0, 0.05),
        Control("beta1", "β₁", "linear", 0.0, 1.0, 0.01),
        Control("beta2", "β₂", "linear", 0.0, 0.999, 0.001),
        Control("weight_decay", "λ (weight decay)", "linear", 0.0, 1.0, 0.01),
    ),
    AdamWScheduleFree: (
        LR,
        Control("beta1", "β₁", "linear", 0.01, 0.99, 0.01),  # eval() divides by beta1: above 0
        BETA2,
        Control("warmup_steps", "warm-up steps", "int", 0, 50, 1),
        Control("r", "r (power of t)", "linear", 0.0, 3.0, 0.25),
        Control("weight_lr_power", "p (power of η)", "linear", 0.0, 4.0, 0.5),
    ),
}
"""The sliders of each algorithm, keyed by optim_lib class; the torch.optim class of the
same name gets the same sliders."""

MAX_STEPS = 100
SEED = 0
"""The loss-curve explorers' seed (initial weights and minibatch order)."""
RECORD_EVERY = 200
"""Examples between two recorded losses on the loss-curve explorers."""
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""The batch-size slider's stops (below the data size), then full batch."""
NETWORK_BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512)
"""The network's batch sizes (below the training set's size), then full batch. None below 8:
a smaller batch makes a re-train of 10 epochs several seconds long."""
MAX_EPOCHS = 30

_STYLE = {"description_width": "130px"}
_LAYOUT = {"width": "480px"}


def controls_for(optimizer_class: type[torch.optim.Optimizer]) -> tuple[Control, ...]:
    """The sliders of ``optimizer_class`` (an optim_lib class or its torch.optim twin)."""
    if optimizer_class in CONTROLS:
        return CONTROLS[optimizer_class]
    for ours, controls in CONTROLS.items():
        if getattr(torch.optim, ours.__name__, None) is optimizer_class:
            return controls
    supported = ", ".join(cls.__name__ for cls in CONTROLS)
    raise ValueError(
        f"no sliders for {getattr(optimizer_class, '__name__', optimizer_class)!r}; "
        f"supported: {supported} (from optim_lib or torch.optim)"
    )


def _initial_values(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None,
    controls: tuple[Control, ...],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The controls' starting values (given, else the constructor's defaults), and the
    given hyperparameters that have no control (passed on unchanged)."""
    if hyperparameters is not None and not isinstance(hyperparameters, Mapping):
        raise ValueError(f"hyperparameters must be a dict such as {{'lr': 0.1}}; got {hyperparameters!r}")
    given = dict(hyperparameters or {})
    if "beta1" in given or "beta2" in given:
        raise ValueError(f"give Adam's betas as the constructor does, betas=(beta1, beta2); got {given!r}")
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(optimizer_class).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    merged = {**defaults, **given}
    names = {control.name for control in controls}
    if "beta1" in names:
        betas = merged.get("betas")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
        merged["beta1"], merged["beta2"] = betas
    missing = sorted(name for name in names if name not in merged)
    if missing:
        raise ValueError(f"{optimizer_class.__name__} has no default for {missing}: give them in hyperparameters")
    values = {control.name: merged[control.name] for control in controls}
    fixed = {name: value for name, value in given.items() if name not in names and name != "betas"}
    return values, fixed


def _make_widget(slider: Slider, continuous_update: bool) -> widgets.ValueWidget:
    """The ipywidget of ``slider``: the grid, range and starting value the website's
    explorer offers too (both come from :func:`~optim_lib.live.controls.slider_for`)."""
    common = dict(description=slider.description, style=_STYLE, layout=_LAYOUT)
    if slider.kind == "checkbox":
        return widgets.Checkbox(value=slider.value, indent=True, **common)
    common["continuous_update"] = continuous_update
    if slider.kind == "log":
        return widgets.FloatLogSlider(value=slider.value, base=10, step=slider.step, min=slider.low,
                                      max=slider.high, readout_format=slider.readout_format, **common)
    if slider.kind == "linear":
        return widgets.FloatSlider(value=slider.value, min=slider.low, max=slider.high, step=slider.step,
                                   readout_format=slider.readout_format, **common)
    if slider.kind == "int":
        return widgets.IntSlider(value=slider.value, min=int(slider.low), max=int(slider.high), **common)
    if slider.kind == "options":
        return widgets.SelectionSlider(options=list(slider.options), value=slider.value, **common)
    raise ValueError(f"unknown slider kind {slider.kind!r} for {slider.name}")


def _check_baseline(baseline: Any) -> Baseline | None:
    if baseline is None:
        return None
    if (not isinstance(baseline, tuple) or len(baseline) != 2 or not isinstance(baseline[0], type)
            or not (baseline[1] is None or isinstance(baseline[1], Mapping))):
        raise ValueError(
            "baseline must be (optimizer_class, hyperparameters), e.g. "
            f"(torch.optim.SGD, {{'lr': 0.1}}); got {baseline!r}"
        )
    return baseline[0], dict(baseline[1] or {})


def _ipython_is_running() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def _web_optimizer(optimizer_class: type[torch.optim.Optimizer]) -> dict[str, Any] | None:
    """The constructor's defaults (torch's names) of an optim_lib class whose rule the
    browser can run (every rule on a vector: all but Muon, which takes matrices), or
    ``None``."""
    if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, RuleOptimizer)
            and RULES.get(optimizer_class.__name__) is optimizer_class.rule and optimizer_class.__name__ != "Muon"):
        return None
    return {
        name: parameter.default
        for name, parameter in inspect.signature(optimizer_class).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


class _WidgetWithWebVersion:
    """The sliders' widget, with an HTML version for the built book: Jupyter renders the
    widget view; the book's builder is told to prefer the HTML (``nb_mime_priority_overrides``
    in _config.yml), so a page never shows ipywidgets that no kernel drives."""

    def __init__(self, widget: widgets.Widget, html_version: str) -> None:
        self.widget = widget
        self.html_version = html_version

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        return {**data, "text/html": self.html_version}


class _Explorer:
    """What both explorers share: the sliders, the outputs and the update on a change.

    Subclasses set ``self.figure``, call ``_start()`` last in their constructor, and
    implement ``_experiment`` (one run of their experiment) and ``_setting`` (the value of
    the one slider a baseline depends on: the steps, or the batch size).
    """

    figure: TrajectoryFigure | LossCurveFigure | NetworkFigure
    kind: str = ""
    """The experiment: ``"trajectory"``, ``"loss"`` or ``"network"``."""

    def __init__(
        self,
        optimizer_class: type[torch.optim.Optimizer],
        hyperparameters: Mapping[str, Any] | None,
        extra_sliders: list[Slider],
        continuous_update: bool,
        baseline: Baseline | None,
    ) -> None:
        self.optimizer_class = optimizer_class
        self.baseline = _check_baseline(baseline)
        self._baseline_runs: dict[int, Any] = {}
        self._result: Any = None
        self._baseline_result: Any = None
        self._controls = controls_for(optimizer_class)
        values, self._fixed = _initial_values(optimizer_class, hyperparameters, self._controls)
        self._continuous_update = continuous_update
        # One description of every slider, from which both the ipywidgets here and the
        # website's live controls are made.
        self.slider_specs: list[Slider] = [slider_for(control, values[control.name]) for control in self._controls]
        self.slider_specs.extend(extra_sliders)
        self.sliders: dict[str, widgets.ValueWidget] = {
            spec.name: _make_widget(spec, continuous_update) for spec in self.slider_specs
        }
        self.widget = widgets.VBox(list(self.sliders.values()))
        self.summary = ""
        self.error: str | None = None
        self._handles: list[tuple[Any, Any]] = []

    def _start(self) -> None:
        """The first run (bad arguments raise here), then listen to the sliders."""
        self.summary = self._run()
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")

    def hyperparameters(self) -> dict[str, Any]:
        """The current values as constructor arguments (Adam's ``beta1``, ``beta2`` as
        ``betas``), with any given hyperparameters that have no slider."""
        names = [control.name for control in self._controls]
        return live_controls.hyperparameters(names, {name: self.sliders[name].value for name in names}, self._fixed)

    def _experiment(self, optimizer_class: type[torch.optim.Optimizer],
                    hyperparameters: Mapping[str, Any], setting: int) -> Any:
        raise NotImplementedError

    def _setting(self) -> int:
        raise NotImplementedError

    def _baseline_run(self, setting: int) -> Any:
        # The baseline changes with the sliders only through the steps or the batch size:
        # run it once for each (a torch.optim baseline costs about 10 ms per 100 steps).
        if self.baseline is None:
            return None
        if setting not in self._baseline_runs:
            optimizer_class, hyperparameters = self.baseline
            self._baseline_runs[setting] = self._experiment(optimizer_class, hyperparameters, setting)
        return self._baseline_runs[setting]

    def _run(self) -> str:
        """Re-run with the current values, update the figure, return the summary."""
        setting = self._setting()
        self._result = self._experiment(self.optimizer_class, self.hyperparameters(), setting)
        self._baseline_result = self._baseline_run(setting)
        self.figure.update(self._result, self._baseline_result)
        summary = self._result.summary()
        if self._baseline_result is not None:
            summary += f"\nbaseline {self._baseline_result.optimizer}: {self._baseline_result.summary()}"
        return summary

    def _title(self) -> str:
        return describe_run(self.optimizer_class.__name__, self.hyperparameters())

    def refresh(self) -> None:
        """Re-run with the current slider values and redraw. Values the optimizer refuses
        (e.g. Nesterov without momentum) show their error in the figure instead of raising."""
        try:
            self.summary = self._run()
            self.error = None
        except (ValueError, TypeError) as error:
            self.error = str(error)
            self._clear_result()
            self.figure.show_message(self.error, self._title())
            self.summary = f"cannot run: {self.error}"
        self._publish()

    def _clear_result(self) -> None:
        self._result = None
        self._baseline_result = None

    def _on_change(self, change: dict[str, Any]) -> None:
        self.refresh()

    def display(self) -> None:
        """Show the sliders, the summary and the figure; later slider moves update the
        summary and the figure in place (here and in any earlier display).

        The sliders' output carries, besides the widget, an HTML version of the explorer for
        the website (see :meth:`web_spec`): Jupyter shows the widget, the built book shows
        live controls that run the same rules in the reader's browser."""
        from IPython.display import Image, Pretty, display

        display(_WidgetWithWebVersion(self.widget, self.web_html()))
        summary = display(Pretty(self.summary), display_id=True)
        image = display(Image(data=self.figure.png(), format="png"), display_id=True)
        self._handles.append((summary, image))

    # --- The website's version ------------------------------------------------------------

    def _web_experiment(self) -> dict[str, Any] | None:
        """What the browser needs to run this explorer's experiment, or ``None`` if it
        cannot (subclasses)."""
        raise NotImplementedError

    def web_spec(self) -> dict[str, Any] | None:
        """This explorer as the website runs it (by :func:`optim_lib.live.web.run`, in
        Pyodide): the optimizer, its defaults and fixed settings, the sliders, the
        experiment, the baseline and the figure's background and geometry. ``None`` where
        the browser cannot run it: a class that is not one of optim_lib's elementwise rules
        (a ``torch.optim`` class), or a landscape of your own."""
        baseline = None
        if self.baseline is not None:
            baseline_class, baseline_hyperparameters = self.baseline
            if _web_optimizer(baseline_class) is None:
                return None
            baseline = {"optimizer": baseline_class.__name__, "hyperparameters": dict(baseline_hyperparameters),
                        "defaults": _web_optimizer(baseline_class)}
        defaults = _web_optimizer(self.optimizer_class)
        experiment = self._web_experiment()
        if defaults is None or experiment is None:
            return None
        spec = {
            "version": 1,
            "id": f"optim-live-{uuid.uuid4().hex[:12]}",
            "optimizer": self.optimizer_class.__name__,
            "defaults": defaults,
            "fixed": dict(self._fixed),
            "sliders": [{**slider.to_dict(), "readout": slider.readout(slider.start)} for slider in self.slider_specs],
            "continuous_update": self._continuous_update,
            "baseline": baseline,
            "summary": self.summary,
            "figure": self.figure.web_geometry(),
            **experiment,
        }
        try:
            json.dumps(spec, allow_nan=False)
        except (TypeError, ValueError):  # a fixed hyperparameter the page cannot carry (a tensor)
            return None
        return spec

    def web_html(self) -> str:
        """The HTML that the built book shows in place of the ipywidgets: the explorer's
        :meth:`web_spec`, which the site's script turns into live controls; or, where the
        browser cannot run it, a line saying where it runs live."""
        spec = self.web_spec()
        if spec is None:
            return (f'<div class="optim-live optim-live-static" data-kind="{self.kind}"><p class="optim-live-note">'
                    'These sliders run live in Jupyter or Colab (the launch buttons at the top of the page); '
                    'the figure below shows the default setting.</p></div>')
        payload = json.dumps(spec, allow_nan=False).replace("</", "<\\/")
        return (f'<div class="optim-live" id="{html.escape(spec["id"])}" data-kind="{spec["kind"]}">'
                f'<script type="application/json" class="optim-live-spec">{payload}</script></div>')

    def _publish(self) -> None:
        if not self._handles:
            return
        from IPython.display import Image, Pretty

        png = self.figure.png()
        for summary, image in self._handles:
            summary.update(Pretty(self.summary))
            image.update(Image(data=png, format="png"))

    def _ipython_display_(self) -> None:
        # The explorer functions already displayed it; a cell ending with the call must
        # not show it a second time.
        if not self._handles:
            self.display()


class TrajectoryExplorer(_Explorer):
    """Sliders for an optimizer's hyperparameters and the number of steps, wired to
    :func:`~optim_lib.run_trajectory` and a :class:`~optim_lib.plotting.TrajectoryFigure`.

    Attributes:
        sliders: name → widget: the hyperparameters (``beta1``, ``beta2`` for Adam's
            betas), and ``steps``.
        trajectory: the latest run (``None`` while the sliders hold values the optimizer
            refuses; ``error`` then says why).
        baseline_trajectory: the baseline's run for the current number of steps, if any.
        figure: the figure, updated in place.
        summary: the latest summary line, as Dive into Deep Learning prints it.
    """

    kind = "trajectory"

    def __init__(
        self,
        optimizer_class: type[torch.optim.Optimizer],
        hyperparameters: Mapping[str, Any] | None = None,
        *,
        landscape: Landscape = QUADRATIC,
        steps: int = 20,
        baseline: Baseline | None = None,
    ) -> None:
        check_whole("steps", steps, 1)
        super().__init__(optimizer_class, hyperparameters, [steps_slider(steps, MAX_STEPS)],
                         continuous_update=True, baseline=baseline)
        self.landscape = landscape
        self.figure = TrajectoryFigure(landscape)
        self._start()

    @property
    def trajectory(self) -> Trajectory | None:
        return self._result

    @property
    def baseline_trajectory(self) -> Trajectory | None:
        return self._baseline_result

    def _setting(self) -> int:
        return self.sliders["steps"].value

    def _experiment(self, optimizer_class: type[torch.optim.Optimizer],
                    hyperparameters: Mapping[str, Any], setting: int) -> Trajectory:
        return run_trajectory(optimizer_class, hyperparameters, self.landscape, steps=setting)

    def _web_experiment(self) -> dict[str, Any] | None:
        names = [name for name, landscape in LANDSCAPES.items() if landscape is self.landscape]
        if not names:
            return None
        return {"kind": "trajectory", "landscape": names[0], "start": list(self.landscape.start)}


class LossCurveExplorer(_Explorer):
    """Sliders for an optimizer's hyperparameters and the batch size, wired to
    :func:`~optim_lib.train_linear_regression` and a
    :class:`~optim_lib.plotting.LossCurveFigure`.

    Attributes:
        sliders: name → widget: the hyperparameters, and ``batch_size``.
        curve: the latest run (``None`` while the sliders hold values the optimizer
            refuses; ``error`` then says why).
        baseline_curve: the baseline's run at the current batch size, if any.
        figure: the figure, updated in place.
        summary: the latest summary line, as Dive into Deep Learning prints it.
    """

    kind = "loss"

    def __init__(
        self,
        optimizer_class: type[torch.optim.Optimizer],
        hyperparameters: Mapping[str, Any] | None = None,
        data: AirfoilData | None = None,
        *,
        batch_size: int = 10,
        epochs: int = 2,
        baseline: Baseline | None = None,
    ) -> None:
        check_whole("batch_size", batch_size, 1)
        check_whole("epochs", epochs, 1)
        if data is None:
            data = load_airfoil()
        if not isinstance(data, AirfoilData):
            raise ValueError(f"data must be AirfoilData (from load_airfoil); got {type(data).__name__}")
        options = sorted({size for size in BATCH_SIZES if size < len(data)} | {len(data), batch_size})
        batch_slider = options_slider("batch_size", "batch size", options, batch_size)
        super().__init__(optimizer_class, hyperparameters, [batch_slider], continuous_update=False, baseline=baseline)
        self.data = data
        self.epochs = epochs
        self.figure = LossCurveFigure(epochs=float(epochs))
        self._start()

    @property
    def curve(self) -> LossCurve | None:
        return self._result

    @property
    def baseline_curve(self) -> LossCurve | None:
        return self._baseline_result

    def _setting(self) -> int:
        return self.sliders["batch_size"].value

    def _experiment(self, optimizer_class: type[torch.optim.Optimizer],
                    hyperparameters: Mapping[str, Any], setting: int) -> LossCurve:
        return train_linear_regression(optimizer_class, hyperparameters, self.data,
                                       batch_size=setting, epochs=self.epochs, seed=SEED, record_every=RECORD_EVERY)

    def _web_experiment(self) -> dict[str, Any] | None:
        return _airfoil_web_experiment(self.data, self.epochs)

    def _title(self) -> str:
        return loss_title(self.optimizer_class.__name__, self.hyperparameters(), self.sliders["batch_size"].value)


def _airfoil_web_experiment(data: AirfoilData, epochs: int) -> dict[str, Any]:
    """What the browser needs to train on the airfoil rows as the kernel does: the initial
    weights, the minibatch order of every epoch, and the rows' checksum."""
    n, features = data.X.shape
    theta0, orders = starting_point(SEED, features, n, epochs)
    return {
        "kind": "loss", "epochs": epochs, "record_every": RECORD_EVERY, "theta0": theta0, "orders": orders,
        # The page's worker checks that it has the same rows as the kernel had.
        "data": {"rows": n, "features": features, "sha1": hashlib.sha1(data.to_bytes()).hexdigest()},
    }


class NetworkExplorer(_Explorer):
    """Sliders for an optimizer's hyperparameters, the batch size and the number of epochs,
    wired to :func:`~optim_lib.network.train_network` (the digits network) and a
    :class:`~optim_lib.plotting.NetworkFigure`.

    The website cannot run this one (the network needs NumPy, which the reader's browser
    lacks): there the figure shows the default setting, with a note that the sliders run
    live in Jupyter or Colab.

    Attributes:
        sliders: name → widget: the hyperparameters, ``batch_size`` and ``epochs``.
        run: the latest :class:`~optim_lib.network.NetworkRun` (``None`` while the sliders
            hold values the optimizer refuses; ``error`` then says why).
        baseline_run: the baseline's run at the current batch size and epochs, if any.
        figure: the figure, updated in place.
        summary: the latest summary line.
    """

    kind = "network"

    def __init__(
        self,
        optimizer_class: type[torch.optim.Optimizer],
        hyperparameters: Mapping[str, Any] | None = None,
        data: DigitsData | None = None,
        *,
        batch_size: int = 32,
        epochs: int = 10,
        hidden: tuple[int, ...] = (64,),
        baseline: Baseline | None = None,
    ) -> None:
        if data is None:
            data = load_digits()
        if not isinstance(data, DigitsData):
            raise ValueError(f"data must be DigitsData (from load_digits); got {type(data).__name__}")
        check_whole("batch_size", batch_size, 1, data.n_train)
        check_whole("epochs", epochs, 1)
        options = sorted({size for size in NETWORK_BATCH_SIZES if size < data.n_train} | {data.n_train, batch_size})
        sliders = [options_slider("batch_size", "batch size", options, batch_size),
                   live_controls.slider_for(Control("epochs", "epochs", "int", 1, MAX_EPOCHS), epochs)]
        super().__init__(optimizer_class, hyperparameters, sliders, continuous_update=False, baseline=baseline)
        self.data = data
        self.hidden = tuple(hidden)
        self.figure = NetworkFigure(epochs=float(max(epochs, 1)))
        self._start()

    @property
    def run(self) -> NetworkRun | None:
        return self._result

    @property
    def baseline_run(self) -> NetworkRun | None:
        return self._baseline_result

    def _setting(self) -> tuple[int, int]:
        return self.sliders["batch_size"].value, self.sliders["epochs"].value

    def _experiment(self, optimizer_class: type[torch.optim.Optimizer],
                    hyperparameters: Mapping[str, Any], setting: tuple[int, int]) -> NetworkRun:
        batch_size, epochs = setting
        return train_network(optimizer_class, hyperparameters, self.data, batch_size=batch_size, epochs=epochs,
                             seed=SEED, hidden=self.hidden)

    def _web_experiment(self) -> dict[str, Any] | None:
        return None  # see the class docstring

    def _title(self) -> str:
        return loss_title(self.optimizer_class.__name__, self.hyperparameters(), self.sliders["batch_size"].value)


def trajectory_explorer(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    *,
    landscape: Landscape = QUADRATIC,
    steps: int = 20,
    baseline: Baseline | None = None,
) -> TrajectoryExplorer:
    """Show sliders for ``optimizer_class``'s hyperparameters and its path on ``landscape``.

    Args:
        optimizer_class: SGD, Adagrad, RMSprop, Adadelta, Adam or AdamW, from optim_lib or
            torch.optim.
        hyperparameters: the sliders' starting values (default: the constructor's); any
            without a slider are passed on unchanged.
        landscape: the function to minimize.
        steps: the starting number of steps (the slider goes to 100).
        baseline: ``(optimizer_class, hyperparameters)`` drawn lighter for comparison.

    Returns:
        The :class:`TrajectoryExplorer`, already displayed when running under IPython.
    """
    explorer = TrajectoryExplorer(optimizer_class, hyperparameters, landscape=landscape, steps=steps,
                                  baseline=baseline)
    if _ipython_is_running():
        explorer.display()
    return explorer


def loss_curve_explorer(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    data: AirfoilData | None = None,
    *,
    batch_size: int = 10,
    epochs: int = 2,
    baseline: Baseline | None = None,
) -> LossCurveExplorer:
    """Show sliders for ``optimizer_class``'s hyperparameters and the batch size, and the
    loss curve of linear regression on the airfoil data.

    Args:
        optimizer_class: SGD, Adagrad, RMSprop, Adadelta, Adam or AdamW, from optim_lib or
            torch.optim.
        hyperparameters: the sliders' starting values (default: the constructor's); any
            without a slider are passed on unchanged.
        data: the airfoil data (default: :func:`~optim_lib.load_airfoil`).
        batch_size: the starting batch size.
        epochs: passes over the data in every run.
        baseline: ``(optimizer_class, hyperparameters)`` drawn dashed for comparison.

    Returns:
        The :class:`LossCurveExplorer`, already displayed when running under IPython.
    """
    explorer = LossCurveExplorer(optimizer_class, hyperparameters, data, batch_size=batch_size,
                                 epochs=epochs, baseline=baseline)
    if _ipython_is_running():
        explorer.display()
    return explorer


def network_explorer(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    data: DigitsData | None = None,
    *,
    batch_size: int = 32,
    epochs: int = 10,
    hidden: tuple[int, ...] = (64,),
    baseline: Baseline | None = None,
) -> NetworkExplorer:
    """Show sliders for ``optimizer_class``'s hyperparameters, the batch size and the number of
    epochs, and the digits network's training loss and test accuracy.

    Args:
        optimizer_class: an optim_lib class with sliders (or its torch.optim twin).
        hyperparameters: the sliders' starting values (default: the constructor's); any
            without a slider are passed on unchanged.
        data: the digits (default: :func:`~optim_lib.digits.load_digits`).
        batch_size: the starting batch size.
        epochs: the starting number of epochs (the slider goes to 30).
        hidden: the hidden layers' widths (``(64,)``: 64–64–10).
        baseline: ``(optimizer_class, hyperparameters)`` drawn dashed for comparison.

    Returns:
        The :class:`NetworkExplorer`, already displayed when running under IPython.
    """
    explorer = NetworkExplorer(optimizer_class, hyperparameters, data, batch_size=batch_size, epochs=epochs,
                               hidden=hidden, baseline=baseline)
    if _ipython_is_running():
        explorer.display()
    return explorer


# --- The matrix experiment (Muon's chapter) ---------------------------------------------------
# Imported here, not at the top, so that this section can be read (and merged) on its own.

from .matrix import MatrixProblem, MatrixRun, SCHEDULES, matrix_problem, train_matrix  # noqa: E402
from .optimizers import Muon  # noqa: E402
from .plotting import MatrixFigure  # noqa: E402

CONTROLS[Muon] = (
    LR,
    Control("momentum", "μ (momentum)", "linear", 0.0, 0.99, 0.01),
    Control("nesterov", "Nesterov", "checkbox"),
    Control("ns_steps", "k (Newton–Schulz steps)", "int", 0, 10, 1),
    Control("weight_decay", "λ (weight decay)", "linear", 0.0, 1.0, 0.01),
)
"""Muon's sliders (its 2-D explorer is the matrix experiment: Muon takes matrices only)."""

from .optimizers import MuonWithAdamW  # noqa: E402

CONTROLS[MuonWithAdamW] = CONTROLS[Muon]
"""Muon's sliders; the AdamW groups follow ``lr`` and ``weight_decay`` (their own values, if
given as ``adamw_lr`` / ``adamw_weight_decay``, stay fixed)."""

MATRIX_BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256)
"""The matrix experiment's batch sizes."""


class MatrixExplorer(_Explorer):
    """Sliders for an optimizer's hyperparameters, the batch size and the learning-rate
    schedule, wired to :func:`~optim_lib.matrix.train_matrix` and a
    :class:`~optim_lib.plotting.MatrixFigure` (the loss, and the singular values of the
    middle step's update).

    The website cannot run this one (the experiment needs NumPy's matrix products and SVD,
    which the reader's browser lacks): there the figure shows the default setting, with a
    note that the sliders run live in Jupyter or Colab.

    Attributes:
        sliders: name → widget: the hyperparameters, ``batch_size`` and ``schedule``.
        run: the latest :class:`~optim_lib.matrix.MatrixRun` (``None`` while the sliders
            hold values the optimizer refuses; ``error`` then says why).
        baseline_run: the baseline's run at the current batch size and schedule, if any.
        figure: the figure, updated in place.
        summary: the latest summary line.
    """

    kind = "matrix"

    def __init__(
        self,
        optimizer_class: type[torch.optim.Optimizer],
        hyperparameters: Mapping[str, Any] | None = None,
        problem: MatrixProblem | None = None,
        *,
        steps: int = 200,
        batch_size: int = 32,
        schedule: str = "linear",
        baseline: Baseline | None = None,
    ) -> None:
        problem = matrix_problem() if problem is None else problem
        if not isinstance(problem, MatrixProblem):
            raise ValueError(f"problem must be a MatrixProblem (from matrix_problem); got {type(problem).__name__}")
        check_whole("steps", steps, 1)
        check_whole("batch_size", batch_size, 1)
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}; got {schedule!r}")
        options = sorted(set(MATRIX_BATCH_SIZES) | {batch_size})
        sliders = [options_slider("batch_size", "batch size", options, batch_size),
                   options_slider("schedule", "η schedule", SCHEDULES, schedule)]
        super().__init__(optimizer_class, hyperparameters, sliders, continuous_update=False, baseline=baseline)
        self.problem = problem
        self.steps = steps
        self.figure = MatrixFigure(steps=steps, size=min(problem.shape))
        self._start()

    @property
    def run(self) -> MatrixRun | None:
        return self._result

    @property
    def baseline_run(self) -> MatrixRun | None:
        return self._baseline_result

    def _setting(self) -> tuple[int, str]:
        return self.sliders["batch_size"].value, self.sliders["schedule"].value

    def _experiment(self, optimizer_class: type[torch.optim.Optimizer],
                    hyperparameters: Mapping[str, Any], setting: tuple[int, str]) -> MatrixRun:
        batch_size, schedule = setting
        return train_matrix(optimizer_class, hyperparameters, self.problem, steps=self.steps,
                            batch_size=batch_size, seed=SEED, schedule=schedule)

    def _web_experiment(self) -> dict[str, Any] | None:
        return None  # see the class docstring

    def _title(self) -> str:
        return f"{describe_run(self.optimizer_class.__name__, self.hyperparameters())}, " \
               f"batch {self.sliders['batch_size'].value}"


def matrix_explorer(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    problem: MatrixProblem | None = None,
    *,
    steps: int = 200,
    batch_size: int = 32,
    schedule: str = "linear",
    baseline: Baseline | None = None,
) -> MatrixExplorer:
    """Show sliders for ``optimizer_class``'s hyperparameters, the batch size and the
    learning-rate schedule, and the matrix experiment's loss and update spectrum.

    Args:
        optimizer_class: an optim_lib class with sliders (Muon, SGD, Adam, ...) or its
            torch.optim twin.
        hyperparameters: the sliders' starting values (default: the constructor's); any
            without a slider are passed on unchanged.
        problem: from :func:`~optim_lib.matrix.matrix_problem` (default: 32 × 32, rotated,
            κ = 1000).
        steps: steps per run.
        batch_size: the starting batch size.
        schedule: the starting schedule, ``"linear"`` (decay to 0) or ``"constant"``.
        baseline: ``(optimizer_class, hyperparameters)`` drawn dashed for comparison.

    Returns:
        The :class:`MatrixExplorer`, already displayed when running under IPython.
    """
    explorer = MatrixExplorer(optimizer_class, hyperparameters, problem, steps=steps, batch_size=batch_size,
                              schedule=schedule, baseline=baseline)
    if _ipython_is_running():
        explorer.display()
    return explorer


# --- Learning-rate schedules (the schedules chapter) ------------------------------------------
# Imported here, not at the top, so that this section can be read (and merged) on its own.

from .plotting import ScheduleFigure  # noqa: E402
from .live import schedule as live_schedule  # noqa: E402
from .schedules import EXPLORER_DECAYS, shaped_schedule  # noqa: E402

WARMUP_FRACTIONS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
"""The warm-up slider's stops: the fraction of all steps spent warming up."""


class ScheduleExplorer(_Explorer):
    """Sliders for an optimizer's hyperparameters (its ``lr`` is the schedule's peak), the
    warm-up's length and the decay's shape, wired to the airfoil regression
    (:func:`~optim_lib.train_linear_regression`, given :class:`~optim_lib.airfoil.AirfoilData`)
    or the digits network (:func:`~optim_lib.network.train_network`, given
    :class:`~optim_lib.digits.DigitsData`), with a
    :class:`~optim_lib.plotting.ScheduleFigure`: the loss beside each step's learning rate.

    The schedule is :func:`~optim_lib.schedules.shaped_schedule` (torch's schedulers, and
    :class:`~optim_lib.schedules.WSD`) over the run's steps. A baseline runs at a constant
    learning rate.

    On the website the airfoil explorer runs live, in the reader's browser: the same trainer
    (:func:`optim_lib.live.regression.train`) with the learning rates of
    :mod:`optim_lib.live.schedule`, which computes torch's schedules in plain Python (in CPython
    equal to torch's bit for bit, tested). The network needs NumPy, which the browser lacks: there its
    figure shows the default setting, with a note that the sliders run live in Jupyter or Colab.

    Attributes:
        sliders: name → widget: the hyperparameters, ``batch_size``, ``warmup`` and ``decay``.
        run: the latest run (``None`` while the sliders hold values the optimizer refuses).
        baseline_run: the baseline's run at the current batch size, if any.
        schedule: the latest :class:`~optim_lib.schedules.Schedule`.
    """

    kind = "loss"
    """``"loss"`` (the airfoil regression, whose website version is a loss-curve explorer with a
    schedule) or ``"network"``."""

    def __init__(
        self,
        optimizer_class: type[torch.optim.Optimizer],
        hyperparameters: Mapping[str, Any] | None = None,
        data: AirfoilData | DigitsData | None = None,
        *,
        batch_size: int | None = None,
        epochs: int | None = None,
        warmup: float = 0.0,
        decay: str = "cosine",
        baseline: Baseline | None = None,
    ) -> None:
        data = load_airfoil() if data is None else data
        if isinstance(data, AirfoilData):
            self.experiment, self.kind, examples, sizes = "airfoil", "loss", len(data), BATCH_SIZES
            batch_size, epochs = (10 if batch_size is None else batch_size), (2 if epochs is None else epochs)
        elif isinstance(data, DigitsData):
            self.experiment, self.kind, examples, sizes = "network", "network", data.n_train, NETWORK_BATCH_SIZES
            batch_size, epochs = (32 if batch_size is None else batch_size), (5 if epochs is None else epochs)
        else:
            raise ValueError(f"data must be AirfoilData (load_airfoil) or DigitsData (load_digits); "
                             f"got {type(data).__name__}")
        check_whole("batch_size", batch_size, 1, examples)
        check_whole("epochs", epochs, 1)
        if warmup not in WARMUP_FRACTIONS:
            raise ValueError(f"warmup must be one of {list(WARMUP_FRACTIONS)}; got {warmup!r}")
        if decay not in EXPLORER_DECAYS:
            raise ValueError(f"decay must be one of {EXPLORER_DECAYS}; got {decay!r}")
        options = sorted({size for size in sizes if size < examples} | {examples, batch_size})
        sliders = [options_slider("batch_size", "batch size", options, batch_size),
                   options_slider("warmup", "warm-up (of all steps)", WARMUP_FRACTIONS, warmup),
                   options_slider("decay", "decay", EXPLORER_DECAYS, decay)]
        super().__init__(optimizer_class, hyperparameters, sliders, continuous_update=False, baseline=baseline)
        self.data = data
        self.examples = examples
        self.epochs = epochs
        self.schedule = None
        lr = self.hyperparameters().get("lr", 0.1)
        self.figure = ScheduleFigure(kind="loss" if self.experiment == "airfoil" else "network", epochs=float(epochs),
                                     examples=examples, lr_top=live_schedule.lr_axis_top(float(lr)))
        self._start()

    @property
    def run(self) -> LossCurve | NetworkRun | None:
        return self._result

    @property
    def baseline_run(self) -> LossCurve | NetworkRun | None:
        return self._baseline_result

    def _setting(self) -> tuple[int, float, str]:
        return self.sliders["batch_size"].value, self.sliders["warmup"].value, self.sliders["decay"].value

    def _steps(self, batch_size: int) -> int:
        return live_schedule.steps(self.examples, batch_size, self.epochs)

    def _experiment(self, optimizer_class: type[torch.optim.Optimizer],
                    hyperparameters: Mapping[str, Any], setting: tuple[int, float, str]) -> LossCurve | NetworkRun:
        batch_size, warmup, decay = setting
        schedule = shaped_schedule(decay, self._steps(batch_size), warmup)
        if self.experiment == "airfoil":
            return train_linear_regression(optimizer_class, hyperparameters, self.data, batch_size=batch_size,
                                           epochs=self.epochs, seed=SEED, record_every=RECORD_EVERY,
                                           scheduler=schedule)
        return train_network(optimizer_class, hyperparameters, self.data, batch_size=batch_size, epochs=self.epochs,
                             seed=SEED, scheduler=schedule)

    def _baseline_run(self, setting: tuple[int, float, str]) -> Any:
        # The baseline keeps a constant learning rate: it depends on the batch size only.
        return super()._baseline_run((setting[0], 0.0, "constant"))

    def _run(self) -> str:
        setting = self._setting()
        batch_size, warmup, decay = setting
        self.schedule = shaped_schedule(decay, self._steps(batch_size), warmup)
        self._result = self._experiment(self.optimizer_class, self.hyperparameters(), setting)
        self._baseline_result = self._baseline_run(setting)
        self.figure.update(self._result, self._baseline_result, title=self._title())
        summary = live_schedule.summary(self.schedule, self._result.summary())
        if self._baseline_result is not None:
            summary += live_schedule.baseline_summary(self._baseline_result.optimizer, self._baseline_result.summary())
        return summary

    def _web_experiment(self) -> dict[str, Any] | None:
        if self.experiment != "airfoil":
            return None  # the network needs NumPy (see the class docstring)
        # The sliders warmup and decay pick the schedule (optim_lib.live.schedule.plan).
        return {**_airfoil_web_experiment(self.data, self.epochs), "schedule": True}

    def _title(self) -> str:
        batch_size, warmup, decay = self._setting()
        return live_schedule.title(loss_title(self.optimizer_class.__name__, self.hyperparameters(), batch_size),
                                   warmup, decay)


def schedule_explorer(
    optimizer_class: type[torch.optim.Optimizer],
    hyperparameters: Mapping[str, Any] | None = None,
    data: AirfoilData | DigitsData | None = None,
    *,
    batch_size: int | None = None,
    epochs: int | None = None,
    warmup: float = 0.0,
    decay: str = "cosine",
    baseline: Baseline | None = None,
) -> ScheduleExplorer:
    """Show sliders for ``optimizer_class``'s hyperparameters, the batch size, the warm-up and
    the decay, and the loss beside the learning-rate schedule, on the airfoil regression
    (``data`` from :func:`~optim_lib.load_airfoil`, the default; 2 epochs, batch 10) or the
    digits network (``data`` from :func:`~optim_lib.digits.load_digits`; 5 epochs, batch 32).

    Args:
        optimizer_class: an optim_lib class with sliders (or its torch.optim twin).
        hyperparameters: the sliders' starting values; ``lr`` is the schedule's peak.
        warmup: the starting warm-up, one of :data:`WARMUP_FRACTIONS` (a fraction of all steps).
        decay: the starting decay, one of :data:`~optim_lib.schedules.EXPLORER_DECAYS`.
        baseline: ``(optimizer_class, hyperparameters)`` run at a constant learning rate,
            drawn dashed for comparison.

    Returns:
        The :class:`ScheduleExplorer`, already displayed when running under IPython.
    """
    explorer = ScheduleExplorer(optimizer_class, hyperparameters, data, batch_size=batch_size, epochs=epochs,
                                warmup=warmup, decay=decay, baseline=baseline)
    if _ipython_is_running():
        explorer.display()
    return explorer
