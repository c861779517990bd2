"""``python fast_poll.py <snakemake arguments>``: Snakemake with the SLURM plugin polling every
second.

snakemake-executor-plugin-slurm waits 40 s before its first status check and 40 s after every
check that finds a finished job (it cannot be configured: the plugin sets it in code), sized for
slurmdbd on a real cluster. The stand-ins of tests/standins/slurm answer at once, so waiting
would only make the test minutes longer; this shortens both waits to a second and changes
nothing else the plugin does.
"""

import sys

import snakemake_executor_plugin_slurm as slurm
from snakemake.cli import main

POLL_SECONDS = 1

slurm.common_settings.init_seconds_before_status_checks = POLL_SECONDS
slurm.Executor.next_seconds_between_status_checks = property(
    lambda self: POLL_SECONDS, lambda self, value: None
)

if __name__ == "__main__":
    sys.exit(main())
