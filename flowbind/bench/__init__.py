"""The benchmark pipeline the workflow runs, one stage per module (no Snakemake inside).

tasks.py      the twelve translation tasks and their test splits
latents.py    encoding splits with the frozen codecs; training pairs at an I-A fraction
generate.py   translating test latents and decoding them to PNG, WAV and text
evaluate.py   every metric of one task's outputs, with 95 % bootstrap intervals
tables.py     the paper's tables from the evaluation records
ablations.py  the anchor, I-A fraction, objective and solver ablations
"""
