"""Bad inputs a careful user tries, each refused with a message that names the problem.

The catalogue of the suite's robustness: every configuration value here is refused before any
job runs, naming its key; damaged files and bad library calls are in the sections below.
"""

import math

import numpy as np
import pytest
import torch
import yaml

from bench.config import DEFAULT_CONFIG, ConfigError, validate_config
from bench.embedded.storage import load_split
from bench.latents import read_latents
from bench.methods import build_method, load_method
from bench.tasks import get_task
from flowbind import FlowBind, FlowBindConfig, PairTable, TrainConfig, train
from flowbind.data import check_training_data
from flowbind.files import write_npz
from flowbind.objective import ObjectiveConfig
from flowbind.solver import SolverConfig, solver_config
from metrics.ais import ais
from metrics.attributes import attribute_accuracy
from metrics.bootstrap import bootstrap_mean
from metrics.cider import cider
from metrics.cknna import cknna
from metrics.clip_score import clip_score
from metrics.fid import frechet_distance

NAN, INF = math.nan, math.inf

# (dotted key, bad value): validate_config must refuse it with the key in the message.
BAD_CONFIG_VALUES = [
    ("benchmark", "papers"),
    ("benchmark", 3),
    ("size", "huge"),
    ("data_seed", -1),
    ("data_seed", 1.5),
    ("data_seed", "0"),
    ("data_seed", NAN),
    ("latent_dim", 0),
    ("latent_dim", 30),
    ("latent_dim", 32.0),
    ("latent_dim", INF),
    ("latent_dim", True),
    ("methods", []),
    ("methods", ["flowbind", "flowbind"]),
    ("methods", ["FlowBind"]),
    ("methods", ["flowbind", "codi_typo"]),
    ("methods", "flowbind"),
    ("seeds", []),
    ("seeds", [0, 0]),
    ("seeds", [-1]),
    ("seeds", [0.0]),
    ("seeds", "0"),
    ("model.hidden_dim", 0),
    ("model.hidden_dim", 16.0),
    ("model.hidden_dim", 10**6),
    ("model.depth", -1),
    ("model.depth", 2.5),
    ("model.encoder_hidden_dim", 0),
    ("model.hidden_dims", 8),
    ("generation.method", "heun"),
    ("generation.steps", 0),
    ("generation.steps", 4.0),
    ("generation.atol", 0),
    ("generation.atol", NAN),
    ("generation.rtol", -1e-5),
    ("train.steps", 0),
    ("train.steps", 60.0),
    ("train.steps", INF),
    ("train.batch_size", 0),
    ("train.batch_size", 32.5),
    ("train.batch_size", 10**9),
    ("train.lr", 0),
    ("train.lr", -1e-3),
    ("train.lr", NAN),
    ("train.lr", INF),
    ("train.lr", "1e-3"),
    ("train.warmup_steps", -1),
    ("train.log_every", 0),
    ("train.checkpoint_every", 7),
    ("objective.scheme", "ours"),
    ("objective.p_endpoint", 1.5),
    ("objective.p_endpoint", NAN),
    ("objective.p_t0", -0.1),
    ("objective.modality_dropout", INF),
    ("baselines.codi.stage1_fraction", 1.0),
    ("baselines.codi.stage1_fraction", 0),
    ("baselines.codi.temperature", 0),
    ("baselines.codi.guidance_scale", NAN),
    ("baselines.crossflow.via", "video"),
    ("baselines.omniflow.pretrain_fraction", 1),
    ("baselines.nope", {}),
    ("evaluation.bootstrap_resamples", 5),
    ("evaluation.bootstrap_resamples", 100.0),
    ("evaluation.bootstrap_resamples", 10**10),
    ("evaluation.cknna_resamples", NAN),
    ("ablations.ia_percent", [0]),
    ("ablations.ia_percent", [0, 50.0, 100]),
    ("ablations.ia_percent", [0, 101]),
    ("ablations.objectives", {}),
    ("ablations.objectives", {"Bad Name": {"scheme": "official", "no_stop_grad": False}}),
    ("ablations.objectives", {"official": {"scheme": "official"}}),
    ("ablations.solvers", []),
    ("ablations.solvers", [{"method": "euler"}]),
    ("ablations.solvers", [{"method": "euler", "steps": 0}]),
    ("ablations.solvers", [{"method": "euler", "steps": 2.0}]),
]


def with_value(key: str, value) -> dict:
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    *parents, last = key.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return config


@pytest.mark.parametrize(("key", "value"), BAD_CONFIG_VALUES, ids=lambda v: repr(v)[:40])
def test_a_bad_config_value_is_refused_naming_its_key(key, value):
    with pytest.raises(ConfigError) as err:
        validate_config(with_value(key, value))
    message = str(err.value)
    parent, _, last = key.rpartition(".")
    assert key in message or (parent in message and last in message), message


# -- library calls --------------------------------------------------------------------------


class Context:
    """The objects the library calls below are made on."""

    def __init__(self, tmp):
        rng = np.random.default_rng(0)
        self.tmp = tmp
        self.config = FlowBindConfig(latent_dim=8, hidden_dim=16, depth=1)
        self.model = FlowBind(self.config)
        self.z = {m: torch.randn(4, 8) for m in self.config.modalities}
        self.latents = {
            m: rng.normal(size=(30, 8)).astype(np.float32) for m in self.config.modalities
        }
        rows = np.arange(10)
        self.pairs = [PairTable(("text", "image"), np.stack([rows, rows], 1))]
        self.features = rng.normal(size=(50, 4))
        self.emb = rng.normal(size=(5, 16))
        self.nan_features = self.features.copy()
        self.nan_features[3, 1] = NAN
        self.nan_latents = {**self.latents, "image": self.latents["image"].copy()}
        self.nan_latents["image"][4, 0] = NAN
        self.npz = tmp / "damaged.npz"
        np.savez(self.npz, ids=np.array(["a", "b"]), image=np.array([[1.0, NAN], [0, 0]]))
        self.bad_model = tmp / "bad_model"
        self.bad_model.mkdir()
        (self.bad_model / "config.json").write_text("{not json")

    def train(self, folder, **settings):
        config = TrainConfig(
            **{"steps": 2, "log_every": 1, "checkpoint_every": 1, "batch_size": 4, **settings}
        )
        return train(
            FlowBind(self.config), self.latents, self.pairs, config, self.tmp / folder,
            progress=False,
        )  # fmt: skip


def _pairs(modalities, index):
    return PairTable(modalities, np.asarray(index))


def _check_data(c, latents=None, pairs=None):
    return check_training_data(
        c.latents if latents is None else latents,
        c.pairs if pairs is None else pairs,
        c.config.modalities,
        8,
    )


def _retrain_other_lr(c):
    c.train("run")
    c.train("run", steps=4, lr=0.5)


# name -> (call on a Context, exception type name, fragment of the message).
LIBRARY_CALLS = {
    "FlowBindConfig latent_dim=0": (
        lambda c: FlowBindConfig(latent_dim=0), "ValueError", "latent_dim must be >= 1"),
    "FlowBindConfig latent_dim=8.0": (
        lambda c: FlowBindConfig(latent_dim=8.0), "ValueError", "latent_dim must be an integer"),
    "FlowBindConfig hidden_dim=True": (
        lambda c: FlowBindConfig(hidden_dim=True), "ValueError", "hidden_dim must be an integer"),
    "FlowBindConfig depth=-1": (
        lambda c: FlowBindConfig(depth=-1), "ValueError", "depth must be >= 0"),
    "FlowBindConfig dropout=1.0": (
        lambda c: FlowBindConfig(dropout=1.0), "ValueError", "dropout must lie in [0, 1)"),
    "FlowBindConfig dropout=nan": (
        lambda c: FlowBindConfig(dropout=NAN), "ValueError", "dropout must be a finite number"),
    "FlowBindConfig anchor_variance=nan": (
        lambda c: FlowBindConfig(anchor_variance=NAN), "ValueError", "anchor_variance must be"),
    "FlowBindConfig mlp_ratio=inf": (
        lambda c: FlowBindConfig(mlp_ratio=INF), "ValueError", "mlp_ratio must be a finite"),
    "FlowBindConfig no modalities": (
        lambda c: FlowBindConfig(modalities=()), "ValueError", "modalities is empty"),
    "FlowBindConfig duplicate modalities": (
        lambda c: FlowBindConfig(modalities=("text", "text")), "ValueError", "duplicates"),
    "FlowBindConfig.from_dict unknown key": (
        lambda c: FlowBindConfig.from_dict({"widht": 3}), "ValueError",
        "unknown FlowBindConfig fields ['widht']"),
    "TrainConfig steps=0": (lambda c: TrainConfig(steps=0), "ValueError", "steps must be >= 1"),
    "TrainConfig steps=60.0": (
        lambda c: TrainConfig(steps=60.0), "ValueError", "steps must be an integer >= 1"),
    "TrainConfig lr=nan": (
        lambda c: TrainConfig(lr=NAN), "ValueError", "lr must be a finite number"),
    "TrainConfig lr=inf": (
        lambda c: TrainConfig(lr=INF), "ValueError", "lr must be a finite number"),
    "TrainConfig lr=0": (lambda c: TrainConfig(lr=0.0), "ValueError", "lr must lie in (0,"),
    "TrainConfig warmup_steps=-1": (
        lambda c: TrainConfig(warmup_steps=-1), "ValueError", "warmup_steps must be >= 0"),
    "TrainConfig batch_size=0": (
        lambda c: TrainConfig(batch_size=0), "ValueError", "batch_size must be >= 1"),
    "TrainConfig checkpoint_every not a multiple": (
        lambda c: TrainConfig(checkpoint_every=15, log_every=10), "ValueError",
        "must be a multiple of log_every"),
    "TrainConfig ema_decay=1.0": (
        lambda c: TrainConfig(ema_decay=1.0), "ValueError", "ema_decay must lie in (0, 1)"),
    "TrainConfig grad_clip=nan": (
        lambda c: TrainConfig(grad_clip=NAN), "ValueError", "grad_clip must be a finite"),
    "TrainConfig seed=-1": (lambda c: TrainConfig(seed=-1), "ValueError", "seed must be >= 0"),
    "ObjectiveConfig scheme": (
        lambda c: ObjectiveConfig(scheme="ours"), "ValueError",
        "objective scheme 'ours' is unknown"),
    "ObjectiveConfig p_endpoint=nan": (
        lambda c: ObjectiveConfig(p_endpoint=NAN), "ValueError", "p_endpoint must be a finite"),
    "ObjectiveConfig p_t0=1.5": (
        lambda c: ObjectiveConfig(p_t0=1.5), "ValueError", "p_t0 must lie in [0, 1]"),
    "ObjectiveConfig modality_dropout='0.5'": (
        lambda c: ObjectiveConfig(modality_dropout="0.5"), "ValueError",
        "modality_dropout must be"),
    "SolverConfig method": (
        lambda c: SolverConfig(method="heun"), "ValueError", "ODE solver 'heun' is unknown"),
    "SolverConfig steps=0": (lambda c: SolverConfig(steps=0), "ValueError", "steps must be >= 1"),
    "SolverConfig steps=2.0": (
        lambda c: SolverConfig(steps=2.0), "ValueError", "steps must be an integer"),
    "SolverConfig atol=inf": (
        lambda c: SolverConfig(atol=INF), "ValueError", "atol must be a finite number"),
    "solver options misspelt": (
        lambda c: solver_config(stpes=3), "ValueError", "unknown ODE solver options ['stpes']"),
    "PairTable same modality twice": (
        lambda c: _pairs(("text", "text"), [[0, 0]]), "ValueError", "a modality appears twice"),
    "PairTable float index": (
        lambda c: _pairs(("text", "image"), [[0.0, 0.0]]), "ValueError", "must hold integers"),
    "PairTable empty": (
        lambda c: _pairs(("text", "image"), np.zeros((0, 2), int)), "ValueError", "is empty"),
    "PairTable negative row": (
        lambda c: _pairs(("text", "image"), [[-1, 0]]), "ValueError", "negative row index -1"),
    "PairTable wrong columns": (
        lambda c: _pairs(("text", "image"), [[0, 0, 0]]), "ValueError", "shape (M, 2)"),
    "training data without pairs": (
        lambda c: _check_data(c, pairs=[]), "ValueError", "no pair tables given"),
    "training data of another size": (
        lambda c: _check_data(c, latents={**c.latents, "text": c.latents["text"][:, :4]}),
        "ValueError", "latents['text'] must have shape (N, 8), got (30, 4)"),
    "training data row out of range": (
        lambda c: _check_data(c, pairs=[_pairs(("text", "image"), [[0, 99]])]), "ValueError",
        "row 99 of 'image' is out of range"),
    "training data of an unknown modality": (
        lambda c: _check_data(c, latents={**c.latents, "video": c.latents["text"]},
                              pairs=[_pairs(("text", "video"), [[0, 1]])]),
        "ValueError", "latents given for 'video'"),
    "training data with NaN": (
        lambda c: _check_data(c, latents=c.nan_latents), "NonFiniteError",
        "latents['image'] has NaN or inf in 1 of 30 rows (first: row 4)"),
    "training into a folder of another run": (
        _retrain_other_lr, "CheckpointError", "trained with a different configuration (lr"),
    "training on a missing CUDA device": (
        lambda c: c.train("cuda", device="cuda:7"), "RuntimeError", "CUDA is not available"),
    "translate without sources": (
        lambda c: c.model.translate({}, ["image"]), "ValueError", "at least one source"),
    "translate without targets": (
        lambda c: c.model.translate({"text": c.z["text"]}, []), "ValueError",
        "at least one target"),
    "translate from an unknown modality": (
        lambda c: c.model.translate({"video": c.z["text"]}, ["image"]), "KeyError",
        "unknown modality 'video'"),
    "translate to an unknown modality": (
        lambda c: c.model.translate({"text": c.z["text"]}, ["video"]), "KeyError",
        "unknown modality 'video'"),
    "translate latents of another size": (
        lambda c: c.model.translate({"text": torch.randn(4, 5)}, ["image"]), "ValueError",
        "source 'text' must have shape (N, 8), got (4, 5)"),
    "translate sources of different lengths": (
        lambda c: c.model.translate({"text": c.z["text"], "audio": torch.randn(3, 8)},
                                    ["image"]),
        "ValueError", "the same number of rows"),
    "translate NaN": (
        lambda c: c.model.translate({"text": torch.full((2, 8), NAN)}, ["image"]),
        "NonFiniteError", "source 'text' has NaN or inf"),
    "translate with an unknown solver": (
        lambda c: c.model.translate({"text": c.z["text"]}, ["image"], method="heun"),
        "ValueError", "ODE solver 'heun' is unknown"),
    "translate with 0 steps": (
        lambda c: c.model.translate({"text": c.z["text"]}, ["image"], steps=0), "ValueError",
        "steps must be >= 1"),
    "load a model from a missing folder": (
        lambda c: FlowBind.load(c.tmp / "nowhere"), "CheckpointError",
        "does not exist"),
    "load a model with a corrupt config": (
        lambda c: FlowBind.load(c.bad_model), "CheckpointError",
        "config.json is not valid JSON"),
    "build an unknown method": (
        lambda c: build_method("flowbnd"), "ValueError",
        "unknown method 'flowbnd'"),
    "load a method from a missing folder": (
        lambda c: load_method(c.tmp / "nowhere"), "CheckpointError",
        "method.json is missing"),
    "an unknown task": (
        lambda c: get_task("t2v"), "ValueError", "unknown task 't2v'"),
    "FID of one item": (
        lambda c: frechet_distance(c.features[:1], c.features),
        "MetricInputError", "needs at least 2"),
    "FID of features of different sizes": (
        lambda c: frechet_distance(c.features, c.features[:, :3]),
        "MetricInputError", "feats_a has 4 dimensions, feats_b 3"),
    "FID of NaN features": (
        lambda c: frechet_distance(c.nan_features, c.features),
        "MetricInputError", "feats_a has NaN or inf"),
    "FID of 1-D features": (
        lambda c: frechet_distance(c.features[:, 0], c.features[:, 0]),
        "MetricInputError", "must be 2-D"),
    "CIDEr of other ids": (
        lambda c: cider({"a": "x y"}, {"b": ["x y"]}),
        "MetricInputError", "must have the same ids"),
    "CIDEr of an empty caption": (
        lambda c: cider({"a": ""}, {"a": ["x y"]}), "MetricInputError",
        "empty or non-string"),
    "CIDEr of a caption that is not a string": (
        lambda c: cider({"a": 3}, {"a": ["x y"]}), "MetricInputError",
        "hypothesis of id 'a' must be a caption (str), got int"),
    "CLIP score of unpaired rows": (
        lambda c: clip_score(c.emb, c.emb[:4]),
        "MetricInputError", "must have the same shape"),
    "CLIP score of NaN": (
        lambda c: clip_score(
            np.full((3, 4), NAN), np.ones((3, 4))),
        "MetricInputError", "has NaN or inf"),
    "AIS of one item": (
        lambda c: ais(c.emb[:1], c.emb[:1]), "MetricInputError",
        "at least 2 items"),
    "AIS references of another size": (
        lambda c: ais(c.emb, c.emb, c.emb[:, :3]), "MetricInputError",
        "reference_emb has 3 dimensions"),
    "attribute accuracy of NaN predictions": (
        lambda c: attribute_accuracy(
            {"kind": np.array([0.0, NAN])}, {"kind": np.array([0, 1])}),
        "MetricInputError", "holds NaN at rows [1]"),
    "attribute accuracy of string labels": (
        lambda c: attribute_accuracy(
            {"kind": np.array(["a", "b"])}, {"kind": np.array(["a", "b"])}),
        "MetricInputError", "must hold integer class indices"),
    "attribute accuracy without ground truth": (
        lambda c: attribute_accuracy(
            {"kind": np.array([0, 1])}, {"size": np.array([0, 1])}),
        "MetricInputError", "no ground truth for predicted attributes ['kind']"),
    "bootstrap with 0 resamples": (
        lambda c: bootstrap_mean(np.ones(5), 0), "ValueError",
        "resamples must be positive"),
    "bootstrap of no items": (
        lambda c: bootstrap_mean(np.ones(0), 10), "ValueError",
        "empty set of items"),
    "bootstrap of NaN per-item values": (
        lambda c: bootstrap_mean(np.array([1.0, NAN]), 10),
        "MetricInputError", "per-item values hold NaN or inf at items [1]"),
    "CKNNA of unpaired rows": (
        lambda c: cknna(c.features, c.features[:10]),
        "MetricInputError", "feats_a has 50 rows and feats_b 10"),
    "CKNNA with k above the items": (
        lambda c: cknna(c.features[:5], c.features[:5], k=10),
        "MetricInputError", "needs at least 12 items"),
    "latents file missing": (
        lambda c: read_latents(c.tmp / "none.npz"),
        "FileNotFoundError", "run the workflow's encode step first"),
    "latents file with NaN": (
        lambda c: read_latents(c.npz), "NonFiniteError",
        "array 'image' has NaN or inf in 1 of 2 rows (first: row 0, id 'a')"),
    "writing NaN to an npz file": (
        lambda c: write_npz(c.tmp / "y.npz", {"a": np.array([NAN])}),
        "NonFiniteError", "nothing was written"),
    "a data folder that is missing": (
        lambda c: load_split(c.tmp / "nodata", "test_ti"),
        "DatasetError", "is not an embedded-benchmark data folder"),
}  # fmt: skip


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    return Context(tmp_path_factory.mktemp("bad_inputs"))


@pytest.mark.parametrize("name", list(LIBRARY_CALLS))
def test_a_bad_library_call_is_refused_with_a_clear_message(context, name):
    call, error, fragment = LIBRARY_CALLS[name]
    with pytest.raises(Exception) as err:
        call(context)
    assert type(err.value).__name__ == error, f"{name}: {err.value!r}"
    assert fragment in str(err.value), f"{name}: {err.value}"
