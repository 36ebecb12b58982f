"""ws.Monitor: k and λ of every matrix fitted from inside a training loop (issue 24).

A tiny GPT-2 trains for a few dozen steps under the monitor (a plain loop and a Hugging Face
Trainer); the folder it writes is a scan's, read back by the scan's own tools.
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.cli import main
from weibull_stats.monitor import watch
from weibull_stats.scanning.journal import JOURNAL, read_journal
from weibull_stats.scanning.settings import SETTINGS

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

KEY = ["checkpoint", "tensor", "part", "estimator"]


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    """A tiny model trains fastest on one thread (and does not fight pytest-xdist's workers)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_gpt2(seed: int = 0) -> Any:
    config = transformers.GPT2Config(vocab_size=64, n_positions=16, n_embd=16, n_layer=2, n_head=2)
    torch.manual_seed(seed)
    return transformers.GPT2LMHeadModel(config)


def train(model: Any, monitor: ws.Monitor, steps: range, seed: int = 0) -> list[float]:
    """AdamW on random tokens; ``monitor.step(step)`` after each update (and before the first)."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    losses = []
    if steps.start == 1:
        monitor.step(0)
    for step in steps:
        batch = torch.randint(0, 64, (4, 16), generator=generator)
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        monitor.step(step)
    return losses


def monitor(model: Any, out: Path | None, **given: Any) -> ws.Monitor:
    return ws.Monitor(model, out=out, skip_validation=True, **{"every": 10, "report": False, **given})


def test_a_plain_loop_records_steps_0_n_2n_and_the_last(tmp_path: Path) -> None:
    model = tiny_gpt2()
    with monitor(model, tmp_path / "run") as watching:
        losses = train(model, watching, range(1, 26))
    assert watching.steps == [0, 10, 20, 25] and losses[-1] < losses[0]
    frame = pd.read_parquet(tmp_path / "run" / "results.parquet")
    assert sorted(set(frame["step"])) == [0, 10, 20, 25]
    assert list(dict.fromkeys(frame["checkpoint"])) == ["step-0", "step-10", "step-20", "step-25"]
    assert not frame.duplicated(KEY).any()
    # the last step is what a scan of the trained model finds, row for row and number for number
    scanned = ws.scan(model, skip_validation=True)
    last = frame[frame["step"] == 25].reset_index(drop=True)
    assert len(last) == len(scanned) and set(last["kind"]) >= {"q", "k", "v", "o", "ffn_in", "ffn_out"}
    assert last["tensor"].tolist() == scanned["tensor"].tolist()
    assert last["shape"].tolist() == scanned["shape"].tolist()
    # training moved the weights, and the table says so
    first = frame[frame["step"] == 0].set_index(["tensor", "part"])["scale"]
    assert not first.equals(last.set_index(["tensor", "part"])["scale"])
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["steps"] == 4 and run["every"] == 10 and run["finished"] is not None
    assert run["settings"]["paths"] == ["GPT2LMHeadModel"]
    header, rows, torn = read_journal(tmp_path / "run" / JOURNAL)
    assert header is not None and len(rows) == len(frame) and torn == 0


def test_monitoring_reads_in_place_changes_nothing_and_records_no_gradient(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_gpt2()
    model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone())  # untied
    model.transformer.h[0].mlp.c_fc.to(torch.bfloat16)  # a 16-bit matrix beside float32 ones
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    seen: list[bool] = []
    fit = watch.fit_tensor

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(torch.is_grad_enabled())
        return fit(*args, **kwargs)

    monkeypatch.setattr(watch, "fit_tensor", recording)
    watching = monitor(model, tmp_path / "run")
    table = watching.step(0)
    assert table is not None and seen and not any(seen)
    assert torch.is_grad_enabled()  # the training loop's own mode is left as it was
    for name, parameter in model.named_parameters():
        assert parameter.grad is None, name
        assert torch.equal(parameter.detach(), before[name]), name
    # the live view reads the parameters themselves: no copy of the model is made to fit it
    ckpt = watching._checkpoint(0)
    weight = model.transformer.h[0].attn.c_attn.weight
    read = ckpt.read("transformer.h.0.attn.c_attn.weight")
    assert read.__array_interface__["data"][0] == weight.data_ptr() and read.shape == tuple(weight.shape)
    bits = ckpt.read("transformer.h.0.mlp.c_fc.weight")  # bfloat16: a view of the same 16-bit words
    assert bits.__array_interface__["data"][0] == model.transformer.h[0].mlp.c_fc.weight.data_ptr()
    up = table[table["tensor"] == "transformer.h.0.mlp.c_fc.weight"]
    assert up["dtype"].tolist() == ["BF16"] and up["storage"].tolist() == ["bfloat16"]
    watching.close()


def test_a_restarted_run_resumes_into_the_same_folder_without_duplicating_steps(tmp_path: Path) -> None:
    out = tmp_path / "run"
    model = tiny_gpt2()
    with monitor(model, out) as first:
        train(model, first, range(1, 21))
    kept = pd.read_parquet(out / "results.parquet")
    # the training restarts from its step-10 checkpoint (here: the same weights trained again)
    model = tiny_gpt2()
    again = monitor(model, out, resume=True)
    assert again.steps == [0, 10, 20]
    with again:
        train(model, again, range(1, 41))
    frame = pd.read_parquet(out / "results.parquet")
    assert sorted(set(frame["step"])) == [0, 10, 20, 30, 40]
    assert not frame.duplicated(KEY).any()
    earlier = frame[frame["step"] <= 20].reset_index(drop=True)
    pd.testing.assert_frame_equal(earlier, kept)
    _, rows, _ = read_journal(out / JOURNAL)
    assert len(rows) == len(frame)
    with pytest.raises(ValueError, match=r"settings differ from the journalled scan \(estimators, options\)"):
        monitor(tiny_gpt2(), out, resume=True, estimators="mle")
    other = transformers.GPT2LMHeadModel(transformers.GPT2Config(vocab_size=64, n_positions=16, n_embd=8,
                                                                  n_layer=1, n_head=2))
    with pytest.raises(ValueError, match=r"GPT2LMHeadModel holds other tensors or values"):
        monitor(other, out, resume=True)


class Frozen(torch.nn.Module):
    """A small network with a frozen all-zero matrix: nothing to fit there, at any step."""

    def __init__(self) -> None:
        super().__init__()
        self.up = torch.nn.Linear(8, 32)
        self.dead = torch.nn.Linear(32, 32, bias=False)
        self.dead.weight.data.zero_()
        self.dead.weight.requires_grad_(False)
        self.down = torch.nn.Linear(32, 8)

    def forward(self, x: Any) -> Any:
        return self.down(torch.relu(self.up(x)) + self.dead(x.new_ones(x.shape[0], 32)))


def _train_frozen(model: Frozen, watching: ws.Monitor, steps: int) -> None:
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    generator = torch.Generator().manual_seed(1)
    for step in range(steps):
        watching.step(step)
        loss = model(torch.randn(16, 8, generator=generator)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_a_matrix_that_cannot_be_fitted_is_an_errors_row_and_training_goes_on(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Frozen()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with monitor(model, tmp_path / "run", every=5, report=True) as watching:
            _train_frozen(model, watching, 16)
    assert watching.steps == [0, 5, 10, 15]
    errors = pd.read_csv(tmp_path / "run" / "errors.csv")
    assert errors["tensor"].tolist() == ["dead.weight"] * 4 and errors["step"].tolist() == [0, 5, 10, 15]
    assert errors["error"].str.contains("dead.weight").all()
    frame = pd.read_parquet(tmp_path / "run" / "results.parquet")
    assert sorted(set(frame["tensor"])) == ["down.weight", "up.weight"] and len(frame) == 8
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")  # written at close
    assert "`step-15`" in report and "dead.weight" in report
    ours = [w for w in caught if issubclass(w.category, ws.MonitorWarning)]
    assert len(ours) == 1 and "dead.weight" in str(ours[0].message)  # once per matrix, not per step
    # asked to, the monitor raises after writing the step
    torch.manual_seed(0)
    strict = monitor(Frozen(), tmp_path / "strict", errors="raise")
    with pytest.raises(ws.MonitorError, match=r"1 failures at step 0 \(first: dead.weight"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", ws.MonitorWarning)
        strict.step(0)
    assert pd.read_csv(tmp_path / "strict" / "errors.csv")["tensor"].tolist() == ["dead.weight"]
    strict.close()


def test_a_failing_step_is_an_errors_row_unless_asked_to_raise(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_gpt2()
    watching = monitor(model, None, every=2)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(watch, "plan_tasks", broken)
    with pytest.warns(ws.MonitorWarning, match=r"step 2: monitoring failed: CUDA out of memory"):
        assert watching.step(2) is None
    assert watching.steps == [2] and watching.latest == {}
    monkeypatch.undo()
    assert watching.step(4) is not None and watching.latest
    raising = monitor(model, None, every=2, errors="raise")
    monkeypatch.setattr(watch, "plan_tasks", broken)
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        raising.step(0)


def test_the_trainer_callback_monitors_at_the_interval_and_logs_the_medians(tmp_path: Path) -> None:
    pytest.importorskip("accelerate")
    model = tiny_gpt2()
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 64, (24, 16), generator=generator)
    dataset = [{"input_ids": row, "labels": row} for row in tokens]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "trainer"), max_steps=12, per_device_train_batch_size=4, learning_rate=1e-2,
        logging_steps=1000, save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True, seed=0)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=dataset)
    watching = monitor(trainer.model, tmp_path / "run", every=5)
    callback = watching.attach(trainer)
    assert callback in trainer.callback_handler.callbacks
    trainer.train()
    assert watching.closed and watching.steps == [0, 5, 10, 12]
    frame = pd.read_parquet(tmp_path / "run" / "results.parquet")
    assert sorted(set(frame["step"])) == [0, 5, 10, 12]
    logged = [entry for entry in trainer.state.log_history if "weibull/k_median/q" in entry]
    assert [entry["step"] for entry in logged] == [0, 5, 10, 12]
    last = frame[(frame["step"] == 12) & (frame["kind"] == "q")]
    assert logged[-1]["weibull/k_median/q"] == pytest.approx(float(last["shape"].median()), rel=1e-12)
    assert logged[-1]["weibull/lambda_median/q"] == pytest.approx(float(last["scale"].median()), rel=1e-12)


class Recorder:
    """A stand-in for torch.utils.tensorboard.SummaryWriter: what add_scalar received."""

    def __init__(self) -> None:
        self.scalars: list[tuple[str, float, int]] = []

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.scalars.append((tag, value, step))

    def flush(self) -> None:
        return None


def test_tensorboard_receives_the_per_kind_medians_at_each_monitored_step(tmp_path: Path) -> None:
    model, writer = tiny_gpt2(), Recorder()
    with monitor(model, None, every=3, tensorboard=writer) as watching:
        train(model, watching, range(1, 7))
    assert sorted({step for _, _, step in writer.scalars}) == [0, 3, 6]
    at_six = {tag: value for tag, value, step in writer.scalars if step == 6}
    assert at_six == watching.latest
    q = watching.frame[(watching.frame["step"] == 6) & (watching.frame["kind"] == "q")]
    assert at_six["weibull/k_median/q"] == float(q["shape"].median())
    with pytest.raises(TypeError, match=r"`tensorboard`: expected a log folder or a writer"):
        monitor(model, None, tensorboard=3)


def test_a_tensorboard_folder_needs_the_tensorboard_package(tmp_path: Path) -> None:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match=r"logging to a folder needs the tensorboard package"):
            monitor(tiny_gpt2(), None, tensorboard=tmp_path / "tb")
    else:
        with monitor(tiny_gpt2(), None, tensorboard=tmp_path / "tb") as watching:
            watching.step(0)
        assert any((tmp_path / "tb").iterdir())


def test_weibull_stats_report_reads_the_monitor_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    model = tiny_gpt2()
    with monitor(model, tmp_path / "run") as watching:
        train(model, watching, range(1, 21))
    assert main(["report", str(tmp_path / "run"), "--no-plots"]) == 0
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "`step-0`" in report and "`step-20`" in report
    table = report[report.index("| step |"):]
    assert [line.split("|")[1].strip() for line in table.splitlines()[2:5]] == ["0", "10", "20"]


def test_the_monitor_keywords_take_the_scans_declared_defaults() -> None:
    parameters = inspect.signature(ws.Monitor).parameters
    for name in ("estimators", "intervals", "options"):
        assert parameters[name].default == SETTINGS[name].default, name
    watching = ws.Monitor(tiny_gpt2(), skip_validation=True, bootstrap=3, anchor="uniform")
    assert watching.settings.bootstrap == 3 and watching.settings.anchor == "uniform"
    assert watching.every == 100 and watching.out is None
    with pytest.raises(TypeError, match=r"unknown scan setting `nope`"):
        ws.Monitor(tiny_gpt2(), skip_validation=True, nope=1)
    with pytest.raises(TypeError, match=r"`jobs` is a setting of a scan, not of a monitor"):
        ws.Monitor(tiny_gpt2(), skip_validation=True, jobs=2)
    with pytest.raises(ValueError, match=r"`every` must be an integer >= 1; got 0"):
        ws.Monitor(tiny_gpt2(), every=0, skip_validation=True)
    with pytest.raises(TypeError, match=r"`model`: expected a torch.nn.Module or a state dict; got int"):
        ws.Monitor(3, skip_validation=True)
