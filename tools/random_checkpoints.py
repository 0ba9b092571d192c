"""Random-weight checkpoints of the real architectures, for timing exports where no pretrained weights are reachable.

    python tools/random_checkpoints.py --out /tmp/ckpt da3-small dav2-small zoedepth-nyu

writes ``/tmp/ckpt/<name>/`` as the libraries' own ``save_pretrained`` would (the DA3 package's layout for
``da3-*`` names, transformers' for ``dav2-small`` and ``zoedepth-nyu``), ready for ``depth-node export-hf``.
The weights are seeded (the DA3 ones calibrated as in tests/da3_models.py, so the depth is finite); the timing
does not depend on the values. Run from the repository root (it imports the test helpers).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _dav2_small(directory: Path) -> None:
    """Depth Anything V2 Small's published configuration (depth-anything/Depth-Anything-V2-Small-hf)."""
    import torch
    import transformers as tf

    values: dict[str, Any] = {
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 6,
        "intermediate_size": 1536,
        "patch_size": 14,
        "image_size": 518,
        "out_features": ["stage3", "stage6", "stage9", "stage12"],
        "reshape_hidden_states": False,
    }
    backbone = tf.Dinov2Config(**values)
    config = tf.DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=384,
        neck_hidden_sizes=[48, 96, 192, 384],
        fusion_hidden_size=64,
        head_hidden_size=32,
    )
    torch.manual_seed(0)
    tf.AutoModelForDepthEstimation.from_config(config).eval().save_pretrained(directory)
    helpers = importlib.import_module("tests.hf_models")  # test code: not type-checked with the package
    helpers._processor("depth_anything", size={"height": 518, "width": 518}).save_pretrained(directory)


def _zoedepth_nyu(directory: Path) -> None:
    """Intel/zoedepth-nyu's configuration: transformers' ZoeDepthConfig defaults (BEiT-L/16 at 384, relative
    position bias, one NYU metric head of 64 bins over 0.001-10 m) and its image processor's settings."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    tf.ZoeDepthForDepthEstimation(tf.ZoeDepthConfig()).eval().save_pretrained(directory)
    processor = tf.ZoeDepthImageProcessorPil(
        size={"height": 384, "width": 512}, keep_aspect_ratio=True, ensure_multiple_of=32, resample=2
    )
    processor.save_pretrained(directory)


def main() -> int:
    """Write the named checkpoints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="+", help="da3-small, da3-base, da3-large, da3metric-large, dav2-small, zoedepth-nyu"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for name in args.names:
        directory = args.out / name
        if name == "dav2-small":
            _dav2_small(directory)
        elif name == "zoedepth-nyu":
            _zoedepth_nyu(directory)
        else:
            importlib.import_module("tests.da3_models").save_da3(name, directory)
        print(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
