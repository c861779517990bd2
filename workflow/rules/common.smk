# Helpers shared by the rules: result paths and per-run settings of the checked config.
import shutil
import sys

from bench.tables import ALL_METRIC_TABLES, table_tasks
from bench.embedded.catalog import (
    CODEC_MODALITIES,
    LATENT_SPLITS,
    POINT_CODEC_MODALITIES,
    POINT_EVALUATORS,
    POINT_LATENT_SPLITS,
    TRAINED_EVALUATORS,
)
from bench.tasks import ALL_TASKS, FAMILIES, POINT_TASKS, TASKS
from bench.config import dry_run
from bench.methods import is_official, trained_from_scratch, unavailable_official
from bench.embedded.build import SIZES
from bench.train_run import (
    continues_main,
    curve_seeds,
    run_settings as train_settings,
    snapshot_steps,
)

EMBEDDED = "results/embedded"
PAPER = config["benchmark"] == "paper"
# The fourth modality (config `modalities`): its data, networks and runs, Table 9 and the cost
# table; the main tables never use it.
POINTS = "points" in config["modalities"]
if not POINTS and {"fourth_modality", "results/table9.csv"} & set(sys.argv):
    raise WorkflowError(
        "the fourth modality is off: the config's modalities are "
        f"{config['modalities']}. Switch it on with `--config "
        "'modalities=[text,image,audio,points]'` (or `modalities:` in your config file); the "
        "main tables' data and runs stay as they are, nothing of them is redone"
    )
PAPER_CODECS = "results/codecs"
if PAPER:
    # The paper benchmark: its codecs and data (bench.paper). Every missing weight file and
    # data path is named in one message before any job runs; download_weights is exempt.
    from bench.paper.preflight import missing, needed_entries, report as missing_report
    from bench.paper.splits import (
        SPLITS as PAPER_SPLITS,
        TEST_SPLITS as PAPER_TEST_SPLITS,
    )

    _missing = []
    if "download_weights" not in sys.argv:  # the one target that must run without them
        _missing = missing(config) + unavailable_official(config)
    _message = missing_report(_missing) if _missing else ""
    TINY = config["paper"]["weights"] == "tiny"
    TINY_INPUTS = ["results/tiny_inputs.json"] if TINY else []
    LATENT_FILES = expand("results/latents/{split}.npz", split=PAPER_SPLITS)
    # The extract and generate jobs wait for the codec parts the workflow makes itself.
    CODEC_FILES = TINY_INPUTS + [
        f"{PAPER_CODECS}/{name}"
        for key, name in (
            ("text_decoder", "text_decoder.pt"),
            ("audio_autoencoder", "audio_autoencoder.pth"),
        )
        if config["paper"][key] == "trained"
    ]
    # Scoring waits for the real-item features of every test split.
    EVALUATOR_FILES = expand(
        "results/reference/{split}/ready.json", split=PAPER_TEST_SPLITS
    )
    DATA_FILES = expand("results/splits/{split}.json", split=PAPER_SPLITS)
    QUALITY_FILES = []
    # no fourth modality: the paper benchmark has no point-cloud data (bench.config checks it)
    POINT_LATENT_FILES = POINT_CODEC_FILES = POINT_EVALUATOR_FILES = []
else:
    LATENT_FILES = expand("results/latents/{split}.npz", split=LATENT_SPLITS)
    # The trained networks generation and scoring read; the scripts find the embedded
    # benchmark folder from these paths (<EMBEDDED>/<codecs|evaluators>/<name>/config.json).
    # Jobs wait for these files, not for the `codecs_ready` quality check, so generation
    # overlaps the evaluators' training; only the report needs quality.json.
    CODEC_FILES = expand(
        f"{EMBEDDED}/codecs/{{modality}}/config.json", modality=CODEC_MODALITIES
    )
    EVALUATOR_FILES = expand(
        f"{EMBEDDED}/evaluators/{{name}}/config.json", name=TRAINED_EVALUATORS
    )
    DATA_FILES = [f"{EMBEDDED}/data/dataset.json"]
    QUALITY_FILES = [f"{EMBEDDED}/quality.json"]
    # The fourth modality's (rules in points.smk): its latents, codec and evaluators.
    POINT_LATENT_FILES = expand(
        "results/latents/{split}.npz", split=POINT_LATENT_SPLITS
    )
    POINT_CODEC_FILES = expand(
        f"{EMBEDDED}/codecs/{{modality}}/config.json", modality=POINT_CODEC_MODALITIES
    )
    POINT_EVALUATOR_FILES = expand(
        f"{EMBEDDED}/evaluators/{{name}}/config.json", name=POINT_EVALUATORS
    )
    # Released baseline models (bench.methods.OFFICIAL): their code and weights, up front.
    _missing = unavailable_official(config)
    _message = "released baseline models are missing:\n" + "\n".join(_missing)
# Planning runs nothing: a missing file is a warning there, and stops any other run.
if _missing and dry_run(sys.argv):
    print(f"WARNING: {_message}", file=sys.stderr)
elif _missing:
    raise WorkflowError(_message)
# The main tables' training seeds; the first is the main seed (Tables 1 and 5, the report's
# figures and galleries, the solver sweep, the conflicting conditions). The other ablations and
# the curves train ablations.seeds (default: the main seed alone).
SEEDS = config["seeds"]
MAIN_SEED = SEEDS[0]
ABLATION_SEEDS = curve_seeds(config)  # the ablations' and the curves' seeds
# Methods with a training run; released baseline models (bench.methods.OFFICIAL) have none.
TRAINED = [m for m in config["methods"] if not is_official(m)]


def method_seeds(method):
    """The seeds a method is generated and scored with: the training seeds for a method that
    trains; the main seed alone for released weights and the codec ceiling."""
    return SEEDS if method in TRAINED else [MAIN_SEED]


def scored(methods, tasks, suffix=".json"):
    """The evaluation files of every seed of ``methods`` on ``tasks``."""
    return [
        f"results/evaluate/{m}/seed{s}/{t}{suffix}"
        for m in methods
        for s in method_seeds(m)
        for t in tasks
    ]


ONE_TO_ONE = list(FAMILIES["one_to_one"])
SCORED = config["methods"] + ["codec_ceiling"]
OBJECTIVES = config["ablations"]["objectives"]
# variant names of the anchor-variance sweep: variance-0.1, variance-1, ...
VARIANCES = {f"variance-{v:g}": v for v in config["ablations"]["anchor_variance"]}
# The curves: training budgets in steps and shares of the training pairs kept, in percent.
CURVE_STEPS = sorted(config["curves"]["steps"])
CURVE_DATA = sorted(config["curves"]["data_percent"])
# The methods with budget and data curves: those that train (not released weights).
CURVED = trained_from_scratch(config["methods"])
# Budgets taken from the longest budget run's snapshots instead of trained (snapshot_steps),
# one set for every one-stage method.
SNAPSHOTS = {m: snapshot_steps(config, m) for m in CURVED}
SNAPSHOT_METHODS = [m for m, steps in SNAPSHOTS.items() if steps]
SNAPSHOT_STEPS = sorted({s for steps in SNAPSHOTS.values() for s in steps})
# The curves are part of the report and of the default target on the embedded benchmark; on
# the paper's (days of GPU time per point) only `snakemake curves` runs them.
CURVE_TABLES = [] if PAPER else ["results/budget_curve.csv", "results/data_curve.csv"]
CURVE_FIGURES = (
    {}
    if PAPER
    else {
        name: f"results/{name}.png"
        for name in ("budget_curve", "budget_flops", "data_curve")
    }
)
EVALUATIONS = scored(SCORED, TASKS) + scored(SCORED, TASKS, ".npz")
# The seeds of every scored method, for the table jobs (bench.tables.read_seed_runs).
SCORED_SEEDS = {m: method_seeds(m) for m in SCORED}
# Generation and scoring run as one job per method and task group: Tables 2 and 3 need only
# the one-to-one tasks; Tables 7 and 8 the one-to-many and many-to-one tasks ("multi"). Two
# groups, not three: every job pays a few seconds of start-up (Python and torch).
TASK_GROUPS = {
    "one_to_one": ONE_TO_ONE,
    "multi": list(FAMILIES["one_to_many"] + FAMILIES["many_to_one"]),
}
# The fourth modality's tasks, from the runs trained on all four (variant points).
if POINTS:
    TASK_GROUPS["points"] = list(POINT_TASKS)
# Jobs that may use the GPU ask for one unit of the `local_gpu` resource, which the default profile
# caps at 1 so that they queue for it; without an NVIDIA driver they ask for none.
GPU_JOBS = 1 if shutil.which("nvidia-smi") else 0


wildcard_constraints:
    method="[a-z_]+",
    task="|".join(ALL_TASKS),
    variant="main|ia[0-9]+|objective-[a-z0-9-]+|variance-[0-9.]+|steps[0-9]+|data[0-9]+|points",
    seed="[0-9]+",


def data_manifest(points):
    """The data folder's manifest a network trains from: data/, or data_points/ for the
    fourth modality's networks."""
    folder = "data_points" if points else "data"
    return f"{EMBEDDED}/{folder}/dataset.json"


def extract_inputs(wildcards):
    """What one split's extraction waits for: the codec parts the workflow makes, the tiny
    inputs, and for the triplets the images the triplet_images rule makes."""
    inputs = TINY_INPUTS + CODEC_FILES
    if (
        wildcards.split == "test_triplet"
        and config["paper"]["triplet_images"] == "generate"
    ):
        inputs = inputs + ["results/triplet_images.json"]
    return inputs


def table_evaluations(wildcards):
    """The evaluation records a metric table is built from: its columns' tasks, every method."""
    tasks = table_tasks(ALL_METRIC_TABLES[wildcards.table])
    return scored(SCORED, tasks) + scored(SCORED, tasks, ".npz")


def run_settings(wildcards):
    """Model, training and data settings of one training run (method, variant, seed)."""
    return train_settings(
        config, wildcards.method, wildcards.variant, int(wildcards.seed)
    )


def main_run(method, seed=MAIN_SEED):
    return f"results/train/{method}/main/seed{seed}"


def train_inputs(wildcards):
    """The training latents (the fourth modality's too for a points run), and for a run that
    continues the main run (the longest budget run of a one-stage method), that run. Its
    existence counts, not its time: retrained with the same settings it is the same to the
    bit, and other settings change this run's too.
    """
    points = wildcards.variant == "points"
    inputs = {"latents": LATENT_FILES + (POINT_LATENT_FILES if points else [])}
    if run_settings(wildcards).get("continues"):
        inputs["start"] = ancient(main_run(wildcards.method, wildcards.seed))
    return inputs


def snapshot_source(wildcards):
    """The run a budget snapshot comes from: the main run below its budget where the
    longest budget run continues it, the longest budget run otherwise."""
    if (
        continues_main(config, wildcards.method)
        and int(wildcards.steps) < config["train"]["steps"]
    ):
        return main_run(wildcards.method, wildcards.seed)
    return (
        f"results/train/{wildcards.method}/steps{CURVE_STEPS[-1]}/seed{wildcards.seed}"
    )


def generation_inputs(group):
    """The input function of a task group's generation job: the latents and codecs, and the
    method's run (the main run; for the fourth modality's tasks, the run on all four).
    """
    points = group == "points"
    latents = LATENT_FILES + (POINT_LATENT_FILES if points else [])
    codecs = CODEC_FILES + (POINT_CODEC_FILES if points else [])
    variant = "points" if points else "main"

    def inputs(wildcards):
        if wildcards.method == "codec_ceiling":
            return {"latents": latents, "codecs": codecs}
        if is_official(wildcards.method):  # runs its own code on the test items
            return {"data": DATA_FILES}
        run = f"results/train/{wildcards.method}/{variant}/seed{wildcards.seed}"
        return {"latents": latents, "codecs": codecs, "run": run}

    return inputs


def ablation_variant(variant_name):
    """Settings equal to the main run's reuse the main run instead of training a copy."""
    if variant_name in ("ia100", "data100", f"steps{config['train']['steps']}"):
        return "main"
    if variant_name.startswith("variance-"):
        value = float(variant_name.removeprefix("variance-"))
        if value == config["model"]["anchor_variance"]:
            return "main"
    if variant_name.startswith("objective-"):
        entry = OBJECTIVES[variant_name.removeprefix("objective-")]
        main = config["objective"]
        if entry["scheme"] == main["scheme"] and not entry["no_stop_grad"]:
            return "main"
    return variant_name


def ablation_runs(method, variant_name, seeds=None):
    """The ablation records of a setting, one per seed (default: ablations.seeds)."""
    variant = ablation_variant(variant_name)
    return [
        f"results/ablations/evaluate/{method}/{variant}/seed{seed}.json"
        for seed in seeds or ABLATION_SEEDS
    ]


def ablation_train(method, variant_name):
    """The training folder of the first seed of an ablation setting."""
    return f"results/train/{method}/{ablation_variant(variant_name)}/seed{MAIN_SEED}"
