"""How many conversations will arrive, per hour, for the next days: a seasonal model of the hour of the
week, checked by backtest against the seasonal-naive forecast.

The history is a list of hourly counts (oldest first) starting at an hour boundary in the shop's time
zone; index ``i`` is hour-of-week ``(start_how + i) % 168``. Counts are what the event lake gives per
channel and hour (conversations started).

The model (``forecast``), in two parts:

- **profile**: for each hour of the week, an exponentially weighted mean of the same hour in the last
  ``weeks`` weeks (weight ``alpha * (1 - alpha) ** k`` for the week ``k`` weeks back). Averaging over
  several weeks is what lets it beat the seasonal-naive forecast: one week's count is the rate plus
  Poisson noise, the weighted mean keeps the rate and shrinks the noise; the weights keep it recent.
- **level**: Holt's linear trend on the weekly totals of those weeks, damped (``phi``), so a shop that
  grows 3 % a week is forecast to keep growing a little, never without bound. The profile is scaled by
  the forecast total of each week ahead over the profile's own total.

Why written here and not taken from statsmodels: the model is forty lines of arithmetic, and statsmodels
brings pandas and SciPy (well over 100 MB unzipped) into a Lambda layer limited to 250 MB; pure Python
keeps the reports function small and its cold start short (docs/forecast.md has the figures).

``seasonal_naive`` repeats the last week. ``backtest`` walks forecast origins through the last days of
the history and reports the mean absolute scaled error (MASE, Hyndman & Koehler 2006) of both, scaled by
the in-sample mean absolute error of the one-week-back forecast, so 1.0 means "as good as repeating the
same hour last week, in-sample", and the model must come in below the naive forecast's own MASE.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WEEK = 168


@dataclass(frozen=True)
class ModelSettings:
    weeks: int = 6          # weeks of history the profile averages
    alpha: float = 0.3      # weight of the most recent week in the profile
    trend_alpha: float = 0.5
    trend_beta: float = 0.2
    phi: float = 0.9        # damping of the weekly trend

    def __post_init__(self) -> None:
        if self.weeks < 1 or not 0 < self.alpha <= 1 or not 0 < self.phi <= 1:
            raise ValueError("weeks >= 1, 0 < alpha <= 1 and 0 < phi <= 1")


def seasonal_naive(history: Sequence[float], horizon: int) -> list[float]:
    """Each hour ahead as the same hour of the last week seen."""
    if len(history) < WEEK:
        raise ValueError(f"seasonal naive needs a week of history ({WEEK} hours), got {len(history)}")
    last = history[-WEEK:]
    return [float(last[h % WEEK]) for h in range(horizon)]


def forecast(history: Sequence[float], horizon: int, settings: ModelSettings = ModelSettings()) -> list[float]:
    """Hourly counts for ``horizon`` hours after the end of ``history`` (one week at least)."""
    full_weeks = min(settings.weeks, len(history) // WEEK)
    if full_weeks < 1:
        raise ValueError(f"the forecast needs a week of history ({WEEK} hours), got {len(history)}")
    n = len(history)
    weights = [settings.alpha * (1 - settings.alpha) ** k for k in range(full_weeks)]
    total_weight = sum(weights)
    # profile[j]: the hour j hours after the end of the history, one week on (same hour of the week)
    profile = [sum(w * history[n - WEEK * (k + 1) + j] for k, w in enumerate(weights)) / total_weight
               for j in range(WEEK)]
    profile_total = sum(profile)
    totals = [sum(history[n - WEEK * (k + 1): n - WEEK * k]) for k in reversed(range(full_weeks))]
    level, trend = _holt(totals, settings)
    out: list[float] = []
    for h in range(horizon):
        weeks_ahead = h // WEEK + 1
        damped = sum(settings.phi ** i for i in range(1, weeks_ahead + 1))
        week_total = max(level + damped * trend, 0.0)
        scale = week_total / profile_total if profile_total > 0 else 0.0
        out.append(profile[h % WEEK] * scale)
    return out


def _holt(totals: Sequence[float], settings: ModelSettings) -> tuple[float, float]:
    """Damped Holt's linear method on the weekly totals, oldest first: (level, trend) after the last."""
    level, trend = float(totals[0]), 0.0
    if len(totals) > 1:
        trend = float(totals[1] - totals[0])
    for y in totals[1:]:
        previous = level
        level = settings.trend_alpha * y + (1 - settings.trend_alpha) * (previous + settings.phi * trend)
        trend = settings.trend_beta * (level - previous) + (1 - settings.trend_beta) * settings.phi * trend
    return level, trend


@dataclass(frozen=True)
class Backtest:
    origins: int
    horizon_hours: int
    mase: float
    naive_mase: float
    mae: float
    naive_mae: float

    @property
    def beats_naive(self) -> bool:
        return self.mase < self.naive_mase


def mase_scale(history: Sequence[float]) -> float:
    """In-sample mean absolute error of the one-week-back forecast (MASE's denominator)."""
    errors = [abs(history[i] - history[i - WEEK]) for i in range(WEEK, len(history))]
    if not errors:
        raise ValueError("MASE needs more than a week of history")
    return sum(errors) / len(errors)


def backtest(history: Sequence[float], *, horizon: int = 14 * 24, origins: int = 28, step: int = 24,
             min_train: int = 4 * WEEK, settings: ModelSettings = ModelSettings(),
             model: Callable[[Sequence[float], int], list[float]] | None = None) -> Backtest:
    """Rolling-origin evaluation: ``origins`` forecast origins ``step`` hours apart, each forecasting
    ``horizon`` hours from the history before it, the last origin ``horizon`` hours before the end."""
    predict = model or (lambda past, h: forecast(past, h, settings))
    last_origin = len(history) - horizon
    first_origin = last_origin - step * (origins - 1)
    if first_origin < max(min_train, WEEK + 1):
        raise ValueError(f"history too short for {origins} origins, a {horizon}-hour horizon and "
                         f"{min_train} hours of training ({len(history)} hours given)")
    scaled, naive_scaled, abs_errors, naive_abs_errors = [], [], [], []
    for origin in range(first_origin, last_origin + 1, step):
        past, actual = history[:origin], history[origin: origin + horizon]
        scale = mase_scale(past) or 1.0
        model_error = _mae(predict(past, horizon), actual)
        naive_error = _mae(seasonal_naive(past, horizon), actual)
        scaled.append(model_error / scale)
        naive_scaled.append(naive_error / scale)
        abs_errors.append(model_error)
        naive_abs_errors.append(naive_error)
    count = len(scaled)
    return Backtest(origins=count, horizon_hours=horizon, mase=sum(scaled) / count,
                    naive_mase=sum(naive_scaled) / count, mae=sum(abs_errors) / count,
                    naive_mae=sum(naive_abs_errors) / count)


def _mae(predicted: Sequence[float], actual: Sequence[float]) -> float:
    return sum(abs(p - a) for p, a in zip(predicted, actual, strict=True)) / len(actual)
