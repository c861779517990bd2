"""No NaN or inf reaches a score: files, training data, the loss, translation and features."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from tiny_pairs import tiny_pairs

from bench.embedded.build import PAIR_SPLITS
from bench.evaluate import evaluate_task
from bench.latents import read_latents, training_data
from bench.methods import METHODS, build_method, method_class
from bench.tasks import get_task
from flowbind import FlowBind, FlowBindConfig, TrainConfig, train
from flowbind.data import check_training_data
from flowbind.files import NonFiniteError, read_npz, write_npz
from flowbind.training import NonFiniteTrainingError, checkpoints

# Methods whose fit trains (flowbind_released loads released weights instead).
TRAINABLE = [name for name in sorted(METHODS) if method_class(name).trainable]
D = 8
MODEL = {"latent_dim": D, "hidden_dim": 16, "depth": 1, "encoder_hidden_dim": 16}
IDS = np.array([f"scene_{i:05d}" for i in range(200)])


def latents_file(path: Path, bad_rows=(17,), bad=np.nan) -> Path:
    """A latents npz written past write_npz, with ``bad`` in the given rows of 'image'."""
    rng = np.random.default_rng(0)
    image = rng.normal(size=(200, D)).astype(np.float32)
    image[list(bad_rows), 2] = bad
    text = rng.normal(size=(200, D)).astype(np.float32)
    np.savez(path, ids=IDS, text=text, image=image)
    return path


def test_write_npz_refuses_nan_and_writes_nothing(tmp_path):
    z = np.zeros((200, D), np.float32)
    z[[17, 40], 0] = np.nan
    path = tmp_path / "test_ti.npz"
    with pytest.raises(NonFiniteError) as info:
        write_npz(path, {"ids": IDS, "image": z})
    message = str(info.value)
    assert str(path) in message and "'image'" in message
    assert "2 of 200 rows" in message and "row 17" in message and "'scene_00017'" in message
    assert list(tmp_path.iterdir()) == []


def test_write_npz_refuses_inf_in_per_item_values(tmp_path):
    with pytest.raises(
        NonFiniteError, match=r"'CLIP' has NaN or inf in 1 of 3 rows \(first: row 1\)"
    ):
        write_npz(tmp_path / "t2i.npz", {"CLIP": np.array([1.0, np.inf, 2.0])})


def test_read_npz_round_trips_finite_arrays(tmp_path):
    arrays = {"ids": IDS, "image": np.ones((200, D), np.float32), "n": np.arange(3)}
    write_npz(tmp_path / "a.npz", arrays)
    back = read_npz(tmp_path / "a.npz")
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(back[k], v)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_read_latents_refuses_a_damaged_file_naming_file_array_and_row(tmp_path, bad):
    path = latents_file(tmp_path / "test_ti.npz", bad=bad)
    with pytest.raises(NonFiniteError) as info:
        read_latents(path)
    message = str(info.value)
    assert message.startswith(f"{path}: array 'image' has NaN or inf in 1 of 200 rows")
    assert "first: row 17, id 'scene_00017'" in message
    assert "delete it and rerun the step that wrote it" in message


def test_read_latents_keeps_its_missing_file_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the workflow's encode step first"):
        read_latents(tmp_path / "test_ti.npz")


def test_training_data_refuses_a_nan_training_latent(tmp_path):
    rng = np.random.default_rng(0)
    for split, modalities in PAIR_SPLITS.items():
        arrays = {m: rng.normal(size=(20, D)).astype(np.float32) for m in modalities}
        if split == "train_ia":
            arrays["audio"][5, 0] = np.nan
        np.savez(tmp_path / f"{split}.npz", ids=IDS[:20], **arrays)
    with pytest.raises(
        NonFiniteError, match=r"train_ia\.npz: array 'audio'.*row 5, id 'scene_00005'"
    ):
        training_data(tmp_path)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_check_training_data_refuses_non_finite_latents(as_tensor):
    latents, pairs = tiny_pairs(D)
    latents["image"][[3, 7], 1] = np.inf
    if as_tensor:
        latents = {m: torch.from_numpy(z) for m, z in latents.items()}
    with pytest.raises(
        NonFiniteError,
        match=r"latents\['image'\] has NaN or inf in 2 of 30 rows "
        r"\(first: row 3\)",
    ):
        check_training_data(latents, pairs, ("text", "image", "audio"), D)


def test_check_training_data_reads_a_memory_map_in_chunks(tmp_path):
    latents, pairs = tiny_pairs(D)
    z = np.zeros((70_000, D), np.float32)
    z[69_999, 0] = np.nan
    np.save(tmp_path / "image.npy", z)
    latents["image"] = np.load(tmp_path / "image.npy", mmap_mode="r")
    with pytest.raises(NonFiniteError, match=r"1 of 70000 rows \(first: row 69999\)"):
        check_training_data(latents, pairs, ("text", "image", "audio"), D)


def small_model() -> FlowBind:
    return FlowBind(FlowBindConfig(**MODEL))


def settings(**changes) -> TrainConfig:
    base = {
        "steps": 8,
        "batch_size": 8,
        "lr": 1e-3,
        "warmup_steps": 1,
        "log_every": 2,
        "checkpoint_every": 2,
        "device": "cpu",
    }
    return TrainConfig(**{**base, **changes})


def test_train_refuses_nan_latents_before_any_step(tmp_path):
    latents, pairs = tiny_pairs(D)
    latents["text"][0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"latents\['text'\].*row 0"):
        train(small_model(), latents, pairs, settings(), tmp_path, progress=False)
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "model").exists()


def test_train_stops_at_the_first_nan_loss_and_keeps_the_last_good_checkpoint(tmp_path):
    latents, pairs = tiny_pairs(D)
    model = small_model()
    loss, calls, seen = model.loss, [], {}

    def poisoned(groups, objective):
        calls.append(1)
        out = loss(groups, objective)
        if len(calls) == 5:
            out.total = out.total * torch.nan
        return out

    def snapshot(step, values):
        seen[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    model.loss = poisoned
    with pytest.raises(NonFiniteTrainingError) as info:
        train(model, latents, pairs, settings(), tmp_path, progress=False, callback=snapshot)
    message = str(info.value)
    assert "step 5" in message and "loss=nan" in message
    for term in ("main/text", "main/image", "main/audio"):
        assert term in message
    last = tmp_path / "checkpoints" / "step_00000004"
    assert str(last) in message and "lower the learning rate" in message
    assert checkpoints(tmp_path) == [tmp_path / "checkpoints" / "step_00000002", last]
    assert not (tmp_path / "model").exists()
    assert max(seen) == 4  # the bad step reached neither the callback nor the optimizer
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, seen[4][k])
    # the row of the bad step's window never reached the loss log
    assert [r.split(",")[0] for r in (tmp_path / "loss.csv").read_text().split()[1:]] == ["2", "4"]


def test_train_with_an_exploding_learning_rate_stops_at_step_one(tmp_path):
    latents, pairs = tiny_pairs(D)
    # A finite learning rate above float32's range: the first update leaves inf in the weights.
    config = settings(lr=1e39, checkpoint_every=1, log_every=1)
    with pytest.raises(NonFiniteTrainingError, match=r"step 1.*no checkpoint") as info:
        train(small_model(), latents, pairs, config, tmp_path, progress=False)
    assert "loss=" in str(info.value)
    assert checkpoints(tmp_path) == [] and not (tmp_path / "model").exists()


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_method_stops_training_at_a_non_finite_step(tmp_path, name):
    latents, pairs = tiny_pairs(D)
    train_settings = {
        "steps": 4,
        "batch_size": 8,
        "lr": 1e39,  # finite, above float32's range
        "warmup_steps": 1,
        "log_every": 1,
        "checkpoint_every": 1,
        "device": "cpu",
    }
    method = build_method(name, model=MODEL, train=train_settings)
    with pytest.raises(NonFiniteTrainingError, match="step 1"):
        method.fit(latents, pairs, tmp_path, progress=False)
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_refuses_non_finite_sources_naming_the_modality(name):
    method = build_method(name, model=MODEL)
    method.model = method.build().eval()
    audio = torch.randn(5, D)
    audio[2, 3] = torch.nan
    sources = {"text": torch.randn(5, D), "audio": audio}
    with pytest.raises(
        NonFiniteError,
        match=r"source 'audio' has NaN or inf in 1 of 5 rows "
        r"\(first: row 2\)",
    ):
        method.translate(sources, ["image"])


def test_flowbind_translate_refuses_inf_input():
    z = torch.randn(4, D)
    z[0, 0] = torch.inf
    with pytest.raises(NonFiniteError, match="source 'text'"):
        small_model().translate({"text": z}, ["image"])


class FakeBackbones:
    """Evaluator stand-ins whose features or embeddings of one batch hold NaN in one row."""

    def __init__(self, poisoned, row: int = 3):
        self.poisoned, self.row = poisoned, row
        self.rng = np.random.default_rng(0)

    def _rows(self, batch, width: int) -> np.ndarray:
        x = self.rng.normal(size=(len(batch), width))
        if batch is self.poisoned:
            x[self.row, 0] = np.nan
        return x

    def fid_features(self, images):
        return torch.from_numpy(self._rows(images, 4))

    def clip(self, modality, batch):
        return torch.from_numpy(self._rows(batch, 4)).float()

    def attributes(self, modality, batch):
        return {}


def tiny_split(n: int = 8):
    ids = [f"scene_{i:05d}" for i in range(n)]
    return SimpleNamespace(
        name="test_ti",
        ids=ids,
        image=np.zeros((n, 2, 2, 3), np.uint8),
        audio=None,
        references=[[f"caption {i}"] for i in range(n)],
        captions=[f"caption {i}" for i in range(n)],
        attributes={},
    )


@pytest.mark.parametrize("poison", ["generated", "real", "source"])
def test_evaluate_task_refuses_non_finite_features_naming_task_modality_and_row(poison):
    split = tiny_split()
    outputs = {"ids": split.ids, "image": np.ones((8, 2, 2, 3), np.uint8)}
    batch = {"generated": outputs["image"], "real": split.image, "source": split.captions}[poison]
    modality = "text" if poison == "source" else "image"
    with pytest.raises(NonFiniteError) as info:
        evaluate_task(get_task("t2i"), outputs, split, FakeBackbones(batch), resamples=10)
    message = str(info.value)
    assert message.startswith(f"T->I, {modality}: ")
    assert "NaN or inf in 1 of 8 rows (first: row 3, id 'scene_00003')" in message
