"""The FlowBind benchmark workflow: from data to the paper's tables and ablations.

    snakemake --cores all results/table2.csv      # the paper's Table 2 on the embedded default
    snakemake ablations                           # Table 4, I-A fraction, objective, solver
    snakemake                                     # everything (the default target)
    snakemake --configfile workflow/config/tiny.yaml --cores 2    # a seconds-scale run

The default profile (profiles/default/config.yaml) supplies `cores: all`. The configuration
(workflow/config/default.yaml unless --configfile is given) is checked against
workflow/schemas/config.schema.yaml before any job runs.
"""

from snakemake.utils import min_version

min_version("9.27")


if not config:

    configfile: f"{workflow.basedir}/workflow/config/default.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/codecs.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.tables.input,
        rules.ablations.input,
        rules.report.output,
