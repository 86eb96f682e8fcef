#!/usr/bin/python3
"""Builds the models only the benchmarks use, into bench/models.

    /usr/bin/python3 bench/make_bench_models.py [--out bench/models]

classifier_small_input: the example classifier (mobilenet_v3_small, random
weights, seed 0) behind a nearest-neighbour upsampling of a [3, 32, 32] input
to [3, 224, 224]. It computes what the classifier computes, from 12 KB a
request instead of 602 KB, so that a benchmark can tell what the scheduler
does apart from what receiving a large request costs on the same cores.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from make_examples import example_classifier, write  # noqa: E402


class SmallInputClassifier(torch.nn.Module):
    def __init__(self, classifier: torch.nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.nn.functional.interpolate(x, size=[224, 224], mode="nearest"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"),
                        help="model repository to write the benchmark models into")
    args = parser.parse_args()
    torch.set_num_threads(1)
    write(args.out, "classifier_small_input", SmallInputClassifier(example_classifier()), """
        # The example classifier behind an upsampling of a 32 x 32 input to
        # 224 x 224: its compute from 12 KB a request (bench/make_bench_models.py).
        platform: torchscript
        max_batch_size: 8
        inputs:
          - {name: images, datatype: FP32, shape: [3, 32, 32]}
        outputs:
          - {name: logits, datatype: FP32, shape: [1000]}
        optimization: auto
        """)


if __name__ == "__main__":
    main()
