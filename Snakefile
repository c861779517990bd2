"""The FlowBind benchmark workflow: from data to the paper's tables and ablations.

    snakemake --cores all results/table2.csv      # the paper's Table 2 on the embedded default
    snakemake ablations                           # Table 4, I-A fraction, objective, solver
    snakemake curves                              # scores against training budget and data
    snakemake fourth_modality                     # Table 9 and the cost table (modalities: + points)
    snakemake                                     # everything (the default target)
    snakemake --configfile workflow/config/tiny.yaml --cores 2    # a seconds-scale run

The default profile (profiles/default/config.yaml) supplies `cores: all`. The configuration
(workflow/config/default.yaml unless --configfile is given, with any --config override merged
on top) is checked against workflow/schemas/config.schema.yaml before any job runs;
`python -m bench.config` prints it resolved.
"""

from snakemake.utils import min_version

import sys

from bench.config import ConfigError, resolve_config
from bench.recovery import stale_lock_message

min_version("9.27")


_recovery = stale_lock_message(".", sys.argv)
if _recovery:
    print(_recovery, file=sys.stderr)

# The config files given with --configfile (workflow/config/default.yaml when none is), then
# every --config override merged on top, typed and checked before any job (bench.config).
try:
    _resolved = resolve_config(
        workflow.config_settings.configfiles,
        workflow.config_settings.config,
        f"{workflow.basedir}/workflow/schemas/config.schema.yaml",
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None
config.clear()
config.update(_resolved)


include: "workflow/rules/common.smk"


if PAPER:

    include: "workflow/rules/paper.smk"

else:

    include: "workflow/rules/data.smk"
    include: "workflow/rules/codecs.smk"
    include: "workflow/rules/points.smk"


include: "workflow/rules/train.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/curves.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.tables.input,
        rules.ablations.input,
        [] if PAPER else rules.curves.input,
        rules.report.output,
        rules.claims.output,
        rules.resolved_config.output,
        rules.fourth_modality.input if POINTS else [],
