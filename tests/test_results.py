"""The one result type: JSON round trip, tidy rows and frames, the scipy law it names."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws


@pytest.fixture(scope="module")
def fits() -> list[ws.WeibullFit]:
    w = np.random.default_rng(0).normal(0.0, 0.02, 5000)
    return [ws.fit(w, name, values="weights") for name in ws.ESTIMATORS]


def test_json_round_trip(fits: list[ws.WeibullFit]) -> None:
    """to_json -> json.loads -> from_dict gives back an equal result, for every estimator."""
    for fit in fits:
        text = fit.to_json()
        back = ws.WeibullFit.from_dict(json.loads(text))
        assert back == fit
        assert back.to_json() == text
        if "trim" in back.options:
            assert back.options["trim"] == fit.options["trim"] and isinstance(back.options["trim"], tuple)


def test_non_finite_diagnostics_become_null() -> None:
    fit = ws.WeibullFit(shape=1.0, scale=2.0, estimator="mle", n=10, n_used=10, shape_se=math.nan)
    data = fit.to_dict()
    assert data["shape_se"] is None
    assert json.loads(fit.to_json())["shape_se"] is None


def test_from_dict_rejects_unknown_fields() -> None:
    data = ws.WeibullFit(shape=1.0, scale=2.0, estimator="mle", n=10, n_used=10).to_dict()
    with pytest.raises(ValueError, match=r"unknown WeibullFit fields: \['colour'\]"):
        ws.WeibullFit.from_dict({**data, "colour": "red"})


def test_frozen_and_options_immutable(fits: list[ws.WeibullFit]) -> None:
    fit = fits[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.shape = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        fit.options["trim"] = (0.0, 1.0)  # type: ignore[index]


def test_to_row_and_results_to_frame(fits: list[ws.WeibullFit]) -> None:
    frame = ws.results_to_frame(fits)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["estimator"]) == list(ws.ESTIMATORS)
    for column in ("shape", "scale", "n", "n_used", "converged", "r2", "package_version",
                   "omitted_nonfinite", "omitted_zeros", "option_values"):
        assert column in frame.columns
    assert (frame["n"] == 5000).all()
    np.testing.assert_array_equal(frame["shape"].to_numpy(), [f.shape for f in fits])
    row = fits[0].to_row()
    assert json.loads(row["option_trim"]) == [0.1, 0.9]
    assert fits[0].to_series()["shape"] == fits[0].shape


def test_distribution_is_weibull_min(fits: list[ws.WeibullFit]) -> None:
    from scipy import stats

    for fit in fits:
        dist = fit.distribution()
        assert isinstance(dist.dist, type(stats.weibull_min))
        assert dist.kwds == {"c": fit.shape, "scale": fit.scale}


def test_repr_html_names_fields(fits: list[ws.WeibullFit]) -> None:
    html = fits[0]._repr_html_()
    shown = repr(fits[0]).split("k=")[1].split(",")[0]
    assert html.startswith("<table") and "probability_plot" in html and shown in html
