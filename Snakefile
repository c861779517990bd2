"""The FlowBind benchmark workflow.

    snakemake demo        # train a small FlowBind on the toy latent problem and score it

The default profile (profiles/default/config.yaml) supplies `cores: all`.
"""

from snakemake.utils import min_version

min_version("9.27")


include: "workflow/rules/demo.smk"


rule all:
    default_target: True
    input:
        rules.demo.output,
