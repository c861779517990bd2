"""The report's prose: section and table titles, descriptions, figure captions and notes.

Everything here is written by the suite, not read from data. It is plain text, which the
autoescaping templates escape, except TABLE_INTRO, LEGEND and WALL_TIME_NOTE: they hold the
suite's own markup (emphasis, the legend's chips, a code span), so they are ``Markup``, which
the templates pass through as it is. Nothing read from data or outputs is ever made Markup.
"""

from markupsafe import Markup

# name -> (title, description), plain text.
MAIN_TABLES = {
    "table1": (
        "Table 1 · Training budget",
        "Parameters, training time and device, steps and "
        "the pairs each method trained on (main run, first seed).",
    ),
    "table2": (
        "Table 2 · Fidelity",
        "FID and FAD on the evaluators' 64-d features (not the "
        "paper's Inception and VGGish scale) and CIDEr-D ×100, one-to-one tasks.",
    ),
    "table3": (
        "Table 3 · Alignment",
        "CLIP, CLAP and AIS scores ×100 of each output with its source, one-to-one tasks.",
    ),
    "table5": (
        "Table 5 · CKNNA",
        "Mutual nearest-neighbour alignment of the encoder latents and "
        "of FlowBind's shared anchors, per modality pair.",
    ),
    "table6": ("Table 6 · Data", "Pairs per pair type for training, and the test sets."),
    "table7": (
        "Table 7 · Many-to-one alignment",
        "Alignment of the output with each of its two sources.",
    ),
    "table8": (
        "Table 8 · One-to-many alignment",
        "Alignment of each of the two outputs with the source.",
    ),
    "attributes": (
        "Ground-truth attributes",
        "Accuracy (%) with which the evaluators recover "
        "each scene attribute from the output, one column per method, best per row in "
        "bold. Grey rows: no source shows the attribute, so chance is the ceiling.",
    ),
}
# The paper benchmark's tables: its metric backbones, and no ground truth of attributes.
PAPER_MAIN_TABLES = {
    **{k: v for k, v in MAIN_TABLES.items() if k != "attributes"},
    "table2": (
        "Table 2 · Fidelity",
        "FID (Inception-v3 pool3) and FAD (VGGish) against the real test items, and CIDEr-D "
        "×100 against their reference captions, one-to-one tasks (the paper's protocol).",
    ),
    "table6": (
        "Table 6 · Data",
        "The data sets behind each split, the items read and those left out as unreadable.",
    ),
}
STAND_IN_NOTE = (
    "This run used tiny random instances of the paper's codec and metric architectures and "
    "tiny noise data sets (the paper_tiny config): it checks that the pipeline runs end to "
    "end, and none of its numbers means anything."
)
ABLATION_TABLES = {
    "table4": (
        "Table 4 · Anchor ablation",
        "Text anchoring against FlowBind trained without "
        "image-audio pairs; mean over seeds, spread across seeds (sd) below.",
    ),
    "ia_fraction": (
        "Image-audio fraction",
        "FlowBind trained on a fraction of the image-audio "
        "pairs (the paper's Figure 11); mean over seeds.",
    ),
    "objective": (
        "Objective",
        "The public code's objective with and without stop-gradient; mean over seeds.",
    ),
    "anchor_variance": (
        "Anchor variance",
        "FlowBind with each fixed anchor variance (the public code's 10 is the main run); "
        "mean over seeds.",
    ),
    "conflict": (
        "Conflicting conditions",
        "FlowBind's (T+A)->I with each caption paired with another scene's audio (the paper's "
        "Appendix H), against single-source T->I and A->I and the matched (T+A)->I: accuracy of "
        "each image attribute against the scene of the source that conveys it.",
    ),
    "solver": (
        "ODE solver",
        "FlowBind's main run with each solver, against the drift "
        "evaluations per item of a T→I translation.",
    ),
}
CURVE_TABLES = {
    "budget_curve": (
        "Training budget",
        "Every trained method at each training budget (optimizer steps; training FLOPs counted "
        "from each recipe's layer shapes, stage by stage); mean over seeds.",
    ),
    "budget_fraction": (
        "The main tables' budget",
        "Per method and score: the best score of its budget curve, and how much of it the main "
        "tables' budget reaches (best / score for a Frechet distance). Past the knee: at least "
        "95 % of the best, or an interval that overlaps the best point's.",
    ),
    "data_curve": (
        "Training data",
        "Every trained method trained on a share of every pair table (nested subsets fixed by "
        "the data); mean over seeds.",
    ),
}
# The fourth modality's section, shown where its tables exist (config `modalities` with points).
POINT_TABLES = {
    "table9": (
        "Table 9 · The fourth modality",
        "Every method trained a second time on all four modalities (point clouds are paired with "
        "images only). I→P and P→I are seen pairs; T↔P and A↔P were never paired in training "
        "and go through whatever the method shares; (T+I)→P is many-to-one. FPD (the Frechet "
        "PointNet Distance on the point-cloud evaluator's features) and the Chamfer distance ×1000 "
        "to the scene's real cloud (lower is better), CLIP-P the image-point-cloud alignment, "
        "Attr the accuracy (%) of the attributes the sources convey to the target.",
    ),
    "cost_scaling": (
        "Cost against the number of modalities",
        "Each trained method built at K modalities with its networks at their three-modality "
        "widths, the added modalities paired with images only: trainable parameters and training "
        "FLOPs per step counted from the implementations (also as multiples of the K = 3 "
        "figures), and measured CPU milliseconds per training step at K = 3 and 4.",
    ),
}
POINT_INTRO = (
    "The paper's Appendix J adds 3D point clouds with image-point-cloud pairs only and claims "
    "that adding a modality adds one drift network, so FlowBind's cost grows linearly while a "
    "joint model's grows faster, and that FlowBind translates between modalities it never saw "
    "together. Here both are measured: the cost table counts them, Table 9 scores the unseen "
    "translations, and the claims above decide them."
)
CURVES_INTRO = (
    "Where each method stands against its training budget and its training data, so that a "
    "row of the main tables can be read as a point on a curve (the paper's compute and data "
    "claims are decided on these curves above)."
)
PAPER_LABEL = "The paper's reported numbers: its own benchmark, not comparable"
PAPER_NOTE = (
    "Beside each table: the numbers the paper reports on its own benchmark (COCO, AudioCaps, "
    "VGGSound; pretrained codecs and metric backbones). Data, codecs and backbones differ, so "
    "absolute values are not comparable; only the ordering of methods is."
)

# Markup: the suite's own HTML (emphasis and bold), written here, never data.
TABLE_INTRO = Markup(
    "Metric cells of Tables 2, 3, 7 and 8 are the mean over the training seeds (column "
    "Seeds; the spread across seeds, sd, below the value) and read <em>value ± half-width</em> "
    "of the 95 % interval of that mean over test items (hover for the interval): the "
    "percentile bootstrap for means of per-item scores, the "
    "delete-half jackknife for the Frechet distances and CKNNA, which finite samples bias; "
    "↑ higher is better, ↓ lower is better; the best method per column is in "
    "<strong>bold</strong>. The codec ceiling (italic) scores decode(encode(x)) of the real "
    "targets, the most any method can reach through the frozen codecs; it is an upper bound "
    "and never bolded. † would mark a value outside its own interval, a fault to report."
)

CLAIMS_INTRO = (
    "Each claim of the paper, decided from this run's tables by one rule: it holds when the "
    "value the paper says is better is better and the two 95 % intervals are disjoint, does "
    "not hold when the other is better and they are disjoint, and is inconclusive when they "
    "overlap (bench/claims.py; results/claims.csv)."
)

FIGURE_CAPTIONS = {
    "budget_curve": "Every trained method's one-to-one scores against its training steps (log "
    "scale; dotted: the main tables' budget); bands: 95 % intervals of the seed mean.",
    "budget_flops": "The same scores against each training's FLOPs, counted from the recipe's "
    "layer shapes: at equal compute, which method is ahead.",
    "data_curve": "The same scores against the share of every training pair table kept.",
    "anchor_map": "FlowBind's anchors of the test triplets from every modality (marker), in a "
    "PCA and a t-SNE, coloured by each ground-truth attribute (the paper's Appendix I).",
    "anchor_purity": "How often an anchor's 10 nearest neighbours share its attribute value, "
    "among all anchors and among the other modalities' only, against chance (black); 'item' "
    "is the same scene (results/report/anchor_purity.csv).",
    "anchor_variance": "T→I and I→T CLIP, I→A and A→I AIS of FlowBind against its fixed anchor "
    "variance; bands: 95 % intervals of the seed mean.",
    "ia_fraction": "I→A and A→I AIS of FlowBind against the share of image-audio pairs kept "
    "for training (the paper's Figure 11); bands: 95 % intervals of the seed mean.",
    "solver": "T→I CLIP and I→A AIS of FlowBind's main run against the drift evaluations per "
    "item, one point per ODE solver (quality against function evaluations).",
    "anchors": "FlowBind's anchors of the test triplets: each modality of a scene integrated "
    "on its own from its latent to the anchor (t = 1 to 0), projected on the first two "
    "principal components and coloured by the scene's kind, which all three modalities show "
    "(the paper's Figure 3). Where the anchors are shared, the three markers of a scene "
    "coincide and kinds form groups.",
    "cost_scaling": "Parameters and training FLOPs per step of every trained method against the "
    "number of modalities, each as a multiple of its three-modality figure; dashed: linear "
    "growth (K / 3). FlowBind's line is drawn on top: a line hidden under it grows as it does "
    "(results/cost_scaling.csv has every number). Counted from the implementations.",
    "interpolation": "Images decoded with FlowBind's image drift and the image codec from "
    "anchors on the segment between the shared anchors (mean over text, image and audio) of "
    "two test scenes; framed: the scenes' real images (the paper's Figures 11 and 13).",
}

# Markup: the suite's own HTML (sample chips), written here, never data.
LEGEND = Markup(
    '<span class="legend"><span class="chip ok">✓ kind</span> the evaluators recover the '
    'scene\'s true value from the output; <span class="chip bad">✗ kind</span> they do not; '
    '<span class="chip ok nc">✓ count</span> dashed: no source shows the attribute, so only '
    "chance can get it right. The codec ceiling is decode(encode(x)) of the real target.</span>"
)

FIGURE_TITLES = {
    "budget_curve": "Scores against the training budget",
    "budget_flops": "Scores against training compute",
    "data_curve": "Scores against training data",
    "ia_fraction": "Image-audio fraction",
    "anchor_variance": "Anchor variance",
    "solver": "Quality against function evaluations",
    "anchors": "Shared anchors",
    "anchor_map": "Shared anchors, every attribute",
    "anchor_purity": "Nearest-neighbour purity of the anchors",
    "interpolation": "Interpolation between two anchors",
    "cost_scaling": "Cost against the number of modalities",
}
SUMMARY = (
    "FlowBind (any-to-any generation between text, image and audio with bidirectional flows "
    "around a learned shared anchor) against its baselines on this suite's benchmark: what was "
    "run, every table with the paper's numbers beside it, the figures, and outputs side by side."
)
ABLATION_INTRO = (
    "FlowBind variants trained over ablations.seeds (Table 4: the main tables' seeds); a cell "
    "is the mean over seeds, "
    "± the half-width of the 95 % interval of that mean, with the spread across seeds (sd) "
    "below it."
)
# Markup: the suite's own HTML (a paragraph, a code span, an escaped path), never data.
WALL_TIME_NOTE = Markup(
    '<p class="note">Summed per stage from the <code>wall time</code> line that ends each '
    "job's log (results/logs/&lt;stage&gt;/…). Jobs that ran in parallel each count fully, so "
    "the total can exceed the elapsed time.</p>"
)
