"""Adapters that run the authors' released baseline checkpoints on the suite's test items.

    from baselines.official import OmniFlowAdapter
    from bench.embedded.storage import load_split

    split = load_split("results/embedded/data", "test_ti")
    OmniFlowAdapter(checkpoint="ckpts/v0.5").generate_split("t2i", split)
    # -> results/generate/omniflow_official/t2i/{image/<id>.png, manifest.csv}

Each needs the official package, its weights, a GPU and, at load time, the Hugging Face hub;
a missing package or weight file raises BaselineUnavailableError naming what to install and
where the weights go, and a task the official model lacks raises UnsupportedTaskError. The
package imports nothing heavy until ``load``. Its tests check only the plumbing (calls, layout,
messages) against stand-in modules, not the official models.
"""

from baselines.official.codi import CoDiAdapter
from baselines.official.common import (
    BaselineUnavailableError,
    OfficialAdapter,
    UnsupportedTaskError,
)
from baselines.official.omniflow import OmniFlowAdapter

__all__ = [
    "BaselineUnavailableError",
    "CoDiAdapter",
    "OfficialAdapter",
    "OmniFlowAdapter",
    "UnsupportedTaskError",
]
